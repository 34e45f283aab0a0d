"""Entry point of the ``parkwh`` console script."""

from __future__ import annotations

import importlib
import pkgutil

from parkwh import commands
from parkwh.commands import app


def _register_commands() -> None:
    # Each module under parkwh.commands registers its command(s) on the shared app when imported.
    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}")


def main() -> None:
    _register_commands()
    app()


if __name__ == "__main__":
    main()
