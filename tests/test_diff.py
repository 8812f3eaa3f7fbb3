"""`tierwise diff`: the change in words and its effect on real accounts."""

from __future__ import annotations

import csv
import json
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result

from tierwise.cli.main import main
from tierwise.dsl.compare import describe_changes
from tierwise.dsl.parser import parse
from tierwise.engine.policy import RecordError, compile_policy

ROOT = Path(__file__).resolve().parents[1]
FORTUNE_POLICY = ROOT / "policies" / "fortune1000.grade"
FORTUNE_DATA = "fortune1000-2021/Fortune_1000.csv"
AS_OF = "2021-06-01"

BASE = """\
policy "p" version 1
facts
  employees int
  sector    text
set core = "Technology"
criterion "Size" weight 60
  employees >= 1000 => 100
  otherwise         => 20
criterion "Sector" weight 40
  sector in core => 100
tiers
  A from 80
  B below 80
routes
  tier A => assign "ae"
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_changes_are_described_in_words() -> None:
    changed = (
        BASE.replace("version 1", "version 2")
        .replace('set core = "Technology"', 'set core = "Technology", "Media"')
        .replace("weight 60", "weight 50")
        .replace(
            "  otherwise         => 20", "  employees >= 100 => 50\n  otherwise => 10"
        )
        .replace("A from 80", "A from 75")
        .replace("B below 80", "B below 75")
        .replace('tier A => assign "ae"', 'tier A => assign "ae", notify "#a"')
    )
    changed += 'criterion "Intent" weight 10\n  employees > 5 => 100\n'
    assert describe_changes(parse(BASE), parse(changed)) == [
        "version 1 → 2",
        'set \'core\' changed: "Technology" → "Technology", "Media"',
        "criterion 'Size' weight 60 → 50",
        "criterion 'Size': branch 'employees >= 100' added with 50 points",
        "criterion 'Size': 'otherwise' 20 → 10 points",
        "criterion 'Intent' added with weight 10",
        "tier A: from 80 → from 75",
        "tier B: below 80 → below 75",
        'route added: tier A => assign "ae", notify "#a"',
        'route removed: tier A => assign "ae"',
    ]


def test_layout_and_comments_are_not_changes() -> None:
    relaid = BASE.replace(
        "  employees >= 1000 => 100", "  # big\n  employees>=1000=>100"
    )
    assert describe_changes(parse(BASE), parse(relaid)) == []


def _new_version(tmp_path: Path) -> Path:
    """The Fortune 1000 policy with its A threshold lowered and its version raised."""
    source = FORTUNE_POLICY.read_text("utf-8")
    assert "  A from 75\n" in source and "version 1\n" in source
    path = tmp_path / "fortune1000.grade"
    path.write_text(
        source.replace("  A from 75\n", "  A from 70\n").replace(
            "version 1\n", "version 2\n"
        ),
        "utf-8",
    )
    return path


def _independent_matrix(old: Path, new: Path, data: Path) -> Counter[tuple[str, str]]:
    """The migration matrix by grading each row through the public API."""
    policies = [compile_policy(p.read_text("utf-8"), str(p)) for p in (old, new)]
    matrix: Counter[tuple[str, str]] = Counter()
    with data.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            labels = []
            for policy in policies:
                try:
                    result = policy.grade(row, as_of=AS_OF)
                except RecordError:
                    labels.append("rejected")
                    continue
                labels.append("excluded" if result.excluded else str(result.tier))
            matrix[(labels[0], labels[1])] += 1
    return matrix


def test_fortune_1000_migration_matrix(
    tmp_path: Path, shared_data_file: Callable[[str], Path]
) -> None:
    data = shared_data_file(FORTUNE_DATA)
    new = _new_version(tmp_path)
    result = run(
        "diff", str(FORTUNE_POLICY), str(new), "--input", str(data),
        "--as-of", AS_OF, "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    expected = _independent_matrix(FORTUNE_POLICY, new, data)
    assert {(m["old"], m["new"]): m["count"] for m in report["matrix"]} == dict(
        expected
    )
    assert report["read"] == sum(expected.values()) == 1000
    assert report["moved"] == sum(n for (o, n_), n in expected.items() if o != n_)
    assert report["moved"] > 0
    assert report["changes"] == ["version 1 → 2", "tier A: from 75 → from 70"]
    assert all(m["old"] == "B" and m["new"] == "A" for m in report["movers"])


def test_fortune_1000_markdown_report(
    tmp_path: Path, shared_data_file: Callable[[str], Path]
) -> None:
    data = shared_data_file(FORTUNE_DATA)
    new = _new_version(tmp_path)
    result = run(
        "diff", str(FORTUNE_POLICY), str(new), "--input", str(data),
        "--as-of", AS_OF, "--format", "markdown", "--top", "2",
    )  # fmt: skip
    moved = sum(
        n
        for (o, n_), n in _independent_matrix(FORTUNE_POLICY, new, data).items()
        if o != n_
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("### tierwise diff: ")
    assert f"**{moved} of 1000 accounts change tier**" in lines
    assert "| old \\ new | A | B | C | D | excluded | rejected | total |" in lines
    assert "- tier A: from 75 → from 70" in lines
    movers = [line for line in lines if line.startswith("- ") and " → A (" in line]
    assert len(movers) == 2
    assert all(
        line.endswith(": same score, the tier thresholds moved") for line in movers
    )


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_old_version_from_a_git_revision(
    tmp_path: Path, shared_data_file: Callable[[str], Path]
) -> None:
    data = shared_data_file(FORTUNE_DATA)
    repo = tmp_path / "repo"
    (repo / "policies").mkdir(parents=True)
    policy = repo / "policies" / "fortune1000.grade"
    policy.write_text(FORTUNE_POLICY.read_text("utf-8"), "utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "v1")
    policy.write_text(_new_version(tmp_path).read_text("utf-8"), "utf-8")

    from_git = run(
        "diff", f"main:{policy}", str(policy), "--input", str(data), "--as-of", AS_OF,
        "--format", "json",
    )  # fmt: skip
    from_files = run(
        "diff", str(FORTUNE_POLICY), str(policy), "--input", str(data),
        "--as-of", AS_OF, "--format", "json",
    )  # fmt: skip
    assert from_git.exit_code == 0, from_git.stderr
    assert json.loads(from_git.stdout) == json.loads(from_files.stdout)


def test_an_unknown_revision_is_a_clear_error(tmp_path: Path) -> None:
    result = run("diff", "nosuchrev:policies/x.grade", "x.grade", "--input", "x.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: cannot read nosuchrev:policies/x.grade from git"
    )


def test_new_actions_and_rejects_are_counted(tmp_path: Path) -> None:
    old, new = tmp_path / "old.grade", tmp_path / "new.grade"
    old.write_text(BASE, "utf-8")
    new.write_text(BASE.replace('assign "ae"', 'assign "ae", notify "#a"'), "utf-8")
    accounts = tmp_path / "a.csv"
    accounts.write_text(
        "id,employees,sector\nx,5000,Technology\ny,lots,Media\n", "utf-8"
    )
    result = run(
        "diff", str(old), str(new), "--input", str(accounts), "--format", "json"
    )
    report = json.loads(result.stdout)
    assert report["new_actions"] == [{"kind": "notify", "target": "#a", "count": 1}]
    assert {(m["old"], m["new"]): m["count"] for m in report["matrix"]} == {
        ("A", "A"): 1,
        ("rejected", "rejected"): 1,
    }
