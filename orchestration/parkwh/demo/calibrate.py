"""Calibration of the demo: per-base 2023 figures that add up to the report's, and the expert scores.

The report (2024-06-19) publishes totals for all 66 submitting bases and for the top 10; it
does not say how they split across bases. ``base_targets`` splits each total over the bases
(the top 10 by rank, the rest by their size), exactly, in whole units, so that rosters built
to these per-base targets reproduce every published figure when summed as
``docs/figures.md`` says. Where the report gives a range (``1.62万余``) a point inside it is
chosen once, here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

import numpy as np

from parkwh.demo.bases import CHANGCHUN, SUZHOU, TOP10, DemoBase

# ---------------------------------------------------------------------------- the report's figures

REPORT_ALL: dict[str, int | tuple[int, int]] = {
    "bases": 66,
    "enterprises_in_park": 4_900,
    "returnees_in_park": (16_200, 16_300),   # 1.62万余: 16,200 <= x < 16,300
    "incubated_cum": (20_501, 20_600),       # 超过2.05万: 20,500 < x < 20,600
    "high_tech_cum": 3_990,
    "little_giants_cum": 437,
    "listed_cum": 322,
    "returnees_cum": (59_300, 59_400),       # 5.93万余
    "talent_national_provincial": 2_499,
}
"""All 66 submitting bases, end of 2023 (ranges are [low, high))."""

REPORT_TOP10: dict[str, int] = {
    "incubated_cum": 9_940,
    "high_tech_cum": 2_303,
    "little_giants_cum": 94,
    "listed_cum": 143,
    "returnees_cum": 41_583,
    "talent_national": 447,
    "talent_provincial": 618,
    "revenue_yuan": 45_088_000_000,   # 450.88亿元, to 0.01亿元
    "tax_yuan": 1_509_000_000,        # 15.09亿元
    "service_events": 1_813,
    "vc_yuan": 11_571_000_000,        # 115.71亿元
    "fiscal_yuan": 423_000_000,       # 4.23亿元
}
"""The top 10 together, 2023."""

# Points chosen inside the report's ranges, and splits the report does not give.
ALL_RETURNEES_IN_PARK = 16_247
ALL_INCUBATED_CUM = 20_563
ALL_RETURNEES_CUM = 59_361
ALL_TALENT_NATIONAL = 878
"""Of the 2,499 in national or provincial programmes, how many are national (the report gives the sum)."""
TOP10_ENTERPRISES_IN_PARK = 3_150
TOP10_RETURNEES_IN_PARK = 10_900

SUZHOU_LISTED = 11
CHANGCHUN_ENTERPRISES_IN_PARK = 265
CHANGCHUN_RETURNEES_IN_PARK = 363

MONEY_STEP: dict[str, int] = {"revenue_yuan": 100, "tax_yuan": 1, "vc_yuan": 10_000, "fiscal_yuan": 1_000}
"""The smallest amount each money figure moves in (revenue in hundreds of yuan, investments in 万元 …)."""

MONEY_SLACK = 400_000
"""A published money figure is rounded to 0.01亿元 (1,000,000 yuan): totals may sit up to this far from it."""

TOP10_PROFILE = (1.00, 0.93, 0.87, 0.82, 0.77, 0.72, 0.68, 0.64, 0.61, 0.58)
"""Relative size of the top 10 by rank: each indicator splits roughly in this proportion."""


@dataclass
class Targets:
    """What one base's 2023 rosters must add up to (``docs/figures.md`` names)."""

    incubated_cum: int
    enterprises_in_park: int
    high_tech_cum: int
    little_giants_cum: int
    listed_cum: int
    returnees_cum: int
    returnees_in_park: int
    talent_national: int
    talent_provincial: int
    revenue_yuan: int
    tax_yuan: int
    service_events: int
    vc_yuan: int
    fiscal_yuan: int

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


FIGURES: tuple[str, ...] = tuple(f.name for f in fields(Targets))


# ---------------------------------------------------------------------------- exact integer splits


def apportion(total: int, weights, minimum=0, caps=None) -> np.ndarray:
    """Split ``total`` into whole numbers proportional to ``weights``, each in [minimum, cap].

    Largest-remainder rounding, repeated while caps bind: the parts always add up to ``total``.
    """
    w = np.asarray(weights, dtype=float)
    n = len(w)
    low = np.broadcast_to(np.asarray(minimum, dtype=np.int64), (n,)).copy()
    high = (np.full(n, max(int(total), 0), dtype=np.int64) if caps is None
            else np.broadcast_to(np.asarray(caps, dtype=np.int64), (n,)).copy())
    high = np.maximum(high, low)
    if low.sum() > total or high.sum() < total:
        raise ValueError(f"cannot split {total} into {n} parts within their bounds "
                         f"({low.sum()} to {high.sum()})")
    alloc = low.copy()
    remaining = int(total - low.sum())
    while remaining > 0:
        free = alloc < high
        share_w = np.where(free, w, 0.0)
        if share_w.sum() <= 0:
            share_w = free.astype(float)
        share = remaining * share_w / share_w.sum()
        add = np.minimum(np.floor(share).astype(np.int64), high - alloc)
        alloc += add
        remaining -= int(add.sum())
        if remaining <= 0:
            break
        # Hand out what floor() left over, one unit each, largest fraction first.
        fraction = np.where(alloc < high, share - np.floor(share), -1.0)
        order = np.argsort(-fraction, kind="stable")
        for i in order[:remaining]:
            if fraction[i] < 0:
                break
            alloc[i] += 1
            remaining -= 1
    return alloc


def _noisy(rng: np.random.Generator, base: np.ndarray, sigma: float) -> np.ndarray:
    return base * np.exp(rng.normal(0.0, sigma, len(base)))


def _money_total(rng: np.random.Generator, figure: str, published: int) -> int:
    """A total within ``MONEY_SLACK`` of the published figure, in the figure's step."""
    step = MONEY_STEP[figure]
    offset = int(rng.integers(-MONEY_SLACK // step, MONEY_SLACK // step + 1)) * step
    return published + offset


# ---------------------------------------------------------------------------- per-base targets


def base_targets(bases: list[DemoBase], rng: np.random.Generator) -> dict[str, Targets]:
    """2023 targets for every base of the original 68 (clones copy their template's).

    The 66 submitting bases add up to ``REPORT_ALL``, the top 10 to ``REPORT_TOP10``; the two
    bases that do not submit in 2023 get figures of their size, counted nowhere.
    """
    originals = [b for b in bases if b.clone == 0]
    by_code = {b.code: b for b in originals}
    top = [by_code[c] for c in TOP10]
    others = [b for b in originals if b.code not in TOP10 and b.submits_last_year]
    idle = [b for b in originals if not b.submits_last_year]

    out = _top10_targets(top, rng)
    out.update(_other_targets(others, out, rng))
    out.update(_idle_targets(idle, others, out))
    return {b.code: out[b.template_code] for b in bases}


def _top10_targets(top: list[DemoBase], rng: np.random.Generator) -> dict[str, Targets]:
    profile = np.asarray(TOP10_PROFILE)
    suzhou = [b.code for b in top].index(SUZHOU)

    def split(total: int, sigma: float = 0.05, minimum: int = 0) -> np.ndarray:
        return apportion(total, _noisy(rng, profile, sigma), minimum)

    values: dict[str, np.ndarray] = {
        "incubated_cum": split(REPORT_TOP10["incubated_cum"]),
        "returnees_cum": split(REPORT_TOP10["returnees_cum"]),
        "enterprises_in_park": split(TOP10_ENTERPRISES_IN_PARK),
        "returnees_in_park": split(TOP10_RETURNEES_IN_PARK),
        "high_tech_cum": split(REPORT_TOP10["high_tech_cum"]),
        "little_giants_cum": split(REPORT_TOP10["little_giants_cum"], 0.15, 3),
        "talent_national": split(REPORT_TOP10["talent_national"], 0.1),
        "talent_provincial": split(REPORT_TOP10["talent_provincial"], 0.1),
        "service_events": split(REPORT_TOP10["service_events"], 0.08),
    }
    # Suzhou (2nd) has exactly 11 listed companies; the other nine share the rest.
    listed = np.zeros(len(top), dtype=np.int64)
    rest = [i for i in range(len(top)) if i != suzhou]
    listed[suzhou] = SUZHOU_LISTED
    listed[rest] = apportion(REPORT_TOP10["listed_cum"] - SUZHOU_LISTED, _noisy(rng, profile[rest], 0.08), 5)
    values["listed_cum"] = listed
    for figure in MONEY_STEP:
        total = _money_total(rng, figure, REPORT_TOP10[figure])
        step = MONEY_STEP[figure]
        values[figure] = split(total // step, 0.06) * step
    return {b.code: Targets(**{k: int(v[i]) for k, v in values.items()}) for i, b in enumerate(top)}


def _other_targets(others: list[DemoBase], top: dict[str, Targets],
                   rng: np.random.Generator) -> dict[str, Targets]:
    top_sum = {k: sum(getattr(t, k) for t in top.values()) for k in FIGURES}
    w = np.asarray([b.weight for b in others], dtype=float)
    changchun = [b.code for b in others].index(CHANGCHUN)

    def noisy() -> np.ndarray:
        return _noisy(rng, w, 0.2)

    # Each count stays clearly below the top 10's smallest, so the top 10 lead on it; two cannot: Changchun's
    # enterprises in the base are the report's, and little giants are mostly outside the top 10.
    top_min = {k: min(getattr(t, k) for t in top.values()) for k in FIGURES}

    def below(figure: str, caps: np.ndarray | None = None) -> np.ndarray:
        ceiling = np.full(len(others), min(top_min[figure] - 1, int(top_min[figure] * 0.9)), dtype=np.int64)
        return ceiling if caps is None else np.minimum(ceiling, caps)

    incubated = apportion(ALL_INCUBATED_CUM - top_sum["incubated_cum"], noisy(), 20, below("incubated_cum"))
    returnees_cum = apportion(ALL_RETURNEES_CUM - top_sum["returnees_cum"], noisy(), 30, below("returnees_cum"))

    def split_fixed(total: int, fixed: int, minimum: int, caps: np.ndarray) -> np.ndarray:
        # Changchun's figure is the report's; the other bases share what is left.
        mask = np.arange(len(others)) != changchun
        out = np.zeros(len(others), dtype=np.int64)
        out[changchun] = fixed
        out[mask] = apportion(total - fixed, noisy()[mask], minimum, caps[mask])
        return out

    in_park = split_fixed(REPORT_ALL["enterprises_in_park"] - TOP10_ENTERPRISES_IN_PARK,
                          CHANGCHUN_ENTERPRISES_IN_PARK, 3, below("enterprises_in_park", incubated // 2))
    returnees_in_park = split_fixed(ALL_RETURNEES_IN_PARK - TOP10_RETURNEES_IN_PARK,
                                    CHANGCHUN_RETURNEES_IN_PARK, 8, below("returnees_in_park", returnees_cum // 2))
    high_tech = apportion(REPORT_ALL["high_tech_cum"] - top_sum["high_tech_cum"], noisy(), 1,
                          below("high_tech_cum", incubated * 45 // 100))
    little_giants = apportion(REPORT_ALL["little_giants_cum"] - top_sum["little_giants_cum"], noisy(), 0,
                              high_tech // 2)
    listed = apportion(REPORT_ALL["listed_cum"] - top_sum["listed_cum"], noisy(), 0,
                       below("listed_cum", incubated // 8))
    national_provincial = REPORT_ALL["talent_national_provincial"] - top_sum["talent_national"] \
        - top_sum["talent_provincial"]
    national = apportion(ALL_TALENT_NATIONAL - top_sum["talent_national"], noisy(), 0,
                         below("talent_national", returnees_cum // 10))
    provincial = apportion(national_provincial - int(national.sum()), noisy(), 0,
                           below("talent_provincial", returnees_cum // 5 - national))

    # Money and events are not published for these bases: they follow the base's size, and stay
    # below the smallest of the top 10 so that the top 10 lead on them.
    def below_top(figure: str, values: np.ndarray) -> np.ndarray:
        ceiling = int(min(getattr(t, figure) for t in top.values()) * 0.85)
        return np.minimum(values, ceiling)

    def money(figure: str, per_company: float, sigma: float) -> np.ndarray:
        step = MONEY_STEP[figure]
        raw = in_park * per_company * np.exp(rng.normal(0.0, sigma, len(others)))
        return below_top(figure, (raw // step).astype(np.int64) * step)

    revenue = money("revenue_yuan", 8_500_000, 0.3)
    tax = np.minimum(revenue // 10, (revenue * 0.032 * np.exp(rng.normal(0.0, 0.2, len(others)))).astype(np.int64))
    tax = below_top("tax_yuan", tax)
    vc = money("vc_yuan", 2_500_000, 0.4)
    fiscal = money("fiscal_yuan", 120_000, 0.3)
    events = below_top("service_events",
                       np.round(15 + in_park * 0.4 * np.exp(rng.normal(0.0, 0.2, len(others)))).astype(np.int64))
    out = {}
    for i, b in enumerate(others):
        out[b.code] = Targets(
            incubated_cum=int(incubated[i]), enterprises_in_park=int(in_park[i]),
            high_tech_cum=int(high_tech[i]), little_giants_cum=int(little_giants[i]),
            listed_cum=int(listed[i]), returnees_cum=int(returnees_cum[i]),
            returnees_in_park=int(returnees_in_park[i]), talent_national=int(national[i]),
            talent_provincial=int(provincial[i]), revenue_yuan=int(revenue[i]), tax_yuan=int(tax[i]),
            service_events=int(events[i]), vc_yuan=int(vc[i]), fiscal_yuan=int(fiscal[i]),
        )
    return out


def _idle_targets(idle: list[DemoBase], others: list[DemoBase], out: dict[str, Targets]) -> dict[str, Targets]:
    """Bases that skip 2023: figures of their size, from the other bases' figures per unit of weight."""
    total_weight = sum(b.weight for b in others)
    per_weight = {k: sum(getattr(out[b.code], k) for b in others) / total_weight for k in FIGURES}
    result = {}
    for b in idle:
        values = {k: max(1, int(round(per_weight[k] * b.weight))) for k in FIGURES}
        for figure, step in MONEY_STEP.items():
            values[figure] = values[figure] // step * step
        values["little_giants_cum"] = min(values["little_giants_cum"], values["high_tech_cum"] // 2)
        result[b.code] = Targets(**values)
    return result


# ---------------------------------------------------------------------------- expert scores

EXPERTS_PER_BASE = 7
EXPERT_PANEL = tuple(f"E{i:02d}" for i in range(1, 13))
"""The committee's experts; each base is scored by seven of them."""

TOP10_EXPERT_TARGETS = (97.4, 96.8, 96.2, 95.7, 95.3, 94.9, 94.5, 94.1, 93.8, 93.5)
"""Expert score targets of the top 10 by rank (their mean, 95.22, near the report's 95.154)."""


def expert_targets(bases: list[DemoBase], rng: np.random.Generator) -> dict[str, float]:
    """A target expert score per base, from its strength: the top 10 by rank, the rest by size.

    Targets are multiples of 0.02 so that seven one-decimal scores can reach them exactly.
    """
    weights = [b.weight for b in bases if b.weight is not None]
    largest = max(weights) if weights else 1.0
    out: dict[str, float] = {}
    for b in bases:
        if b.template_code in TOP10 and b.clone == 0:
            target = TOP10_EXPERT_TARGETS[TOP10.index(b.code)]
        else:
            weight = b.weight if b.weight is not None else largest
            target = 72.0 + 18.0 * (weight / largest) ** 0.5 + rng.normal(0.0, 1.5)
            target = min(target, 92.0)
        out[b.code] = round(target * 50) / 50
    return out


def _scale_for(target: float, max_decimals: int = 4) -> int:
    """Fewest decimals whose step lets five scores sum to exactly 5 × target."""
    for decimals in range(1, max_decimals + 1):
        units = 5 * target * 10**decimals
        if abs(units - round(units)) < 1e-6:
            return decimals
    return max_decimals


def expert_scores(targets: dict[str, float], rng: np.random.Generator,
                  experts: tuple[str, ...] = EXPERT_PANEL) -> list[dict[str, str | Decimal]]:
    """Seven expert scores per base whose trimmed mean (drop highest and lowest) equals its target.

    Scores have one decimal where that can hit the target exactly (to 1e-9), else as few more
    decimals as needed (at most four, then the nearest reachable mean). Rows are
    ``{base_code, expert_id, score}`` with the score a Decimal, bases in the order given.
    """
    rows: list[dict[str, str | Decimal]] = []
    for code, target in targets.items():
        decimals = _scale_for(target)
        scale = 10**decimals
        total = int(round(5 * target * scale))
        top = 100 * scale
        # Five middle scores around the target, nudged one step at a time until they sum exactly.
        spread = 1.2 * scale
        middle = np.clip(np.round(target * scale + rng.normal(0.0, 1.0, 5) * spread), 0, top).astype(np.int64)
        i = 0
        while middle.sum() != total:
            step = 1 if middle.sum() < total else -1
            j = i % 5
            if 0 <= middle[j] + step <= top:
                middle[j] += step
            i += 1
        low = max(0, int(middle.min()) - int(rng.integers(0, 4 * scale + 1)))
        high = min(top, int(middle.max()) + int(rng.integers(0, 4 * scale + 1)))
        scores = np.concatenate([middle, [low, high]])
        rng.shuffle(scores)
        panel = sorted(rng.choice(len(experts), EXPERTS_PER_BASE, replace=False))
        for expert, units in zip(panel, scores):
            value = Decimal(int(units)).scaleb(-decimals)
            rows.append({"base_code": code, "expert_id": experts[expert], "score": value})
    return rows


def trimmed_mean(scores) -> float:
    """Mean after dropping one highest and one lowest score (the committee's expert score)."""
    ordered = sorted(float(s) for s in scores)
    return sum(ordered[1:-1]) / (len(ordered) - 2)
