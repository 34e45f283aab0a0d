"""Whatever names a person gives the files and folders of the inbox, each entry is seen once.

Ingestion must account for every entry (a submission, an expert score file, or a stray it
records as rejected), except notes for people and scratch files, and never read one twice.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parkwh import config
from parkwh.ingest import inbox

NAME_CHARS = string.ascii_letters + string.digits + "._- ~$()（）年０１２３９" + "留创园"
names = st.one_of(
    st.text(alphabet=NAME_CHARS, min_size=1, max_size=14),
    st.sampled_from(
        [
            "2023", "20２３", "２０２３", "1999", "2023 ", "2023-old", "02023", "SH001", "ＳＨ００１",
            "SH001.xlsx", "SH001.xlsx.bak", "sh001.JSON", "SH0001.json", "XX999.xlsx",
            "expert_scores.csv", "README.md", "~$SH001.xlsx", ".DS_Store", "专家评分.csv",
        ]
    ),
).filter(lambda n: n.strip(" .") and "/" not in n)  # fmt: skip


def _accounted_for(root):
    """Every inbox path ingestion would record, as scanned, and every path it should account for."""
    seen = [e.path for _, folder in inbox.year_folders() for e in inbox.scan_year(int(folder.name))]
    seen += [e.path for e in inbox.scan_strays()]
    expected = []
    for top in root.iterdir():
        if inbox.is_note_for_people(top.name) or inbox.is_scratch(top.name):
            continue
        if top.is_dir() and inbox.YEAR_FOLDER.fullmatch(top.name):
            expected += [
                p
                for p in top.iterdir()
                if not (inbox.is_note_for_people(p.name) or inbox.is_scratch(p.name))
            ]
        else:
            expected.append(top)
    return seen, expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    top=st.lists(st.tuples(names, st.booleans()), max_size=5, unique_by=lambda t: t[0]),
    inside=st.lists(st.tuples(names, st.booleans()), max_size=5, unique_by=lambda t: t[0]),
)
def test_each_inbox_entry_is_seen_exactly_once(warehouse_dir, top, inside):
    root = config.warehouse().inbox
    if root.exists():
        import shutil

        shutil.rmtree(root)
    root.mkdir()
    year = root / "2023"
    year.mkdir()
    for folder, entries in ((root, top), (year, inside)):
        for name, is_dir in entries:
            path = folder / name
            if path.exists():
                continue
            if is_dir:
                path.mkdir()
                (path / "base.csv").write_text("base_code\n", encoding="utf-8")
            else:
                path.write_bytes(b"x")
    seen, expected = _accounted_for(root)
    assert len(seen) == len(set(seen)), "an entry is scanned twice"
    assert sorted(seen) == sorted(expected)


@pytest.mark.parametrize("name", ["20２３", "２０２３", "2023\u0663"])
def test_a_folder_named_with_other_digits_is_a_stray_not_a_second_year(warehouse_dir, name):
    root = config.warehouse().inbox
    (root / "2023").mkdir(parents=True)
    (root / name).mkdir()
    assert [year for year, _ in inbox.year_folders()] == [2023]
    assert [e.path.name for e in inbox.scan_strays()] == [name]
