"""A run killed with SIGKILL resumes (or re-runs) with nothing lost or doubled,
and two runs at once do not corrupt each other; on SQLite and PostgreSQL.

The runs are real `tierwise grade` processes. The kill comes once the store
shows committed batches and before the run can have finished; the counts
afterwards are checked against what the graded output says should be there,
with the store's unique constraints making a duplicate impossible to hide.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, Table, create_engine, func, select

from tierwise.cli.main import main
from tierwise.engine.store import schema

POLICY = """\
policy "crash" version 1
facts
  employees int   from "Employees"
  industry  text  from "Industry"
criterion "Size" weight 60
  employees >= 1000 => 100
  employees >= 100  => 50
  otherwise         => 0
criterion "Industry" weight 40
  industry = "Software" => 100
  otherwise             => 25
tiers
  A from 80
  B from 40
  C below 40
routes
  tier A => assign "ae", notify "#a"
  tier B => enroll "nurture"
"""

ACCOUNTS = 5_000
KILL_AFTER_LINE = 1_500  # the first batches of 1,000 are committed by then
REJECTED_EVERY = 997  # a record that cannot be read, now and then
TIERWISE = [sys.executable, "-c", "from tierwise.cli.main import main; main()"]


def write_accounts(path: Path, count: int) -> None:
    industries = ("Software", "Retail", "Fintech", "Software")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("Account", "Employees", "Industry"))
        for n in range(count):
            employees = "lots" if n % REJECTED_EVERY == 7 else str((n * 37) % 3000)
            writer.writerow((f"acct-{n}", employees, industries[n % 4]))


@dataclass(frozen=True)
class Setup:
    command: list[str]  # `tierwise grade ...` without --output
    accounts: Path  # the input, also in `command`
    url: str
    engine: Engine  # on the store, for the test's own queries


@pytest.fixture
def setup(tmp_path: Path, store_url: str) -> Iterator[Setup]:
    policy, accounts = tmp_path / "crash.grade", tmp_path / "accounts.csv"
    policy.write_text(POLICY, encoding="utf-8")
    write_accounts(accounts, ACCOUNTS)
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", store_url])
    assert result.exit_code == 0, result.stderr
    command = ["grade", str(policy), "--input", str(accounts), "--db", store_url]
    engine = create_engine(store_url)
    yield Setup([*command, "--as-of", "2026-12-01"], accounts, store_url, engine)
    engine.dispose()


def start_and_kill(command: list[str], engine: Engine, tmp_path: Path) -> str:
    """Start a grading process, SIGKILL it partway; the id of its run."""
    out = tmp_path / "killed.csv"
    process = subprocess.Popen(
        [*TIERWISE, *command, "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if committed_line(engine) >= KILL_AFTER_LINE:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        process.kill()
        _, stderr = process.communicate()
    assert process.returncode == -signal.SIGKILL, stderr.decode()
    with engine.connect() as conn:
        run_id, status, last_line = conn.execute(
            select(schema.runs.c.id, schema.runs.c.status, schema.runs.c.last_line)
        ).one()
    assert status == "running"
    assert KILL_AFTER_LINE <= last_line < ACCOUNTS, "the run was not killed partway"
    return str(run_id)


def committed_line(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.max(schema.runs.c.last_line))) or 0


def expected_actions(output: Path) -> Counter[tuple[str, str]]:
    """(account, action) for every action the graded output lists."""
    with output.open(encoding="utf-8") as rows:
        return Counter(
            (row["id"], action)
            for row in csv.DictReader(rows)
            for action in row["actions"].split("; ")
            if action
        )


def stored_actions(engine: Engine) -> Counter[tuple[str, str]]:
    outbox = schema.outbox
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.account_id, outbox.c.kind, outbox.c.target))
        return Counter((row[0], f"{row[1]} {row[2]}") for row in rows)


def lines_of(engine: Engine, table: Table, run_id: str) -> list[int]:
    with engine.connect() as conn:
        query = select(table.c.line).where(table.c.run_id == run_id)
        return list(conn.scalars(query))


def test_a_killed_run_resumes_with_nothing_missing_or_doubled(
    setup: Setup, tmp_path: Path
) -> None:
    command, engine = setup.command, setup.engine
    run_id = start_and_kill(command, engine, tmp_path)
    killed_lines = committed_line(engine)
    out = tmp_path / "resumed.csv"
    result = CliRunner().invoke(
        main, [*command, "--resume", run_id, "--output", str(out)]
    )
    assert result.exit_code == 1, result.stderr  # some records are rejected
    rejected = len(range(7, ACCOUNTS, REJECTED_EVERY))
    assert result.stderr.splitlines()[-1] == (
        f"resumed run {run_id} in {setup.url} after line {killed_lines}: "
        f"{ACCOUNTS - rejected} audit records, {rejected} rejected records; "
        f"{ACCOUNTS - rejected} new accounts, 0 tier changes; "
        f"{sum(expected_actions(out).values())} actions fired"
    )
    graded = lines_of(engine, schema.audit_records, run_id)
    refused = lines_of(engine, schema.rejected_records, run_id)
    assert sorted(graded + refused) == list(range(2, ACCOUNTS + 2))
    assert len(refused) == rejected
    assert stored_actions(engine) == expected_actions(out)
    with engine.connect() as conn:
        keys = conn.scalar(select(func.count(schema.outbox.c.key.distinct())))
        tiers = conn.scalar(select(func.count()).select_from(schema.current_tiers))
    assert keys == sum(expected_actions(out).values())
    assert tiers == ACCOUNTS - rejected
    replay = CliRunner().invoke(main, ["replay", run_id, "--db", setup.url])
    assert replay.exit_code == 0, replay.stdout


def test_a_killed_run_graded_again_fires_each_action_once(
    setup: Setup, tmp_path: Path
) -> None:
    command, engine = setup.command, setup.engine
    killed = start_and_kill(command, engine, tmp_path)
    out = tmp_path / "again.csv"
    result = CliRunner().invoke(main, [*command, "--output", str(out)])
    assert result.exit_code == 1, result.stderr
    assert stored_actions(engine) == expected_actions(out)
    with engine.connect() as conn:
        changes = conn.execute(
            select(schema.audit_records.c.run_id, schema.audit_records.c.change)
        ).all()
    killed_new = sum(1 for run, change in changes if run == killed and change == "new")
    assert killed_new == len(lines_of(engine, schema.audit_records, killed))
    assert Counter(change for _, change in changes) == {
        "new": ACCOUNTS - len(range(7, ACCOUNTS, REJECTED_EVERY)),
        "same": killed_new,
    }


def test_two_runs_at_once_decide_each_change_once(setup: Setup, tmp_path: Path) -> None:
    """One run reads the accounts forwards, the other backwards: they meet in
    the middle, each deciding part of the tier changes, none both."""
    command, engine = setup.command, setup.engine
    header, *rows = setup.accounts.read_text("utf-8").splitlines(keepends=True)
    backwards = tmp_path / "backwards.csv"
    backwards.write_text(header + "".join(reversed(rows)), "utf-8")
    outputs = [tmp_path / "forwards-out.csv", tmp_path / "backwards-out.csv"]
    swapped = [str(backwards) if arg == str(setup.accounts) else arg for arg in command]
    commands = [command, swapped]
    processes = [
        subprocess.Popen(
            [*TIERWISE, *args, "--output", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for args, out in zip(commands, outputs)
    ]
    errors = [p.communicate(timeout=300)[1].decode() for p in processes]
    assert [p.returncode for p in processes] == [1, 1], errors
    expected = expected_actions(outputs[0])
    assert expected_actions(outputs[1]) == expected
    graded = ACCOUNTS - len(range(7, ACCOUNTS, REJECTED_EVERY))
    with engine.connect() as conn:
        runs = conn.execute(
            select(schema.runs.c.status, schema.runs.c.new_accounts)
        ).all()
        changes = Counter(conn.scalars(select(schema.audit_records.c.change)))
        fired = conn.scalar(select(func.sum(schema.runs.c.fired)))
    assert [status for status, _ in runs] == ["complete", "complete"]
    assert all(new > 0 for _, new in runs), runs  # each decided some changes
    assert sum(new for _, new in runs) == graded
    assert changes == {"new": graded, "same": graded}
    assert fired == sum(expected.values())
    assert stored_actions(engine) == expected
