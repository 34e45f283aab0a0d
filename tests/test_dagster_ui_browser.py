"""The Dagster UI of ``parkwh dev``, in a real headless browser: it serves the asset graph, and
Ctrl-C stops the UI, the daemon and every process they started."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_definitions import ASSETS_BY_GROUP

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
START_TIMEOUT_SECONDS = 240
STOP_TIMEOUT_SECONDS = 60

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium): the Dagster UI browser test needs it",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_signals() -> None:
    # A test runner may start children with SIGINT/SIGTERM ignored; dagster dev must obey them.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_until_loaded(port: int, process: subprocess.Popen, log: Path) -> None:
    """Until the webserver answers and the code location has loaded its assets."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"parkwh dev exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError, ValueError):
            data = _graphql(port, "{ assetNodes { assetKey { path } } }")
            if data.get("data", {}).get("assetNodes"):
                return
        time.sleep(1)
    pytest.fail(
        f"the Dagster UI did not come up in {START_TIMEOUT_SECONDS} s:\n{log.read_text()[-3000:]}"
    )


def _page_text(url: str, profile: Path) -> str:
    """The page as the browser shows it once its scripts ran, as plain text."""
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", result.stdout, flags=re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_ui_of_parkwh_dev_shows_the_asset_graph(tmp_path):
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    port = _free_port()
    log = tmp_path / "dev.log"
    env = {
        **os.environ,
        "PARKWH_WAREHOUSE_DIR": str(warehouse),
        "DAGSTER_HOME": str(tmp_path / "unused"),
    }
    parkwh = Path(sys.executable).with_name("parkwh")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(parkwh), "dev", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: Ctrl-C reaches all of it, and only it
            preexec_fn=_default_signals,  # noqa: PLW1509 - only resets two signal handlers
        )
    pgid = process.pid
    try:
        _wait_until_loaded(port, process, log)
        lineage = _page_text(f"http://127.0.0.1:{port}/asset-groups", tmp_path / "profile")
        assert "Global asset lineage" in lineage
        for group in ASSETS_BY_GROUP:
            assert re.search(rf"\b{re.escape(group)}\b", lineage), group
        asset = _page_text(f"http://127.0.0.1:{port}/assets/raw/submissions", tmp_path / "profile")
        assert "submissions" in asset and "One row per accepted submission version" in asset
        # The instance is the warehouse's own, with the repository's instance settings.
        assert (warehouse / "dagster_home" / "dagster.yaml").exists()
    finally:
        # Ctrl-C: SIGINT to the whole process group, as a terminal sends it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while _group_alive(pgid) and time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)
        stopped = not _group_alive(pgid)
        if not stopped:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            process.wait(timeout=10)
    assert stopped, f"processes of parkwh dev still ran {STOP_TIMEOUT_SECONDS} s after Ctrl-C"
