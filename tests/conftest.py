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


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    """A warehouse built once per session from the whole demo (2019–2023) by ``parkwh run``'s
    pipeline, on its own Dagster instance: ``.root`` (the warehouse folder) and ``.summary``.

    Expensive (the demo, then ingest, dbt, the quality gate and publishing): use it only from
    tests marked slow, and read-only; a test that changes a warehouse copies ``.root`` first
    (``shutil.copytree``). ``use_demo_warehouse`` points parkwh at it for one test.
    """
    import types

    from parkwh.demo import generate_demo
    from parkwh.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("demo") / "warehouse"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
        # dagster-dbt keeps each invocation's artefacts here, not in the project.
        patch.setenv("DBT_TARGET_PATH", str(root.parent / "dbt_target"))
        generate_demo(root / "inbox")
        summary = run_pipeline()
    return types.SimpleNamespace(root=root, summary=summary)


@pytest.fixture()
def use_demo_warehouse(demo_warehouse, monkeypatch):
    """Point parkwh at the session's demo warehouse (read-only) for one test."""
    monkeypatch.setenv("PARKWH_WAREHOUSE_DIR", str(demo_warehouse.root))
    monkeypatch.setenv("DBT_TARGET_PATH", str(demo_warehouse.root.parent / "dbt_target"))
    return demo_warehouse
