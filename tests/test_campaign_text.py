"""Campaign texts and send jobs (pure core)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shiftsms.core.campaign_text import (
    HOW_TO_BOOK,
    SAMPLE_CAMPAIGN_MESSAGE,
    SAMPLE_SHIFTS,
    campaign_text,
    candidate_codes,
    compose,
    original_text,
    shorten_info,
)
from shiftsms.core.campaigns import Campaign, CampaignStatus, MalformedJob, SendJob
from shiftsms.core.gsm import is_gsm7, segment_info, segments
from shiftsms.core.models import Shift


def test_sample_campaign_fits_one_segment() -> None:
    composed = compose(SAMPLE_SHIFTS)
    assert composed.message == SAMPLE_CAMPAIGN_MESSAGE
    assert composed.text == (
        "Open shifts: 15/08 5h nightshift XYZ123, 18/08 3h dayshift XYZ124. "
        "Reply a code to book, REQUEST for all open shifts, STOP to opt out."
    )
    assert (composed.info.encoding, composed.info.units, composed.info.segments) == (
        "GSM-7",
        134,
        1,
    )
    assert composed.shown == ("XYZ123", "XYZ124")
    assert composed.left_out == 0


def test_console_message_is_sent_like_a_composed_one() -> None:
    assert campaign_text(SAMPLE_CAMPAIGN_MESSAGE) == compose(SAMPLE_SHIFTS).text
    assert campaign_text(SAMPLE_CAMPAIGN_MESSAGE + ". ") == compose(SAMPLE_SHIFTS).text


def test_original_sample_text_costs() -> None:
    with_connect = original_text(SAMPLE_CAMPAIGN_MESSAGE, connect_enabled=True)
    without = original_text(SAMPLE_CAMPAIGN_MESSAGE, connect_enabled=False)
    assert with_connect.startswith("Available shifts: 15/08 5h nightshift XYZ123, 18/08")
    assert with_connect.endswith("text AGENT and what you need help with.")
    assert segment_info(with_connect).units == 317
    assert (segments(with_connect), segments(without)) == (3, 2)


def test_typographic_message_becomes_gsm7() -> None:
    text = campaign_text("Sat “late” XYZ124 – ask Zoë 🌙")
    assert text == f'Open shifts: Sat "late" XYZ124 - ask Zoe. {HOW_TO_BOOK}'
    assert is_gsm7(text)


def test_too_many_shifts_say_how_many_more() -> None:
    shifts = [Shift(f"ABC{i:03d}", f"Mon {i:02d}/08 07:00-15:00 ward {i}") for i in range(12)]
    composed = compose(shifts)
    assert composed.info.segments == 1
    assert composed.left_out == 10
    # Two fit once each info loses its ward; a third would need infos under 20 septets.
    assert composed.message == (
        "Mon 00/08 07:00-15:00 wa.. ABC000, Mon 01/08 07:00-15:00 wa.. ABC001 +10 more"
    )
    bigger = compose(shifts, max_segments=3)
    assert bigger.info.segments == 3
    # Three segments hold all twelve once the longer infos lose a little.
    assert bigger.shown == tuple(f"ABC{i:03d}" for i in range(12))
    assert bigger.left_out == 0
    assert bigger.message.endswith("ABC011")


def test_info_longer_than_forty_is_kept_whole_when_it_fits() -> None:
    info = "Sat 17/08 19:00-07:00 St Mary's Ward 7 east wing RN"
    composed = compose([Shift("NIGHT1", info)])
    assert composed.message == f"{info} NIGHT1"


def test_shortened_info_never_leaves_half_a_quotation() -> None:
    long_info = 'Sat 17/08 19:00-07:00 on "Blue Ward" ' + "x" * 40
    quoted = [Shift("Q1", long_info), Shift("Q2", 'Sun 18/08 on "Blue Ward" ' + "y" * 60)]
    composed = compose(quoted)
    assert composed.shown == ("Q1", "Q2")
    for part in composed.message.split(", "):
        assert part.count('"') % 2 == 0, part
    assert shorten_info('Night on "Blue Ward" east wing', 16) == "Night on.."
    assert shorten_info('Night on "Blue Ward" east wing', 22) == 'Night on "Blue Ward"..'


infos = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=80
)
codes = st.from_regex(r"[A-Z][A-Z0-9]{1,9}", fullmatch=True)


@given(
    st.lists(st.tuples(codes, infos), min_size=1, max_size=30, unique_by=lambda t: t[0]),
    st.integers(min_value=1, max_value=4),
)
def test_composed_text_is_gsm7_within_budget(items: list[tuple[str, str]], budget: int) -> None:
    shifts = [Shift(code, info) for code, info in items]
    composed = compose(shifts, budget)
    assert is_gsm7(composed.text)
    assert composed.info.segments <= budget
    assert len(composed.shown) >= 1
    assert composed.shown == tuple(s.shift_id for s in shifts[: len(composed.shown)])
    assert composed.left_out == len(shifts) - len(composed.shown)
    for code in composed.shown:
        assert code in composed.text
    # The Lambda rebuilds the text from the stored message: it must be the same text.
    assert campaign_text(composed.message) == composed.text


def test_candidate_codes() -> None:
    assert candidate_codes(SAMPLE_CAMPAIGN_MESSAGE) == ("5H", "XYZ123", "3H", "XYZ124")
    assert candidate_codes("reply STOP or REQUEST; shift ab-12.") == ("AB-12",)


def test_send_job_round_trip() -> None:
    job = SendJob("c1", "+447700900101", "hello", 1795860000)
    assert SendJob.from_json(job.to_json()) == job
    run = SendJob("c1", "+447700900101", "hello", 1795860000, run="3fa2c1d0e9b8a7f6")
    assert json.loads(run.to_json())["run"] == "3fa2c1d0e9b8a7f6"
    assert SendJob.from_json(run.to_json()) == run


@pytest.mark.parametrize(
    "body",
    [
        None,
        "not json",
        "[]",
        '{"campaign_id": "c1", "to": "447700900101", "text": "x", "expires_at": 1}',
        '{"campaign_id": "", "to": "+447700900101", "text": "x", "expires_at": 1}',
        '{"campaign_id": "c1", "to": "+447700900101", "text": " ", "expires_at": 1}',
        '{"campaign_id": "c1", "to": "+447700900101", "text": "x", "expires_at": "1"}',
        '{"campaign_id": "c1", "to": "+447700900101", "text": "x", "expires_at": true}',
        "x" * 5000,
    ],
)
def test_malformed_jobs(body: object) -> None:
    with pytest.raises(MalformedJob):
        SendJob.from_json(body)


def test_campaign_done_when_every_recipient_settled() -> None:
    sending = CampaignStatus.SENDING
    assert Campaign("c", status=sending, recipients=3, sent=2).effective_status == "sending"
    done = Campaign("c", status=sending, recipients=3, sent=1, failed=1, opted_out=1)
    assert done.effective_status == "done"
    assert Campaign("c").effective_status == "new"
