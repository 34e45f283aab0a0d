"""docs/publishing.md stays true: every SQL and Python example in it runs against a publication."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re

import duckdb
import pytest
from parkwh import config
from parkwh.publish import publications, readonly
from test_publish_fixture import build, correct_submission

DOC = config.project_dir() / "docs" / "publishing.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.fixture(scope="module")
def published_twice(tmp_path_factory):
    """2023 published twice (a correction between), the examples run from the repository's place."""
    root = tmp_path_factory.mktemp("docs") / "warehouse"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
        build(root)
        publications.publish()
        correct_submission("JS003", 2023, enterprises_in_park=60)
        publications.publish()
        readonly.build()
        patch.chdir(root.parent)  # the examples use paths relative to the repository
        yield root


def test_every_sql_example_runs_on_published_duckdb(published_twice):
    blocks = _blocks("sql")
    assert len(blocks) >= 6
    con = duckdb.connect("warehouse/published.duckdb", read_only=True)
    try:
        for sql in blocks:
            rows = con.execute(sql).fetchall()
            assert rows, f"no rows from:\n{sql}"
    finally:
        con.close()


def test_every_python_example_runs(published_twice):
    blocks = _blocks("python")
    assert len(blocks) >= 5
    for code in blocks:
        if "duckdb:///" in code and importlib.util.find_spec("duckdb_engine") is None:
            continue  # the SQLAlchemy example needs duckdb-engine, which BI tools bring
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(code, str(DOC), "exec"), {})  # noqa: S102 - the documented example itself
        assert output.getvalue().strip(), f"the example printed nothing:\n{code}"


def test_the_tables_the_doc_lists_are_the_ones_shared():
    text = DOC.read_text(encoding="utf-8")
    marts_row = next(line for line in text.splitlines() if line.startswith("| `marts` |"))
    assert re.findall(r"`(\w+)`", marts_row)[1:] == list(readonly.MART_TABLES)
    for table in readonly.WITHHELD_TABLES:
        assert f"`{table}`" in text
