"""The ``parkwh`` command line: one module per command, all registered on one Typer app."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="parkwh",
    help="parkwh: the warehouse for the annual evaluation of returnee entrepreneurship parks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise: errors never show a traceback."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
