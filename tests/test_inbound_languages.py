"""Replies in the person's language, through the real ``lambdas.inbound.handler``.

The language is the ``lang`` attribute of the sender's allow-list item; the texts are the
reviewed catalogues, sent transliterated to GSM-7. Assertions are on what the phone receives.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core.award import AwardRule
from shiftsms.core.catalogue import CATALOGUES
from shiftsms.core.gsm import segment_info
from shiftsms.core.models import Shift, StaffMember
from shiftsms.services.windows import open_windows
from tests.campaign_support import disable_emulated_mappings
from tests.conftest import Deployed, module_stack
from tests.test_inbound_handler import NOON, Harness, _empty, _harness
from tests.test_reminders import run_due

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


def timed(h: Harness, shift_id: str, start: str, end: str, location: str) -> None:
    table = ShiftsTable(h.deployed.dynamodb, h.shifts_table, h.staff_table)
    table.put(Shift(shift_id, shift_id, starts_at=start, ends_at=end, location=location))


def test_mine_and_more_in_spanish_and_polish(h: Harness) -> None:
    timed(h, "LATE1", "2026-12-10T19:00+00:00", "2026-12-11T07:00+00:00", "Ward 7")
    timed(h, "EARLY1", "2026-12-05T07:00+00:00", "2026-12-05T15:00+00:00", "ICU")
    h.text(ANA, "LATE1 EARLY1")
    h.text(ANA, "MINE")
    h.text(PIOTR, "MINE")
    h.text(PIOTR, "MORE")
    assert (
        h.sms.to(ANA)[-1] == "Sus turnos: EARLY1 sab 05/12 07:00 ICU; LATE1 jue 10/12 19:00 Ward 7."
    )
    assert h.sms.to(PIOTR) == [
        "Nie masz nadchodzacych zarezerwowanych zmian. Odpisz REQUEST, aby zobaczyc wolne zmiany.",
        "Nie ma wiecej zarezerwowanych zmian. Odpisz MINE, aby zobaczyc je znowu.",
    ]


def test_snooze_resume_and_commands_in_spanish_and_polish(h: Harness) -> None:
    for phone in (ANA, PIOTR):
        for body in ("SNOOZE", "SNOOZE 61", "RESUME"):
            h.text(phone, body)
    h.text(PIOTR, "COMMANDS")
    # Sent at noon on Sat 28/11 (GMT): until Sat 05/12 12:00, the weekday in the language.
    assert h.sms.to(ANA) == [
        "Sin ofertas hasta el sab 05/12 12:00. Reservas, REQUEST y recordatorios siguen activos."
        " Responda RESUME para volver a recibir ofertas.",
        "Responda SNOOZE para pausar las ofertas 7 dias, o SNOOZE y de 1 a 60 dias,"
        " p. ej. SNOOZE 3.",
        "Vuelve a recibir ofertas. Responda SNOOZE para pausarlas de nuevo.",
    ]
    assert h.sms.to(PIOTR) == [
        "Bez ofert do sob. 05/12 12:00. Rezerwacje, REQUEST i przypomnienia nadal dzialaja."
        " Odpisz RESUME, aby znow dostawac oferty.",
        "Odpisz SNOOZE, aby wstrzymac oferty na 7 dni, lub SNOOZE i 1-60 dni, np. SNOOZE 3.",
        "Oferty znow wlaczone. Odpisz SNOOZE, aby je ponownie wstrzymac.",
        "REQUEST: wolne zmiany. Kod: rezerwacja. DROP i kod: oddanie. MINE: Twoje zmiany."
        " SNOOZE lub SNOOZE 3: pauza ofert. RESUME. AGENT: telefon.",
    ]
    assert "snoozed_until" not in h.staff(ANA) and "snoozed_until" not in h.staff(PIOTR)


def test_wait_held_offer_and_yes_in_spanish_and_polish(h: Harness) -> None:
    h.add_shift("XYZ125", status="taken", employee=EMMA)
    h.text(ANA, "WAIT XYZ125")
    h.text(PIOTR, "WAIT XYZ125")
    h.text(PIOTR, "WAIT XYZ125 XYZ126")
    h.text(PIOTR, "WAIT XYZ125")
    h.text(EMMA, "DROP XYZ125")
    h.text(PIOTR, "YES")
    h.text(ANA, "YES")
    assert h.sms.to(ANA) == [
        "Es el numero 1 para XYZ125. Le avisaremos si vuelve a quedar libre.",
        # Emma's DROP holds it for Ana, the first waiting, for 15 minutes.
        "XYZ125 vuelve a estar libre y se lo guardamos hasta las 12:15. "
        "Responda YES para quedarselo.",
        "Reservado: XYZ125. ¡Gracias!",
    ]
    assert h.sms.to(PIOTR) == [
        "Jestes nr 2 na liscie do XYZ125. Napiszemy, jesli znow sie zwolni.",
        "Wyslij WAIT i jeden kod zmiany, np. WAIT XYZ123.",
        "Juz jestes nr 2 na liscie do XYZ125. Napiszemy, jesli znow sie zwolni.",
        "Odpisz kodem zmiany, ktora chcesz wziac. Odpisz REQUEST, aby zobaczyc wolne zmiany.",
    ]
    assert h.shift("XYZ125")["employee"] == ANA


def test_claim_window_interest_and_award_in_spanish_and_polish(h: Harness) -> None:
    h.add_shift("XYZ130", "Sat 05/12 08:00-20:00 ICU")
    service = h.app.service
    assert service.windows is not None and service.due is not None
    closes = NOON + timedelta(minutes=10)
    open_windows(
        service.windows,
        service.due,
        campaign_id="C1",
        shift_ids=("XYZ130",),
        closes_at=closes,
        award=AwardRule.FEWEST_HOURS,
    )
    h.text(ANA, "XYZ130")
    h.text(PIOTR, "XYZ130")
    assert h.sms.to(ANA) == [
        "Queda anotado su interés en XYZ130. Le daremos el resultado antes de las 12:11."
    ]
    assert h.sms.to(PIOTR) == ["Przyjeto Twoje zgloszenie: XYZ130. Wynik napiszemy do 12:11."]
    assert h.shift("XYZ130")["shift_status"] == "available"
    run_due(h, closes)
    winner = h.shift("XYZ130")["employee"]
    assert winner in (ANA, PIOTR)
    told = {
        ANA: "Reservado: XYZ130. ¡Gracias!"
        if winner == ANA
        else "XYZ130 se ha asignado a otra persona esta vez. "
        "Responda REQUEST para ver los turnos libres.",
        PIOTR: "Zarezerwowano: XYZ130. Dziekujemy!"
        if winner == PIOTR
        else "XYZ130 tym razem trafila do kogos innego. Odpisz REQUEST, aby zobaczyc wolne zmiany.",
    }
    assert {phone: h.sms.to(phone)[-1] for phone in (ANA, PIOTR)} == told


def test_a_reminder_from_the_due_function_in_spanish(h: Harness) -> None:
    start = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # Mon 30/11, GMT
    timed(h, "N1", start.isoformat(), (start + timedelta(hours=12)).isoformat(), "Ward 7")
    h.text(ANA, "N1")
    assert len(run_due(h, start - timedelta(hours=12)).ran) == 1
    assert h.sms.to(ANA)[-1] == (
        "Recordatorio: N1 lun 30/11 19:00 Ward 7. Responda DROP N1 si no puede acudir."
    )
