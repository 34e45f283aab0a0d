"""Vega-Lite charts to inline SVG with vl-convert: each chart drawn once, in parallel, then kept.

vl-convert draws slowly (a chart of sixty labelled bars takes a few tenths of a second: it opens
the font file again for every glyph it measures) and holds the GIL while it draws, so threads do
not help. The charts still to draw are shared out to worker processes (``python -m
parkwh.publish.svg``), one per core, that read their specs from a file and write their SVG to
another; started ahead (``Workers``), they load vl-convert while the caller reads its data, and
otherwise this process draws a share too. A drawn chart is kept in a cache folder under the name of its spec's
digest (with vl-convert's version): the next publication draws only the charts whose figures
changed. The cache is a convenience, never a source: a missing or damaged entry is drawn again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Self

_log = logging.getLogger(__name__)

CACHE_FORMAT = "parkwh-svg/1"
MIN_CHARTS_PER_PROCESS = 2
"""A worker takes half a second to start, about what vl-convert takes to start in this process:
two charts or more are worth sharing."""
MAX_WORKERS = 3

_PROLOG = re.compile(r"^<\?xml[^>]*>\s*")
_SVG_END = "</svg>"


def _vl_convert_version() -> str:
    try:
        return metadata.version("vl-convert-python")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed with parkwh
        return "unknown"


def spec_text(spec: dict) -> str:
    """The spec as text: its digest names the drawn chart in the cache, and workers read it.

    vl-convert is given the spec as a dict, never as this text: its own JSON parser rounds some
    numbers differently from Python's, which would move marks by a hair.
    """
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":"))


def cache_key(text: str) -> str:
    digest = hashlib.sha256(f"{CACHE_FORMAT}\n{_vl_convert_version()}\n".encode())
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def draw(spec: dict) -> str:
    """One Vega-Lite spec as an SVG element to put inline in a page."""
    import vl_convert  # here, not at the top: a worker imports nothing else it does not need

    svg = vl_convert.vegalite_to_svg(spec)
    # The page gives the element its size; an XML prolog would be invalid inside HTML.
    svg = _PROLOG.sub("", svg)
    return svg.replace("<svg ", '<svg role="img" ', 1)


def _read_cached(cache: Path, key: str) -> str | None:
    try:
        svg = (cache / f"{key}.svg").read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return svg if svg.startswith("<svg") and svg.rstrip().endswith(_SVG_END) else None


def _write_cached(cache: Path, key: str, svg: str) -> None:
    from parkwh.publish import files

    target = cache / f"{key}.svg"
    temporary = files.temporary_sibling(target)
    try:
        temporary.write_text(svg, encoding="utf-8")
        # No fsync: an entry lost in a crash is drawn again, and a damaged one is not read.
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def drawing_cost(spec: dict) -> int:
    """About how long a spec takes to draw: the characters of its distinct strings, and a bit.

    Measuring text is most of the work, so the labels and titles a chart writes count; a spec's
    length would count its numbers too, which cost nothing to measure.
    """
    return 100 + sum(len(text) for text in set(_strings(spec)))


def _shares(costs: Sequence[int], processes: int) -> list[list[int]]:
    """Indices split into ``processes`` shares of about equal cost, largest first."""
    shares: list[list[int]] = [[] for _ in range(processes)]
    loads = [0] * processes
    for index in sorted(range(len(costs)), key=lambda i: -costs[i]):
        lightest = loads.index(min(loads))
        shares[lightest].append(index)
        loads[lightest] += costs[index]
    return shares


class _Worker:
    """A process that starts vl-convert at once, then draws the one list of specs it is sent."""

    def __init__(self, folder: Path, number: int) -> None:
        self.specs = folder / f"specs-{number}.json"
        self.drawn = folder / f"svg-{number}.json"
        self.errors = folder / f"errors-{number}.txt"
        self.count: int | None = None
        with self.errors.open("wb") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "parkwh.publish.svg"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )

    def send(self, texts: list[str]) -> None:
        self.count = len(texts)
        self.specs.write_text("[" + ",".join(texts) + "]", encoding="utf-8")
        try:
            self.process.stdin.write(f"{self.specs}\t{self.drawn}\n".encode())
            self.process.stdin.close()
        except OSError:  # it died already: collect() says so
            pass

    def collect(self) -> list[str] | None:
        """The SVGs drawn, or None when the process failed (its share is then drawn here)."""
        self.process.wait()
        if self.process.returncode == 0:
            try:
                svgs = json.loads(self.drawn.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                svgs = None
            if isinstance(svgs, list) and len(svgs) == self.count:
                return svgs
        _log.warning(
            "a process drawing charts failed (exit %s): drawing its share here\n%s",
            self.process.returncode,
            self.errors.read_text(encoding="utf-8", errors="replace")[-2000:],
        )
        return None

    def dismiss(self) -> None:
        """End a process that was sent nothing (it has nothing to finish: no need to wait)."""
        self.process.terminate()
        self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()


class Workers:
    """Processes to draw charts, started ahead: vl-convert starts up in them (half a second)
    while this process reads the data and builds the specs. Use it as a context manager."""

    def __init__(self, count: int) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="parkwh-svg-")
        self._idle: list[_Worker] = []
        for number in range(count):
            try:
                self._idle.append(_Worker(Path(self._folder.name), number))
            except OSError as error:
                _log.warning(
                    "could not start a process to draw charts (%s): drawing them here", error
                )
                break

    def __len__(self) -> int:
        return len(self._idle)

    def draw(self, specs: Sequence[dict], texts: Sequence[str], here: bool) -> list[str]:
        """Draw ``specs`` in the idle workers, and in this process too when ``here``."""
        workers, self._idle = self._idle, []
        shares = _shares([drawing_cost(s) for s in specs], len(workers) + (1 if here else 0))
        for worker, share in zip(workers, shares):
            worker.send([texts[i] for i in share])
        svgs: dict[int, str] = {}
        try:
            for index in shares[len(workers)] if here else ():
                svgs[index] = draw(specs[index])
        finally:
            results = [(share, worker.collect()) for worker, share in zip(workers, shares)]
        for share, drawn in results:
            for position, index in enumerate(share):
                svgs[index] = drawn[position] if drawn is not None else draw(specs[index])
        return [svgs[index] for index in range(len(specs))]

    def close(self) -> None:
        for worker in self._idle:
            worker.dismiss()
        self._idle = []
        self._folder.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def process_count() -> int:
    """How many processes may draw at once: one per core, up to ``MAX_WORKERS`` + 1."""
    return max(1, min(_cpus(), MAX_WORKERS + 1))


def workers_for(charts: int) -> int:
    """How many processes to draw ``charts`` charts in: one per core, a few charts each at least."""
    return max(1, min(process_count(), charts // MIN_CHARTS_PER_PROCESS))


def draw_many(
    specs: Sequence[dict],
    texts: Sequence[str] | None = None,
    processes: int | None = None,
    workers: Workers | None = None,
) -> list[str]:
    """Draw every spec: in ``workers`` started ahead, or else here and in as many worker
    processes as there is work for (``processes`` in all, this one included)."""
    texts = list(texts) if texts is not None else [spec_text(spec) for spec in specs]
    if workers is not None and len(workers):
        return workers.draw(specs, texts, here=False)
    processes = workers_for(len(specs)) if processes is None else processes
    if processes <= 1:
        return [draw(spec) for spec in specs]
    with Workers(processes - 1) as started:
        return started.draw(specs, texts, here=True)


def render(
    specs: Sequence[dict], cache: Path | None = None, workers: Workers | None = None
) -> tuple[list[str], set[str]]:
    """Each spec as inline SVG, and the cache entries (keys) they are kept under.

    Identical specs are drawn once; with a ``cache`` folder, a spec drawn before is read back.
    ``workers`` started ahead draw what is left to draw.
    """
    texts = [spec_text(s) for s in specs]
    keys = [cache_key(t) for t in texts]
    found: dict[str, str] = {}
    if cache is not None:
        for key in set(keys):
            svg = _read_cached(cache, key)
            if svg is not None:
                found[key] = svg
    missing: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key not in found:
            missing.setdefault(key, index)
    if missing:
        drawn = draw_many(
            [specs[i] for i in missing.values()],
            [texts[i] for i in missing.values()],
            workers=workers,
        )
        for key, svg in zip(missing, drawn):
            found[key] = svg
            if cache is not None:
                cache.mkdir(parents=True, exist_ok=True)
                _write_cached(cache, key, svg)
    return [found[k] for k in keys], set(keys)


def prune(cache: Path, keep: set[str]) -> int:
    """Remove the cache's entries not in ``keep`` (charts no page shows any more); how many."""
    from parkwh.publish import files

    removed = 0
    if not cache.is_dir():
        return removed
    files.remove_leftovers(cache)
    for path in cache.glob("*.svg"):
        if path.stem not in keep:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


WARM_UP = {"mark": "text", "encoding": {"text": {"value": "启动 start"}}}
"""A chart that makes vl-convert start up and load the fonts in a worker, while it waits."""


def _serve() -> None:
    """A worker: start vl-convert, then draw the specs whose file is named on the input.

    The input is one line, ``<specs file>\\t<SVG file>``; the SVGs are written as a JSON list,
    whole or not at all. No line (the caller had nothing to send) ends the worker.
    """
    draw(WARM_UP)
    line = sys.stdin.readline().rstrip("\n")
    if not line:
        return
    specs, drawn = (Path(part) for part in line.split("\t"))
    svgs = [draw(spec) for spec in json.loads(specs.read_text(encoding="utf-8"))]
    temporary = drawn.with_name(drawn.name + ".part")
    temporary.write_text(json.dumps(svgs, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, drawn)


if __name__ == "__main__":
    _serve()
