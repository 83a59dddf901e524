"""How ``--help`` and usage errors look, the same in every command.

Typer's defaults, changed in one place (applied when :mod:`shiftsms.cli` is imported):

* A flag takes no value, so it shows no ``<bool>`` placeholder in ``--help``: Typer prints
  one after every option, flags included (``--dry-run <bool>``). Options that take a value
  keep theirs (``<str>``, ``<int range>``).
* A usage error (a missing argument, ``--port 99999``) is one red line on stderr, like
  every other error of the CLI, ``Error: ... (see: shiftsms local up --help)``, with exit
  code 2; Typer's default is the usage line, a hint and a boxed panel.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from typer import rich_utils
from typer.core import TyperOption

from shiftsms.cli.output import stderr

_PATCHED = "_shiftsms_usage_applied"


def _display_type_rich(original: Any) -> Any:
    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        return original(self, ctx)  # type: ignore[no-any-return]

    return display_type_rich


def format_usage_error(exc: Any) -> None:
    """Print a Typer usage error as one ``Error:`` line on stderr."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # the help was shown instead
        return
    ctx = getattr(exc, "ctx", None)
    hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
    # Typer's validation prefixes its reason with "Value error, ": the reason says it all
    message = exc.format_message().replace("Value error, ", "").rstrip(".")
    line = Text("Error: ", style="bold red") + Text(message + hint)
    stderr().print(line, soft_wrap=True)


def apply() -> None:
    """Change Typer's help and usage-error display as described above (idempotent)."""
    if getattr(TyperOption, _PATCHED, False):
        return
    TyperOption.display_type_rich = _display_type_rich(  # type: ignore[method-assign]
        TyperOption.display_type_rich
    )
    rich_utils.rich_format_error = format_usage_error  # type: ignore[assignment]
    setattr(TyperOption, _PATCHED, True)
