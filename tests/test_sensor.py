"""The inbox sensor: one run per new or changed file, none for bytes already seen, across restarts."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import pytest
from fixtures import tiny_inbox
from parkwh import config
from parkwh.defs import operations
from parkwh.defs.operations import inbox_sensor, look_at_inbox


@pytest.fixture(autouse=True)
def _pii_key(monkeypatch):
    monkeypatch.setenv("PARKWH_PII_KEY", "sensor test key")


@pytest.fixture()
def inbox(warehouse_dir) -> Path:
    return config.warehouse().inbox


def _settled(path: Path, seconds_ago: float = 3600) -> Path:
    """Date a file (or a folder and its files) back, as a copy finished long ago would be."""
    stamp = time.time() - seconds_ago
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (stamp, stamp))
    return path


def _tick(cursor: str | None) -> dg.SensorResult:
    """One evaluation of the sensor, as the daemon makes it, on a fresh instance (a restart)."""
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor)
        result = inbox_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_a_dropped_file_starts_one_run_then_none_for_the_same_bytes(inbox):
    path = _settled(tiny_inbox.write_submission(inbox, "SH001", 2023))

    first = _tick(None)
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert request.partition_key == "2023"
    assert request.tags[operations.TRIGGER_TAG] == "inbox_sensor"
    assert request.tags[operations.YEAR_TAG] == "2023"
    assert request.tags[operations.FILES_TAG] == "SH001.xlsx"
    assert request.run_key and "2023" in request.run_key

    # The next tick, and a tick after a restart (the cursor is all that survives): nothing.
    second = _tick(first.cursor)
    assert second.run_requests == []
    assert "No new or changed file" in str(second.skip_reason)
    # Touched, copied over with the same bytes: same sha256, no run.
    os.utime(path, (time.time() - 60, time.time() - 60))
    third = _tick(second.cursor)
    assert third.run_requests == []


def test_changed_bytes_start_a_run_and_bytes_seen_before_do_not(inbox):
    original = _settled(tiny_inbox.write_submission(inbox, "SH001", 2023))
    before = original.read_bytes()
    first = _tick(None)
    assert len(first.run_requests) == 1

    _settled(tiny_inbox.resubmit(inbox, "SH001", 2023))
    assert original.read_bytes() != before
    corrected = _tick(first.cursor)
    assert [r.partition_key for r in corrected.run_requests] == ["2023"]
    assert corrected.run_requests[0].run_key != first.run_requests[0].run_key

    # The first version put back: those bytes already had their run.
    original.write_bytes(before)
    _settled(original)
    assert _tick(corrected.cursor).run_requests == []

    # Removed and dropped again: still the same bytes, still no run.
    original.unlink()
    gone = _tick(corrected.cursor)
    assert gone.run_requests == []
    original.write_bytes(before)
    _settled(original)
    assert _tick(gone.cursor).run_requests == []


def test_a_csv_folder_is_one_entry_and_a_changed_member_is_a_change(inbox):
    folder = _settled(tiny_inbox.write_submission(inbox, "SH003", 2022))
    assert folder.is_dir()
    first = _tick(None)
    assert [r.tags[operations.FILES_TAG] for r in first.run_requests] == ["SH003"]

    member = min(folder.glob("*.csv"))
    member.write_bytes(member.read_bytes() + b"\n")
    _settled(folder)
    changed = _tick(first.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["2022"]


def test_one_run_per_year_with_every_new_file_named(inbox):
    for path in tiny_inbox.write_inbox(inbox):
        _settled(path)
    result = _tick(None)
    by_year = {r.partition_key: r.tags[operations.FILES_TAG] for r in result.run_requests}
    assert sorted(by_year) == ["2022", "2023"]
    for files in by_year.values():
        assert sorted(files.split(", ")) == [
            "SH001.xlsx",
            "SH002.json",
            "SH003",
            "expert_scores.csv",
        ]


def test_the_first_look_passes_over_what_ingestion_has_already_seen(inbox):
    from parkwh.ingest.run import ingest_year

    _settled(tiny_inbox.write_submission(inbox, "SH001", 2023))
    ingest_year(2023)  # as `parkwh run` (make demo) does before `make dev` starts the sensor
    _settled(tiny_inbox.write_submission(inbox, "SH002", 2023))

    result = _tick(None)
    assert [r.tags[operations.FILES_TAG] for r in result.run_requests] == ["SH002.json"]
    # What was passed over is remembered like the rest.
    assert _tick(result.cursor).run_requests == []


def test_a_file_still_being_copied_waits_for_the_next_tick(inbox):
    path = tiny_inbox.write_submission(inbox, "SH002", 2023)
    modified = path.stat().st_mtime
    copying = look_at_inbox(None, now=modified + 1, settle_seconds=5)
    assert copying.new == {} and copying.settling == ["inbox/2023/SH002.json"]
    assert "Still being copied" in copying.skip_reason()

    settled = look_at_inbox(copying.cursor.to_json(), now=modified + 6, settle_seconds=5)
    assert settled.new == {2023: ["inbox/2023/SH002.json"]}


def test_a_year_folder_that_is_no_reporting_year_is_named_not_run(inbox):
    future = inbox / "2099"
    future.mkdir(parents=True)
    _settled(tiny_inbox.write_expert_scores(inbox, 2099))
    result = _tick(None)
    assert result.run_requests == []
    assert "inbox/2099/" in str(result.skip_reason)


def test_the_cursor_holds_sha256_of_the_bytes(inbox):
    import hashlib

    path = _settled(tiny_inbox.write_submission(inbox, "SH002", 2023))
    cursor = operations.InboxCursor.from_json(_tick(None).cursor)
    key, sha = cursor.entries["inbox/2023/SH002.json"]
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert key.split(":")[0] == str(path.stat().st_size)
    assert operations.InboxCursor.from_json("not json") is None
