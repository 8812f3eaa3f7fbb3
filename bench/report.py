"""The report: one Markdown table per size, and the targets checked against it.

Every ratio is to the hand-written Python function measured in the same run
(throughput: higher is better for the engine; latency: lower is better), so
that a shared, noisy machine moves both sides of a ratio together. An engine
that disagrees with the hand-written function on any account has its numbers
left out, and the first disagreements are listed under the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from agree import Agreement
from engines import Engine

BASELINE = "hand"


@dataclass
class Measured:
    """One engine at one size, over all its rounds."""

    engine: Engine
    size: int
    status: str = "ok"  # ok, unavailable, error or timeout
    error: str = ""
    seconds: list[float] = field(default_factory=list)
    p50_us: float | None = None
    p99_us: float | None = None
    rss_mb: float = 0.0
    agreement: Agreement | None = None

    @property
    def usable(self) -> bool:
        """Measured, and agreeing with the baseline on every account."""
        agreed = self.agreement is not None and self.agreement.ok
        return self.status == "ok" and bool(self.seconds) and agreed

    @property
    def rate(self) -> float | None:
        return self.size / min(self.seconds) if self.usable else None


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "–"
    return f"{value / base:.2f}×" if value / base < 100 else f"{value / base:.0f}×"


def _cell(text: str) -> str:
    """Text fit for one table cell: its first line, pipes escaped."""
    lines = text.strip().splitlines() or [""]
    return lines[0].replace("|", "\\|")


def _why_not(m: Measured) -> str:
    if m.status == "unavailable":
        return f"not available: {_cell(m.error)}"
    if m.status != "ok":
        return f"{m.status}: {_cell(m.error)}"
    if m.agreement is None:
        return "not checked: the baseline has no results"
    return f"excluded: disagrees on {m.agreement.differing:,} accounts"


def _row(m: Measured, base: Measured | None) -> str:
    label, kind = m.engine.label, m.engine.kind
    rss = _number(m.rss_mb) if m.rss_mb else "–"
    if not m.usable:
        return f"| {label} | {kind} | {_why_not(m)} | | | | | | {rss} |"
    base_rate = base.rate if base else None
    base_p50 = base.p50_us if base and base.usable else None
    cells = [
        _number(m.rate),
        _ratio(m.rate, base_rate),
        _number(m.p50_us, 1),
        _number(m.p99_us, 1),
        _ratio(m.p50_us, base_p50),
        "yes" if m.engine.name != BASELINE else "baseline",
        rss,
    ]
    return f"| {label} | {kind} | " + " | ".join(cells) + " |"


def table(size: int, measured: list[Measured]) -> str:
    base = next((m for m in measured if m.engine.name == BASELINE), None)
    lines = [
        f"### {size:,} accounts",
        "",
        "| engine | kind | accounts/s | × hand fn | p50 µs | p99 µs | p50 × hand fn "
        "| agrees | peak RSS MiB |",
        "|---|---|--:|--:|--:|--:|--:|---|--:|",
        *(_row(m, base) for m in measured),
    ]
    for m in measured:
        if m.agreement is not None and m.agreement.differing:
            lines += ["", f"First disagreements of {m.engine.label}:", ""]
            lines += [f"- {text}" for text in m.agreement.first]
    return "\n".join(lines)


# ---- the targets of issue 5 ------------------------------------------------------


def _pick(results: Iterable[Measured], name: str, size: int) -> Measured | None:
    return next((m for m in results if m.engine.name == name and m.size == size), None)


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else "met" if ok else "not met"


def _rate_ratio(a: Measured | None, b: Measured | None) -> float | None:
    if a is None or b is None or a.rate is None or b.rate is None:
        return None
    return a.rate / b.rate


def _seconds_ratio(a: Measured | None, b: Measured | None) -> float | None:
    if a is None or b is None or not (a.usable and b.usable):
        return None
    return min(a.seconds) / min(b.seconds)


def _line(
    target: str, size: int, value: float | None, unit: str, ok: bool | None
) -> str:
    shown = "–" if value is None else f"{value:.2f}{unit}"
    return f"| {target} | {size:,} | {shown} | {_verdict(ok)} |"


def _row_targets(results: list[Measured], size: int) -> list[str]:
    hand, zen = _pick(results, "hand", size), _pick(results, "zen", size)
    grade = _pick(results, "tw-grade", size)
    vs_hand, vs_zen = _rate_ratio(grade, hand), _rate_ratio(grade, zen)
    lines = [
        _line("`grade` ≥ 0.7× hand fn", size, vs_hand, "×", _at_least(vs_hand, 0.7)),
        _line("`grade` ≥ 20× GoRules ZEN", size, vs_zen, "×", _at_least(vs_zen, 20)),
    ]
    for name, label in (
        (
            "tw-values",
            "p50 < 3 µs without the ledger (`grade_values`, explanation unread)",
        ),
        ("tw-private", "(reference) p50 of the private compiled function"),
    ):
        found = _pick(results, name, size)
        p50 = found.p50_us if found and found.usable else None
        lines.append(_line(label, size, p50, " µs", None if p50 is None else p50 < 3))
    return lines


def _at_least(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound


def _batch_targets(results: list[Measured], size: int) -> list[str]:
    columns = _pick(results, "tw-columns", size)
    lines = []
    for name, label in (("polars", "polars"), ("duckdb", "DuckDB")):
        ratio = _rate_ratio(columns, _pick(results, name, size))
        lines.append(
            _line(
                f"columnar ≥ hand-written {label}",
                size,
                ratio,
                "×",
                _at_least(ratio, 1),
            )
        )
    pushed = _seconds_ratio(
        _pick(results, "tw-pushdown", size), _pick(results, "pg-hand", size)
    )
    ok = None if pushed is None else pushed <= 1.2
    lines.append(_line("pushdown time ≤ 1.2× hand-written SQL", size, pushed, "×", ok))
    return lines


def _memory_targets(results: list[Measured], sizes: list[int]) -> list[str]:
    if 1_000_000 not in sizes or 100_000 not in sizes:
        return []
    lines = []
    for name in ("tw-file", "tw-columns", "tw-pushdown"):
        big, small = _pick(results, name, 1_000_000), _pick(results, name, 100_000)
        ratio = None
        if big and small and big.status == small.status == "ok" and small.rss_mb:
            ratio = big.rss_mb / small.rss_mb
        label = f"peak RSS 1M ≤ 1.5× 100k: {name}"
        lines.append(_line(label, 1_000_000, ratio, "×", _at_most(ratio, 1.5)))
    return lines


def _at_most(value: float | None, bound: float) -> bool | None:
    return None if value is None else value <= bound


def targets(results: list[Measured], sizes: list[int]) -> str:
    lines = ["| target | size | measured | verdict |", "|---|--:|--:|---|"]
    for size in sizes:
        lines += _row_targets(results, size)
        lines += _batch_targets(results, size)
    lines += _memory_targets(results, sizes)
    return "\n".join(lines)
