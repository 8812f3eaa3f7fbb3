"""Lint findings: one policy with each problem, in every output format."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tierwise.cli.main import main
from tierwise.dsl.check import check_source
from tierwise.dsl.lint import lint

HEAD = """\
policy "p" version 1
facts
  employees int
  revenue   money
  industry  text
  visits    int   default 0
  unused    text
set targets = "Software"
set spare = "x"
constant limit = 10
"""
TIERS = "tiers\n  A from 50\n  B below 50\n"


def findings(body: str) -> list[tuple[str, int, str]]:
    source = HEAD + textwrap.dedent(body)
    checked = check_source(source, "p.grade")
    assert checked.ok, checked.diagnostics
    return [
        (d.code, d.span.line, d.message)
        for d in lint(checked, source, "p.grade")
        if d.code != "TW203"  # the shared head leaves declarations unused
    ]


CASES = [
    pytest.param(
        """\
        criterion "Size" weight 100
          employees between 50 and 199 => 40
          employees between 201 and 999 => 70
        """,
        [("TW201", 13, "in 'Size', no band covers 200 of 'employees'")],
        id="gap-between-bands",
    ),
    pytest.param(
        """\
        criterion "Size" weight 100
          revenue between 0 and 100 => 40
          revenue between 100.5 and 200 => 70
        """,
        [("TW201", 13, "in 'Size', no band covers above 100 below 100.5 of 'revenue'")],
        id="gap-in-decimals",
    ),
    pytest.param(
        """\
        criterion "Size" weight 100
          employees between 50 and 200 => 40
          employees between 200 and 999 => 70
        """,
        [("TW201", 13, "in 'Size', this band of 'employees' overlaps line 12")],
        id="overlapping-bands",
    ),
    pytest.param(
        """\
        criterion "Size" weight 100
          employees >= 1000 => 100
          employees >= 50 => 40
        """,
        [],
        id="cascading-thresholds-are-fine",
    ),
    pytest.param(
        """\
        criterion "Size" weight 100
          employees > 10 and employees < 5 => 100
          employees >= 0 or employees < 0 => 50
          1 = 1 => 10
        """,
        [
            (
                "TW202",
                12,
                "this condition is always false: no value of 'employees' satisfies it",
            ),
            ("TW202", 13, "this condition is always true when 'employees' is known"),
            (
                "TW202",
                14,
                "this condition is always true or always false: it reads no fact",
            ),
        ],
        id="constant-conditions",
    ),
    pytest.param(
        """\
        criterion "Size" weight 100
          visits > 3 => 100
          missing => 5
        """,
        [("TW207", 13, "the 'missing' branch of 'Size' can never fire")],
        id="missing-branch-with-defaults",
    ),
    pytest.param(
        """\
        criterion "Size" weight 100
          employees > 3 => 100
        override "Big"
          when employees > 100 => tier A, reason "big"
        override "Bigger"
          when employees > 1000 => tier B, reason "bigger"
        """,
        [
            (
                "TW206",
                16,
                "override 'Bigger' never fires: an earlier override always fires first",
            )
        ],
        id="shadowed-override",
    ),
    pytest.param(
        """\
        criterion "Size" weight 100
          employees > 3 => 100
        routes
          tier A => assign "ae", assign "sdr"
        """,
        [
            ("TW204", 13, "no route acts on tier 'B'"),
            ("TW205", 14, "this route assigns the account twice"),
        ],
        id="tier-without-action-and-double-assign",
    ),
    pytest.param(
        """\
        criterion "Size" weight 100
          employees > 3 => 100
        routes, all matching fire
          tier A => assign "ae"
          industry in targets => assign "specialist"
          otherwise => tag "rest"
        """,
        [
            (
                "TW205",
                15,
                "this route and the one on line 14 can both assign one account",
            )
        ],
        id="all-matching-assigns",
    ),
]


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_lint_finds_each_problem(
    body: str, expected: list[tuple[str, int, str]]
) -> None:
    assert findings(body + TIERS) == expected


def test_unused_declarations() -> None:
    source = HEAD + 'criterion "c" weight 100\n  employees > 1 => 1\n' + TIERS
    checked = check_source(source, "p.grade")
    found = [(d.code, d.message) for d in lint(checked, source, "p.grade")]
    assert found == [
        ("TW203", "fact 'revenue' is declared but never used"),
        ("TW203", "fact 'industry' is declared but never used"),
        ("TW203", "fact 'visits' is declared but never used"),
        ("TW203", "fact 'unused' is declared but never used"),
        ("TW203", "set 'targets' is declared but never used"),
        ("TW203", "set 'spare' is declared but never used"),
        ("TW203", "constant 'limit' is declared but never used"),
    ]


def test_a_comment_silences_one_line_with_a_reason() -> None:
    body = """\
    criterion "Size" weight 100
      employees between 50 and 199 => 40
      # ignore TW202: kept to show the team what an impossible band looks like
      employees > 10 and employees < 5 => 10
      employees between 201 and 999 => 70  # ignore TW201: 200 is handled by sales ops
    """
    assert findings(body + TIERS) == []


def test_a_silencing_comment_without_reason_is_itself_a_finding() -> None:
    body = 'criterion "Size" weight 100\n  1 = 1 => 10  # ignore TW202\n'
    assert findings(body + TIERS) == [
        (
            "TW202",
            12,
            "this condition is always true or always false: it reads no fact",
        ),
        ("TW209", 12, "an ignore comment needs a reason"),
    ]


# ---- the command, in every format --------------------------------------------------

LINTY = (
    HEAD.replace("  unused    text\n", "")
    + textwrap.dedent(
        """\
    criterion "Size" weight 100
      employees > 3 and industry in targets and revenue > limit and visits > 1 => 100
      employees in spare => 5
    """
    )
    + TIERS
)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def linty(tmp_path: Path) -> Path:
    path = tmp_path / "linty.grade"
    path.write_text(LINTY.replace("employees in spare", "1 = 1"), "utf-8")
    return path


def test_text_format(linty: Path) -> None:
    result = run("check", str(linty))
    assert result.exit_code == 0
    assert result.stdout == textwrap.dedent(
        f"""\
        {linty}:8:5: warning[TW203]: set 'spare' is declared but never used
             8 | set spare = "x"
               |     ^^^^^
        {linty}:12:3: warning[TW202]: this condition is always true or always false: it reads no fact
            12 |   1 = 1 => 5
               |   ^^^^^
        """  # noqa: E501
    )
    assert result.stderr == "checked 1 policy: 0 errors, 2 warnings\n"


def test_strict_turns_warnings_into_errors(linty: Path) -> None:
    result = run("check", "--strict", "--max-errors", "1", str(linty))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].endswith(
        "error[TW203]: set 'spare' is declared but never used"
    )
    assert result.stdout.splitlines()[-1] == "... and 1 more"
    assert result.stderr == "checked 1 policy: 2 errors, 0 warnings\n"


def test_json_format(linty: Path) -> None:
    result = run("check", "--format", "json", str(linty))
    found = json.loads(result.stdout)
    assert [(f["code"], f["line"], f["column"], f["severity"]) for f in found] == [
        ("TW203", 8, 5, "warning"),
        ("TW202", 12, 3, "warning"),
    ]


def test_github_format(linty: Path) -> None:
    result = run("check", "--format", "github", str(linty))
    assert result.stdout.splitlines() == [
        f"::warning file={linty},line=8,col=5,endLine=8,endColumn=10,title=TW203::"
        "set 'spare' is declared but never used",
        f"::warning file={linty},line=12,col=3,endLine=12,endColumn=8,title=TW202::"
        "this condition is always true or always false: it reads no fact",
    ]


def test_repository_policies_lint_clean_under_strict() -> None:
    root = Path(__file__).resolve().parents[1]
    result = run("check", "--strict", str(root / "policies"))
    assert (result.exit_code, result.stdout) == (0, "")


# ---- version against a git revision --------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_a_changed_policy_must_change_its_version(tmp_path: Path) -> None:
    source = HEAD.replace("  unused    text\n", "").replace('set spare = "x"\n', "")
    source += (
        textwrap.dedent(
            """\
        criterion "Size" weight 100
          employees > 3 and industry in targets and revenue > limit => 100
          visits > 1 => 50
        """
        )
        + TIERS
    )
    policy = tmp_path / "p.grade"
    policy.write_text(source, "utf-8")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com",
         "commit", "-qm", "v1")  # fmt: skip
    assert run("check", "--strict", "--base", "main", str(policy)).exit_code == 0

    changed = source.replace("A from 50\n  B below 50", "A from 40\n  B below 40")
    policy.write_text(changed, "utf-8")
    result = run("check", "--strict", "--base", "main", str(policy))
    assert result.exit_code == 1
    assert (
        "error[TW208]: the policy changed but its version is still 1" in result.stdout
    )

    policy.write_text(changed.replace("version 1", "version 2"), "utf-8")
    assert run("check", "--strict", "--base", "main", str(policy)).exit_code == 0

    formatted_only = source.replace("  employees > 3", "  employees  >  3")
    policy.write_text(formatted_only, "utf-8")
    assert run("check", "--strict", "--base", "main", str(policy)).exit_code == 0
