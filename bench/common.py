"""What every part of the benchmark shares: paths, the as-of, outcomes and files.

An *outcome* is what the agreement check compares for one account: its tier
(empty when an override excluded it) and its exact score. Engines write their
outcomes as a results CSV (`id,tier,score`, optionally more columns); the
runner compares every engine's file with the hand-written function's.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
POLICY = BENCH / "policy.grade"
AS_OF = "2026-12-01"
SEED = 20261201
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "tierwise_bench"
PG_TABLE = "accounts"

CRITERIA = (
    "Company size",
    "Revenue",
    "Industry fit",
    "Region",
    "CRM fit",
    "Data stack",
    "Engagement",
    "Buying intent",
    "Product usage",
    "Efficiency",
)
RESULT_COLUMNS = ("id", "tier", "score")

csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Context:
    """Everything an engine needs to know about one run at one size."""

    size: int
    csv_path: str  # the accounts as a CRM export (text, messy)
    jsonl_path: str  # the same accounts as typed JSON, one per line
    work_dir: str  # where an engine may write its output
    policy_path: str = str(POLICY)
    as_of: str = AS_OF
    pg_url: str = PG_URL
    pg_schema: str = PG_SCHEMA
    pg_table: str = PG_TABLE

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Context:
        return cls(**json.loads(text))


def units_text(units: int) -> str:
    """Hundredths of a point as the shortest exact decimal: 9150 -> '91.5'."""
    sign = "-" if units < 0 else ""
    whole, cents = divmod(abs(units), 100)
    if cents == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}".rstrip("0")


def decimal_text(value: Decimal | float | int | None) -> str:
    """A number as the shortest exact decimal ('' for None)."""
    if value is None:
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return "0" if text in ("-0", "") else text


def write_results(path: str | Path, rows: Iterable[tuple[Any, ...]]) -> int:
    """Write `id,tier,score` rows (tier '' or None when excluded); return the count."""
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RESULT_COLUMNS)
        for ident, tier, score in rows:
            writer.writerow((ident, tier or "", score))
            count += 1
    return count


def append_results(writer: Any, rows: Iterable[tuple[Any, ...]]) -> None:
    for ident, tier, score in rows:
        writer.writerow((ident, tier or "", score))


def read_results(path: str | Path) -> Iterator[tuple[str, str, str]]:
    """`(id, tier, score)` from any CSV with those columns (others ignored)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        where = [header.index(name) for name in RESULT_COLUMNS]
        for row in reader:
            yield row[where[0]], row[where[1]], row[where[2]]


def iter_jsonl(path: str | Path, chunk: int) -> Iterator[list[dict[str, Any]]]:
    """The typed accounts in lists of `chunk`, so memory stays bounded."""
    batch: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            batch.append(json.loads(line))
            if len(batch) == chunk:
                yield batch
                batch = []
    if batch:
        yield batch


def peak_rss_mb_of_self() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def environment_line() -> str:
    """The machine in one line, for the report."""
    import platform

    import psutil

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def versions_line() -> str:
    """The versions of the packages the engines run on."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("tierwise", "zen-engine", "durable-rules", "polars", "duckdb"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{package} (not installed)")
    return ", ".join(found)
