"""Generated policies and accounts grade alike per account, column by column,
in SQLite and in DuckDB.

Policies are built from a fixed set of facts (one of each type) and
condition templates, so every generated policy type-checks; branches, points,
weights, thresholds and overrides vary. Accounts draw each raw value from a
small pool that includes blanks, no-value spellings and unreadable text, so
missing data, Kleene logic and rejection are all exercised.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.dsl.errors import PolicyError
from tierwise.engine.columnar import grade_file_columnar
from tierwise.engine.policy import (
    CompiledPolicy,
    RecordError,
    compile_policy,
    format_decimal,
)
from tierwise.engine.pushdown import grade_in_database
from tierwise.engine.sql_dialects import SQLiteDialect

AS_OF = "2026-06-15"
FACTS = """\
facts
  n     int           no value "n/a"
  m     money
  t     text
  d     date
  flag  bool
  tags  list of text  split on ";"
  seg   one of "SMB", "Enterprise"
  w     int           default 3
"""
CONDITIONS = [
    "n >= {k}",
    "n between {k} and {k2}",
    "m < {x}",
    "m + n > {x}",
    "m / n >= {x}",
    "-n < {k}",
    't = "{word}"',
    't in "{word}", "beta"',
    't contains "{letter}"',
    "d within {k} days",
    "days since d <= {k}",
    "years since d >= 1",
    "d < 2026-01-01",
    "flag",
    "not flag",
    'tags contains "{word}"',
    'tags contains any of "{word}", "beta"',
    'tags contains all of "{word}", "beta"',
    "n is missing",
    "t is not missing",
    'seg = "SMB"',
    "w > {k}",
]
POOLS: dict[str, list[str | None]] = {
    "n": [None, "", "n/a", "0", "5", "12", "1,200", "40.0", "-3", "lots"],
    "m": [None, " ", "0", "0.1", "$2.50", "-$1,000", "1e2", "7.25", "x"],
    "t": [None, "", "Alpha", " ALPHA ", "beta", "gamma", "Straße"],
    "d": [
        None,
        "",
        "2026-06-15",
        "2026-06-01",
        "2025-06-16",
        "2019-12-31",
        "2026-02-30",
    ],
    "flag": [None, "", "yes", "N", "true", "0", "perhaps"],
    "tags": [None, "", " ; ", "alpha", "beta; ALPHA", "gamma;delta"],
    "seg": [None, "smb", "Enterprise", "startup"],
    "w": [None, "", "1", "9"],
}
numbers = st.integers(min_value=-5, max_value=30)
decimals = st.decimals(min_value=-50, max_value=150, places=2)


@st.composite
def conditions(draw: st.DrawFn) -> str:
    template = draw(st.sampled_from(CONDITIONS))
    k = draw(numbers)
    text = template.format(
        k=k,
        k2=k + draw(st.integers(min_value=0, max_value=20)),
        x=draw(st.decimals(min_value=-5, max_value=20, places=1)),
        word=draw(st.sampled_from(["alpha", "Beta", "gamma"])),
        letter=draw(st.sampled_from(["a", "L", "z"])),
    )
    join = draw(st.sampled_from(["", " and ", " or "]))
    if join:
        return f"({text}){join}({draw(conditions())})"
    return text


@st.composite
def policies(draw: st.DrawFn) -> str:
    lines = ['policy "generated" version 1', '  time zone "Europe/Berlin"', FACTS]
    for number in range(draw(st.integers(min_value=1, max_value=3))):
        weight = draw(st.integers(min_value=0, max_value=60))
        lines.append(f'criterion "c{number}" weight {weight}')
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            lines.append(f"  {draw(conditions())} => {draw(decimals)}")
        lines.append(f"  otherwise => {draw(decimals)}")
        if draw(st.booleans()):
            lines.append(f"  missing => {draw(decimals)}")
    threshold = draw(st.decimals(min_value=-20, max_value=80, places=1))
    lines += ["tiers", f"  A from {threshold}", f"  B below {threshold}"]
    if draw(st.booleans()):
        lines += ['override "o"', f'  when {draw(conditions())} => exclude, reason "r"']
        effect = draw(
            st.sampled_from(["skip", 'tier A, reason "m"', 'exclude, reason "m"'])
        )
        lines.append(f"  missing => {effect}")
    return "\n".join(lines) + "\n"


accounts = st.lists(
    st.fixed_dictionaries({k: st.sampled_from(v) for k, v in POOLS.items()}),
    min_size=1,
    max_size=6,
)
_counter = itertools.count()


def _per_account(policy: CompiledPolicy, rows: list[dict[str, Any]]) -> list[Any]:
    outcomes = []
    for row in rows:
        try:
            result = policy.grade(row, as_of=AS_OF)
        except RecordError:
            outcomes.append("rejected")
            continue
        outcomes.append((result.tier, result.score, result.excluded))
    return outcomes


def _columnar(
    folder: Path, policy: CompiledPolicy, rows: list[dict[str, Any]]
) -> list[Any]:
    """Outcomes from the columnar engine reading the rows as a CSV export."""
    path = folder / f"accounts_{next(_counter)}.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", *POOLS])
        for number, row in enumerate(rows):
            writer.writerow([str(number), *(row[k] or "" for k in POOLS)])
    output = io.StringIO()
    rejected: set[str] = set()
    grade_file_columnar(
        policy, path, output, as_of=AS_OF, rejects=lambda r: rejected.add(r.id or "")
    )
    graded = {r["id"]: r for r in csv.DictReader(io.StringIO(output.getvalue()))}
    return [
        "rejected"
        if str(n) in rejected
        else (graded[str(n)]["tier"] or None, graded[str(n)]["score"])
        for n in range(len(rows))
    ]


def _as_text(outcome: Any) -> Any:
    """A per-account outcome as the columnar CSV writes it."""
    if outcome == "rejected":
        return outcome
    tier, score, _excluded = outcome
    return tier, format_decimal(score)


def _in_database(
    engine: sa.Engine, policy: CompiledPolicy, rows: list[dict[str, Any]]
) -> list[Any]:
    name = f"accounts_{next(_counter)}"
    columns = [sa.Column("id", sa.Text()), *(sa.Column(k, sa.Text()) for k in POOLS)]
    table = sa.Table(name, sa.MetaData(), *columns)
    records = [{"id": str(i), **r} for i, r in enumerate(rows)]
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert(), records)
    results: dict[str, Any] = {}

    def keep(r: Any) -> None:
        results[r.id] = "rejected" if r.rejected else (r.tier, r.score, r.excluded)

    grade_in_database(policy, engine, name, as_of=AS_OF, on_result=keep)
    return [results[str(i)] for i in range(len(rows))]


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[sa.Engine]]:
    """One SQLite and one DuckDB database for all examples, a table each."""
    folder = tmp_path_factory.mktemp("properties")
    sqlite = sa.create_engine(f"sqlite:///{folder / 'accounts.db'}")
    SQLiteDialect().install(sqlite)
    duckdb = sa.create_engine(f"duckdb:///{folder / 'accounts.duckdb'}")
    yield [sqlite, duckdb]
    sqlite.dispose()
    duckdb.dispose()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("columnar")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(source=policies(), rows=accounts)
def test_generated_policies_grade_alike(
    source: str,
    rows: list[dict[str, Any]],
    engines: list[sa.Engine],
    folder: Path,
) -> None:
    try:
        policy = compile_policy(source)
    except PolicyError:
        return  # e.g. a branch the checker proves unreachable
    expected = _per_account(policy, rows)
    for engine in engines:
        got = _in_database(engine, policy, rows)
        assert got == expected, (engine.dialect.name, source, rows)
    columns = _columnar(folder, policy, rows)
    assert columns == [_as_text(e) for e in expected], ("columnar", source, rows)


def test_generated_scores_are_exact_decimals() -> None:
    """A guard on the strategy: points with two places give exact scores."""
    policy = compile_policy(
        'policy "p" version 1\n' + FACTS + 'criterion "c" weight 30\n'
        "  w > 1 => 0.07\n  otherwise => 0\ntiers\n  A from 0.021\n  B below 0.021\n"
    )
    result = policy.grade({}, as_of=AS_OF)
    assert (result.tier, result.score) == ("A", Decimal("0.021"))
