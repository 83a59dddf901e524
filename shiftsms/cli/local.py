"""``shiftsms local``: the sandbox kept running, and a phone to text it from."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from shiftsms.cli.options import JsonOpt
from shiftsms.cli.output import fail, handle_errors, print_json, say, stderr, stdout
from shiftsms.core.phone import normalise
from shiftsms.local.aws import DEFAULT_REGION, environment
from shiftsms.local.client import SandboxClient, SandboxUnreachable
from shiftsms.local.state import (
    DEFAULT_PORT,
    LOCK_FILE,
    PID_FILE,
    SandboxInfo,
    StateError,
    default_state_dir,
    pid_alive,
    port_free,
    read_pid_file,
    read_state,
    state_dir_locked,
)

app = typer.Typer(
    name="local",
    help="Run shiftsms on this machine: an embedded AWS emulator with the real stack deployed.",
    no_args_is_help=True,
)

START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
REPLY_TIMEOUT = 15.0

StateDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        envvar="SHIFTSMS_STATE_DIR",
        help="Folder for the sandbox's state (default: ./.shiftsms). Delete it to start afresh.",
    ),
]


def _state_dir(given: Path | None) -> Path:
    return given if given is not None else default_state_dir()


def _export_line(endpoint: str) -> str:
    return "export " + " ".join(f"{k}={v}" for k, v in environment(endpoint).items())


def _is_sandbox_process(pid: int) -> bool:
    """True unless /proc shows that ``pid`` is some other program (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"shiftsms" in cmdline


def _at_endpoint() -> SandboxInfo | None:
    """The sandbox ``AWS_ENDPOINT_URL`` points at (the `export` line of `local up`), if any."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").rstrip("/")
    if not endpoint.startswith(("http://127.0.0.1:", "http://localhost:")):
        return None
    try:
        data = SandboxClient(endpoint, timeout=5).status()
        return SandboxInfo(
            pid=int(data["pid"]),
            port=int(endpoint.rsplit(":", 1)[1]),
            endpoint=endpoint,
            region=str(data["region"]),
            stack=str(data["stack"]),
            started_at=str(data["started_at"]),
        )
    except (SandboxUnreachable, KeyError, TypeError, ValueError):
        return None


def _alive(state_dir: Path, info: SandboxInfo) -> bool:
    if (state_dir / LOCK_FILE).exists() and not state_dir_locked(state_dir):
        return False  # the lock dies with its holder, however it died
    return pid_alive(info.pid) and _is_sandbox_process(info.pid)


def _running(state_dir: Path) -> SandboxInfo:
    """The running sandbox of ``state_dir``, else the one ``AWS_ENDPOINT_URL`` points at, or
    exit with why there is none."""
    info = read_pid_file(state_dir)
    if info is not None and _alive(state_dir, info):
        return info
    found = _at_endpoint()
    if found is not None:
        return found
    if info is None:
        fail(
            f"no sandbox is running for {state_dir}: start one with `shiftsms local up`, "
            "or point AWS_ENDPOINT_URL or SHIFTSMS_STATE_DIR at a running one"
        )
    (state_dir / PID_FILE).unlink(missing_ok=True)
    return fail(
        f"the sandbox (pid {info.pid}) is not running any more; removed its stale pid file "
        f"{state_dir / PID_FILE}. Start it again with `shiftsms local up`"
    )


def _client(state_dir: Path) -> SandboxClient:
    return SandboxClient(_running(state_dir).endpoint)


def _number(raw: str) -> str:
    return normalise(raw, "GB")


# -- up / down / status ----------------------------------------------------------------------


@app.command("up")
@handle_errors
def up(
    port: Annotated[
        int,
        typer.Option(
            "--port", "-p", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port)."
        ),
    ] = DEFAULT_PORT,
    state_dir: StateDirOpt = None,
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Run in this terminal until Ctrl-C.")
    ] = False,
) -> None:
    """Start the sandbox: emulator, the real stack deployed into it, events flowing.

    It keeps running in the background (`shiftsms local down` stops it); its state (tables,
    sent texts) is saved in the state folder and restored on the next `up`.
    """
    folder = _state_dir(state_dir)
    if state_dir_locked(folder):
        fail(f"the state folder {folder} is in use by a running sandbox: stop it first")
    info = read_pid_file(folder)
    if info is not None:
        if _alive(folder, info):
            fail(f"a sandbox is already running on {info.endpoint} (pid {info.pid})")
        (folder / PID_FILE).unlink(missing_ok=True)
        stderr().print(f"Removed a stale pid file (pid {info.pid} is not running).")
    read_state(folder)  # a corrupt state folder is reported before anything starts
    if port and not port_free(port):
        fail(f"port {port} on 127.0.0.1 is in use: choose another with --port")
    if foreground:
        _foreground(folder, port)
        return
    _background(folder, port)


def _foreground(folder: Path, port: int) -> None:
    # moto loads only when a sandbox starts (it is the `local` extra, and slow to import).
    from shiftsms.local.emulator import PortInUse  # noqa: PLC0415
    from shiftsms.local.sandbox import serve  # noqa: PLC0415

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ready = threading.Thread(target=_announce_when_ready, args=(folder, stop), daemon=True)
    ready.start()
    try:
        serve(folder, port, DEFAULT_REGION, stop)
    except PortInUse as exc:
        fail(f"{exc.strerror}: choose another with --port")
    say("Sandbox stopped; state saved in " + str(folder))


def _announce_when_ready(folder: Path, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        with contextlib.suppress(StateError):
            info = read_pid_file(folder)
            if info is not None and info.pid == os.getpid():
                _print_ready(info, folder)
                return


def _print_ready(info: SandboxInfo, folder: Path) -> None:
    say(f"Sandbox running on {info.endpoint} (pid {info.pid}); state in {folder}.")
    say("Point the shiftsms CLI (or any AWS SDK) at it:")
    say("  " + _export_line(info.endpoint))
    say("Text it: shiftsms local phone +447700900123   Stop it: shiftsms local down")


def _background(folder: Path, port: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "sandbox.log"
    command = [
        sys.executable,
        "-m",
        "shiftsms",
        "local",
        "up",
        "--foreground",
        "--port",
        str(port),
        "--state-dir",
        str(folder),
    ]
    with log_path.open("a", encoding="utf-8") as log:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-8:]
            fail(f"the sandbox did not start (exit {child.returncode}); see {log_path}", 1, tail)
        with contextlib.suppress(StateError):
            info = read_pid_file(folder)
            if info is not None and info.pid == child.pid:
                with contextlib.suppress(SandboxUnreachable):
                    if SandboxClient(info.endpoint, timeout=2).status().get("ready"):
                        _print_ready(info, folder)
                        return
        time.sleep(0.2)
    child.kill()
    child.wait(timeout=10)
    fail(f"the sandbox did not start within {START_TIMEOUT:.0f}s; see {log_path}")


@app.command("down")
@handle_errors
def down(state_dir: StateDirOpt = None) -> None:
    """Stop the sandbox (its state is saved first)."""
    folder = _state_dir(state_dir)
    info = _running(folder)
    try:
        control = SandboxClient(info.endpoint, timeout=5)
        # the folder it runs from, which is not ours when found through AWS_ENDPOINT_URL
        folder = Path(str(control.status().get("state_dir") or folder))
        control.shutdown()
    except SandboxUnreachable:
        os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while pid_alive(info.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(info.pid):
        os.kill(info.pid, signal.SIGKILL)
        time.sleep(0.5)
        (folder / PID_FILE).unlink(missing_ok=True)
        fail(f"the sandbox (pid {info.pid}) did not stop within {STOP_TIMEOUT:.0f}s; killed it")
    (folder / PID_FILE).unlink(missing_ok=True)
    say(f"Sandbox stopped; state saved in {folder}.")


@app.command("status")
@handle_errors
def status(state_dir: StateDirOpt = None, as_json: JsonOpt = False) -> None:
    """Is the sandbox running, where, and what has it done."""
    folder = _state_dir(state_dir)
    info = _running(folder)
    try:
        data = SandboxClient(info.endpoint, timeout=5).status()
    except SandboxUnreachable as exc:
        fail(f"the sandbox (pid {info.pid}) does not answer on {info.endpoint}: {exc}")
    if as_json:
        print_json(data)
        return
    say(f"Sandbox running on {data['endpoint']} (pid {data['pid']}), stack {data['stack']}.")
    say(f"State folder: {data['state_dir']}")
    say(f"Service number: {data['origination']}")
    say(f"Texts sent: {data['texts']}, call-backs: {data['calls']}")
    for function, count in sorted(data.get("invocations", {}).items()):
        errors = data.get("errors", {}).get(function, 0)
        say(f"  {function}: {count} invocation(s), {errors} error(s)")
    say("  " + _export_line(data["endpoint"]))


# -- phones ----------------------------------------------------------------------------------


def _wait_reply(client: SandboxClient, to: str, after: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return []
        texts, _ = client.texts(to=to, after=after, wait=min(left, 10.0))
        if texts:
            return texts


@app.command("sms")
@handle_errors
def sms(
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help='What the phone texts, e.g. "XYZ123".')
    ],
    sender: Annotated[str, typer.Option("--from", help="The phone's number (E.164).")],
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=1, max=600, help="Seconds to wait for the reply."),
    ] = REPLY_TIMEOUT,
    state_dir: StateDirOpt = None,
) -> None:
    """Text the service once from a phone and print the reply."""
    phone = _number(sender)
    client = _client(_state_dir(state_dir))
    sent = client.text_in(phone, text)
    replies = _wait_reply(client, phone, int(sent["seq_before"]), timeout)
    if not replies:
        fail(
            f"no reply to {phone} within {timeout:.0f}s (an unknown number gets at most one "
            "reply a day; STOP/HELP are answered by the network). See `shiftsms local outbox`."
        )
    for reply in replies:
        typer.echo(reply["body"])


class _PhoneScreen:
    """The phone's terminal: texts that arrive are printed above the line being typed.

    On a terminal the input line is ``you: `` plus what is typed (readline: editing and
    history), so a sent text is shown once, as typed. A text that arrives while someone
    types is printed on its own line and the input line is drawn again below it, with what
    was typed so far. Piped input is not echoed by a terminal, so sent texts are printed.
    """

    PROMPT = "you: "

    def __init__(self) -> None:
        self.console = stdout()
        self.interactive = sys.stdin.isatty() and sys.stdout.isatty()
        self.lock = threading.Lock()
        self.reading = False
        self._readline: Any = None
        if self.interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: PLC0415 - line editing for input(), where available

                self._readline = readline

    def show(self, line: Text) -> None:
        """Print ``line`` above the input line (kept as typed)."""
        with self.lock:
            if self.reading:
                sys.stdout.write("\r\x1b[K")  # back to the start of the input line, clear it
                sys.stdout.flush()
            self.console.print(line, soft_wrap=True)
            if self.reading:
                typed = self._readline.get_line_buffer() if self._readline else ""
                sys.stdout.write(self.PROMPT + typed)
                sys.stdout.flush()

    def read(self) -> str:
        """One line typed (EOFError on Ctrl-D)."""
        if not self.interactive:
            return input()
        with self.lock:
            self.reading = True
        try:
            return input(self.PROMPT)
        except EOFError:
            sys.stdout.write("\n")
            raise
        finally:
            with self.lock:
                self.reading = False

    def sent(self, body: str) -> None:
        """Show a sent text, unless the terminal already shows it as typed."""
        if not self.interactive:
            self.show(Text(f"{self.PROMPT}{body}", style="cyan"))


@app.command("phone")
@handle_errors
def phone(
    number: Annotated[
        str, typer.Argument(metavar="PHONE", help="The phone's number, e.g. +447700900123.")
    ],
    state_dir: StateDirOpt = None,
) -> None:
    """An interactive phone: type texts to the service, see every text this number gets.

    Texts that arrive are printed above the line you are typing, which stays as typed.
    Ctrl-D or /quit hangs up.
    """
    me = _number(number)
    client = _client(_state_dir(state_dir))
    service = client.status()["origination"]
    _, last = client.texts(to=me)
    screen = _PhoneScreen()
    screen.show(
        Text(f"Phone {me} - texting {service}. Type a message and press Enter; ", style="bold")
        + Text("Ctrl-D or /quit hangs up.")
    )
    stop = threading.Event()

    def listen() -> None:
        after = last
        while not stop.is_set():
            try:
                texts, _ = client.texts(to=me, after=after, wait=2.0)
            except SandboxUnreachable:
                if not stop.is_set():
                    screen.show(Text("The sandbox stopped answering.", style="red"))
                stop.set()
                return
            if texts and not stop.is_set():
                for t in texts:
                    screen.show(
                        Text(f"[{t['sent_at'][11:19]}] {t['origination'] or service}: ", "green")
                        + Text(t["body"])
                    )
                after = max(t["seq"] for t in texts)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        while not stop.is_set():
            try:
                line = screen.read()
            except EOFError:
                break
            body = line.strip()
            if body in ("/quit", "/exit"):
                break
            if not body:
                continue
            client.text_in(me, body)
            screen.sent(body)
    except KeyboardInterrupt:
        sys.stdout.write("\n")
    finally:
        stop.set()
        listener.join(timeout=5)
    say("Hung up.")


@app.command("outbox")
@handle_errors
def outbox(
    to: Annotated[str | None, typer.Option("--to", help="Only texts to this number.")] = None,
    state_dir: StateDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every text the sandbox delivered (campaigns, replies), oldest first."""
    client = _client(_state_dir(state_dir))
    texts, _ = client.texts(to=_number(to) if to else None)
    if as_json:
        print_json(texts)
        return
    if not texts:
        say("No texts sent yet.")
        return
    table = Table("#", "Sent (UTC)", "From", "To", "Seg", "Text")
    for t in texts:
        table.add_row(
            str(t["seq"]),
            t["sent_at"][:19].replace("T", " "),
            t["origination"],
            t["destination"],
            str(t["segments"]),
            t["body"],
        )
    stdout().print(table)
