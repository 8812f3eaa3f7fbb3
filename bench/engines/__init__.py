"""The engines the benchmark compares, and the three shapes they come in.

- *rows*: one account at a time in memory (`RowEngine`): the runner times
  `grade` over every account and each call on its own for latency;
- *file*: a CSV export in, a graded CSV out: the entry returns a function
  `(input_csv, output_csv) -> None`;
- *database*: a PostgreSQL table in, a results table out (`TableEngine`).

`ENGINES` lists them in the order the report shows them. Each entry names
the module in this folder and the factory the runner calls with a `Context`;
what a factory does (loading, compiling, connecting) is not timed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Outcome = tuple[str | None, str]  # tier (None: excluded) and exact score text


def _same(account: dict[str, Any]) -> Any:
    return account


@dataclass(frozen=True)
class RowEngine:
    """A per-account engine: `prepare` and `outcome` run untimed around `grade`."""

    grade: Callable[[Any], Any]
    outcome: Callable[[Any], Outcome]
    prepare: Callable[[dict[str, Any]], Any] = _same


@dataclass(frozen=True)
class TableEngine:
    """A database engine: `grade` fills a results table, timed; `read` is not."""

    grade: Callable[[str], None]
    read: Callable[[str], Iterator[tuple[str, str | None, str]]]


@dataclass(frozen=True)
class Engine:
    name: str  # the key used on the command line and in file names
    label: str  # the row of the report
    kind: str  # "rows", "file" or "database"
    module: str  # bench/engines/<module>.py
    entry: str  # the function the runner calls


ENGINES = (
    Engine("hand", "hand-written Python function", "rows", "handwritten", "rows"),
    Engine(
        "tw-grade",
        "tierwise `grade(facts)`, explanation on access",
        "rows",
        "tierwise_rows",
        "full_result",
    ),
    Engine(
        "tw-values",
        "tierwise `grade_values`, pre-coerced",
        "rows",
        "tierwise_rows",
        "pre_coerced",
    ),
    Engine(
        "tw-private",
        "tierwise compiled function (private, no ledger)",
        "rows",
        "tierwise_rows",
        "compiled_function",
    ),
    Engine("zen", "GoRules ZEN decision graph", "rows", "zen", "rows"),
    Engine("durable", "durable_rules ruleset", "rows", "durable", "rows"),
    Engine(
        "hand-file", "hand-written Python, CSV → CSV", "file", "handwritten", "file"
    ),
    Engine(
        "tw-file",
        "tierwise per-account, CSV → CSV",
        "file",
        "tierwise_rows",
        "file",
    ),
    Engine(
        "tw-columns",
        "tierwise columnar, CSV → CSV",
        "file",
        "tierwise_columns",
        "file",
    ),
    Engine("polars", "hand-written polars, CSV → CSV", "file", "polars_hand", "file"),
    Engine(
        "duckdb", "hand-written DuckDB SQL, CSV → CSV", "file", "duckdb_hand", "file"
    ),
    Engine(
        "pg-hand",
        "hand-written SQL on PostgreSQL",
        "database",
        "postgres_hand",
        "grade_table",
    ),
    Engine(
        "tw-pushdown",
        "tierwise pushdown on PostgreSQL",
        "database",
        "tierwise_pushdown",
        "grade_table",
    ),
)
BY_NAME = {engine.name: engine for engine in ENGINES}
