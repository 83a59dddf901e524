"""Options every command spells the same way."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
FullNumbersOpt = Annotated[
    bool, typer.Option("--full-numbers", help="Show whole phone numbers; masked otherwise.")
]
