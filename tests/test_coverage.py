"""`tierwise test --coverage`: which parts of a policy no test exercised."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from tierwise.cli.main import main
from tierwise.engine.coverage import measure
from tierwise.engine.policy import compile_policy
from tierwise.engine.testing import run_tests

POLICY = """\
policy "cov" version 1
facts
  employees int
  customer  bool default false
criterion "Size" weight 100
  employees >= 1000 => 100
  employees >= 100  => 50
  otherwise         => 0
  missing           => 10
tiers
  A from 80
  B from 40
  C below 40
override "Customers"
  when customer => exclude, reason "am"
routes, first match wins
  tier A    => assign "ae"
  otherwise => tag "rest"
test "big"
  given employees 5000
  expect tier A, assign "ae"
test "small"
  given employees 5
  expect tier C, tag "rest"
"""


def test_measure_lists_the_parts_no_test_reached() -> None:
    policy = compile_policy(POLICY, "cov.grade")
    results = [o.result for o in run_tests(policy) if o.result is not None]
    report = measure(policy.checked.policy, results)
    assert [(p.line, p.label) for p in report.missed] == [
        (7, "criterion 'Size': employees >= 100"),
        (9, "criterion 'Size': missing"),
        (12, "tier B"),
        (14, "override 'Customers'"),
    ]
    assert (len(report.exercised), len(report.parts), str(report.percent)) == (
        6,
        10,
        "60.0",
    )


def test_coverage_report_and_threshold(tmp_path: Path) -> None:
    path = tmp_path / "cov.grade"
    path.write_text(POLICY, "utf-8")
    result = CliRunner().invoke(
        main, ["test", "-q", "--coverage", "--threshold", "60", str(path)]
    )
    assert result.exit_code == 0
    assert result.stdout == textwrap.dedent(
        f"""\
        coverage {path}: 60.0% (6 of 10 parts)
          not exercised: {path}:7: criterion 'Size': employees >= 100
          not exercised: {path}:9: criterion 'Size': missing
          not exercised: {path}:12: tier B
          not exercised: {path}:14: override 'Customers'
        2 passed, 0 failed
        """
    )
    failing = CliRunner().invoke(
        main, ["test", "-q", "--coverage", "--threshold", "61", str(path)]
    )
    assert failing.exit_code == 1
    assert failing.stderr == "1 policy below 61% coverage\n"


def test_full_coverage(tmp_path: Path) -> None:
    more = """\
    test "mid"
      given employees 500
      expect tier B, tag "rest"
    test "unknown"
      given employees missing
      expect tier C
    test "customer"
      given employees 5000, customer true
      expect excluded
    """
    path = tmp_path / "cov.grade"
    path.write_text(POLICY + textwrap.dedent(more), "utf-8")
    result = CliRunner().invoke(
        main, ["test", "-q", "--coverage", "--threshold", "100", str(path)]
    )
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"coverage {path}: 100.0% (10 of 10 parts)"


def test_the_repository_policies_are_fully_covered() -> None:
    root = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(
        main, ["test", "-q", "--coverage", "--threshold", "100", str(root / "policies")]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.count("100.0%") == 4
