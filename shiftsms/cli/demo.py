"""``shiftsms demo``: the whole system on this machine, narrated (see shiftsms.local.demo)."""

from __future__ import annotations

import typer
from rich.console import Console

from shiftsms.cli.output import fail, handle_errors, stderr

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a program stopped by Ctrl-C


def _run_cli(args: list[str]) -> int:
    """Run one ``shiftsms`` command in this process; return its exit code."""
    from shiftsms.cli import app  # noqa: PLC0415 - the root app imports this module

    try:
        result = app(args=args, prog_name="shiftsms", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except typer.TyperException as exc:
        stderr().print(f"Error: {exc.format_message()}")
        return exc.exit_code
    return result if isinstance(result, int) else 0


@handle_errors
def demo() -> None:
    """Run the whole system on this machine and play a narrated scenario (no AWS needed).

    Starts an embedded AWS emulator on 127.0.0.1, deploys the real template with the real
    deploy code, and shows staff, shifts, a campaign and replies; leaves nothing running.
    Ctrl-C stops it (and the sandbox) at once: it says "interrupted" and exits 130.
    """
    # moto loads only when the demo runs (it is the `local` extra, and slow to import).
    from shiftsms.local.demo import DemoFailed, run  # noqa: PLC0415

    try:
        run(Console(highlight=False), _run_cli)
    except DemoFailed as exc:
        fail(f"the demo went wrong: {exc}")
    except KeyboardInterrupt:
        fail("interrupted: the demo's sandbox is stopped and its files removed", EXIT_INTERRUPTED)


def register(app: typer.Typer) -> None:
    """Add ``shiftsms demo`` to the root app."""
    app.command("demo")(demo)
