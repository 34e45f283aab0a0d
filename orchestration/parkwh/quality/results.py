"""What a quality run found: one result per expectation, and the gate's verdict.

The same objects feed the Dagster check metadata, the HTML report, ``results.json`` next to
it and ``audit.check_results``; each is plain data (JSON-ready) so a report can be rebuilt
from a past run's file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

PASS, WARN, FAIL = "pass", "warn", "fail"


@dataclass
class ExpectationResult:
    """The outcome of one expectation on one run."""

    suite: str
    expectation_id: str
    table: str
    relation: str | None
    dataset: str
    expectation_type: str
    kwargs: dict[str, Any]
    severity: str
    description: str
    fix: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    base_codes: list[str] = field(default_factory=list)
    reporting_years: list[int] = field(default_factory=list)
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    exception: str | None = None

    @property
    def key(self) -> str:
        return f"{self.suite}.{self.expectation_id}"

    @property
    def outcome(self) -> str:
        """pass, warn (a warning-level expectation failed) or fail (an error-level one did)."""
        if self.success:
            return PASS
        return FAIL if self.severity == "error" else WARN

    def where(self) -> str:
        """The bases and years concerned, for a one-line message."""
        parts = []
        if self.base_codes:
            shown = ", ".join(self.base_codes[:8])
            more = len(self.base_codes) - 8
            parts.append(f"bases {shown}" + (f" and {more} more" if more > 0 else ""))
        if self.reporting_years:
            parts.append("years " + ", ".join(str(y) for y in self.reporting_years))
        return "; ".join(parts)

    def headline(self) -> str:
        """One line: what failed, where, how much, and what to do."""
        counted = ""
        if self.unexpected_count is not None:
            total = f" of {self.element_count}" if self.element_count is not None else ""
            counted = f": {self.unexpected_count}{total} rows"
        elif self.observed_value is not None:
            counted = f": observed {_short(self.observed_value)}"
        where = self.where()
        text = (
            f"[{self.severity}] {self.key} on {self.relation or self.table}{counted}"
            + (f" ({where})" if where else "")
            + f". Expected: {self.description}"
        )
        if self.exception:
            # Nothing was measured: the fix is to make the data readable, not the expectation's own.
            return text + f" Not evaluated: {self.exception}. Fix: build or repair what is missing, then re-run."
        return text + f" Fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["outcome"] = self.outcome
        return plain(out)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExpectationResult:
        data = {k: v for k, v in data.items() if k != "outcome"}
        return cls(**data)


@dataclass
class SuiteInfo:
    """A suite as the report describes it."""

    name: str
    title: str
    layer: str
    description: str
    file: str


@dataclass
class QualityRun:
    """Every expectation of every suite on one run."""

    run_id: str
    started_at: dt.datetime
    finished_at: dt.datetime
    suites: list[SuiteInfo]
    relations: dict[str, str | None]
    results: list[ExpectationResult]

    @property
    def gate_open(self) -> bool:
        """Publication may go ahead: no error-level expectation failed."""
        return not any(r.outcome == FAIL for r in self.results)

    def with_outcome(self, outcome: str) -> list[ExpectationResult]:
        return [r for r in self.results if r.outcome == outcome]

    def of_suite(self, suite: str) -> list[ExpectationResult]:
        return [r for r in self.results if r.suite == suite]

    def counts(self, results: list[ExpectationResult] | None = None) -> dict[str, int]:
        chosen = self.results if results is None else results
        return {o: sum(1 for r in chosen if r.outcome == o) for o in (PASS, WARN, FAIL)}

    def verdict(self) -> str:
        counts = self.counts()
        if self.gate_open:
            note = f", {_count(counts[WARN], 'warning')} to look at" if counts[WARN] else ""
            return f"Gate open: no error-level expectation failed ({len(self.results)} checked){note}."
        return (
            f"Gate closed: {_count(counts[FAIL], 'error-level expectation')} failed; nothing new is "
            "published and the previous publication stays in place."
        )

    def to_json(self) -> str:
        data = {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "gate_open": self.gate_open,
            "suites": [asdict(s) for s in self.suites],
            "relations": self.relations,
            "results": [r.to_dict() for r in self.results],
        }
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> QualityRun:
        data = json.loads(text)
        return cls(
            run_id=data["run_id"],
            started_at=dt.datetime.fromisoformat(data["started_at"]),
            finished_at=dt.datetime.fromisoformat(data["finished_at"]),
            suites=[SuiteInfo(**s) for s in data["suites"]],
            relations=data["relations"],
            results=[ExpectationResult.from_dict(r) for r in data["results"]],
        )


def plain(value: Any) -> Any:
    """A JSON-ready copy: numpy and pandas scalars to Python, NaN and NaT to None, dates to ISO text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    try:
        if value != value:  # NaN, NaT, pandas NA
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        # An integer column with gaps arrives as floats: show 2020, not 2020.0.
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    # numpy / pandas scalars, without importing either here.
    if hasattr(value, "item"):
        try:
            return plain(value.item())
        except (ValueError, TypeError):
            pass
    if hasattr(value, "to_pydatetime"):
        try:
            return plain(value.to_pydatetime())
        except (ValueError, TypeError):
            return None
    text = str(value)
    return None if text in ("NaT", "nan", "<NA>") else text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(plain(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
