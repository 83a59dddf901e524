"""Replies in the person's language, through the real ``lambdas.inbound.handler``.

The language is the ``lang`` attribute of the sender's allow-list item; the texts are the
reviewed catalogues, sent transliterated to GSM-7. Assertions are on what the phone receives.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shiftsms.core.catalogue import CATALOGUES
from shiftsms.core.gsm import segment_info
from shiftsms.core.models import StaffMember
from tests.campaign_support import disable_emulated_mappings
from tests.conftest import Deployed, module_stack
from tests.test_inbound_handler import Harness, _empty, _harness

ANA = "+447700900123"  # Spanish
PIOTR = "+447700900456"  # Polish
EMMA = "+447700900789"  # English, the default


@pytest.fixture(scope="module")
def stack() -> Iterator[Deployed]:
    with module_stack({"SendRatePerSecond": "1000"}) as deployed:
        disable_emulated_mappings(deployed.info)
        yield deployed


@pytest.fixture
def h(stack: Deployed, monkeypatch: pytest.MonkeyPatch) -> Harness:
    for output in ("ShiftsTableName", "StaffTableName", "StateTableName"):
        _empty(stack.dynamodb, stack.outputs[output])
    harness = _harness(stack, monkeypatch)
    staff = harness.app.service.staff
    staff.put(StaffMember(phone=ANA, name="Ana", language="es"))
    staff.put(StaffMember(phone=PIOTR, name="Piotr", language="pl"))
    staff.put(StaffMember(phone=EMMA, name="Emma"))
    return harness


def test_the_language_is_stored_as_lang_on_the_staff_item(h: Harness) -> None:
    assert h.staff(ANA)["lang"] == "es"
    assert h.staff(PIOTR)["lang"] == "pl"
    assert "lang" not in h.staff(EMMA)


def test_request_in_spanish_and_polish(h: Harness) -> None:
    h.add_shift("XYZ123", "15/08 5h nightshift")
    for phone in (ANA, PIOTR, EMMA):
        h.text(phone, "REQUEST")
    assert h.sms.to(ANA) == [
        "Turnos libres: XYZ123 15/08 5h nightshift. Responda un codigo para reservar."
    ]
    assert h.sms.to(PIOTR) == [
        "Wolne zmiany: XYZ123 15/08 5h nightshift. Odpisz kod, aby zarezerwowac."
    ]
    assert h.sms.to(EMMA) == ["Open shifts: XYZ123 15/08 5h nightshift. Reply a code to book."]


def test_more_pages_say_how_many_more_in_the_language(h: Harness) -> None:
    for i in range(30):
        h.add_shift(f"N{i:03d}", "Sat 28/11 07:00-15:00 ward 4")
    h.text(PIOTR, "REQUEST")
    (page,) = h.sms.to(PIOTR)
    assert page.startswith("Wolne zmiany: N000 Sat 28/11 07:00-15:00 ward 4; ")
    assert page.endswith(": odpisz MORE.") and " Jeszcze " in page
    assert segment_info(page).segments == 1 and segment_info(page).encoding == "GSM-7"
    h.add_shift("N999", status="taken", employee=EMMA)
    h.text(ANA, "MORE")
    assert h.sms.to(ANA)[0].startswith("Turnos libres: N000 ")


def test_booking_replies_in_spanish_and_polish(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.add_shift("XYZ124")
    h.add_shift("XYZ125", status="taken", employee=EMMA)
    h.text(ANA, "xyz123")
    h.text(PIOTR, "XYZ124 XYZ125 XYZ123 NOPE99")
    assert h.sms.to(ANA) == ["Reservado: XYZ123. ¡Gracias!"]
    assert h.sms.to(PIOTR) == [
        "Zarezerwowano: XYZ124. Juz niedostepne: XYZ125, XYZ123. "
        "Nieprawidlowy kod: NOPE99. Dziekujemy!"
    ]
    assert h.shift("XYZ123")["employee"] == ANA
    assert h.shift("XYZ124")["employee"] == PIOTR
    h.text(ANA, "XYZ123")
    assert h.sms.to(ANA)[-1] == "Ya es suyo: XYZ123. Responda REQUEST para ver los turnos libres."


def test_a_role_refusal_in_the_language(h: Harness) -> None:
    h.deployed.dynamodb.put_item(
        TableName=h.shifts_table,
        Item={
            "shift_id": {"S": "XYZ130"},
            "shift_info": {"S": "15/08 nights"},
            "shift_status": {"S": "available"},
            "role": {"S": "RN"},
        },
    )
    h.text(ANA, "XYZ130")
    h.text(PIOTR, "XYZ130")
    assert h.sms.to(ANA) == ["XYZ130 requiere RN."]
    assert h.sms.to(PIOTR) == ["XYZ130 wymaga roli RN."]
    assert h.shift("XYZ130")["shift_status"] == "available"


def test_drop_in_polish(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.add_shift("XYZ125", status="taken", employee=EMMA)
    h.text(PIOTR, "XYZ123")
    h.text(PIOTR, "DROP XYZ123 XYZ125")
    assert h.sms.to(PIOTR)[-1] == "Zwolniono: XYZ123. Nie Twoja rezerwacja: XYZ125."
    assert h.shift("XYZ123")["shift_status"] == "available"


def test_agent_and_nonsense_in_the_language(h: Harness) -> None:
    h.text(ANA, "AGENT please")
    h.text(PIOTR, "🙂")
    h.text(ANA, " ".join(f"S{i:03d}" for i in range(11)))
    assert h.sms.to(ANA) == [
        "Lo sentimos, aqui no se ofrecen llamadas. Responda REQUEST para ver los turnos libres.",
        "Envie como maximo 10 codigos de turno por mensaje. "
        "Responda REQUEST para ver los turnos libres.",
    ]
    assert h.sms.to(PIOTR) == [
        "To nie jest prawidlowy kod zmiany. Odpisz REQUEST, aby zobaczyc wolne zmiany."
    ]


@pytest.mark.parametrize("code", sorted(CATALOGUES))
def test_every_language_answers_nothing_open_in_one_gsm7_segment(h: Harness, code: str) -> None:
    h.app.service.staff.put(StaffMember(phone=EMMA, language=code))
    h.text(EMMA, "REQUEST")
    (reply,) = h.sms.to(EMMA)
    assert reply == CATALOGUES[code].text("NO_OPEN_SHIFTS")
    assert (segment_info(reply).encoding, segment_info(reply).segments) == ("GSM-7", 1)


@pytest.mark.parametrize("stored", [None, "fr", "ES"])
def test_an_item_typed_by_hand_is_answered_in_its_language_or_english(
    h: Harness, stored: str | None
) -> None:
    item = {"phone": {"S": EMMA}, "name": {"S": "Emma"}}
    if stored is not None:
        item["lang"] = {"S": stored}
    h.deployed.dynamodb.put_item(TableName=h.staff_table, Item=item)
    h.text(EMMA, "🙂")
    expected = {
        None: "That is not a valid shift code. Reply REQUEST to see the open shifts.",
        "fr": "That is not a valid shift code. Reply REQUEST to see the open shifts.",
        "ES": "Ese codigo de turno no es valido. Responda REQUEST para ver los turnos libres.",
    }[stored]
    assert h.sms.to(EMMA) == [expected]


def test_an_unknown_sender_is_answered_in_english(h: Harness) -> None:
    h.text("+447700900999", "REQUEST")
    assert h.sms.to("+447700900999") == [
        "This number is not registered for shift booking. Ask your manager to add it."
    ]
