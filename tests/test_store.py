"""The audit store through its Python API, on SQLite and PostgreSQL alike.

Which actions fire on a tier change, what a run records, how a run is resumed
or taken over, and that replay catches a tampered record. The CLI, crash and
webhook tests live in the other `test_store_*` modules.
"""

from __future__ import annotations

import doctest
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text, update

from tierwise.engine.policy import CompiledPolicy, RecordError, compile_policy
from tierwise.engine.readers import InputRecord
from tierwise.engine.result import Action
from tierwise.engine.run import grade_records
from tierwise.engine.store import RunInput, Store, StoreError, schema
from tierwise.engine.store.start import IN_PROCESS
from tierwise.engine.store.triggers import fires

POLICY = """\
policy "routing" version 1
facts
  employees int   from "Employees"
  customer  bool  from "Customer"  default false
criterion "Size" weight 100
  employees >= 1000 => 100
  employees >= 100  => 50
  otherwise         => 0
tiers
  A from 80
  B from 40
  C below 40
override "Customers"
  when customer => exclude, reason "account management"
routes, all matching fire
  tier A => assign "ae"
  tier A => notify "#new-a" on entering A
  tier B => tag "was-a" on leaving A
  tier in A, B => tag "scored" every run
"""


@pytest.fixture
def policy() -> CompiledPolicy:
    return compile_policy(POLICY, "routing.grade")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url, create=True, check=False)
    opened.upgrade()
    yield opened
    opened.close()


def record_run(
    store: Store, policy: CompiledPolicy, accounts: dict[str, dict[str, str]]
) -> list[str]:
    """Grade `accounts` in one run; the fired actions as `account: kind target`."""
    fired = []
    with store.begin_run(policy, as_of="2026-12-01") as run:
        for account, facts in accounts.items():
            recorded = run.grade(facts, id=account)
            fired += [f"{account}: {a.kind} {a.target}" for a in recorded.fired]
    return fired


# ---- triggers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "tier", "previous", "new", "expected"),
    [
        ("change", None, None, "A", True),
        ("change", None, "B", "A", True),
        ("change", None, "A", "A", False),
        ("change", None, None, None, False),
        ("every_run", None, "A", "A", True),
        ("every_run", None, None, None, False),
        ("entering", "A", "B", "A", True),
        ("entering", "A", None, "A", True),
        ("entering", "A", "A", "A", False),
        ("entering", "A", "A", "B", False),
        ("leaving", "A", "A", "B", True),
        ("leaving", "A", "A", "A", False),
        ("leaving", "A", None, "B", False),
        ("leaving", "A", "A", None, False),
    ],
    ids=lambda value: str(value),
)
def test_which_trigger_fires(
    trigger: str,
    tier: str | None,
    previous: str | None,
    new: str | None,
    expected: bool,
) -> None:
    action = Action.model_validate(
        {"kind": "tag", "target": "t", "route_line": 1}
        | {"trigger": trigger, "trigger_tier": tier}
    )
    assert fires(action, previous, new) is expected


@pytest.mark.parametrize(
    "module", ["tierwise.engine.store.store", "tierwise.engine.store.triggers"]
)
def test_docstring_examples(module: str) -> None:
    failures, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failures == 0


# ---- recording and firing ---------------------------------------------------------


def test_actions_fire_on_change_entering_leaving_and_every_run(
    store: Store, policy: CompiledPolicy
) -> None:
    first = {
        "acme": {"Employees": "5000"},
        "bolt": {"Employees": "150"},
        "crux": {"Employees": "10"},
        "dyna": {"Employees": "9000", "Customer": "yes"},
    }
    assert record_run(store, policy, first) == [
        "acme: assign ae",
        "acme: notify #new-a",
        "acme: tag scored",
        "bolt: tag scored",
    ]
    second = {
        "acme": {"Employees": "500"},
        "bolt": {"Employees": "150"},
        "crux": {"Employees": "2000"},
        "dyna": {"Employees": "5"},
    }
    assert record_run(store, policy, second) == [
        "acme: tag was-a",
        "acme: tag scored",
        "bolt: tag scored",
        "crux: assign ae",
        "crux: notify #new-a",
        "crux: tag scored",
    ]
    assert record_run(store, policy, second) == [
        "acme: tag scored",
        "bolt: tag scored",
        "crux: tag scored",
    ]
    assert [(e.previous_tier, e.tier, e.change) for e in store.history("dyna")] == [
        (None, None, "new"),
        (None, "C", "changed"),
        ("C", "C", "same"),
    ]


def test_a_run_records_counts_tiers_and_the_outbox(
    store: Store, policy: CompiledPolicy
) -> None:
    record_run(store, policy, {"a": {"Employees": "5000"}, "b": {"Employees": "1"}})
    [run] = store.runs()
    assert (run.status, run.policy_name, run.policy_version, run.as_of) == (
        "complete",
        "routing",
        "1",
        "2026-12-01",
    )
    counts = run.counts
    assert (counts.graded, counts.excluded, counts.rejected, counts.read) == (
        2,
        0,
        0,
        2,
    )
    assert (counts.new_accounts, counts.changed, counts.fired) == (2, 0, 3)
    assert counts.tiers == {"A": 1, "B": 0, "C": 1}
    keys = [a.key for a in store.actions()]
    assert keys == [f"{run.id}:1:0", f"{run.id}:1:1", f"{run.id}:1:2"]
    assert {a.status for a in store.actions()} == {"pending"}
    assert store.action_counts() == {"pending": 3, "delivered": 0, "failed": 0}


def test_a_record_that_cannot_be_read_is_recorded_as_rejected(
    store: Store, policy: CompiledPolicy
) -> None:
    with store.begin_run(policy, as_of="2026-12-01") as run:
        with pytest.raises(RecordError, match="'lots' is not a number"):
            run.grade({"Employees": "lots"}, id="x")
    [info] = store.runs()
    assert (info.counts.rejected, info.counts.graded) == (1, 0)
    with store.engine.connect() as conn:
        row = conn.execute(select(schema.rejected_records)).one()
    assert (row.account_id, row.line) == ("x", 1)
    assert row.problems == [
        {"field": "Employees", "value": "lots", "reason": "'lots' is not a number"}
    ]


def test_the_policy_version_is_stored_once(
    store: Store, policy: CompiledPolicy
) -> None:
    record_run(store, policy, {"a": {"Employees": "5"}})
    record_run(store, policy, {"a": {"Employees": "5"}})
    changed = compile_policy(POLICY.replace("version 1", "version 2"), "v2.grade")
    record_run(store, changed, {"a": {"Employees": "5"}})
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(schema.policies.c.version, schema.policies.c.source).order_by(
                schema.policies.c.id
            )
        ).all()
    assert [(v, s == p.source) for (v, s), p in zip(rows, [policy, changed])] == [
        ("1", True),
        ("2", True),
    ]


def test_history_names_the_criteria_that_moved(
    store: Store, policy: CompiledPolicy
) -> None:
    record_run(store, policy, {"acme": {"Employees": "150"}})
    record_run(store, policy, {"acme": {"Employees": "1500"}})
    first, second = store.history("acme")
    assert (first.change, first.moved, first.fired) == ("new", (), ('tag "scored"',))
    assert (second.previous_tier, second.tier, second.previous_score) == (
        "B",
        "A",
        "50",
    )
    assert [(m.criterion, str(m.delta)) for m in second.moved] == [("Size", "50")]
    assert second.fired == ('assign "ae"', 'notify "#new-a"', 'tag "scored"')
    assert store.history("acme", "another-policy") == []


# ---- resuming ---------------------------------------------------------------------


def records(count: int) -> list[InputRecord]:
    fields = ("Account", "Employees")
    return [
        InputRecord(line, fields, (f"acct-{line}", str(line * 10)))
        for line in range(2, count + 2)
    ]


def grade_into(store: Store, policy: CompiledPolicy, rows: list[InputRecord]) -> str:
    """Start a run with batches of 4 and stop after `rows`, as a crash would."""
    source = RunInput("accounts.csv", "sha256:same", {"encoding": "utf-8"})
    recorder = store.begin_run(policy, as_of="2026-12-01", source=source, batch_size=4)
    grade_records(
        policy,
        rows,
        as_of=recorder.as_of,
        on_graded=recorder.graded,
        on_rejected=recorder.rejected,
        run_id=recorder.run_id,
    )
    return recorder.run_id  # never finished: the last 2 of 10 stay unwritten


def test_resume_carries_on_after_the_last_committed_batch(
    store: Store, policy: CompiledPolicy
) -> None:
    rows = records(10)
    run_id = grade_into(store, policy, rows)
    assert (store.run(run_id).status, store.run(run_id).last_line) == ("running", 9)
    source = RunInput("accounts.csv", "sha256:same", {"encoding": "utf-8"})
    with store.resume_run(run_id, policy, source, batch_size=4) as recorder:
        assert recorder.resumed_after == 9
        summary = grade_records(
            policy,
            rows,
            as_of=recorder.as_of,
            on_graded=recorder.graded,
            on_rejected=recorder.rejected,
            run_id=run_id,
        )
        recorder.finish(summary)
    info = store.run(run_id)
    assert (info.status, info.last_line, info.counts.read) == ("complete", 11, 10)
    with store.engine.connect() as conn:
        lines = conn.scalars(
            select(schema.audit_records.c.line).order_by(schema.audit_records.c.line)
        ).all()
    assert lines == list(range(2, 12))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("policy", "graded with policy 'routing' version 1 (hash "),
        ("input", "new.csv is not the input run "),
        ("options", "read its input with encoding 'utf-8', not 'latin-1'"),
        ("complete", " is complete: there is nothing to resume"),
        ("unknown", "no run 'nope' in the store"),
    ],
)
def test_resume_refuses_what_would_mix_two_runs(
    store: Store, policy: CompiledPolicy, change: str, message: str
) -> None:
    run_id = grade_into(store, policy, records(3))
    source = RunInput("accounts.csv", "sha256:same", {"encoding": "utf-8"})
    if change == "policy":
        policy = compile_policy(POLICY.replace("version 1", "version 2"))
    elif change == "input":
        source = RunInput("new.csv", "sha256:other", source.options)
    elif change == "options":
        source = RunInput(source.name, source.digest, {"encoding": "latin-1"})
    elif change == "complete":
        store.resume_run(run_id, policy, source).finish()
    elif change == "unknown":
        run_id = "nope"
    with pytest.raises(StoreError) as raised:
        store.resume_run(run_id, policy, source)
    assert message in str(raised.value)


def test_a_run_taken_over_by_a_resume_stops_writing(
    store: Store, policy: CompiledPolicy
) -> None:
    first = store.begin_run(policy, as_of="2026-12-01", batch_size=100)
    first.grade({"Employees": "5"}, id="a")
    second = store.resume_run(first.run_id, policy, IN_PROCESS)
    with pytest.raises(StoreError, match="no longer this process's to record"):
        first.grade({"Employees": "6"}, id="b")
    second.grade({"Employees": "7"}, id="c")
    second.finish()
    with store.engine.connect() as conn:
        accounts = conn.scalars(select(schema.audit_records.c.account_id)).all()
    assert sorted(accounts) == ["a", "c"]


# ---- replay -----------------------------------------------------------------------


def test_replay_verifies_a_run_and_catches_a_tampered_record(
    store: Store, policy: CompiledPolicy
) -> None:
    record_run(store, policy, {"a": {"Employees": "5000"}, "b": {"Employees": "50"}})
    with store.begin_run(policy, as_of="2026-12-01") as run:
        with pytest.raises(RecordError):
            run.grade({"Employees": "many"}, id="c")
    first, second = reversed(store.runs())
    assert (store.replay(first.id).checked, store.replay(first.id).matches) == (2, True)
    assert store.replay(second.id).matches
    with store.engine.begin() as conn:
        conn.execute(
            update(schema.audit_records)
            .where(schema.audit_records.c.account_id == "b")
            .values(tier="A")
        )
    report = store.replay(first.id)
    assert [
        (d.line, d.account_id, d.field, d.stored, d.replayed)
        for d in report.differences
    ] == [(2, "b", "tier", "A", "C")]


# ---- opening a store --------------------------------------------------------------


def test_the_schema_is_what_the_migrations_create(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, schema.metadata) == []
        assert conn.scalar(select(func.count()).select_from(schema.runs)) == 0


def test_a_new_sqlite_file_gets_its_schema_and_an_old_one_must_be_upgraded(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    with Store.open(url) as store:
        assert store.revision() == "0001"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    with pytest.raises(StoreError) as raised:
        Store.open(url)
    assert str(raised.value) == (
        f"{url} has schema revision 0000, this tierwise needs 0001: "
        f"run `tierwise db upgrade --db {url}`"
    )


def test_a_new_sqlite_store_is_created_a_postgresql_one_upgraded_first(
    store_url: str,
) -> None:
    if store_url.startswith("sqlite"):
        with Store.open(store_url) as store:
            assert store.revision() == "0001"
        return
    with pytest.raises(StoreError) as raised:
        Store.open(store_url)
    assert str(raised.value) == (
        f"{store_url} has no tierwise schema yet: "
        f"run `tierwise db upgrade --db {store_url}`"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/x", "unsupported database 'mysql' in "),
        ("://x", "'://x' is not a database URL; use sqlite:///FILE or "),
        ("postgresql://u@h:port/db", "'postgresql://u@h:port/db' is not a "),
        (
            "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "cannot open the store at postgresql+psycopg://nobody@127.0.0.1:1/none: ",
        ),
    ],
)
def test_a_store_that_cannot_be_opened_is_named(url: str, message: str) -> None:
    with pytest.raises(StoreError) as raised:
        Store.open(url)
    assert str(raised.value).startswith(message)


def test_a_path_names_a_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIERWISE_DB", "from-env.db")
    with Store.open() as store:
        assert store.url == "sqlite:///from-env.db"
    with Store.open("given.db") as store:
        assert store.url == "sqlite:///given.db"
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["from-env.db", "given.db"]
