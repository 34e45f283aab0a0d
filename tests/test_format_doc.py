"""The submission format document: its generated tables match the seeds, and the generator keeps them so."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from parkwh import config
from parkwh.submission import formatdoc, spec


def _seed_rows(name: str) -> list[dict[str, str]]:
    # Read the seeds directly, not through spec: the document must cover what the files say.
    with (config.seeds_dir() / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _generated_block(document: str) -> str:
    start = document.index(formatdoc.START_MARKER) + len(formatdoc.START_MARKER)
    return document[start : document.index(formatdoc.END_MARKER)]


def _row_of(block: str, part: str, key: str) -> str:
    """The table row of one field: the first row naming the key after the part's heading."""
    section = block[block.index(f'<a id="part-{part}"></a>') :]
    return next(line for line in section.splitlines() if line.startswith(f"| `{key}` |"))


def test_committed_document_is_up_to_date_with_the_seeds():
    document = formatdoc.doc_path().read_text(encoding="utf-8")
    assert formatdoc.splice(document, formatdoc.render_field_tables()) == document, (
        "docs/submission-format.md is out of date with the seeds: "
        "run python -m parkwh.submission.formatdoc"
    )


def test_tables_cover_every_field_enumeration_and_province():
    block = _generated_block(formatdoc.doc_path().read_text(encoding="utf-8"))
    for row in _seed_rows("submission_fields.csv"):
        line = _row_of(block, row["part"], row["field"])
        assert row["label_zh"] in line and row["label_en"].replace("|", "\\|") in line
        assert ("**yes**" in line) == (row["required"] == "true"), line
        assert ("**personal data" in line) == (row["personal"] == "true"), line
        if row["field_type"] == "money":
            assert "万元" in line and "亿元" in line
    for row in _seed_rows("submission_enums.csv"):
        assert f"| `{row['code']}` | {row['label_zh']} | {row['label_en']} |" in block, row
    for row in _seed_rows("provinces.csv"):
        assert f"| `{row['province_code']}` | {row['province_name_zh']} |" in block, row


def test_every_enumeration_link_has_its_anchor():
    block = _generated_block(formatdoc.doc_path().read_text(encoding="utf-8"))
    for anchor in set(re.findall(r"\]\(#([\w-]+)\)", block)):
        assert f'<a id="{anchor}"></a>' in block, anchor


def test_check_flags_an_outdated_copy_and_the_generator_fixes_it(tmp_path, capsys):
    copy = tmp_path / "submission-format.md"
    document = formatdoc.doc_path().read_text(encoding="utf-8")
    copy.write_text(document.replace("| `credit_code` |", "| `credit_no` |", 1), encoding="utf-8")

    assert formatdoc.main(["--path", str(copy), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert formatdoc.main(["--path", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == document
    assert formatdoc.main(["--path", str(copy), "--check"]) == 0


def test_a_document_without_markers_is_an_error(tmp_path, capsys):
    copy = tmp_path / "submission-format.md"
    copy.write_text("# no markers here\n", encoding="utf-8")
    assert formatdoc.main(["--path", str(copy)]) == 2
    assert "markers" in capsys.readouterr().err
    assert copy.read_text(encoding="utf-8") == "# no markers here\n"


@pytest.fixture()
def changed_seeds(tmp_path, monkeypatch):
    """A project whose seeds gained a field and an enumeration value; spec's caches follow it."""
    project = tmp_path / "project"
    shutil.copytree(config.seeds_dir(), project / "seeds")
    with (project / "seeds" / "submission_fields.csv").open("a", encoding="utf-8") as handle:
        handle.write("base,website,网址,Website,text,,false,false,The base's web site\n")
    with (project / "seeds" / "submission_enums.csv").open("a", encoding="utf-8") as handle:
        handle.write("degree,postdoc,博士后,Postdoctoral\n")
    monkeypatch.setenv("PARKWH_PROJECT_DIR", str(project))
    caches = (spec.fields, spec.enums, spec.provinces)
    for cache in caches:
        cache.cache_clear()
    yield
    monkeypatch.undo()
    for cache in caches:
        cache.cache_clear()


def test_a_change_in_the_seeds_makes_the_committed_document_stale(changed_seeds):
    committed = Path(formatdoc.__file__).resolve().parents[3] / "docs" / "submission-format.md"
    document = committed.read_text(encoding="utf-8")
    tables = formatdoc.render_field_tables()
    assert "| `website` | 网址 | Website |" in tables
    assert "| `postdoc` | 博士后 | Postdoctoral |" in tables
    assert formatdoc.splice(document, tables) != document
