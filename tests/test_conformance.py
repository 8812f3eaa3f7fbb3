"""One meaning, every engine: the conformance cases and the real datasets.

Each `tests/conformance/*.json` file holds a policy, an as-of and accounts
whose expected tier and score were worked out by hand (the `why` of each
account shows the arithmetic). Every case runs through every entry of
`ENGINES`: tierwise per account, and the policy compiled to SQL and run in
SQLite, DuckDB and PostgreSQL. Adding an engine is one entry there.

The SQL engines load the accounts into a fresh table of text columns, as a
CSV export gives them; a case with `column_types` also runs with those
columns typed (integer, numeric, date, timestamptz, boolean), and per
account with the same typed values. A `known_difference` on an account names
engines that give another answer, and which: the suite asserts it, so the
difference is visible and a fix shows up as a failing test.

The three real datasets in ../shared/data then run whole through per-account
grading, DuckDB and PostgreSQL: every record gets the same tier, score,
exclusion or rejection from each. PostgreSQL is the `postgres_url` session
database from conftest; each test gets a schema of its own.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tierwise.engine.policy import (
    CompiledPolicy,
    RecordError,
    compile_policy,
    load_policy,
)
from tierwise.engine.pushdown import PushedResult, grade_in_database

CASES = sorted((Path(__file__).parent / "conformance").glob("*.json"))
POLICIES = Path(__file__).resolve().parents[1] / "policies"
SQL_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "integer": sa.BigInteger(),
    "numeric": sa.Numeric(),
    "date": sa.Date(),
    "timestamptz": sa.DateTime(timezone=True),
    "boolean": sa.Boolean(),
}


@dataclass(frozen=True)
class Outcome:
    """What an engine made of one account, in the terms of a case's `expect`."""

    tier: str | None = None
    score: Decimal | None = None
    excluded: bool = False
    rejected: bool = False

    @classmethod
    def expected(cls, expect: dict[str, Any]) -> Outcome:
        score = expect.get("score")
        return cls(
            tier=expect.get("tier"),
            score=None if score is None else Decimal(score),
            excluded=expect.get("excluded", False),
            rejected=expect.get("rejected", False),
        )


@dataclass(frozen=True)
class Table:
    """Accounts as rows of a table: an `id` column, then one column per field."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    types: dict[str, sa.types.TypeEngine[Any]]

    @property
    def records(self) -> Iterator[dict[str, Any]]:
        return (dict(zip(self.columns, row)) for row in self.rows)


# ---- engines -------------------------------------------------------------------------

Grade = Callable[[CompiledPolicy, Any, Table, "Databases"], dict[str, Outcome]]


class Databases:
    """Where the SQL engines put a table: fresh SQLite and DuckDB files and a
    PostgreSQL schema, made on first use."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path):
        self.request = request
        self.tmp_path = tmp_path

    def url(self, name: str) -> str:
        if name == "sqlite":
            return f"sqlite:///{self.tmp_path / 'accounts.db'}"
        if name == "duckdb":
            return f"duckdb:///{self.tmp_path / 'accounts.duckdb'}"
        return self.request.getfixturevalue("postgres_schema_url")


def per_account(
    policy: CompiledPolicy, as_of: Any, table: Table, _: Databases
) -> dict[str, Outcome]:
    outcomes = {}
    for record in table.records:
        ident = str(record["id"])
        try:
            result = policy.grade(record, as_of=as_of, id=ident)
        except RecordError:
            outcomes[ident] = Outcome(rejected=True)
            continue
        tier = None if result.excluded else result.tier
        outcomes[ident] = Outcome(tier, result.score, result.excluded)
    return outcomes


def in_database(name: str) -> Grade:
    def grade(
        policy: CompiledPolicy, as_of: Any, table: Table, databases: Databases
    ) -> dict[str, Outcome]:
        url = databases.url(name)
        load(url, "accounts", table)
        results: list[PushedResult] = []
        grade_in_database(
            policy, url, "accounts", as_of=as_of, on_result=results.append
        )
        return {r.id or "": _outcome(r) for r in results}

    return grade


def _outcome(result: PushedResult) -> Outcome:
    if result.rejected:
        return Outcome(rejected=True)
    return Outcome(result.tier, result.score, result.excluded)


def columnar(
    policy: CompiledPolicy, as_of: Any, table: Table, databases: Databases
) -> dict[str, Outcome]:
    """The columnar engine over the accounts written as a CSV export would be."""
    from tierwise.engine.columnar import grade_file_columnar

    source = databases.tmp_path / "accounts.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        writer.writerows([_csv_text(v) for v in row] for row in table.rows)
    output = databases.tmp_path / "graded.csv"
    rejected: list[str] = []
    grade_file_columnar(
        policy,
        source,
        output,
        as_of=as_of,
        rejects=lambda r: rejected.append(r.id or ""),
    )
    outcomes = {ident: Outcome(rejected=True) for ident in rejected}
    with output.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            excluded = row["tier"] == ""
            tier = None if excluded else row["tier"]
            outcomes[row["id"]] = Outcome(tier, Decimal(row["score"]), excluded)
    return outcomes


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


ENGINES = [
    pytest.param(per_account, id="per-account"),
    pytest.param(columnar, id="columnar"),
    pytest.param(in_database("sqlite"), id="sqlite"),
    pytest.param(in_database("duckdb"), id="duckdb"),
    pytest.param(in_database("postgresql"), id="postgresql"),
]


def load(url: str, name: str, table: Table) -> None:
    """A fresh table `name` holding `table`, bulk-inserted."""
    columns = [sa.Column(c, table.types.get(c, sa.Text())) for c in table.columns]
    target = sa.Table(name, sa.MetaData(), *columns)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            target.drop(connection, checkfirst=True)
            target.create(connection)
            records = list(table.records)
            if records:
                connection.execute(target.insert(), records)
    finally:
        engine.dispose()


@pytest.fixture
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Databases:
    return Databases(request, tmp_path)


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A fresh schema in the session's PostgreSQL database, dropped afterwards."""
    schema = f"conformance_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sa.schema.CreateSchema(schema))
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sa.schema.DropSchema(schema, cascade=True))
        engine.dispose()


# ---- the conformance cases -----------------------------------------------------------


def _case_table(case: dict[str, Any], typed: bool) -> Table:
    fields = list(dict.fromkeys(k for a in case["accounts"] for k in a["facts"]))
    types = case.get("column_types", {}) if typed else {}
    rows = [
        (a["id"], *(_typed(a["facts"].get(f), types.get(f)) for f in fields))
        for a in case["accounts"]
    ]
    return Table(("id", *fields), rows, {f: SQL_TYPES[t] for f, t in types.items()})


def _typed(text: str | None, kind: str | None) -> Any:
    """A case's text as the typed value a typed column holds."""
    if text is None or kind is None:
        return text
    readers: dict[str, Callable[[str], Any]] = {
        "integer": int,
        "numeric": Decimal,
        "date": dt.date.fromisoformat,
        "timestamptz": dt.datetime.fromisoformat,
        "boolean": lambda t: t == "true",
    }
    return readers[kind](text)


def _variants() -> Iterator[Any]:
    for path in CASES:
        case = json.loads(path.read_text(encoding="utf-8"))
        yield pytest.param(path, False, id=path.stem)
        if case.get("column_types"):
            yield pytest.param(path, True, id=f"{path.stem}-typed")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("path", "typed"), list(_variants()))
def test_case(engine: Any, path: Path, typed: bool, databases: Databases) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    policy = compile_policy(case["policy"], str(path))
    table = _case_table(case, typed)
    got = engine(policy, case["as_of"], table, databases)
    expected = {a["id"]: _expected(a, engine) for a in case["accounts"]}
    assert got == expected


def _expected(account: dict[str, Any], engine: Any) -> Outcome:
    different = account.get("known_difference")
    if different and _engine_id(engine) in different["engines"]:
        return Outcome.expected(different["expect"])
    return Outcome.expected(account["expect"])


def _engine_id(engine: Any) -> str:
    for param in ENGINES:
        if param.values[0] is engine:
            return str(param.id)
    return ""


def test_every_case_says_why_and_expects_something() -> None:
    for path in CASES:
        case = json.loads(path.read_text(encoding="utf-8"))
        assert set(case) >= {"description", "policy", "as_of", "accounts"}, path
        for account in case["accounts"]:
            assert account["why"] and account["expect"], (path.name, account["id"])


# ---- the real datasets ---------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    policy: str
    data: str
    as_of: str
    encoding: str = "utf-8"


DATASETS = [
    pytest.param(
        Dataset("maven-crm.grade", "maven-crm/accounts.csv", "2018-01-01"),
        id="maven-crm",
    ),
    pytest.param(
        Dataset("fortune1000.grade", "fortune1000-2021/Fortune_1000.csv", "2021-06-01"),
        id="fortune1000",
    ),
    pytest.param(
        Dataset(
            "crunchbase.grade",
            "crunchbase-2013/crunchbase-companies.csv",
            "2013-12-01",
            "mac_roman",
        ),
        id="crunchbase",
    ),
]


def _csv_table(path: Path, encoding: str) -> Table:
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle))
    header = tuple(rows[0])
    return Table(header, [tuple(r) for r in rows[1:]], {})


_GRADED_FILES: dict[Dataset, dict[str, Outcome]] = {}


def _file_outcomes(
    policy: CompiledPolicy, path: Path, dataset: Dataset
) -> dict[str, Outcome]:
    """Per-account grading of the file as `tierwise grade` reads it (once)."""
    if dataset not in _GRADED_FILES:
        _GRADED_FILES[dataset] = _grade_file(policy, path, dataset)
    return _GRADED_FILES[dataset]


def _grade_file(
    policy: CompiledPolicy, path: Path, dataset: Dataset
) -> dict[str, Outcome]:
    from tierwise.engine.readers import RecordReader
    from tierwise.engine.run import grade_records

    outcomes: dict[str, Outcome] = {}

    def graded(item: Any) -> None:
        r = item.result
        outcomes[r.id] = Outcome(None if r.excluded else r.tier, r.score, r.excluded)

    grade_records(
        policy,
        RecordReader(path, encoding=dataset.encoding),
        as_of=policy.as_of(dataset.as_of),
        on_graded=graded,
        on_rejected=lambda r: outcomes.__setitem__(r.id, Outcome(rejected=True)),
    )
    return outcomes


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_dataset_grades_alike(
    dataset: Dataset,
    engine: str,
    shared_data_file: Callable[[str], Path],
    databases: Databases,
) -> None:
    path = shared_data_file(dataset.data)
    policy = load_policy(POLICIES / dataset.policy)
    expected = _file_outcomes(policy, path, dataset)
    table = _csv_table(path, dataset.encoding)
    got = in_database(engine)(policy, dataset.as_of, table, databases)
    assert len(got) == len(table.rows) == len(expected)
    differing = {
        i: (expected[i], got.get(i)) for i in expected if got.get(i) != expected[i]
    }
    assert differing == {}
