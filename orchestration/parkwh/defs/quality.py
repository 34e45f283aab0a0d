"""Dagster definitions of the quality gate: the suites in ``expectations/`` as blocking asset checks.

The checks attach to assets other areas define (the dbt models, the publishing assets), so this
module reads the other areas' definitions to find them; ``parkwh.quality.checks`` explains what
each check does and why the gate sits on the publishing assets' inputs.
"""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

from parkwh import defs as _defs_package
from parkwh.quality.checks import gate_definitions
from parkwh.quality.suites import load_suites

_THIS_AREA = __name__.rsplit(".", 1)[-1]


def _other_areas_assets() -> list[dg.AssetsDefinition | dg.AssetSpec]:
    found: list[dg.AssetsDefinition | dg.AssetSpec] = []
    for module in sorted(pkgutil.iter_modules(_defs_package.__path__), key=lambda m: m.name):
        if module.name == _THIS_AREA:
            continue
        area = importlib.import_module(f"{_defs_package.__name__}.{module.name}")
        area_defs = getattr(area, "defs", None)
        if isinstance(area_defs, dg.Definitions):
            found.extend(
                a for a in (area_defs.assets or ()) if isinstance(a, (dg.AssetsDefinition, dg.AssetSpec))
            )
    return found


defs = gate_definitions(load_suites(), _other_areas_assets())
