"""Where parkwh keeps things: the one place that turns settings into paths.

Every path parkwh reads or writes derives from two settings, so a test (or a second
installation) can point the whole pipeline somewhere else by setting one variable:

- ``PARKWH_PROJECT_DIR``: the repository (dbt project, seeds, expectations). Defaults to the
  checkout this package was installed from.
- ``PARKWH_WAREHOUSE_DIR``: the data (inbox, archive, landing, DuckDB files, exports,
  reports). Defaults to ``<project>/warehouse``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_dir() -> Path:
    """The repository root: holds ``dbt_project/``, ``seeds/`` and ``expectations/``."""
    env = os.environ.get("PARKWH_PROJECT_DIR")
    return Path(env).resolve() if env else _PACKAGE_DIR.parents[1]


@dataclass(frozen=True)
class WarehousePaths:
    """Every location under the warehouse folder, derived from its root."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def database(self) -> Path:
        return self.root / "parkwh.duckdb"

    @property
    def published_database(self) -> Path:
        return self.root / "published.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def quality(self) -> Path:
        return self.root / "quality"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def lock_file(self) -> Path:
        return self.root / ".parkwh.lock"

    def inbox_year(self, year: int) -> Path:
        return self.inbox / str(year)


def warehouse() -> WarehousePaths:
    """The warehouse paths in force now (read from the environment at each call)."""
    env = os.environ.get("PARKWH_WAREHOUSE_DIR")
    root = Path(env).resolve() if env else project_dir() / "warehouse"
    return WarehousePaths(root)


def seeds_dir() -> Path:
    return project_dir() / "seeds"


def dbt_project_dir() -> Path:
    return project_dir() / "dbt_project"


def expectations_dir() -> Path:
    return project_dir() / "expectations"
