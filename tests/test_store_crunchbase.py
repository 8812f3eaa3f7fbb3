"""The Crunchbase 2013 export graded twice into a store, with a policy change
in between, on SQLite (the default `tierwise.db`) and on PostgreSQL.

The second policy version gives a round from one to two years ago 60 points
instead of 40 (+5 to the score). The store must record two runs, fire
actions for exactly the accounts whose tier changed (as the two graded
outputs say, independently of the store), show the change and its cause in
`tierwise history`, and (on SQLite, to keep the suite quick) replay the
second run to the same results.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select

from tierwise.cli.main import main
from tierwise.engine.store import schema

POLICIES = Path(__file__).resolve().parents[1] / "policies"
DATA = "crunchbase-2013/crunchbase-companies.csv"
READ, GRADED, EXCLUDED, REJECTED = 17727, 15489, 2225, 13


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def second_version(tmp_path: Path) -> Path:
    source = (POLICIES / "crunchbase.grade").read_text(encoding="utf-8")
    changed = source.replace('startup-icp" version 1', 'startup-icp" version 2')
    changed = changed.replace("within 2 years  => 40", "within 2 years  => 60")
    assert changed.count("=> 60") == source.count("=> 60") + 1
    path = tmp_path / "crunchbase-v2.grade"
    path.write_text(changed, encoding="utf-8")
    return path


def read_output(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as rows:
        return {row["id"]: row for row in csv.DictReader(rows)}


def test_two_runs_with_a_policy_change_fire_only_for_changed_tiers(
    shared_data_file: Callable[[str], Path],
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = shared_data_file(DATA)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIERWISE_DB", raising=False)
    if store_url.startswith("sqlite"):
        store_url, where = "sqlite:///tierwise.db", []  # the default store
    else:
        where = ["--db", store_url]
        assert run("db", "upgrade", *where).exit_code == 0
    runs, outputs = [], []
    for version, policy in enumerate(
        [POLICIES / "crunchbase.grade", second_version(tmp_path)], start=1
    ):
        outputs.append(tmp_path / f"v{version}.csv")
        result = run(
            "grade", str(policy), "--input", str(data), "--encoding", "mac_roman",
            "--as-of", "2013-12-01", "--db", store_url, "--output", str(outputs[-1]),
        )  # fmt: skip
        assert result.exit_code == 1, result.stderr  # 13 records are rejected
        runs.append(result.stderr.split(", run ")[1].split("\n")[0])
    first, second = (read_output(path) for path in outputs)

    changed = [key for key in first if first[key]["tier"] != second[key]["tier"]]
    fired_for = {key: second[key]["actions"].split("; ") for key in changed}
    fired = sum(len(actions) for actions in fired_for.values() if actions != [""])
    assert (len(changed), fired) == (1017, 1017)
    assert run("runs", *where).stdout.splitlines()[3] == (
        f"  tiers: A 1205, B 4669, C 6751, D 2864; 0 new, 1017 changed; "
        f"{fired} actions fired"
    )

    engine = create_engine(store_url)
    with engine.connect() as conn:
        audit = conn.scalar(select(func.count()).select_from(schema.audit_records))
        rejected = conn.scalar(
            select(func.count()).select_from(schema.rejected_records)
        )
        outbox = conn.execute(
            select(schema.outbox.c.account_id, schema.outbox.c.kind)
            .where(schema.outbox.c.run_id == runs[1])
            .order_by(schema.outbox.c.id)
        ).all()
        statuses = conn.execute(select(schema.runs.c.status)).scalars().all()
    engine.dispose()
    assert (audit, rejected, statuses) == (
        2 * (GRADED + EXCLUDED),
        2 * REJECTED,
        ["complete", "complete"],
    )
    assert sorted({account for account, _ in outbox}) == sorted(
        key for key, actions in fired_for.items() if actions != [""]
    )
    assert len(outbox) == fired

    account = changed[0]
    before, after = first[account], second[account]
    routed = ", ".join(
        '{} "{}"'.format(*action.split(" ", 1))
        for action in after["actions"].split("; ")
    )
    history = run("history", account, *where)
    assert history.stdout.splitlines()[1:] == [
        f"  new → {before['tier']} on 2013-12-01 under v1 (run {runs[0]}): "
        f"score {before['score']}; routed: "
        + ", ".join(
            '{} "{}"'.format(*action.split(" ", 1))
            for action in before["actions"].split("; ")
        ),
        f"  {before['tier']} → {after['tier']} on 2013-12-01 under v2 (run {runs[1]}): "
        f"Funding recency +5; policy v1 → v2; score {before['score']} → "
        f"{after['score']}; routed: {routed}",
    ]

    if where:  # replay on PostgreSQL is tested in test_store_cli and _crash
        return
    replay = run("replay", runs[1])
    assert (replay.exit_code, replay.stderr) == (
        0,
        f"replayed run {runs[1]} (crunchbase-2013-startup-icp v2, as of "
        f"2013-12-01): {READ} records, all match\n",
    )
