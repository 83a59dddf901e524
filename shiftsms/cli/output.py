"""What every CLI command shares: consoles, JSON output, progress, and error reporting.

Errors are turned into one red line on stderr and an exit code here, once. A command opts
in with the decorator (put it under ``@app.command()``)::

    from shiftsms.cli.output import handle_errors, print_json, say

    @app.command()
    @handle_errors
    def show(ctx: typer.Context) -> None:
        say("Done.")

or wraps a block with ``with errors_handled():``. Exit codes:

- 2, usage: a value the user gave is wrong (``InvalidInput``, ``InvalidShiftId``,
  ``InvalidPhoneNumber``, an unknown ``--profile``);
- 1, everything else: any other ``ShiftsmsError`` (``StackNotFound`` included, with a hint),
  missing AWS credentials, an unreachable endpoint, access denied, any other AWS error;
- an unexpected exception is reported as an internal error in one line; set
  ``SHIFTSMS_DEBUG=1`` to see its traceback instead.

Rows of a rejected import (``RowsRejected.problems``) and notes added with
``exc.add_note(...)`` are printed indented under the error line.

``typer.Exit``, ``typer.Abort`` and Typer's own usage errors pass through untouched.
Consoles are built per call, so ``COLUMNS``, ``NO_COLOR`` and redirected streams (as in
``CliRunner``) are honoured at the time of printing.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from shiftsms.aws.decode import log as item_log
from shiftsms.aws.stack import StackNotFound
from shiftsms.core.commands import InvalidShiftId
from shiftsms.core.phone import InvalidPhoneNumber
from shiftsms.errors import InvalidInput, ShiftsmsError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_ERROR = 1
EXIT_USAGE = 2
DEBUG_ENV = "SHIFTSMS_DEBUG"
MAX_PROBLEM_LINES = 20

ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
BAD_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)


def stdout() -> Console:
    """A console on standard output (results: tables, messages)."""
    return Console(highlight=False)


def stderr() -> Console:
    """A console on standard error (errors, warnings, progress)."""
    return Console(stderr=True, highlight=False)


def say(message: str | Text, style: str | None = None) -> None:
    """Print one message to stdout as written (no markup, no wrapping)."""
    text = message if isinstance(message, Text) else Text(message)
    stdout().print(text, style=style, soft_wrap=True)


def warn(message: str) -> None:
    """Print a yellow warning to stderr."""
    stderr().print(Text("Warning: ", style="bold yellow") + Text(message), soft_wrap=True)


class _WarningLines(logging.Handler):
    """Each log record as one :func:`warn` line."""

    def emit(self, record: logging.LogRecord) -> None:
        warn(record.getMessage())


def show_item_warnings() -> None:
    """Show the adapters' warnings about items that did not fit (one line each on stderr)."""
    if not any(isinstance(h, _WarningLines) for h in item_log.handlers):
        item_log.addHandler(_WarningLines(logging.WARNING))


def fail(message: str, code: int = EXIT_ERROR, details: list[str] | None = None) -> NoReturn:
    """Print ``Error: message`` in red to stderr (then ``details``, one a line) and exit."""
    console = stderr()
    console.print(Text("Error: ", style="bold red") + Text(message), soft_wrap=True)
    for line in details or []:
        console.print(Text(f"  {line}"), soft_wrap=True)
    raise typer.Exit(code)


def confirm(question: str, *, abort: bool = False) -> bool:
    """Ask a yes/no question (default no); with ``abort``, a no ends the command (exit 1).

    With no terminal to answer on (a script, a pipe at its end), say how to go ahead instead of
    a bare "Aborted.".
    """
    try:
        answer = typer.confirm(question, default=False)
    except typer.Abort:
        if sys.stdin.isatty():
            raise
        typer.echo()
        fail("no answer to the question above (no terminal?): add --yes to go ahead without asking")
    if abort and not answer:
        raise typer.Abort()
    return answer


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout, with no styling (for scripts)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def read_text(path: Path) -> str:
    """A UTF-8 text file (a byte-order mark is allowed); a clear error if it is not text."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text (save it as 'CSV UTF-8')") from exc
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc


def writable_file(path: Path | None) -> Path | None:
    """An option callback for a file the command will write (``--csv FILE``): a usage error,
    before any AWS call, if it is a folder or its folder is missing or not writable."""
    if path is None:
        return None
    parent = path.parent
    if path.is_dir():
        reason = f"{path} is a folder, not a file"
    elif not parent.exists():
        reason = f"cannot write {path}: folder {parent} does not exist"
    elif not parent.is_dir():
        reason = f"cannot write {path}: {parent} is not a folder"
    elif not os.access(path if path.exists() else parent, os.W_OK):
        reason = f"cannot write {path}: no permission"
    else:
        return path
    raise typer.BadParameter(reason)


def _client_error(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")).strip()
    operation = exc.operation_name
    if code in ACCESS_DENIED:
        return f"access denied: your AWS identity may not call {operation} ({message})"
    if code in BAD_CREDENTIALS:
        return f"AWS rejected your credentials ({code}): refresh them or pick another --profile"
    if code == "ResourceNotFoundException":
        return f"{operation} failed: {message or code} (is the stack fully deployed?)"
    return f"AWS error {code} in {operation}: {message or 'no details'}"


def describe_error(exc: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit code for ``exc``, or None if it is not ours to report."""
    if isinstance(exc, InvalidInput | InvalidShiftId | InvalidPhoneNumber):
        return str(exc), EXIT_USAGE
    if isinstance(exc, StackNotFound):
        return (
            f"{exc}: deploy it first, or check --stack-name, --region and --profile",
            EXIT_ERROR,
        )
    if isinstance(exc, ShiftsmsError):
        return str(exc), EXIT_ERROR
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials found: configure a profile (--profile, AWS_PROFILE) or set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            EXIT_ERROR,
        )
    if isinstance(exc, ProfileNotFound):
        return f"{exc}: check --profile or AWS_PROFILE", EXIT_USAGE
    if isinstance(exc, NoRegionError):
        return (
            "no AWS region: pass --region, set AWS_DEFAULT_REGION, or set one in your AWS config",
            EXIT_USAGE,
        )
    if isinstance(exc, EndpointConnectionError):
        url = exc.kwargs.get("endpoint_url", "AWS")
        return (
            f"cannot reach {url}: check your network, --region, or AWS_ENDPOINT_URL",
            EXIT_ERROR,
        )
    if isinstance(exc, ClientError):
        return _client_error(exc), EXIT_ERROR
    if isinstance(exc, BotoCoreError):
        return f"AWS error: {exc}", EXIT_ERROR
    return None


@contextmanager
def errors_handled() -> Iterator[None]:
    """Report errors raised in the block as one red line and exit with their code."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except Exception as exc:
        described = describe_error(exc)
        if described is not None:
            message, code = described
            fail(message, code, _problem_lines(exc))
        if os.environ.get(DEBUG_ENV):
            raise
        fail(
            f"internal error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for details)",
            details=_problem_lines(exc),
        )


def _problem_lines(exc: BaseException) -> list[str]:
    """Detail lines: ``line N: reason`` for errors that carry ``problems`` (RowsRejected, at
    most 20), then any notes added to the exception (``exc.add_note``)."""
    problems: list[tuple[int, str]] = list(getattr(exc, "problems", None) or [])
    lines = [f"line {line}: {why}" for line, why in problems[:MAX_PROBLEM_LINES]]
    if len(problems) > MAX_PROBLEM_LINES:
        lines.append(f"... and {len(problems) - MAX_PROBLEM_LINES} more")
    return lines + [str(note) for note in getattr(exc, "__notes__", [])]


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command so its errors are reported by :func:`errors_handled`."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with errors_handled():
            return func(*args, **kwargs)

    return wrapper


@contextmanager
def progress(description: str, total: int, *, min_total: int = 100) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr for ``total`` steps; yields the function that advances it.

    Shown only on a terminal and for at least ``min_total`` steps, so output stays clean in
    pipes and scripts.
    """
    console = stderr()
    if total < min_total or not console.is_terminal:
        yield lambda: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)
