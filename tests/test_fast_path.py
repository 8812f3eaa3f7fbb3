"""The per-account fast path means exactly what the careful path means.

`CompiledPolicy.grade` reads a mapping in the generated function (exact field
names, typed values taken as they are, text remembered) and builds the
explanation only when asked. Each shortcut is pinned here against the slow
way of doing the same thing: binding fields loosely, coercing one value at a
time, validating the result with pydantic.
"""

from __future__ import annotations

import copy
import pickle
import textwrap
from decimal import Decimal
from typing import Any

import pytest

from tierwise.engine.policy import CompiledPolicy, RecordError, compile_policy
from tierwise.engine.result import Contribution, GradeResult

POLICY = textwrap.dedent(
    """\
    policy "fast" version 3
    facts
      employees  int    from "Employees"  no value "n/a"
      revenue    money  from "Revenue"
      industry   text   from "Industry"
      tools      list of text  split on ";"
      customer   bool   default false
    criterion "Size" weight 40
      employees >= 1000 => 100
      employees >= 100  => 50
      otherwise         => 10
      missing           => 0
    criterion "Revenue per head" weight 35
      revenue / employees >= 250000 => 100
      revenue / employees >= 100000 => 50
      otherwise                     => 15
    criterion "Industry" weight 25
      industry in "Software", "Fintech" => 100
      tools contains "Salesforce"       => 60
      otherwise                         => 0
    tiers
      A from 75
      B from 40
      C below 40
    override "Customer"
      when customer => exclude, reason "account management"
    """
)
AS_OF = "2026-12-01"


@pytest.fixture(scope="module")
def policy() -> CompiledPolicy:
    return compile_policy(POLICY, "fast.grade")


def careful(policy: CompiledPolicy, facts: dict[str, Any]) -> GradeResult:
    """The same grade the slow way: loose binding, one coercer at a time."""
    raw, names = policy._from_mapping(facts)  # noqa: SLF001 - the reference path
    values = policy.coerce(raw, names)
    return policy.grade_values(values, policy.as_of(AS_OF))


ACCOUNTS = [
    {"Employees": "1,200", "Revenue": "$480,000,000", "Industry": " software "},
    {
        "employees": 450,
        "revenue": 150_000_000,
        "industry": "MEDIA",
        "tools": ["SALESFORCE"],
    },
    {
        "Employees": "n/a",
        "Revenue": "12000000",
        "Industry": "Fintech",
        "customer": "no",
    },
    {"Employees": 0, "Revenue": 1, "Industry": None, "tools": "Salesforce; dbt"},
    {" employees ": "80", "REVENUE": "900000", "industry": "Retail"},
    {"Employees": 3, "Revenue": 1_000_000, "customer": True},
    {},
]


@pytest.mark.parametrize("facts", ACCOUNTS, ids=range(len(ACCOUNTS)))
def test_fast_and_careful_paths_agree(
    policy: CompiledPolicy, facts: dict[str, Any]
) -> None:
    fast = policy.grade(facts, as_of=AS_OF)
    assert fast.model_dump() == careful(policy, facts).model_dump()


def test_a_source_field_wins_over_a_field_named_like_the_fact(
    policy: CompiledPolicy,
) -> None:
    result = policy.grade({"employees": 5, "Employees": 5000}, as_of=AS_OF)
    assert result.contributions[0].points == 100


def test_every_bad_field_is_named_whichever_path_found_it(
    policy: CompiledPolicy,
) -> None:
    facts = {"Employees": True, "Revenue": "lots", "Industry": "Software"}
    with pytest.raises(RecordError) as raised:
        policy.grade(facts, as_of=AS_OF)
    assert [(p.field, p.value) for p in raised.value.problems] == [
        ("Employees", "True"),
        ("Revenue", "lots"),
    ]
    assert "yes/no value" in raised.value.problems[0].reason


def test_a_bad_text_is_rejected_every_time_not_remembered(
    policy: CompiledPolicy,
) -> None:
    for _ in range(2):
        with pytest.raises(RecordError):
            policy.grade({"Employees": "approx 500"}, as_of=AS_OF)
    assert policy.grade({"Employees": "500"}, as_of=AS_OF).contributions[0].points == 50


def test_a_remembered_text_reads_as_it_did_the_first_time(
    policy: CompiledPolicy,
) -> None:
    first = policy.grade({"Industry": " FINTECH "}, as_of=AS_OF)
    again = policy.grade({"Industry": " FINTECH "}, as_of=AS_OF)
    assert first.contributions[2].points == again.contributions[2].points == 100


def test_a_decimal_nan_is_not_a_number() -> None:
    number = compile_policy(POLICY.replace("money ", "number"), "n.grade")
    with pytest.raises(RecordError, match="not a finite number"):
        number.grade({"Revenue": Decimal("NaN")}, as_of=AS_OF)


def test_dividing_whole_numbers_is_exact_decimal_division() -> None:
    ints = compile_policy(
        POLICY.replace("revenue    money ", "revenue    int   "), "i.grade"
    )
    # 250,000 per head exactly, then one short of it: 99,999,999 / 400.
    exact = ints.grade({"Employees": 400, "Revenue": 100_000_000}, as_of=AS_OF)
    short = ints.grade({"Employees": 400, "Revenue": 99_999_999}, as_of=AS_OF)
    assert exact.contributions[1].points == 100
    assert short.contributions[1].points == 50


def test_dividing_by_zero_is_unknown(policy: CompiledPolicy) -> None:
    result = policy.grade({"Employees": 0, "Revenue": 5}, as_of=AS_OF)
    assert result.contributions[1].branch == "missing"
    assert result.contributions[1].missing == ()


def test_the_explanation_waits_until_it_is_read(policy: CompiledPolicy) -> None:
    result = policy.grade(ACCOUNTS[0], as_of=AS_OF)
    assert "contributions" not in vars(result)
    assert result.tier == "A" and str(result.score) == "100"
    assert sum(c.contribution for c in result.contributions) == result.score
    assert "contributions" in vars(result)
    assert result.reason == "Size +40, Revenue per head +35, Industry +25"


def test_a_result_dumps_copies_and_pickles_with_its_explanation(
    policy: CompiledPolicy,
) -> None:
    result = policy.grade(ACCOUNTS[2], as_of=AS_OF)
    dumped = result.model_dump()
    assert list(dumped) == [
        "id", "tier", "score", "excluded", "override", "actions", "policy",
        "as_of", "contributions", "missing", "reason",
    ]  # fmt: skip
    assert dumped["missing"] == ("employees", "tools")
    assert result.model_fields_set == set(GradeResult.model_fields)
    fresh = policy.grade(ACCOUNTS[2], as_of=AS_OF)
    assert copy.deepcopy(fresh) == result
    restored = pickle.loads(pickle.dumps(policy.grade(ACCOUNTS[2], as_of=AS_OF)))
    assert restored == result and restored.reason == result.reason
    assert result != policy.grade(ACCOUNTS[0], as_of=AS_OF)


def test_a_result_reads_back_from_its_dump_with_its_explanation(
    policy: CompiledPolicy,
) -> None:
    result = policy.grade(ACCOUNTS[2], as_of=AS_OF)
    for restored in (
        GradeResult.model_validate(result.model_dump()),
        GradeResult.model_validate_json(result.model_dump_json()),
    ):
        assert restored == result
        assert restored.missing == ("employees", "tools")
        assert restored.contributions == result.contributions
    with pytest.raises(ValueError, match="contributions"):
        GradeResult.model_validate({**result.model_dump(), "contributions": [1]})


def test_the_fast_result_is_what_pydantic_would_build(policy: CompiledPolicy) -> None:
    result = policy.grade(ACCOUNTS[1], as_of=AS_OF)
    fields = {name: getattr(result, name) for name in GradeResult.model_fields}
    validated = GradeResult.model_validate(fields)
    assert validated.model_dump(exclude={"contributions", "missing", "reason"}) == (
        result.model_dump(exclude={"contributions", "missing", "reason"})
    )
    assert all(isinstance(c, Contribution) for c in result.contributions)
    with pytest.raises(TypeError, match="not made by a policy"):
        _ = validated.contributions


def test_scores_have_no_trailing_zeros(policy: CompiledPolicy) -> None:
    scores = {str(policy.grade(facts, as_of=AS_OF).score) for facts in ACCOUNTS[:5]}
    assert scores == {"100", "19", "25", "70", "9.25"}


def test_json_output_keeps_every_field_in_its_documented_order(
    policy: CompiledPolicy,
) -> None:
    from tierwise.engine.run import RECORD_FIELDS, result_record

    result = policy.grade(ACCOUNTS[0], as_of=AS_OF)
    assert set(RECORD_FIELDS) == set(result.model_dump())
    assert list(result_record(result)) == list(RECORD_FIELDS)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Industry", b"Software"),
        ("Industry", memoryview(b"Software")),
        ("tools", [b"Software", "dbt"]),
        ("tools", [memoryview(b"Software")]),
    ],
    ids=["bytes", "memoryview", "bytes-in-list", "memoryview-in-list"],
)
def test_bytes_are_refused_not_read_as_their_repr(
    policy: CompiledPolicy, field: str, value: Any
) -> None:
    with pytest.raises(RecordError, match=r"b'Software' is bytes, not text"):
        policy.grade({**ACCOUNTS[0], field: value}, as_of=AS_OF)


def test_grade_values_takes_the_as_of_as_grade_does(policy: CompiledPolicy) -> None:
    values = policy.coerce(
        [ACCOUNTS[1].get(f.name) for f in policy.facts], [f.name for f in policy.facts]
    )
    assert policy.grade_values(values, AS_OF) == policy.grade(ACCOUNTS[1], as_of=AS_OF)
