"""Grading inside a database: the CLI worker, results tables, filters, safety.

A tiny click command defined here uses `pushdown_options` and `run_pushdown`
as `tierwise grade` will, against DuckDB and SQLite files made per test.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tierwise.cli.pushdown import PushdownOptions, pushdown_options, run_pushdown
from tierwise.dsl.errors import TierwiseError
from tierwise.engine.policy import compile_policy
from tierwise.engine.pushdown import WhereError, grade_in_database, parse_where
from tierwise.engine.sql import column_names, score_scale
from tierwise.engine.sql_dialects import dialect_for

POLICY = """\
policy "pushdown" version 1
facts
  employees  int   from "num. of employees"
  country    text
  customer   bool  default false
set north_america = "United States", "Canada"
criterion "Size" weight 60
  employees >= 1000 => 100
  employees >= 100  => 50
  otherwise         => 10
criterion "Région (HQ)" weight 40
  country in north_america => 100
  otherwise                => 25
tiers
  A from 80
  B from 40
  C below 40
override "Customer"
  when customer => exclude, reason "existing customer"
"""
ROWS = [
    ("acme", "2,000", "Canada", "no"),
    ("bolt", "150", "France", ""),
    ("core", "lots", "Canada", "no"),
    ("dyna", "5000", "united states ", "yes"),
]


@click.command()
@click.argument("policy")
@click.option("--as-of")
@pushdown_options
def grade(policy: str, as_of: str | None, **kwargs: Any) -> None:
    sys.exit(run_pushdown(policy, PushdownOptions.from_kwargs(kwargs), as_of=as_of))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    policy = tmp_path / "p.grade"
    policy.write_text(POLICY, encoding="utf-8")
    database = tmp_path / "accounts.duckdb"
    _load(f"duckdb:///{database}", "accounts")
    return {"policy": str(policy), "source": str(database)}


def _load(url: str, name: str, rows: list[tuple[str, ...]] = ROWS) -> None:
    columns = ("id", "num. of employees", "country", "customer")
    table = sa.Table(name, sa.MetaData(), *(sa.Column(c, sa.Text()) for c in columns))
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert(), [dict(zip(columns, r)) for r in rows])
    engine.dispose()


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(grade, list(args))


def test_results_stream_to_stdout_with_a_summary(files: dict[str, str]) -> None:
    result = _invoke(
        files["policy"], "--source", files["source"], "--table", "accounts"
    )
    assert result.exit_code == 1  # one row rejected
    assert result.stdout == (
        "id,tier,score,reason\n"
        "acme,A,100,\n"
        "bolt,B,40,\n"  # 60*50% + 40*25% = 30 + 10 = 40: B from 40
        "dyna,,100,excluded by 'Customer': existing customer\n"
    )
    assert result.stderr == (
        "rejected core: num. of employees: 'lots' is not a number\n"
        "read 4 records from accounts (duckdb): 2 graded, 1 excluded, 1 rejected\n"
        "tiers: A 1, B 1, C 0\n"
        "as of " + result.stderr.split("as of ")[1]
    )


def test_into_writes_a_results_table_and_replace_is_explicit(
    files: dict[str, str],
) -> None:
    args = [files["policy"], "--source", files["source"], "--table", "accounts"]
    args += ["--as-of", "2026-12-01", "--into", "graded"]
    first = _invoke(*args)
    assert first.exit_code == 1
    assert first.stdout == ""
    assert first.stderr.endswith("as of 2026-12-01, results in graded\n")
    again = _invoke(*args)
    assert again.exit_code == 1
    assert "table 'graded' already exists; pass --replace" in str(again.exception)
    assert _invoke(*args, "--replace").exit_code == 1
    engine = sa.create_engine(f"duckdb:///{files['source']}")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM graded ORDER BY id")).all()
        names = list(connection.execute(sa.text("SELECT * FROM graded")).keys())
    engine.dispose()
    assert names == [
        "id", "tier", "score", "excluded", "rejected", "reason",
        "points_size", "points_region_hq", "policy_hash", "as_of",
    ]  # fmt: skip
    digest = compile_policy(POLICY).hash
    assert [tuple(r) for r in rows] == [
        ("acme", "A", Decimal(100), False, False, None, Decimal(60), Decimal(40),
         digest, "2026-12-01"),
        ("bolt", "B", Decimal(40), False, False, None, Decimal(30), Decimal(10),
         digest, "2026-12-01"),
        ("core", None, None, False, True,
         "num. of employees: 'lots' is not a number", None, None, digest,
         "2026-12-01"),
        ("dyna", None, Decimal(100), True, False,
         "excluded by 'Customer': existing customer", Decimal(60), Decimal(40),
         digest, "2026-12-01"),
    ]  # fmt: skip


def test_where_is_a_policy_condition(files: dict[str, str]) -> None:
    args = [files["policy"], "--source", files["source"], "--table", "accounts"]
    result = _invoke(*args, "--where", "country in north_america and not customer")
    assert result.stdout == "id,tier,score,reason\nacme,A,100,\n"
    # 'core' cannot be read, and the filter is true for it: reported rejected
    assert "read 2 records" in result.stderr
    nobody = _invoke(*args, "--where", "employees > 10000000")
    assert nobody.stdout == "id,tier,score,reason\n"  # no account passes
    failed = _invoke(*args[:2], "nope.duckdb", "--table", "accounts")
    assert failed.exit_code != 0 and failed.stdout == ""  # no header, then an error


def test_where_cannot_carry_sql(files: dict[str, str]) -> None:
    policy = compile_policy(POLICY)
    with pytest.raises(WhereError) as caught:
        parse_where(policy, "1=1; DROP TABLE accounts")
    assert str(caught.value).startswith("--where '1=1; DROP TABLE accounts': ")
    with pytest.raises(WhereError, match="single line"):
        parse_where(policy, "customer\n=> 0")
    with pytest.raises(WhereError, match="have text, want number"):
        parse_where(policy, 'employees > "many"')
    with pytest.raises(WhereError, match="a tier test only works in routes"):
        parse_where(policy, "tier A")


def test_print_sql_binds_nothing_unsafe(files: dict[str, str]) -> None:
    args = [files["policy"], "--source", files["source"], "--table", "accounts"]
    result = _invoke(*args, "--print-sql", "--as-of", "2026-12-01")
    assert result.exit_code == 0
    sql = result.stdout
    assert sql.startswith("WITH raw AS MATERIALIZED \n(SELECT ")
    assert 'accounts."num. of employees"' in sql
    assert "'united states', 'canada'" in sql
    assert sql.rstrip().endswith(";")


def test_names_and_values_cannot_inject_sql(tmp_path: Path) -> None:
    nasty = 'x"; DROP TABLE accounts; --'
    source = POLICY.replace('"num. of employees"', '"' + nasty.replace('"', "") + '"')
    source = source.replace('"Canada"', '"Canada\'); DROP TABLE accounts; --"')
    policy = compile_policy(source)
    url = f"sqlite:///{tmp_path / 'a.db'}"
    rows = [("evil", "2000", "Canada'); DROP TABLE accounts; --", "no")]
    columns = ("id", nasty.replace('"', ""), "country", "customer")
    table = sa.Table(
        "accounts", sa.MetaData(), *(sa.Column(c, sa.Text()) for c in columns)
    )
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert(), [dict(zip(columns, r)) for r in rows])
    engine.dispose()
    got: list[Any] = []
    grade_in_database(policy, url, "accounts", as_of="2026-12-01", on_result=got.append)
    assert [(r.id, r.tier, r.score) for r in got] == [("evil", "A", Decimal(100))]
    assert grade_in_database(policy, url, "accounts", as_of="2026-12-01").read == 1


def test_missing_table_and_bad_id_column(files: dict[str, str]) -> None:
    policy = compile_policy(POLICY)
    with pytest.raises(TierwiseError, match="no table 'nope' in the source database"):
        grade_in_database(policy, files["source"], "nope", as_of="2026-12-01")
    with pytest.raises(TierwiseError, match="no column 'key' in table 'accounts'"):
        grade_in_database(
            policy, files["source"], "accounts", as_of="2026-12-01", id_column="key"
        )
    found: list[Any] = []
    grade_in_database(
        policy,
        files["source"],
        "accounts",
        as_of="2026-12-01",
        id_column="COUNTRY",  # case aside, as in a file
        on_result=found.append,
    )
    assert [r.id for r in found] == ["Canada", "France", "Canada", "united states"]


def test_a_dialect_without_sql_for_a_construct_says_which() -> None:
    generic = dialect_for("snowflake")
    with pytest.raises(TierwiseError) as caught:
        generic.text_key(sa.column("industry"), exact=False)
    assert str(caught.value) == (
        "stripping Unicode whitespace cannot be written in SQL for the "
        "'snowflake' dialect; grade this policy per account, or add a Dialect "
        "for it (see tierwise.engine.sql_dialects)"
    )


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Company size", "Région (HQ)"], ["company_size", "region_hq"]),
        (["Fit", "fit!", "???"], ["fit", "fit_2", "criterion"]),
    ],
    ids=["accents-and-punctuation", "duplicates-and-empty"],
)
def test_points_columns_are_named_safely(names: list[str], expected: list[str]) -> None:
    assert column_names(names) == expected


def test_score_units_cover_every_decimal_place() -> None:
    policy = compile_policy(POLICY.replace("=> 25", "=> 33.3"))
    assert score_scale(policy.checked.policy) == 2  # 40 * 33.3 / 100 = 13.32


def test_duckdb_rejects_a_number_its_decimals_would_round(tmp_path: Path) -> None:
    """DuckDB keeps 10 decimal places: a value needing more is rejected, not
    rounded to zero, however it is written."""
    policy = compile_policy(
        'policy "p" version 1\nfacts\n  x number\ncriterion "X" weight 100\n'
        "  x > 0 => 100\n  otherwise => 0\ntiers\n  A from 50\n  B below 50\n"
    )
    needs_more = ["1e-11", "2.5E-12", "1.50e-10", "0.00000000001", "1e-999"]
    fits = ["1e-10", "100e-12", "1.5e3", "0e-20", "1,234.5", "-3e-10"]
    url = f"duckdb:///{tmp_path / 'n.duckdb'}"
    table = sa.Table(
        "n", sa.MetaData(), sa.Column("id", sa.Text), sa.Column("x", sa.Text)
    )
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(
            table.insert(), [{"id": v, "x": v} for v in needs_more + fits]
        )
    engine.dispose()
    found: list[Any] = []
    grade_in_database(policy, url, "n", as_of="2026-12-01", on_result=found.append)
    rejected = {r.id: r.reason for r in found if r.rejected}
    assert sorted(rejected) == sorted(needs_more)
    assert all("out of range for a number in duckdb" in r for r in rejected.values())
    tiers = {r.id: r.tier for r in found if not r.rejected}
    assert tiers == {
        "1e-10": "A",
        "100e-12": "A",
        "1.5e3": "A",
        "0e-20": "B",
        "1,234.5": "A",
        "-3e-10": "B",
    }


def test_duckdb_reads_the_table_of_the_current_schema_only(tmp_path: Path) -> None:
    database = tmp_path / "two.duckdb"
    _load(f"duckdb:///{database}", "accounts")
    engine = sa.create_engine(f"duckdb:///{database}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE SCHEMA other"))
        connection.execute(sa.text("CREATE TABLE other.accounts (id TEXT, x TEXT)"))
    engine.dispose()
    found: list[Any] = []
    summary = grade_in_database(
        compile_policy(POLICY),
        str(database),
        "accounts",
        as_of="2026-12-01",
        on_result=found.append,
    )
    assert (summary.read, summary.rejected) == (4, 1)
    assert [r.id for r in found] == ["acme", "bolt", "core", "dyna"]


@pytest.mark.parametrize("database", ["duckdb", "postgresql"])
def test_floats_and_dates_that_are_not_finite_are_rejected(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> None:
    """NaN and infinity are not values a fact can hold: rejected, as the
    per-account engine rejects 'NaN' and 'infinity' read from a file."""
    if database == "duckdb":
        url = f"duckdb:///{tmp_path / 'f.duckdb'}"
    else:
        url = request.getfixturevalue("postgres_schema")("nf")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("CREATE TABLE t (id TEXT, f DOUBLE PRECISION, d DATE)")
        )
        connection.execute(
            sa.text(
                "INSERT INTO t VALUES "
                "('nan', CAST('NaN' AS DOUBLE PRECISION), DATE '2026-11-20'), "
                "('inf', CAST('Infinity' AS DOUBLE PRECISION), DATE '2026-11-20'), "
                "('day', 1, CAST('infinity' AS DATE)), "
                "('ok', 1, DATE '2026-11-20')"
            )
        )
        if database == "postgresql":  # its NUMERIC holds NaN and infinities too
            connection.execute(sa.text("ALTER TABLE t ADD COLUMN n NUMERIC"))
            connection.execute(
                sa.text(
                    "INSERT INTO t VALUES "
                    "('n-nan', 1, DATE '2026-11-20', 'NaN'), "
                    "('n-inf', 1, DATE '2026-11-20', '-Infinity')"
                )
            )
    engine.dispose()
    policy = compile_policy(
        'policy "p" version 1\nfacts\n  f number\n  d date\n  n money\n'
        'criterion "F" weight 50\n  f > 0 => 100\n  otherwise => 0\n'
        'criterion "D" weight 50\n  d within 30 days => 100\n  otherwise => 0\n'
        'criterion "N" weight 0\n  n > 0 => 100\n  otherwise => 0\n'
        "tiers\n  A from 80\n  B below 80\n"
    )
    found: list[Any] = []
    grade_in_database(policy, url, "t", as_of="2026-12-01", on_result=found.append)
    outcomes = {r.id: (r.tier, r.reason if r.rejected else None) for r in found}
    assert outcomes["ok"] == ("A", None)
    assert (
        outcomes["nan"][1] is not None
        and "is not a finite number" in outcomes["nan"][1]
    )
    assert (
        outcomes["inf"][1] is not None
        and "is not a finite number" in outcomes["inf"][1]
    )
    assert outcomes["day"][1] is not None and "is not a date" in outcomes["day"][1]
    for name in ("n-nan", "n-inf") if database == "postgresql" else ():
        reason = outcomes[name][1]
        assert reason is not None and "is not a finite number" in reason


def test_what_would_lose_or_invent_data_is_refused(
    files: dict[str, str], tmp_path: Path
) -> None:
    policy = compile_policy(POLICY)
    source = files["source"]
    for into in ("accounts", "ACCOUNTS", "main.accounts"):
        with pytest.raises(TierwiseError, match="names the table being graded"):
            grade_in_database(
                policy, source, "accounts", as_of="2026-12-01", into=into, replace=True
            )
    assert _count(source, "accounts") == len(ROWS)  # the source is untouched
    for missing in (str(tmp_path / "typo.duckdb"), f"sqlite:///{tmp_path}/typo.db"):
        with pytest.raises(TierwiseError, match="no database file"):
            grade_in_database(policy, missing, "accounts", as_of="2026-12-01")
    assert not list(tmp_path.glob("typo*"))
    engine = sa.create_engine(f"duckdb:///{source}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE unrelated (id TEXT, colour TEXT)"))
    engine.dispose()
    with pytest.raises(TierwiseError, match="has none of the columns the policy"):
        grade_in_database(policy, source, "unrelated", as_of="2026-12-01")


def _count(source: str, table: str) -> int:
    engine = sa.create_engine(f"duckdb:///{source}")
    with engine.connect() as connection:
        count = connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
    engine.dispose()
    return int(count)


def test_a_failed_replace_on_sqlite_changes_nothing(tmp_path: Path) -> None:
    """A view over the table `--into` replaces: the run fails, and the DROP
    is rolled back with it (sqlite3 alone would have committed it)."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    _load(url, "accounts")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE VIEW v AS SELECT * FROM accounts"))
    engine.dispose()
    with pytest.raises(TierwiseError):
        grade_in_database(
            compile_policy(POLICY),
            url,
            "v",
            as_of="2026-12-01",
            into="accounts",
            replace=True,
        )
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        kept = connection.scalar(sa.text("SELECT count(*) FROM accounts"))
        columns = [c["name"] for c in sa.inspect(connection).get_columns("accounts")]
    engine.dispose()
    assert (kept, columns[:2]) == (len(ROWS), ["id", "num. of employees"])
