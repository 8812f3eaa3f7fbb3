"""`tierwise schema`: a JSON Schema that accepts what tierwise reads, and only that."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from tierwise.cli.main import main
from tierwise.engine.policy import RecordError, load_policy

ROOT = Path(__file__).resolve().parents[1]


def _schema(policy: Path) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, ["schema", str(policy)])
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema  # type: ignore[no-any-return]


def test_schema_agrees_with_tierwise_on_every_example_account() -> None:
    policy_path = ROOT / "policies" / "starter.grade"
    validator = jsonschema.Draft202012Validator(_schema(policy_path))
    policy = load_policy(policy_path)
    with (ROOT / "examples" / "accounts.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    disagreements, rejected = [], 0
    for row in rows:
        try:
            policy.grade(row, as_of="2026-12-01")
            readable = True
        except RecordError:
            readable = False
            rejected += 1
        if validator.is_valid(row) != readable:
            disagreements.append(row["Account ID"])
    assert rejected == 7  # the deliberate bad values listed in examples/README.md
    assert disagreements == []


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1,200", True),
        (" 75 ", True),
        (1200, True),
        ("n/a", True),
        ("N/A", True),
        ("", True),
        (None, True),
        ("lots", False),
        ("12.5", False),
        (True, False),
    ],
)
def test_an_int_fact(value: object, valid: bool) -> None:
    schema = _schema(ROOT / "policies" / "starter.grade")
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"Employees": value}) == valid


def test_enumerations_and_yes_no_accept_any_case() -> None:
    validator = jsonschema.Draft202012Validator(
        _schema(ROOT / "policies" / "starter.grade")
    )
    assert validator.is_valid({"Segment": "mid-market", "Is Customer": "YES"})
    assert not validator.is_valid({"Segment": "Huge"})
    assert not validator.is_valid({"Is Customer": "maybe"})
