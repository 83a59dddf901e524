"""``shiftsms demo``: the whole system on this machine, narrated.

It starts the embedded emulator on a free 127.0.0.1 port, deploys the real template with the
real deploy code, then plays a scenario through the same doors users use: ``shiftsms``
commands (run in-process, pointed at the sandbox by ``AWS_ENDPOINT_URL``) for the operator,
and the sandbox's phones for the staff. Events flow as in AWS (stream -> campaign function ->
queue -> sender function -> SMS; SMS -> SNS -> inbound function -> reply). Nothing is left
running afterwards: workers, pollers and server stop, the temporary state folder is removed.
"""

from __future__ import annotations

import os
import shlex
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from shiftsms.errors import ShiftsmsError
from shiftsms.local.aws import client, environment
from shiftsms.local.client import SandboxClient
from shiftsms.local.sandbox import Sandbox

STAFF = [
    ("+447700900123", "Ana"),
    ("+447700900456", "Ben"),
    ("+447700900789", "Cleo"),
]
STRANGER = "+447700900666"
SHIFTS = [
    ("XYZ123", "15/08 5h nightshift"),
    ("XYZ124", "16/08 8h dayshift"),
    ("XYZ125", "17/08 6h lateshift"),
    ("XYZ126", "18/08 5h nightshift"),
    ("XYZ127", "19/08 8h dayshift"),
    ("XYZ128", "20/08 6h lateshift"),
]
# How long the demo waits for a text before it says something went wrong: generous, since a
# loaded machine can hold a sender back past its invocation deadline and into a redelivery.
REPLY_TIMEOUT = 45.0
# Short durations so the demo shows a reminder within seconds: reminders 72 s ahead, for a
# shift starting 78 s after it is posted (so the reminder is due 6 s later, after the booking),
# a held offer lasting 6 s (HoldMinutes 0.1), and the due-work rule fired every 2 s. The
# number sends 10 texts a second (a long code's default is 1), so no text waits its turn for
# long: the demo shows what is sent, not the number's rate (tests/test_send_rate.py does).
HOLD_SECONDS = 6
DEMO_PARAMETERS = {
    "ReminderHours": "0.02",
    "HoldMinutes": str(HOLD_SECONDS / 60),
    "SendRatePerSecond": "10",
}
REMINDED_SHIFT_IN = timedelta(seconds=78)
DEMO_SCHEDULE_SECONDS = 2.0
# The demo's claim window (the sandbox runs due work every few seconds).
WINDOW_SECONDS = 12
# What Typer returns for a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def _stamp(instant: datetime) -> str:
    """A time as ``shifts add`` reads it, to the second with its offset."""
    return instant.isoformat(sep=" ")


class DemoFailed(ShiftsmsError):
    """A step of the demo did not happen as it should have."""


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ignore Ctrl-C in the block (the cleanup), so a second Ctrl-C cannot leave it half done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _pointed_at(endpoint: str) -> Iterator[None]:
    """Point boto3 (and so every shiftsms command) at the sandbox for the block."""
    names = [*environment(endpoint), "AWS_PROFILE", "AWS_SESSION_TOKEN", "SHIFTSMS_STACK"]
    saved = {name: os.environ.get(name) for name in names}
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "SHIFTSMS_STACK"):
        os.environ.pop(name, None)
    os.environ.update(environment(endpoint))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Demo:
    """The narrated scenario."""

    def __init__(self, console: Console, run_cli: Callable[[list[str]], int]) -> None:
        self.console = console
        self.run_cli = run_cli
        self.names = dict(STAFF)
        self.phones: SandboxClient | None = None
        self.seen: dict[str, int] = {}

    # -- narration ---------------------------------------------------------------------

    def chapter(self, title: str, note: str = "") -> None:
        """A section heading and what it shows."""
        self.console.print()
        self.console.print(Rule(Text(title, style="bold cyan"), align="left"))
        if note:
            self.console.print(Text(note, style="dim"), soft_wrap=True)

    def shell(self, *args: str) -> None:
        """Run a shiftsms command as a user would, showing it first."""
        self.console.print(Text("$ shiftsms " + shlex.join(args), style="bold"), soft_wrap=True)
        code = self.run_cli(list(args))
        if code == EXIT_INTERRUPTED:  # Ctrl-C while the command ran: stop the demo too
            raise KeyboardInterrupt
        if code != 0:
            raise DemoFailed(f"`shiftsms {shlex.join(args)}` exited {code}")

    def who(self, number: str) -> str:
        """A phone's owner and number."""
        name = self.names.get(number, "unknown")
        return f"{name} ({number})"

    def show_text(self, text: dict[str, Any]) -> None:
        """One SMS arriving on a phone."""
        self.console.print(
            Text(f"  {self.who(text['destination'])} <- ", style="green")
            + Text(text["body"])
            + Text(f"  [{text['segments']} segment(s)]", style="dim"),
            soft_wrap=True,
        )

    # -- phones ------------------------------------------------------------------------

    @property
    def client(self) -> SandboxClient:
        """The sandbox's phone network."""
        assert self.phones is not None
        return self.phones

    def wait_for(
        self, number: str, count: int = 1, timeout: float = REPLY_TIMEOUT
    ) -> list[dict[str, Any]]:
        """The next ``count`` texts ``number`` receives (or DemoFailed after a timeout)."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DemoFailed(f"{self.who(number)} got no text within {timeout:.0f}s")
            texts, _ = self.client.texts(
                to=number, after=self.seen.get(number, 0), wait=min(left, 5.0)
            )
            for text in texts:
                self.seen[number] = max(self.seen.get(number, 0), int(text["seq"]))
                got.append(text)
        return got

    def text(self, number: str, body: str) -> dict[str, Any]:
        """``number`` texts ``body`` to the service and gets one reply."""
        self.console.print(
            Text(f"  {self.who(number)} -> ", style="magenta") + Text(body), soft_wrap=True
        )
        self.client.text_in(number, body)
        reply = self.wait_for(number)[0]
        self.show_text(reply)
        return reply

    def expect(self, reply: dict[str, Any], fragment: str) -> None:
        """Fail the demo unless ``reply`` says ``fragment``."""
        if fragment not in reply["body"]:
            raise DemoFailed(f"expected {fragment!r} in the reply, got {reply['body']!r}")

    # -- the scenario ------------------------------------------------------------------

    def play(self, sandbox: Sandbox) -> dict[str, Any]:
        """Run the scenario against a started sandbox; return the numbers it ends with."""
        self.phones = SandboxClient(sandbox.endpoint)
        self.seen = {number: self.client.texts(to=number)[1] for number, _ in STAFF}
        self.seen[STRANGER] = self.seen[STAFF[0][0]]

        self.chapter(
            "1. The allow list",
            "Only numbers on the allow list may book; it is also the campaign roster.",
        )
        for number, name in STAFF:
            self.shell("allowlist", "add", number, "--name", name)

        self.chapter("2. Open shifts", "The operator posts shifts with the codes staff text back.")
        for shift_id, info in SHIFTS:
            self.shell("shifts", "add", shift_id, "--info", info)

        self.chapter(
            "3. A campaign",
            "Writing the campaign item starts it: the table's stream invokes the campaign "
            "function, which queues one job per recipient; the sender function texts each one "
            "through End User Messaging, at the number's rate.",
        )
        campaign_id = "demo-overtime"
        self.shell("campaign", "create", campaign_id, "--shifts", "XYZ123,XYZ124", "--yes")
        for number, _ in STAFF:
            for text in self.wait_for(number):
                self.show_text(text)

        self.chapter("4. Staff reply", "Each text goes SMS -> SNS -> inbound function -> reply.")
        ana, ben, cleo = (number for number, _ in STAFF)
        self.expect(self.text(ana, "REQUEST"), "Open shifts")
        self.expect(self.text(ana, "MORE"), "XYZ12")
        self.expect(self.text(ana, "xyz123"), "Booked: XYZ123")

        self.chapter(
            "5. Two staff race for one shift",
            "Ben and Cleo text XYZ124 at the same moment; the conditional write lets one win.",
        )
        replies = self._race([ben, cleo], "XYZ124")
        winners = [r for r in replies if "Booked: XYZ124" in r["body"]]
        if len(winners) != 1:
            raise DemoFailed(f"expected exactly one winner for XYZ124, got {len(winners)}")

        winner = winners[0]["destination"]
        self._waitlist(winner, ana, loser=cleo if winner == ben else ben)

        self.chapter(
            "7. A claim window",
            "With --mode window, replies during the window register interest; when it closes "
            "(due work, run by a schedule every minute on AWS, every few seconds here), the "
            "shift goes to one replier by the award rule, and everyone who replied is told.",
        )
        self.shell(
            "campaign",
            "create",
            "demo-window",
            "--shifts",
            "XYZ125",
            "--mode",
            "window",
            "--window",
            f"{WINDOW_SECONDS}s",
            "--award",
            "fewest-hours",
            "--yes",
        )
        for number, _ in STAFF:
            for text in self.wait_for(number):
                self.show_text(text)
        self.expect(self.text(cleo, "XYZ125"), "You're in for XYZ125")
        self.expect(self.text(ben, "XYZ125"), "You're in for XYZ125")
        self.console.print(Text("  ... the window closes ...", style="dim"))
        wait = WINDOW_SECONDS + 2 * REPLY_TIMEOUT
        for number in (cleo, ben):
            for text in self.wait_for(number, timeout=wait):
                self.show_text(text)

        self.chapter(
            "8. An unknown number",
            "Not on the allow list: one polite refusal (rate-limited), nothing booked.",
        )
        self.expect(self.text(STRANGER, "XYZ125"), "not registered")

        self.chapter(
            "9. AGENT",
            "Connect is enabled in the sandbox: AGENT starts an outbound call-back with the note.",
        )
        self.expect(self.text(ben, "AGENT can I swap my Friday shift?"), "agent will call")
        for call in self.client.calls():
            self.console.print(
                Text(
                    f"  Connect calls {self.who(call['destination'])} back "
                    f"(note: {call['attributes'].get('note', '')!r})",
                    style="yellow",
                ),
                soft_wrap=True,
            )

        self._self_service(sandbox, ana, ben, cleo)

        self.chapter(
            "12. Where things stand",
            "End User Messaging reports each text's fate and price through the configuration "
            "set: SNS -> SQS -> delivery function -> the send records. The sandbox's carrier "
            "cannot reach Cleo's phone, and reports Ben's delivery twice: it counts once.",
        )
        self.shell("shifts", "list")
        self._settle_campaign(sandbox)
        self._settle_receipts(sandbox, campaign_id)
        self.shell("campaign", "show", campaign_id, "--recipients")
        self.console.print(
            Text(
                "The manager's view of the day, from the audit trail and the send records:",
                style="dim",
            )
        )
        self.shell("report", "--since", "1d")
        return self._totals(sandbox)

    def _waitlist(self, holder: str, first: str, *, loser: str) -> None:
        """The race's loser and Ana wait; a DROP offers it down the list, past a lapsed hold."""
        self.chapter(
            "6. A waitlist",
            f"{self.names[loser]} lost the race and waits for XYZ124, then Ana does. When "
            f"{self.names[holder]} gives it back, it is held for the first in line; nobody "
            "answers, the hold lapses (HoldMinutes, here 6 seconds) and it goes to the next, "
            "who takes it with YES.",
        )
        self.expect(self.text(loser, "WAIT XYZ124"), "You're number 1 for XYZ124")
        self.expect(self.text(first, "WAIT XYZ124"), "You're number 2 for XYZ124")
        self.expect(self.text(holder, "DROP XYZ124"), "Released")
        held = self.wait_for(loser)[0]
        self.show_text(held)
        self.expect(held, "XYZ124 is free again and held for you")
        self.console.print(Text("  ... no answer; the hold lapses ...", style="dim"))
        offer = self.wait_for(first, timeout=HOLD_SECONDS + REPLY_TIMEOUT)[0]
        self.show_text(offer)
        self.expect(offer, "XYZ124 is free again and held for you")
        self.expect(self.text(first, "YES"), "Booked: XYZ124")

    def _self_service(self, sandbox: Sandbox, ana: str, ben: str, cleo: str) -> None:
        """SNOOZE skips a campaign; a timed booking brings MINE and a reminder."""
        self.chapter(
            "10. SNOOZE",
            "Cleo pauses campaign offers for 3 days; bookings, REQUEST and reminders still "
            "work. The next campaign skips her at send time.",
        )
        self.expect(self.text(cleo, "SNOOZE 3"), "No offers until")
        self.shell("allowlist", "list")
        self.shell("campaign", "create", "demo-late", "--shifts", "XYZ126", "--yes")
        for number in (ana, ben):
            for text in self.wait_for(number):
                self.show_text(text)
        self._settle_campaign(sandbox)
        if self.client.texts(to=cleo, after=self.seen.get(cleo, 0))[0]:
            raise DemoFailed("a snoozed person got a campaign text")
        self.console.print(Text(f"  {self.who(cleo)}: no offer (snoozed)", style="dim"))

        self.chapter(
            "11. A reminder",
            "A timed shift booked by text gets one reminder ReminderHours before it starts "
            "(here 72 seconds, so it comes at once); MINE lists what they hold.",
        )
        start = datetime.now(UTC).replace(microsecond=0) + REMINDED_SHIFT_IN
        end = start + timedelta(hours=8)
        self.shell(
            "shifts", "add", "REM1", "--start", _stamp(start), "--end", _stamp(end),
            "--location", "Ward 7",
        )  # fmt: skip
        self.expect(self.text(ana, "REM1"), "Booked: REM1")
        self.expect(self.text(ana, "MINE"), "Your shifts: REM1")
        reminder = self.wait_for(ana)[0]
        self.show_text(reminder)
        self.expect(reminder, "Reminder: REM1")

    def _race(self, numbers: list[str], body: str) -> list[dict[str, Any]]:
        start = threading.Barrier(len(numbers))
        errors: list[BaseException] = []

        def send(number: str) -> None:
            try:
                start.wait(timeout=10)
                self.client.text_in(number, body)
            except BaseException as exc:
                errors.append(exc)

        for number in numbers:
            self.console.print(
                Text(f"  {self.who(number)} -> ", style="magenta") + Text(body), soft_wrap=True
            )
        threads = [threading.Thread(target=send, args=(n,)) for n in numbers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=15)
        if errors:
            raise DemoFailed(f"a racing text failed: {errors[0]}")
        replies = [self.wait_for(n)[0] for n in numbers]
        for reply in replies:
            self.show_text(reply)
        return replies

    def _settle_campaign(self, sandbox: Sandbox) -> None:
        """Wait until the send queue is drained (the sender counts after each text)."""
        url = sandbox.stack.outputs.get("SendQueueUrl", "") if sandbox.stack else ""
        if not url:
            return
        sqs = client("sqs", sandbox.endpoint, sandbox.region)
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            if all(attrs.get(n, "0") == "0" for n in names):
                return
            time.sleep(0.1)
        raise DemoFailed("the campaign's send queue did not drain")

    def _settle_receipts(self, sandbox: Sandbox, campaign_id: str) -> None:
        """Wait until every text the campaign sent has its final delivery status recorded."""
        table = sandbox.stack.outputs.get("CampaignsTableName", "") if sandbox.stack else ""
        if not table:
            return
        dynamodb = client("dynamodb", sandbox.endpoint, sandbox.region)
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            item = dynamodb.get_item(
                TableName=table, Key={"campaign_id": {"S": campaign_id}}, ConsistentRead=True
            ).get("Item", {})
            sent, settled = (
                sum(int(item.get(n, {}).get("N", "0")) for n in names)
                for names in (("sent",), ("delivered", "delivery_failed"))
            )
            if sent and settled >= sent:
                return
            time.sleep(0.1)
        raise DemoFailed("the campaign's delivery receipts did not all arrive")

    def _totals(self, sandbox: Sandbox) -> dict[str, Any]:
        telecom = sandbox.emulator.telecom
        stats = sandbox.pump.stats if sandbox.pump else None
        table = Table("What", "How many", title="The sandbox's numbers")
        table.add_row("texts sent", str(len(telecom.outbox)))
        table.add_row("segments billed", str(sum(t.segments for t in telecom.outbox)))
        table.add_row("call-backs", str(len(telecom.calls)))
        for function, count in sorted((stats.invocations if stats else {}).items()):
            errors = stats.errors.get(function, 0) if stats else 0
            table.add_row(f"{function} invocations", f"{count} ({errors} errors)")
        self.console.print()
        self.console.print(table)
        return {"texts": len(telecom.outbox), "calls": len(telecom.calls)}


def run(console: Console, run_cli: Callable[[list[str]], int]) -> dict[str, Any]:
    """Start a throwaway sandbox, play the demo, stop everything. Raise on failure."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="shiftsms-demo-") as tmp:
        sandbox = Sandbox(
            Path(tmp),
            port=0,
            persist=False,
            parameters=DEMO_PARAMETERS,
            schedule_every=DEMO_SCHEDULE_SECONDS,
        )
        console.print(
            Panel(
                Text(
                    "shiftsms on this machine: an embedded AWS emulator (moto, plus End User "
                    "Messaging SMS and Connect), the real CloudFormation template deployed by "
                    "the real deploy code, and the real Lambda handlers run from the deployed "
                    "bundle. No AWS account, no network."
                ),
                title="shiftsms demo",
                border_style="cyan",
            )
        )
        with console.status("Starting the emulator and deploying the stack..."):
            try:
                sandbox.start()
            except BaseException:
                with _uninterrupted():
                    sandbox.stop(save=False)
                raise
        try:
            console.print(
                Text(
                    f"Sandbox up on {sandbox.endpoint}: stack {sandbox.stack_name} deployed, "
                    f"service number {sandbox.origination}.",
                    style="green",
                )
            )
            with _pointed_at(sandbox.endpoint):
                totals = Demo(console, run_cli).play(sandbox)
        finally:
            with _uninterrupted():
                sandbox.stop(save=False)
    elapsed = time.monotonic() - started
    console.print()
    console.print(
        Text(
            f"Demo finished in {elapsed:.1f}s; the sandbox is stopped and its files removed. "
            "Keep one running with: shiftsms local up",
            style="bold green",
        )
    )
    return {**totals, "seconds": elapsed}
