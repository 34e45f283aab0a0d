"""The annual report in a real browser: headless Chromium, driven over the DevTools protocol.

The page must load from ``file://`` with no request but itself, no failed load, no console error
(its Content-Security-Policy turns any stray external reference into one), and a screenshot of the
ranking table must show the table. Chromium comes from the system's package manager (``.ci/run``
installs it); without it these tests are skipped and say why.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import duckdb
import pytest
from parkwh import config
from parkwh.publish import publications, readonly
from parkwh.publish import report as annual_report
from test_publish_fixture import build

websockets_sync = pytest.importorskip(
    "websockets.sync.client", reason="the websockets package drives Chromium"
)

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LOAD_TIMEOUT_SECONDS = 60


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "Chromium is not installed: install it with the system package manager "
        "(apt-get install chromium) to render the report in a browser"
    )


class DevTools:
    """A minimal client of the Chrome DevTools protocol over one WebSocket, with flat sessions."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 30,
    ) -> dict:
        message_id = next(self.ids)
        message: dict = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            event = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.events.append(event)
            if event.get("method") == method:
                return event
        raise TimeoutError(method)

    def drain(self, seconds: float) -> None:
        """Keep collecting events for a while: a late request or error must not slip by."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.events.append(
                    json.loads(self.socket.recv(timeout=deadline - time.monotonic()))
                )
            except TimeoutError:
                return

    def of(self, method: str) -> list[dict]:
        return [e["params"] for e in self.events if e.get("method") == method]


@pytest.fixture()
def browser(tmp_path):
    executable = _chromium()
    profile = tmp_path / "chromium-profile"
    process = subprocess.Popen(
        [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--hide-scrollbars",
            "--window-size=1280,900",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(
                f"Chromium did not start: {process.stderr.read().decode(errors='replace')[-2000:]}"
            )
        time.sleep(0.1)
    port, path = port_file.read_text().splitlines()[:2]
    try:
        with websockets_sync.connect(
            f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30
        ) as socket:
            yield DevTools(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture()
def report_page(warehouse_dir) -> Path:
    build(warehouse_dir)
    publications.publish()
    readonly.build()
    return annual_report.render(2023)


def _open(browser: DevTools, url: str) -> str:
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Network", "Runtime", "Log"):
        browser.send(f"{domain}.enable", session=session)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    browser.events.clear()
    browser.send("Page.navigate", {"url": url}, session=session)
    browser.wait_for("Page.loadEventFired", LOAD_TIMEOUT_SECONDS)
    browser.drain(1.0)
    return session


def _evaluate(browser: DevTools, session: str, expression: str):
    result = browser.send(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
    )
    if "exceptionDetails" in result:
        raise RuntimeError(result["exceptionDetails"])
    return result["result"].get("value")


def test_the_report_loads_with_no_request_and_no_error(browser, report_page):
    url = report_page.as_uri()
    _open(browser, url)
    requests = [e["request"]["url"] for e in browser.of("Network.requestWillBeSent")]
    failed = browser.of("Network.loadingFailed")
    console = [
        e
        for e in browser.of("Runtime.consoleAPICalled")
        if e["type"] in ("error", "warning", "assert")
    ]
    exceptions = browser.of("Runtime.exceptionThrown")
    logged = [
        e["entry"]
        for e in browser.of("Log.entryAdded")
        if e["entry"]["level"] in ("error", "warning")
    ]
    assert requests == [url], f"the page made requests beyond itself: {requests}"
    assert failed == []
    assert console == [] and exceptions == [], (console, exceptions)
    assert logged == [], logged


def test_the_check_catches_a_page_that_reaches_out(browser, tmp_path):
    """The same check on a page with one external stylesheet: the load is refused and reported."""
    page = tmp_path / "reaching.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{annual_report.page.CONTENT_SECURITY_POLICY}">'
        '<link rel="stylesheet" href="https://cdn.example.invalid/style.css"></head><body>x</body></html>',
        encoding="utf-8",
    )
    _open(browser, page.as_uri())
    errors = [e["entry"] for e in browser.of("Log.entryAdded") if e["entry"]["level"] == "error"]
    assert errors, "a refused external load must show up as an error"


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB or RGBA PNG (what Chromium writes) into rows of pixel bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, width = 8, b"", 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (
                    line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)
                ) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, channels, rows


def _dark_pixels(png: bytes) -> int:
    width, channels, rows = _png_pixels(png)
    dark = 0
    for row in rows:
        for x in range(0, width * channels, channels):
            if row[x] + row[x + 1] + row[x + 2] < 3 * 110:
                dark += 1
    return dark


def test_a_screenshot_shows_the_ranking_table(browser, report_page, tmp_path):
    session = _open(browser, report_page.as_uri())
    table = _evaluate(
        browser,
        session,
        """(() => {
            const t = document.getElementById('ranking-table');
            t.scrollIntoView();
            const r = t.getBoundingClientRect();
            const rows = [...t.tBodies[0].rows].map(row => [...row.cells].map(c => c.innerText.trim()));
            return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height, rows,
                    visible: getComputedStyle(t).visibility === 'visible' && r.width > 0 && r.height > 0};
        })()""",
    )
    assert table["visible"]
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        expected = con.execute(
            "select rank, base_name_zh, score from published.park_ranking where reporting_year = 2023"
            " order by ranked desc, rank nulls last, base_code"
        ).fetchall()
    finally:
        con.close()
    assert len(table["rows"]) == len(expected)
    for cells, (rank, name, score) in zip(table["rows"], expected):
        assert cells[1].startswith(name)
        assert cells[3] == (f"{score:.3f}" if score is not None else "—")
        assert cells[0] == (str(rank) if rank is not None else "未排名")

    clip = {
        "x": table["x"],
        "y": table["y"],
        "width": table["width"],
        "height": min(table["height"], 600),
        "scale": 1,
    }
    shown = base64.b64decode(
        browser.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            session=session,
        )["data"]
    )
    (tmp_path / "ranking-table.png").write_bytes(shown)
    # The same region with the table hidden: what the screenshot would be without it.
    _evaluate(
        browser, session, "document.getElementById('ranking-table').style.visibility = 'hidden'"
    )
    hidden = base64.b64decode(
        browser.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            session=session,
        )["data"]
    )
    shown_dark, hidden_dark = _dark_pixels(shown), _dark_pixels(hidden)
    assert hidden_dark < 50, "the region behind the table should be blank"
    assert shown_dark > 2000 + 10 * hidden_dark, (shown_dark, hidden_dark)
    if os.environ.get("PARKWH_KEEP_SCREENSHOTS"):  # a folder to keep the screenshot in, to look at
        (Path(os.environ["PARKWH_KEEP_SCREENSHOTS"]) / "ranking-table.png").write_bytes(shown)
