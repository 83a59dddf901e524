"""Fifty staff text the same code at the same moment: one booking, one "Booked", 49 refusals.

Runs the real inbound handler logic (allow list, idempotency, conditional booking, reply) in
50 threads, each with its own boto3 client, against a ``ThreadedMotoServer`` holding the
deployed template.

DynamoDB applies the writes to one item one at a time; moto does not lock around a
conditional write (its server locks only the backend lookup). So the server here handles one
request at a time, as DynamoDB serialises an item's writes, while the 50 clients still
interleave freely between their requests. A second winner would then be our bug, not moto's.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.moto_server import threaded_moto_server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import ThreadedMotoServer

from shiftsms.aws.clients import client as aws_client
from shiftsms.core.models import StaffMember
from shiftsms.handlers import inbound
from shiftsms.settings import Settings
from tests.conftest import ORIGINATION, REGION, deploy_template, function_environment, sns_event
from tests.fakes import RecordingSms

STAFF = 50
ROUNDS = 20


class _OneRequestAtATime(DomainDispatcherApplication):
    """moto's WSGI app, handling one request at a time (each request atomic, as in DynamoDB)."""

    _lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self._lock:
            # Read the whole response inside the lock: werkzeug may stream it afterwards.
            return list(super().__call__(environ, start_response))


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on a free local port; boto3 reaches it through AWS_ENDPOINT_URL."""
    monkeypatch.setattr(threaded_moto_server, "DomainDispatcherApplication", _OneRequestAtATime)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    # The server shares moto's in-process backends: start them empty (whatever an earlier
    # test of this worker kept there), and leave them empty for the tests after.
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    try:
        yield url
    finally:
        urllib.request.urlopen(reset, timeout=10).close()
        server.stop()


@pytest.mark.slow
def test_fifty_staff_claim_one_shift_one_winner_each_round(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fast number: every reply goes at once (the shared send schedule is not under test).
    info = deploy_template(parameters={"SendRatePerSecond": "1000"})
    settings = Settings.from_env(function_environment(info.outputs["InboundFunctionName"]))
    sms = RecordingSms()
    staff = [f"+4477009{i:05d}" for i in range(STAFF)]
    # One app per thread, each with its own boto3 clients (built from one session, for speed).
    session = boto3.session.Session(region_name=REGION)
    monkeypatch.setattr(inbound, "client", lambda service: aws_client(service, session))
    apps = [inbound.InboundApp(settings, sms=sms) for _ in staff]
    assert len({id(app.service.shifts.client) for app in apps}) == STAFF  # type: ignore[attr-defined]
    for number in staff:
        apps[0].service.staff.put(StaffMember(phone=number))
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_server)
    table = info.outputs["ShiftsTableName"]

    start = threading.Barrier(STAFF)
    errors: list[BaseException] = []
    round_code = [""]

    def claim(i: int, round_no: int) -> None:
        message = {
            "originationNumber": staff[i],
            "destinationNumber": ORIGINATION,
            "messageKeyword": "",
            "messageBody": round_code[0].lower(),
            "inboundMessageId": f"round-{round_no}-staff-{i}",
        }
        event = sns_event(json.dumps(message))
        start.wait(timeout=30)
        try:
            assert apps[i].handle(event, None) == {"handled": 1, "dropped": 0}
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    began = time.monotonic()
    for round_no in range(ROUNDS):
        code = f"RACE{round_no:03d}"
        round_code[0] = code
        dynamodb.put_item(
            TableName=table,
            Item={
                "shift_id": {"S": code},
                "shift_info": {"S": "Sat 28/11 nights"},
                "shift_status": {"S": "available"},
            },
        )
        sent_before = len(sms.sent)
        threads = [threading.Thread(target=claim, args=(i, round_no)) for i in range(STAFF)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors

        round_replies = sms.sent[sent_before:]
        assert len(round_replies) == STAFF
        assert sorted(r.to for r in round_replies) == sorted(staff)  # one reply each
        bodies = Counter(r.body for r in round_replies)
        assert bodies == {
            f"Booked: {code}. Thank you!": 1,
            f"No longer available: {code}. Reply WAIT {code} to join its waitlist.": STAFF - 1,
        }, (round_no, bodies)
        (winner,) = [r.to for r in round_replies if r.body.startswith("Booked")]
        item = dynamodb.get_item(TableName=table, Key={"shift_id": {"S": code}})["Item"]
        assert item["shift_status"]["S"] == "taken"
        assert item["employee"]["S"] == winner
        assert item["booking_ref"]["S"] == f"round-{round_no}-staff-{staff.index(winner)}"
    print(f"{ROUNDS} rounds of {STAFF} claims in {time.monotonic() - began:.1f}s")
