"""Shared fixtures: every test gets its own warehouse folder, never the developer's."""

from __future__ import annotations

import pytest


@pytest.fixture()
def warehouse_dir(tmp_path, monkeypatch):
    """An empty warehouse folder for one test; parkwh.config points everything at it."""
    root = tmp_path / "warehouse"
    root.mkdir()
    monkeypatch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
    return root
