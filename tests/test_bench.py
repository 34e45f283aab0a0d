"""``python -m parkwh.bench`` runs the whole pipeline on an inbox and prints every figure it promises.

No timing is asserted (the machine's load decides those); what is asserted is that each figure
is there, measured, and consistent with the others.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from fixtures import tiny_inbox
from parkwh.bench import STAGES, tree_rss_bytes


def _bench(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parkwh.bench", *args],
        cwd=cwd,
        env={**os.environ, "PARKWH_PII_KEY": "bench-test-key"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_the_bench_runs_an_inbox_and_prints_one_line_of_figures(tmp_path, warehouse_dir):
    inbox = tmp_path / "inbox"
    tiny_inbox.write_inbox(inbox)
    out = tmp_path / "bench.json"

    done = _bench("--inbox", str(inbox), "--json", str(out), "--workdir", str(tmp_path / "work"),
                  cwd=tmp_path)  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    [line] = [x for x in done.stdout.splitlines() if x.startswith("inbox:")]
    assert "3 bases" in line and "6 files" in line, line
    for part in ("base 6", "companies 18", "talent 18", "funding 12"):
        assert part in line, line
    for stage in STAGES:
        assert re.search(rf"\b{stage} (\d+\.\d)s", line) or f"{stage} n/a" in line, line
    for stage in ("generate", "ingest", "transform"):
        assert re.search(rf"\b{stage} \d+\.\ds", line), line
    assert re.search(r"total \d+\.\ds", line)
    assert re.search(r"peak memory \d+\.\d\d GB", line)
    assert re.search(r"vs DuckDB-only baseline x[\d,]+ \(\d+\.\d{3}s\)", line)
    assert re.search(r"resubmit/full \d+\.\d\d \(\d+\.\ds\)", line)
    assert "ERRORS" not in line
    assert any(x.startswith("target: ") for x in done.stdout.splitlines())

    data = json.loads(out.read_text(encoding="utf-8"))
    [scale] = data["scales"]
    seconds = {k: v for k, v in scale["seconds"].items() if v is not None}
    assert scale["total_seconds"] == pytest.approx(sum(seconds.values()))
    assert scale["pipeline_seconds"] == pytest.approx(scale["total_seconds"] - seconds["generate"])
    # A whole pipeline and a dbt process use more memory than an idle interpreter.
    assert scale["peak_memory_bytes"] > 100 * 2**20
    assert scale["resubmitted_file"] == f"inbox/{tiny_inbox.YEARS[-1]}/SH002.json"
    assert 0 < scale["resubmit_seconds"]
    # The floor computes the same figures as the pipeline, from the same rows.
    assert scale["baseline_matches"] is True
    assert 0 < scale["baseline_seconds"] < scale["pipeline_seconds"]
    # The scale's folder is removed unless --keep.
    assert not (tmp_path / "work" / "scale-0").exists()


def test_bad_scales_are_a_clear_error(tmp_path):
    done = _bench("--scales", "1,ten", cwd=tmp_path)
    assert done.returncode == 2
    assert "--scales takes numbers" in done.stderr and "Traceback" not in done.stderr


def test_memory_of_a_process_tree_counts_its_children():
    alone = tree_rss_bytes(os.getpid())
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; b = bytearray(200 * 2**20); sys.stdin.read()"],
        stdin=subprocess.PIPE,
    )
    try:
        deadline = 50
        while deadline and tree_rss_bytes(os.getpid()) < alone + 150 * 2**20:
            import time

            time.sleep(0.1)
            deadline -= 1
        assert tree_rss_bytes(os.getpid()) >= alone + 150 * 2**20
    finally:
        child.communicate(b"")
