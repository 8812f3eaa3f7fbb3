"""Grade three real, messy public datasets end to end through the CLI.

Each example policy in `policies/` grades the whole of its dataset (from the
shared data folder next to the repository; see `conftest.shared_data`) with
`tierwise grade`, run in-process. The tests check the product's promise that
nothing is lost: the records read match an independent count made here with
the csv module, every record is graded, excluded or rejected with a reason,
and the counts printed on stderr agree with the files written. Hand-computed
accounts then pin the exact arithmetic of each policy on real rows.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierwise.cli.main import main

POLICIES = Path(__file__).resolve().parents[1] / "policies"

SUMMARY = re.compile(
    r"^read (?P<read>\d+) records? from .*: (?P<graded>\d+) graded, "
    r"(?P<excluded>\d+) excluded, (?P<rejected>\d+) rejected$",
    re.MULTILINE,
)
TIERS = re.compile(r"^tiers: (?P<tiers>.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Dataset:
    name: str
    policy: str
    data: str  # inside the shared data folder
    as_of: str
    encoding: str = "utf-8"
    # (id, field, value) of every record the data itself makes unreadable
    rejects: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Run:
    """One full grading run: the CLI's result and what it wrote."""

    dataset: Dataset
    input: Path
    exit_code: int
    stderr: str
    output: list[dict[str, str]]
    rejects: list[dict[str, str]]
    counts: dict[str, int] = field(default_factory=dict)
    tiers: dict[str, int] = field(default_factory=dict)


MAVEN = Dataset(
    name="maven-crm",
    policy="maven-crm.grade",
    data="maven-crm/accounts.csv",
    as_of="2018-01-01",
)
FORTUNE = Dataset(
    name="fortune1000",
    policy="fortune1000.grade",
    data="fortune1000-2021/Fortune_1000.csv",
    as_of="2021-06-01",
)
CRUNCHBASE = Dataset(
    name="crunchbase",
    policy="crunchbase.grade",
    data="crunchbase-2013/crunchbase-companies.csv",
    as_of="2013-12-01",
    encoding="mac_roman",
    # Spreadsheet debris in funding_total_usd: Excel dates and "####" overflow.
    rejects=(
        ("/company/involution-studios", "funding_total_usd", "5/18/27"),
        ("/company/invoy-technologies", "funding_total_usd", "8/21/58"),
        ("/company/ipowerup", "funding_total_usd", "12/9/37"),
        ("/company/johns-hopkins-medicine", "funding_total_usd", "#" * 255),
        ("/company/kaptur", "funding_total_usd", "10/23/75"),
        ("/company/kips-bay-medical", "funding_total_usd", "9/28/42"),
        ("/company/lambda-opticalsystems", "funding_total_usd", "10/23/75"),
        ("/company/marketcetera", "funding_total_usd", "#" * 255),
        ("/company/marrone-bio-innovations", "funding_total_usd", "#" * 255),
        ("/company/mavatar", "funding_total_usd", "11/26/37"),
        ("/company/maven-biotechnologies", "funding_total_usd", "4/17/66"),
        ("/company/onebuckresume-2", "funding_total_usd", "6/5/53"),
        ("/company/clean-green-guy-inc", "funding_total_usd", "1/24/33"),
    ),
)
DATASETS = [pytest.param(d, id=d.name) for d in (MAVEN, FORTUNE, CRUNCHBASE)]


# ---- running the CLI once per dataset -----------------------------------------


@pytest.fixture(scope="module")
def graded(
    shared_data_file: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Dataset], Run]:
    """Grades a dataset in full with the CLI, once per module, and reads back."""
    runs: dict[str, Run] = {}

    def run(dataset: Dataset) -> Run:
        if dataset.name not in runs:
            path = shared_data_file(dataset.data)
            runs[dataset.name] = _grade(dataset, path, tmp_path_factory)
        return runs[dataset.name]

    return run


def _grade(dataset: Dataset, path: Path, factory: pytest.TempPathFactory) -> Run:
    tmp_path = factory.mktemp(dataset.name)
    output, rejects = tmp_path / "graded.csv", tmp_path / "rejects.csv"
    args = [
        "grade",
        str(POLICIES / dataset.policy),
        "--input",
        str(path),
        "--as-of",
        dataset.as_of,
        "--output",
        str(output),
        "--rejects",
        str(rejects),
    ]
    if dataset.encoding != "utf-8":
        args += ["--encoding", dataset.encoding]
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.stderr
    )
    summary = SUMMARY.search(result.stderr)
    tiers = TIERS.search(result.stderr)
    assert summary is not None and tiers is not None, result.stderr
    return Run(
        dataset=dataset,
        input=path,
        exit_code=result.exit_code,
        stderr=result.stderr,
        output=_read_csv(output),
        rejects=_read_csv(rejects),
        counts={key: int(value) for key, value in summary.groupdict().items()},
        tiers=_tier_counts(tiers["tiers"]),
    )


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _tier_counts(text: str) -> dict[str, int]:
    """'A 15, B 24' as {'A': 15, 'B': 24}."""
    counts = {}
    for part in text.split(", "):
        name, _, count = part.rpartition(" ")
        counts[name] = int(count)
    return counts


def _input_records(dataset: Dataset, path: Path) -> Iterator[tuple[int, str]]:
    """(line the record starts on, its id) for each record, read with csv alone.

    `newline=""` lets the csv module see CRLF, LF and bare CR line endings as
    they are; a blank line is not a record. The id is the first column.
    """
    with path.open(encoding=dataset.encoding, newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # the header
        start = reader.line_num + 1
        for row in reader:
            if row:
                yield start, row[0].strip()
            start = reader.line_num + 1


# ---- the whole file reconciles --------------------------------------------------


@pytest.mark.parametrize("dataset", DATASETS)
def test_read_count_matches_an_independent_count(
    dataset: Dataset, graded: Callable[[Dataset], Run]
) -> None:
    run = graded(dataset)
    records = list(_input_records(dataset, run.input))
    assert run.counts["read"] == len(records)


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_record_is_graded_excluded_or_rejected(
    dataset: Dataset, graded: Callable[[Dataset], Run]
) -> None:
    run = graded(dataset)
    counts = run.counts
    assert counts["graded"] + counts["excluded"] + counts["rejected"] == counts["read"]
    assert run.exit_code == (1 if counts["rejected"] else 0), run.stderr
    # One output row per graded or excluded record, one id for each input id.
    assert len(run.output) == counts["graded"] + counts["excluded"]
    assert sum(1 for row in run.output if not row["tier"]) == counts["excluded"]
    rejected_ids = {row["id"] for row in run.rejects}
    output_ids = [row["id"] for row in run.output]
    input_ids = [ident for _, ident in _input_records(dataset, run.input)]
    assert len(set(output_ids)) == len(output_ids)
    assert rejected_ids.isdisjoint(output_ids)
    assert sorted([*output_ids, *rejected_ids]) == sorted(input_ids)


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_reject_says_where_and_why(
    dataset: Dataset, graded: Callable[[Dataset], Run]
) -> None:
    run = graded(dataset)
    for row in run.rejects:
        assert row["line"].strip() and row["field"].strip() and row["reason"].strip()
    # A record with several bad fields has several rows, all on one line.
    assert len({row["line"] for row in run.rejects}) == run.counts["rejected"]
    # Each reject's line is where that record starts in the file.
    starts = dict(_input_records(dataset, run.input))
    for row in run.rejects:
        assert starts[int(row["line"])] == row["id"]
    found = {(row["id"], row["field"], row["value"]) for row in run.rejects}
    assert found == set(dataset.rejects)


@pytest.mark.parametrize("dataset", DATASETS)
def test_tier_counts_in_the_summary_match_the_output(
    dataset: Dataset, graded: Callable[[Dataset], Run]
) -> None:
    run = graded(dataset)
    in_output = Counter(row["tier"] for row in run.output if row["tier"])
    assert run.tiers == {tier: in_output[tier] for tier in run.tiers}
    assert set(in_output) <= set(run.tiers)
    assert sum(run.tiers.values()) == run.counts["graded"]
    # A sensible spread: every tier is reached, none takes everything.
    assert all(0 < count < run.counts["graded"] for count in run.tiers.values())


# ---- accounts checked by hand against the policy and the raw row -----------------

HAND_VERIFIED = [
    # Betatech: medical,1986,647.18,1185,Kenya,(no parent); as of 2018-01-01.
    #   size 1185 in 1000..4999 -> 55 * 30% = 16.5
    #   revenue 647.18 >= 250 (< 1000) -> 40 * 20% = 8
    #   sector medical -> 70 * 25% = 17.5
    #   region Kenya in no set -> otherwise 20 * 15% = 3
    #   maturity 1986-01-01 -> 32 years >= 20 -> 100 * 10% = 10
    #   16.5 + 8 + 17.5 + 3 + 10 = 55 -> C (40 <= 55 < 60)
    pytest.param(MAVEN, "Betatech", "C", "55", id="maven-crm:Betatech"),
    # Gekko & Co: retail,1990,2520.83,3502,United States,(no parent).
    #   size 16.5 + revenue >= 1000 -> 70 * 20% = 14 + retail otherwise
    #   20 * 25% = 5 + US 15 + 28 years 10 = 60.5 -> B (60 <= 60.5 < 80)
    pytest.param(MAVEN, "Gekko & Co", "B", "60.5", id="maven-crm:Gekko"),
    # Bluth Company: technolgy,1993,1242.32,3027,United States,Acme Corporation.
    #   Excluded by "Subsidiary" (no tier); its score is still shown:
    #   16.5 + 14 + 25 + 15 + 10 (24 years) = 80.5
    pytest.param(MAVEN, "Bluth Company", "", "80.5", id="maven-crm:subsidiary"),
    # Lowe&#8217;s (name kept with its HTML entity): revenue 72148, profit 4281,
    # 260000 employees, Retailing, NC, newcomer no, prev_rank 42, rank_change -2,
    # Market Cap 126315.
    #   size >= 50000 -> 25; revenue >= 50000 -> 15; Retailing adjacent
    #   60 * 25% = 15; NC not a field-office state 50 * 10% = 5;
    #   momentum -2 >= -24 -> 30 * 15% = 4.5; profit > 0 and cap >= 10000 -> 10
    #   25 + 15 + 15 + 5 + 4.5 + 10 = 74.5 -> B (55 <= 74.5 < 75)
    pytest.param(FORTUNE, "Lowe&#8217;s", "B", "74.5", id="fortune1000:Lowes"),
    # HD Supply Holdings: revenue 6146, profit 452, 11500 employees,
    # Wholesalers, GA, prev_rank 479, rank_change 1, Market Cap "-".
    #   size 75 * 25% = 18.75; revenue >= 4000 -> 40 * 15% = 6; Wholesalers
    #   60 * 25% = 15; GA -> 10; momentum 1 >= 1 -> 60 * 15% = 9; health:
    #   cap unknown, profit > 0 -> 60 * 10% = 6
    #   18.75 + 6 + 15 + 10 + 9 + 6 = 64.75 -> B
    pytest.param(FORTUNE, "HD Supply Holdings", "B", "64.75", id="fortune1000:HDS"),
    # /company/n-plusn (name "#NAME?"): software, 600000, operating, NY,
    # New York, founded 2012-01-01, last funding 2012-08-29, no milestone.
    #   category 25; funding >= 500000 -> 25 * 20% = 5; last funding within
    #   2 years (not 1) -> 40 * 25% = 10; New York hub 10; 1 year old < 2 ->
    #   60 * 10% = 6; milestone missing 0
    #   25 + 5 + 10 + 10 + 6 + 0 = 56 -> B (55 <= 56 < 75)
    pytest.param(CRUNCHBASE, "/company/n-plusn", "B", "56", id="crunchbase:n-plusn"),
    # /company/anchor-2 ("Anchor™"): network_hosting, 3500000, CA, SF Bay,
    # founded 2011-04-01, last funding 2011-04-01, milestone 2011-04-01.
    #   category 25; funding >= 2000000 -> 50 * 20% = 10; last funding older
    #   than 2 years -> 0; SF Bay 10; 2 years old -> 100 * 10% = 10; old
    #   milestone 0. 25 + 10 + 0 + 10 + 10 + 0 = 55 -> B, exactly on the line.
    pytest.param(CRUNCHBASE, "/company/anchor-2", "B", "55", id="crunchbase:anchor"),
    # /company/jack-and-jakes ("Jack and Jake’s"): hospitality, 225000, LA,
    # New Orleans, no founding date, last funding 2012-07-10, no milestone.
    #   hospitality otherwise 30 * 25% = 7.5; funding < 500000 -> 10 * 20% = 2;
    #   within 2 years 40 * 25% = 10; not a hub, LA not a startup state
    #   20 * 10% = 2; founding date missing 30 * 10% = 3; milestone 0
    #   7.5 + 2 + 10 + 2 + 3 + 0 = 24.5 -> D
    pytest.param(
        CRUNCHBASE, "/company/jack-and-jakes", "D", "24.5", id="crunchbase:jack"
    ),
]


@pytest.mark.parametrize(("dataset", "account", "tier", "score"), HAND_VERIFIED)
def test_hand_verified_account(
    dataset: Dataset,
    account: str,
    tier: str,
    score: str,
    graded: Callable[[Dataset], Run],
) -> None:
    run = graded(dataset)
    rows = [row for row in run.output if row["id"] == account]
    assert len(rows) == 1, f"{account} is not in the output exactly once"
    assert rows[0]["tier"] == tier
    assert Decimal(rows[0]["score"]) == Decimal(score)
