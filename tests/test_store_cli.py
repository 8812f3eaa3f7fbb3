"""The store commands, run in-process: exact output and exit codes.

`tierwise grade --db`, `db upgrade`, `runs`, `history`, `replay` and
`actions`, against SQLite and PostgreSQL alike (`store_url`).
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tierwise.cli.main import main

POLICY = """\
policy "mini" version 2
facts
  employees int   from "Employees"
  industry  text  from "Industry"
  customer  bool  from "Customer"  default false
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
override "Customers"
  when customer => exclude, reason "account management"
routes
  tier A => assign "ae"
  otherwise => enroll "nurture"
"""

FIRST = """\
Account,Employees,Industry,Customer
acme,"5,000", Software ,no
bolt,150,Retail,
crux,lots,Software,no
dyna,12,retail,yes
"""

SECOND = """\
Account,Employees,Industry,Customer
acme,5000,Software,no
bolt,1500,Software,no
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def run_id(result: Result) -> str:
    found = re.search(r"^as of .*, run ([0-9a-f]{32})$", result.stderr, re.M)
    assert found, result.stderr
    return found.group(1)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "policy": tmp_path / "mini.grade",
        "first": tmp_path / "first.csv",
        "second": tmp_path / "second.csv",
    }
    for name, text in (("policy", POLICY), ("first", FIRST), ("second", SECOND)):
        paths[name].write_text(text, encoding="utf-8")
    return paths


def grade(files: dict[str, Path], url: str, which: str = "first") -> Result:
    return run(
        "grade", str(files["policy"]), "--input", str(files[which]),
        "--as-of", "2026-12-01", "--db", url,
    )  # fmt: skip


@pytest.fixture
def two_runs(files: dict[str, Path], store_url: str) -> tuple[str, str]:
    """The store after grading FIRST, then SECOND; the two run ids."""
    run("db", "upgrade", "--db", store_url)
    first, second = grade(files, store_url), grade(files, store_url, "second")
    assert (first.exit_code, second.exit_code) == (1, 0)
    return run_id(first), run_id(second)


# ---- grade --db -------------------------------------------------------------------


def test_grade_records_the_run_and_says_so(
    files: dict[str, Path], store_url: str
) -> None:
    run("db", "upgrade", "--db", store_url)
    plain = run(
        "grade", str(files["policy"]), "--input", str(files["first"]),
        "--as-of", "2026-12-01",
    )  # fmt: skip
    stored = grade(files, store_url)
    assert stored.exit_code == 1  # crux is rejected, as without a store
    assert stored.stdout == plain.stdout
    assert stored.stderr.splitlines()[-1] == (
        f"recorded run {run_id(stored)} in {store_url}: 3 audit records, "
        "1 rejected record; 3 new accounts, 0 tier changes; 2 actions fired"
    )
    again = grade(files, store_url)
    assert again.stderr.splitlines()[-1] == (
        f"recorded run {run_id(again)} in {store_url}: 3 audit records, "
        "1 rejected record; 0 new accounts, 0 tier changes; 0 actions fired"
    )


def test_grade_records_only_when_a_store_is_named(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIERWISE_DB", raising=False)
    args = ["grade", str(files["policy"]), "--input", str(files["first"])]
    assert "recorded run" not in run(*args).stderr
    assert not (tmp_path / "tierwise.db").exists()
    monkeypatch.setenv("TIERWISE_DB", "nightly.db")
    result = run(*args)
    assert result.stderr.splitlines()[-1].startswith(
        f"recorded run {run_id(result)} in sqlite:///nightly.db: 3 audit records"
    )
    assert not (tmp_path / "tierwise.db").exists()
    assert (tmp_path / "nightly.db").is_file()


def test_resume_refuses_a_complete_run_and_another_as_of(
    files: dict[str, Path], two_runs: tuple[str, str], store_url: str
) -> None:
    first, _ = two_runs
    args = ["grade", str(files["policy"]), "--input", str(files["first"])]
    done = run(*args, "--db", store_url, "--resume", first)
    assert (done.exit_code, done.stderr) == (
        2,
        f"error: run {first} is complete: there is nothing to resume\n",
    )
    other = run(*args, "--db", store_url, "--resume", first, "--as-of", "2027-01-01")
    assert (other.exit_code, other.stderr) == (
        2,
        f"error: run {first} grades as of 2026-12-01, not 2027-01-01: resume it "
        "without --as-of, or grade as a new run\n",
    )


# ---- db ---------------------------------------------------------------------------


def test_db_upgrade_creates_then_finds_the_schema_current(store_url: str) -> None:
    created = run("db", "upgrade", "--db", store_url)
    assert (created.exit_code, created.stderr) == (
        0,
        f"created the store at {store_url} (revision 0001)\n",
    )
    again = run("db", "upgrade", "--db", store_url)
    assert again.stderr == f"{store_url} is up to date (revision 0001)\n"
    current = run("db", "current", "--db", store_url)
    assert current.stdout == (
        f"{store_url}: revision 0001, this tierwise: 0001 (up to date)\n"
    )


def test_the_store_commands_default_to_tierwise_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIERWISE_DB", raising=False)
    for args in (["runs"], ["history", "x"], ["replay", "x"], ["actions", "list"]):
        result = run(*args)
        assert (result.exit_code, result.stderr) == (
            2,
            "error: no store at tierwise.db: `tierwise grade --db` or "
            "`tierwise db upgrade` creates one\n",
        )
    assert run("db", "upgrade").stderr == (
        "created the store at sqlite:///tierwise.db (revision 0001)\n"
    )
    assert (run("runs").exit_code, run("runs").stderr) == (0, "no runs recorded\n")


# ---- runs, history, replay --------------------------------------------------------


def test_runs_lists_the_latest_first(
    two_runs: tuple[str, str], files: dict[str, Path], store_url: str
) -> None:
    first, second = two_runs
    result = run("runs", "--db", store_url)
    assert result.exit_code == 0
    text = re.sub(r"started \S+ \S+ UTC", "started T", result.stdout)
    assert text == textwrap.dedent(
        f"""\
        {second}  complete
          mini v2, as of 2026-12-01, started T
          2 records from {files["second"]}: 2 graded, 0 excluded, 0 rejected
          tiers: A 2, B 0, C 0; 0 new, 1 changed; 1 action fired
        {first}  complete
          mini v2, as of 2026-12-01, started T
          4 records from {files["first"]}: 2 graded, 1 excluded, 1 rejected
          tiers: A 1, B 1, C 0; 3 new, 0 changed; 2 actions fired
        """
    )
    data = json.loads(run("runs", "--db", store_url, "--format", "json").stdout)
    assert [(r["id"], r["read"], r["counts"]["fired"]) for r in data] == [
        (second, 2, 1),
        (first, 4, 2),
    ]


def test_history_shows_each_change_its_cause_and_routing(
    two_runs: tuple[str, str], store_url: str
) -> None:
    first, second = two_runs
    result = run("history", "bolt", "--db", store_url)
    assert result.exit_code == 0
    assert result.stdout == textwrap.dedent(
        f"""\
        account 'bolt' under mini: A since 2026-12-01 (run {second}), graded 2 times
          new → B on 2026-12-01 under v2 (run {first}): score 40; routed: enroll "nurture"
          B → A on 2026-12-01 under v2 (run {second}): Size +30, Industry +30; score 40 → 100; routed: assign "ae"
        """  # noqa: E501
    )
    unchanged = run("history", "acme", "--all", "--db", store_url)
    assert unchanged.stdout.splitlines()[1:] == [
        f"  new → A on 2026-12-01 under v2 (run {first}): score 100; "
        'routed: assign "ae"',
        f"  A, unchanged on 2026-12-01 under v2 (run {second}): score 100",
    ]
    excluded = run("history", "dyna", "--db", store_url)
    assert excluded.stdout.splitlines()[1] == (
        f"  new → excluded on 2026-12-01 under v2 (run {first}): score 10"
    )
    missing = run("history", "zeta", "--db", store_url)
    assert (missing.exit_code, missing.stderr) == (
        2,
        "error: no audit record of account 'zeta'\n",
    )


def test_replay_verifies_a_stored_run(
    two_runs: tuple[str, str], store_url: str
) -> None:
    first, _ = two_runs
    result = run("replay", first, "--db", store_url)
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == (
        f"replayed run {first} (mini v2, as of 2026-12-01): 4 records, all match\n"
    )
    unknown = run("replay", "f" * 32, "--db", store_url)
    assert (unknown.exit_code, unknown.stderr) == (
        2,
        f"error: no run '{'f' * 32}' in the store\n",
    )


# ---- actions ----------------------------------------------------------------------


def test_actions_list_and_deliver_to_a_file(
    two_runs: tuple[str, str], store_url: str, tmp_path: Path
) -> None:
    first, second = two_runs
    listed = run("actions", "list", "--db", store_url)
    assert listed.stdout == (
        f'pending   assign "ae" for acme (new → A), key {first}:2:0\n'
        f'pending   enroll "nurture" for bolt (new → B), key {first}:3:0\n'
        f'pending   assign "ae" for bolt (B → A), key {second}:3:0\n'
    )
    assert listed.stderr == "3 pending, 0 delivered, 0 failed\n"
    out = tmp_path / "actions.jsonl"
    delivered = run("actions", "deliver", "--to", str(out), "--db", store_url)
    assert (delivered.exit_code, delivered.stderr) == (
        0,
        f"delivered 3 actions to {out}; 0 refused, 0 pending\n",
    )
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(a["key"], a["account"], a["action"], a["target"]) for a in lines] == [
        (f"{first}:2:0", "acme", "assign", "ae"),
        (f"{first}:3:0", "bolt", "enroll", "nurture"),
        (f"{second}:3:0", "bolt", "assign", "ae"),
    ]
    assert lines[2] | {"fired_at": None} == {
        "key": f"{second}:3:0",
        "action": "assign",
        "target": "ae",
        "account": "bolt",
        "tier": "A",
        "previous_tier": "B",
        "trigger": "change",
        "trigger_tier": None,
        "score": "100",
        "reason": "Size +60, Industry +40",
        "policy": "mini",
        "policy_version": "2",
        "run": second,
        "as_of": "2026-12-01",
        "fired_at": None,
    }
    again = run("actions", "deliver", "--to", str(out), "--db", store_url)
    assert again.stderr == f"delivered 0 actions to {out}; 0 refused, 0 pending\n"
    assert len(out.read_text("utf-8").splitlines()) == 3
    everything = run("actions", "list", "--status", "all", "--db", store_url)
    assert everything.stdout.count("delivered ") == 3
