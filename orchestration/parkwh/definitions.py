"""The Dagster code location: it only collects the definitions of each area."""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

from parkwh import defs as _defs_package


def _area_definitions() -> list[dg.Definitions]:
    # Every module under parkwh.defs that exposes `defs` contributes its area.
    found = []
    for module in sorted(pkgutil.iter_modules(_defs_package.__path__), key=lambda m: m.name):
        area = importlib.import_module(f"{_defs_package.__name__}.{module.name}")
        if isinstance(getattr(area, "defs", None), dg.Definitions):
            found.append(area.defs)
    return found


defs = dg.Definitions.merge(*_area_definitions())
