"""A pushed-down run recorded in the audit store records what a file run does.

The example accounts are graded twice with the starter policy (as of two
dates, so that tiers change and routes fire on the change): once from
`examples/accounts.csv` with `--input`, once from the same rows loaded into
a table with `--source`. Both runs must leave the same audit records
(tier, score, reason, explanation, previous tier, change, input digest),
rejected records, current tiers, outbox entries and counts. Sources are
SQLite, DuckDB and PostgreSQL; stores SQLite and PostgreSQL (`store_url`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tierwise.cli.main import main as cli
from tierwise.engine.readers import RecordReader

ROOT = Path(__file__).resolve().parents[1]
POLICY = str(ROOT / "policies" / "starter.grade")
ACCOUNTS = ROOT / "examples" / "accounts.csv"
DATES = ("2026-12-01", "2027-03-01")


def _load(url: str, table: str = "accounts") -> None:
    records = list(RecordReader(str(ACCOUNTS)))
    fields = records[0].fields
    target = sa.Table(table, sa.MetaData(), *(sa.Column(f, sa.Text()) for f in fields))
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        target.create(connection)
        connection.execute(
            target.insert(), [dict(zip(fields, r.values)) for r in records]
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", "duckdb", "postgresql"])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'accounts.db'}"
    elif request.param == "duckdb":
        url = f"duckdb:///{tmp_path / 'accounts.duckdb'}"
    else:
        url = request.getfixturevalue("postgres_schema")("src")
    _load(url)
    return url


def _grade(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["grade", POLICY, *args])
    assert result.exit_code in (0, 1), result.output
    return result


def _store_url(
    base: str, name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> str:
    """A second, empty store next to `base` (a SQLite file or a PG schema)."""
    if base.startswith("sqlite"):
        return f"sqlite:///{tmp_path / name}.db"
    url: str = request.getfixturevalue("postgres_schema")("s")
    return url


AUDIT = ", ".join(
    f"a.{c}"
    for c in (
        "account_id tier previous_tier change excluded score reason "
        "explanation input_digest"
    ).split()
)
QUERIES = {
    "audit": f"select r.as_of, {AUDIT} from audit_records a "
    "join runs r on r.id = a.run_id",
    "rejected": "select r.as_of, x.account_id, x.problems, x.input_digest "
    "from rejected_records x join runs r on r.id = x.run_id",
    "outbox": "select o.as_of, account_id, kind, target, trigger, trigger_tier, "
    "previous_tier, tier, score, reason from outbox o",
    "current": "select account_id, policy_name, tier, score from current_tiers",
    "runs": "select as_of, graded, excluded, rejected, new_accounts, changed, "
    "fired, tiers, status from runs",
    "inputs": "select digest, record from inputs",
}


def _recorded(url: str) -> dict[str, list[tuple[str, ...]]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = {
            name: sorted(
                tuple(str(v) for v in row) for row in connection.execute(sa.text(query))
            )
            for name, query in QUERIES.items()
        }
    engine.dispose()
    return found


def test_a_pushed_down_run_records_what_a_file_run_records(
    source_url: str, store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pushed = _store_url(store_url, "pushed", tmp_path, request)
    for store in (store_url, pushed):
        upgraded = CliRunner().invoke(cli, ["db", "upgrade", "--db", store])
        assert upgraded.exit_code == 0, upgraded.output
    for as_of in DATES:
        _grade("--input", str(ACCOUNTS), "--db", store_url, "--as-of", as_of)
        result = _grade(
            "--source", source_url, "--table", "accounts", "--db", pushed,
            "--as-of", as_of,
        )  # fmt: skip
        assert "recorded run" in result.stderr
    from_file, from_table = _recorded(store_url), _recorded(pushed)
    assert from_file["runs"] and from_file["outbox"] and from_file["rejected"]
    assert any(row[4] == "changed" for row in from_file["audit"])
    for name in QUERIES:
        assert from_table[name] == from_file[name], name


def test_a_pushed_down_run_names_its_source_and_digests_its_rows(
    source_url: str, tmp_path: Path
) -> None:
    source = source_url
    store = f"sqlite:///{tmp_path / 'store.db'}"
    where = 'country = "Canada"'
    for _ in range(2):
        result = _grade(
            "--source", source, "--table", "accounts", "--where", where,
            "--into", "graded", "--replace", "--db", store, "--as-of", DATES[0],
        )  # fmt: skip
        assert "recorded run" in result.stderr
    engine = sa.create_engine(store)
    with engine.connect() as connection:
        runs = connection.execute(
            sa.text(
                "select input_name, input_digest, "
                "graded + excluded + rejected from runs"
            )
        ).all()
    engine.dispose()
    assert len(runs) == 2
    assert runs[0][0] == f"{source} table accounts where {where}"
    assert runs[0][1] == runs[1][1] and runs[0][1].startswith("rows-sha256-sum:")
    source_engine = sa.create_engine(source)
    with source_engine.connect() as connection:
        written = connection.execute(
            sa.text("select id, tier from graded where not rejected")
        ).all()
        count = connection.execute(sa.text("select count(*) from graded")).scalar()
    source_engine.dispose()
    assert runs[0][2] == count > 0
    engine = sa.create_engine(store)
    with engine.connect() as connection:
        audited = connection.execute(
            sa.text(
                "select account_id, tier from audit_records a join runs r "
                "on r.id = a.run_id where r.started_at = "
                "(select max(started_at) from runs)"
            )
        ).all()
    engine.dispose()
    assert sorted(map(tuple, audited)) == sorted(map(tuple, written))


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        (["--source", "x.db", "--table", "t", "--resume", "abc"], "--resume"),
        (["--source", "x.db", "--table", "t", "--output", "o.csv"], "--output"),
        (["--source", "x.db", "--table", "t", "--delimiter", ";"], "--delimiter"),
        (["--source", "x.db", "--table", "t", "--format", "jsonl"], "--format"),
        (["--input", "a.csv", "--where", "employees > 3"], "--where"),
        (["--input", "a.csv", "--into", "graded"], "--into"),
    ],
    ids=["resume", "output", "delimiter", "format", "where", "into"],
)
def test_options_of_the_other_kind_of_input_are_refused(
    options: list[str], refused: str
) -> None:
    result = CliRunner().invoke(cli, ["grade", POLICY, *options])
    assert result.exit_code == 2
    other = "--source" if "--source" in options else "--input"
    assert f"{refused} cannot be used with {other}" in result.output


def test_an_infinite_date_is_a_recorded_reject_not_a_failed_run(
    postgres_schema: Callable[[str], str], tmp_path: Path
) -> None:
    source = postgres_schema("inf")
    engine = sa.create_engine(source)
    with engine.begin() as connection:
        connection.execute(
            sa.text('CREATE TABLE t ("Account ID" TEXT, "Last Activity" DATE)')
        )
        connection.execute(
            sa.text("INSERT INTO t VALUES ('a', 'infinity'), ('b', '2026-11-20')")
        )
    engine.dispose()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    result = CliRunner().invoke(
        cli,
        ["grade", POLICY, "--source", source, "--table", "t",
         "--db", store, "--as-of", "2026-12-01"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # one row rejected, run complete
    assert "rejected a: Last Activity: 'infinity' is not a date" in result.stderr
    recorded = _recorded(store)
    assert [row[-1] for row in recorded["runs"]] == ["complete"]
    assert len(recorded["rejected"]) == 1
