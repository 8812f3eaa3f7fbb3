"""The columnar batch path grades exactly as the per-account path does.

Every test grades the same file twice, with `grade_records` (the per-account
path, written by `cli/grade.py`'s own CSV writer) and with
`grade_file_columnar`, and asserts the same output bytes, the same rejects
(line, id, field, value, reason) and the same counts: on the example and
shared datasets, on one table of reading rules, one of CSV layouts, one of
conditions, and on accounts hypothesis makes up.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")

from tierwise.cli.columnar import choose_engine, run_columnar  # noqa: E402
from tierwise.cli.grade import GradeOptions, _output_writer  # noqa: E402
from tierwise.cli.main import main  # noqa: E402
from tierwise.dsl.errors import InputError, TierwiseError  # noqa: E402
from tierwise.engine.columnar import grade_file_columnar  # noqa: E402
from tierwise.engine.policy import CompiledPolicy, compile_policy, load_policy  # noqa: E402
from tierwise.engine.readers import InputRecord, RecordReader  # noqa: E402
from tierwise.engine.result import Rejected  # noqa: E402
from tierwise.engine.run import RunSummary, grade_records  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Graded:
    output: str
    rejects: list[Rejected]
    summary: RunSummary

    def counts(self) -> tuple[Any, ...]:
        s = self.summary
        return (
            s.read,
            s.graded,
            s.excluded,
            s.rejected,
            dict(s.tiers),
            s.unread_columns,
        )


def per_account(
    policy: CompiledPolicy, path: Path, as_of: str, **options: Any
) -> Graded:
    out: io.StringIO = io.StringIO()
    rejects: list[Rejected] = []
    reader = RecordReader(
        path,
        format=options.get("format"),
        encoding=options.get("encoding"),
        delimiter=options.get("delimiter", ","),
    )
    summary = grade_records(
        policy,
        reader,
        as_of=policy.as_of(as_of),
        on_graded=_output_writer(out, "csv"),
        on_rejected=rejects.append,
        id_field=options.get("id_column"),
        header=reader.format == "csv",
    )
    return Graded(out.getvalue(), rejects, summary)


def columnar(policy: CompiledPolicy, path: Path, as_of: str, **options: Any) -> Graded:
    out = io.StringIO()
    rejects: list[Rejected] = []
    summary = grade_file_columnar(
        policy, path, out, as_of=as_of, rejects=rejects.append, **options
    )
    return Graded(out.getvalue(), rejects, summary)


def assert_same(
    policy: CompiledPolicy,
    path: Path,
    as_of: str,
    block_bytes: int | None = None,
    **options: Any,
) -> Graded:
    if block_bytes is not None:
        options["block_bytes"] = block_bytes
    columnar_options = dict(options)
    options.pop("block_bytes", None)
    try:
        expected = per_account(policy, path, as_of, **options)
    except InputError as exc:  # the run cannot start: the same refusal
        with pytest.raises(InputError) as refused:
            columnar(policy, path, as_of, **columnar_options)
        assert str(refused.value) == str(exc)
        return Graded("", [], RunSummary("", ""))
    got = columnar(policy, path, as_of, **columnar_options)
    assert got.output.splitlines() == expected.output.splitlines()
    assert got.output == expected.output
    assert got.rejects == expected.rejects
    assert got.counts() == expected.counts()
    return got


# ---- whole datasets --------------------------------------------------------------


def test_example_accounts_grade_the_same() -> None:
    policy = load_policy(ROOT / "policies" / "starter.grade")
    got = assert_same(policy, ROOT / "examples" / "accounts.csv", "2026-12-01")
    assert got.counts()[:4] == (300, 262, 31, 7)


@pytest.mark.parametrize(
    "block_bytes", [256, 4096], ids=["tiny-blocks", "small-blocks"]
)
def test_example_accounts_grade_the_same_in_small_blocks(block_bytes: int) -> None:
    policy = load_policy(ROOT / "policies" / "starter.grade")
    assert_same(policy, ROOT / "examples" / "accounts.csv", "2026-12-01", block_bytes)


SHARED = [
    pytest.param(
        "maven-crm.grade", "maven-crm/accounts.csv", "2018-01-01", None, id="maven-crm"
    ),
    pytest.param(
        "fortune1000.grade",
        "fortune1000-2021/Fortune_1000.csv",
        "2021-06-01",
        None,
        id="fortune1000",
    ),
    pytest.param(
        "crunchbase.grade",
        "crunchbase-2013/crunchbase-companies.csv",
        "2013-12-01",
        "mac_roman",
        id="crunchbase",
    ),
]


@pytest.mark.parametrize(("policy_file", "data", "as_of", "encoding"), SHARED)
def test_shared_datasets_grade_the_same(
    shared_data_file: Callable[[str], Path],
    policy_file: str,
    data: str,
    as_of: str,
    encoding: str | None,
) -> None:
    policy = load_policy(ROOT / "policies" / policy_file)
    assert_same(policy, shared_data_file(data), as_of, encoding=encoding)


# ---- reading rules -----------------------------------------------------------------

READING_POLICY = """
policy "reading" version 1
  time zone "America/New_York"
facts
  n  int           from "n"  no value "n/a", "—"
  x  number        from "x"
  m  money         from "m"  no value "-"
  t  text          from "t"
  e  text          from "e"  compared exactly
  b  bool          from "b"  default false
  d  date          from "d"
  f  date          from "f"  format "%m/%d/%Y"
  w  datetime      from "w"
  l  list of text  from "l"  split on ";"
  s  one of "SMB", "Mid-Market", "Enterprise"  from "s"
criterion "size" weight 20
  n >= 1000 => 100
  x > 0.25 => 50
  m >= 1000 => 25
  otherwise => 10
criterion "words" weight 20
  t in "software", "strasse", "café" => 100
  e = "Software" => 60
  s = "smb" => 40
  otherwise => 0
criterion "time" weight 20
  d within 30 days => 100
  f within 1 year => 70
  w within 7 days => 50
  otherwise => 0
criterion "stack" weight 20
  l contains "salesforce" => 100
  l contains any of "a", "b" => 50
  otherwise => 0
criterion "flag" weight 20
  b => 100
  otherwise => 0
tiers
  A from 60
  B from 30
  C below 30
routes, all matching fire
  tier A => tag "a"
  b and l contains "x" => notify "x"
"""

# Each case: a column and raw values, one record each, through both paths.
READING_CASES: list[tuple[str, str, list[str]]] = [
    ("int-forms", "n", ["1200", "1,200", " 1200.0 ", "+7", "-5", "0", "0012", "-0"]),
    ("int-rejects", "n", ["12.5", "lots", "1_000", "1e3", "١٢", "1,20", "12 000"]),
    (
        "int-huge",
        "n",
        ["123456789012345678901234", "1" + "0" * 45, "-99999999999999999999"],
    ),
    ("int-missing", "n", ["", "   ", "n/a", "N/A", " n/a ", "—", "\u00a0"]),
    ("number-forms", "x", ["10.5", "0.2", "0.30", "-1", "1,234.5", "1e2", ".5", "5."]),
    (
        "number-precision",
        "x",
        ["0.00000000001", "0.1234567891", "1.000000000000", "-0.0"],
    ),
    ("number-rejects", "x", ["abc", "1.2.3", "Infinity", "NaN", "1,2345", "1e999"]),
    (
        "money-forms",
        "m",
        ["$1,234.50", "-$5", "$-5", "+$5", "- $ 3", "£ 7", "€1.200", "¥5"],
    ),
    (
        "money-rejects",
        "m",
        ["(5)", "$$5", "5$", "USD 5", "-", "$ ", "12345678901234567890.5"],
    ),
    ("text-case", "t", ["Software", " software ", "SOFTWARE", "Soft ware", "soft"]),
    (
        "text-unicode",
        "t",
        ["Straße", "STRASSE", "Café", "Cafe\u0301", "CAFÉ", "\u212a"],
    ),
    (
        "text-space",
        "t",
        ["\u00a0Software\u00a0", "\x1cSoftware\x1f", "\tsoftware\n", "\u3000x"],
    ),
    (
        "text-exact",
        "e",
        ["Software", " Software ", "software", "So\u0301ftware", "SOFTWARE"],
    ),
    ("bool-forms", "b", ["Y", "yes ", "TRUE", "1", "0", "no", "N", "False", "", " y "]),
    ("bool-rejects", "b", ["maybe", "ｙｅｓ", "2", "t", "on"]),
    (
        "date-iso",
        "d",
        ["2026-11-20", " 2026-11-25 ", "2025-12-01", "2026-12-20", "2026-11-01"],
    ),
    (
        "date-other",
        "d",
        ["2026-11-20T10:00", "20261120", "2026-W47-5", "2026-11-20T23:30-08:00"],
    ),
    (
        "date-rejects",
        "d",
        ["2026-13-01", "2026-02-30", "2026-1-5", "+2026-01-05", "last week"],
    ),
    (
        "date-format",
        "f",
        ["11/20/2026", "1/2/2026", "2026-11-20", "13/01/2026", " 12/31/2025 "],
    ),
    (
        "datetime",
        "w",
        ["2026-11-28T10:00:00Z", "2026-11-30T23:30:00-05:00", "2026-11-20"],
    ),
    (
        "datetime-local",
        "w",
        ["2026-11-29 08:00", "2026-03-08T02:30", "2026-11-01T01:30"],
    ),
    ("datetime-rejects", "w", ["bad", "2026-11-31T10:00", "10:00"]),
    (
        "list-forms",
        "l",
        ["Salesforce; Snowflake", "a;b", "A ; B", "a;;b ; c", "SALESFORCE"],
    ),
    ("list-empty", "l", [";;", " ; ", "", ";x;"]),
    ("list-unicode", "l", ["Café;ÉCOLE", "Salesforce\u00a0;b", "\u212a;a"]),
    ("enum", "s", ["smb", " SMB ", "Mid-market", "ENTERPRISE", "Startup", "smb\u00a0"]),
]


def _write(path: Path, header: list[str], rows: list[list[str]], **kw: Any) -> Path:
    with open(path, "w", encoding=kw.pop("encoding", "utf-8"), newline="") as handle:
        writer = csv.writer(
            handle, lineterminator=kw.pop("lineterminator", "\r\n"), **kw
        )
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def reading_policy() -> CompiledPolicy:
    return compile_policy(READING_POLICY)


@pytest.mark.parametrize(
    ("column", "values"), [pytest.param(c, v, id=i) for i, c, v in READING_CASES]
)
def test_reading_rules_match(
    reading_policy: CompiledPolicy, tmp_path: Path, column: str, values: list[str]
) -> None:
    header = ["id", column, "b"]
    rows = [[f"r{k}", value, "y" if k % 2 else "n"] for k, value in enumerate(values)]
    assert_same(reading_policy, _write(tmp_path / "in.csv", header, rows), "2026-12-01")


def test_every_reading_rule_at_once(
    reading_policy: CompiledPolicy, tmp_path: Path
) -> None:
    columns = sorted({c for _, c, _ in READING_CASES})
    pools = {
        c: [v for _, col, vs in READING_CASES if col == c for v in vs] for c in columns
    }
    rows = [
        [
            f"r{k}",
            *(pools[c][(k * (j + 1)) % len(pools[c])] for j, c in enumerate(columns)),
        ]
        for k in range(120)
    ]
    path = _write(tmp_path / "in.csv", ["id", *columns], rows)
    assert_same(reading_policy, path, "2026-12-01")
    assert_same(reading_policy, path, "2026-12-01", block_bytes=512)


# ---- CSV layouts ---------------------------------------------------------------------

LAYOUT_POLICY = """
policy "layout" version 1
facts
  a  int
  b  text
criterion "a" weight 50
  a >= 10 => 100
  otherwise => 0
criterion "b" weight 50
  b = "yes" => 100
  otherwise => 0
tiers
  A from 50
  B below 50
"""

LAYOUTS: list[tuple[str, bytes]] = [
    ("plain-lf", b"id,a,b\nx,12,yes\ny,3,no\n"),
    ("crlf", b"id,a,b\r\nx,12,yes\r\ny,3,no\r\n"),
    ("cr-only", b"id,a,b\rx,12,yes\ry,3,no\r"),
    ("no-final-newline", b"id,a,b\nx,12,yes\ny,3,no"),
    ("quoted-newline", b'id,a,b\nx,12,"y\nes"\ny,3,no\nz,"1,2",yes\n'),
    ("quoted-crlf", b'id,a,b\r\nx,12,"multi\r\nline\r\nvalue"\r\ny,3,no\r\n'),
    ("quoted-cr-in-cr-file", b'id,a,b\rx,12,"a\rb"\ry,3,no\r'),
    ("lone-cr-in-lf-file", b"id,a,b\nx,12,ye\rs\ny,3,no\n"),
    ("mixed-endings", b"id,a,b\nx,12,yes\r\ny,3,no\rz,4,yes\n"),
    ("blank-lines", b"id,a,b\n\nx,12,yes\n\n\ny,3,no\n\n"),
    ("blank-before-header", b"\n\nid,a,b\nx,12,yes\n"),
    ("short-row", b"id,a,b\nx,12\ny,3,no\n"),
    ("long-row", b"id,a,b\nx,12,yes,extra\ny,3,no\n"),
    ("long-row-empty-tail", b"id,a,b\nx,12,yes,,\ny,3,no, \n"),
    ("all-empty-row", b"id,a,b\n,,\n , ,\ny,3,no\n"),
    ("whitespace-line", b"id,a,b\n   \ny,3,no\n"),
    ("stray-quote", b'id,a,b\nx,12,y"es\ny,3,no\n'),
    ("text-after-quote", b'id,a,b\nx,12,"ye"s\ny,3,no\n'),
    ("unclosed-quote", b'id,a,b\nx,12,yes\ny,3,"no\n'),
    ("unclosed-quote-missing-column", b'id,a\nx,12\ny,"3\n'),
    ("nul-byte", b"id,a,b\nx,12,y\x00es\ny,3,no\n"),
    ("bom", codecs.BOM_UTF8 + b"id,a,b\nx,12,yes\n"),
    ("header-spaces", b" id , A ,b\nx,12,yes\n"),
    ("duplicate-header", b"id,a,a,b\nx,12,13,yes\n"),
    ("missing-column", b"id,a\nx,12\n"),
    ("header-only", b"id,a,b\n"),
    ("empty-file", b""),
    ("quoted-id", b'id,a,b\n"x,1",12,yes\n"x""2",3,no\n"x\n3",3,no\n'),
    ("single-column", b"id\nx\n\ny\n"),
    ("utf16", "id,a,b\r\nx,12,yes\r\nÿ,3,no\r\n".encode("utf-16")),
]


@pytest.fixture(scope="module")
def layout_policy() -> CompiledPolicy:
    return compile_policy(LAYOUT_POLICY)


@pytest.mark.parametrize("block_bytes", [None, 16], ids=["one-block", "16-byte-blocks"])
@pytest.mark.parametrize(("content",), [pytest.param(c, id=i) for i, c in LAYOUTS])
def test_csv_layouts_read_the_same(
    layout_policy: CompiledPolicy,
    tmp_path: Path,
    content: bytes,
    block_bytes: int | None,
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    assert_same(layout_policy, path, "2026-12-01", block_bytes)


def test_quoted_newlines_keep_every_line_number(
    layout_policy: CompiledPolicy, tmp_path: Path
) -> None:
    rows = [
        [f"r{k}", "bad" if k % 7 == 0 else "12", "multi\nline" * (k % 3)]
        for k in range(200)
    ]
    path = _write(tmp_path / "in.csv", ["id", "a", "b"], rows, lineterminator="\n")
    got = assert_same(layout_policy, path, "2026-12-01", block_bytes=300)
    assert [r.line for r in got.rejects][:3] == [2, 15, 29]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("mac_roman", ","), ("latin-1", ";"), ("utf-8", "\t"), ("utf-16", ",")],
    ids=["mac-roman", "latin-1-semicolon", "utf-8-tab", "utf-16"],
)
def test_encodings_and_delimiters(
    layout_policy: CompiledPolicy, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    rows = [["Café", "12", "yes"], ["Ærø", "1,5", "no"], ["x;y", "4", "YES "]]
    path = _write(
        tmp_path / "in.csv",
        ["id", "a", "b"],
        rows,
        encoding=encoding,
        delimiter=delimiter,
    )
    assert_same(
        layout_policy, path, "2026-12-01", encoding=encoding, delimiter=delimiter
    )


def test_undecodable_file_is_refused_with_the_same_message(
    layout_policy: CompiledPolicy, tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,a,b\nx,12,yes\ny,3,n\xe9\n")
    with pytest.raises(InputError) as rows:
        per_account(layout_policy, path, "2026-12-01")
    with pytest.raises(InputError) as columns:
        columnar(layout_policy, path, "2026-12-01")
    assert str(columns.value) == str(rows.value)


def test_id_column_option(layout_policy: CompiledPolicy, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"a,key,b\n12, k1 ,yes\n3,k2,no\n")
    assert_same(layout_policy, path, "2026-12-01", id_column="key")
    assert_same(layout_policy, path, "2026-12-01", id_column="nope")


# ---- conditions ----------------------------------------------------------------

CONDITION_POLICY = """
policy "conditions" version 1
  time zone "America/New_York"
facts
  n  int       from "n"
  k  int       from "k"  default 0
  x  number    from "x"
  m  money     from "m"
  t  text      from "t"
  e  text      from "e"  compared exactly
  b  bool      from "b"
  d  date      from "d"
  w  datetime  from "w"
  l  list of text  from "l"  split on ";"
  s  one of "SMB", "Mid-Market", "Enterprise"  from "s"
set words = "Software", "Fintech", "straße"
constant big = 1000
criterion "c" weight 60
  {condition} => 100
  otherwise => 40
  missing => 10
criterion "d" weight 40
  n > 0 => 50
  otherwise => 25
tiers
  A from 70
  B from 35
  C below 35
override "o"
  when {condition} and n = 3 => tier C, reason "three"
  missing => exclude, reason "unknown"
routes, all matching fire
  tier A => tag "a"
  {condition} => notify "c"
  otherwise => tag "none"
"""

CONDITIONS = [
    "n >= 1000",
    "n between 200 and 999",
    "n between k and 999",
    "n = 1200",
    "n != 5",
    "n in 1, 2, 1200",
    "n not in 1, 2.5",
    "n > big",
    "x > 10.5",
    "x between 0.1 and 0.3",
    "x = 0.3",
    "m >= 1000000",
    "m < 0",
    "-m > 5",
    "n + x > 100",
    "n - k < 3",
    "n * 2 >= 2400",
    "x * 3 < 1",
    "m / n > 1000",
    "m / n >= 1000",
    "x / n < 0.1",
    "n / x between 10 and 12000",
    "1 / n = 0.5",
    "x <= m / n",
    "m / n > k / 2",
    "n * n > 4",
    't = "Software"',
    "t in words",
    't contains "soft"',
    't != "ß"',
    't = "STRASSE"',
    'e = "Software"',
    'e contains "Soft"',
    "t = e",
    "b",
    "not b",
    "b = true",
    "b and n > 10",
    "b or n > 10",
    'not (b or t = "x")',
    "d within 30 days",
    "d within next 2 weeks",
    "d within 6 months",
    "days since d > 100",
    "days until d >= 0",
    "years since d >= 1",
    "years since d < 1",
    "d > 2026-01-01",
    "d = w",
    "d < w",
    "w > 2026-11-01",
    "w >= 2026-11-28T12:00",
    "w >= 2026-11-28T12:00Z",
    "w within 7 days",
    "days since w < 10",
    "d in 2026-11-20, 2026-11-21",
    'l contains "salesforce"',
    'l contains any of "a", "b"',
    'l contains all of "a", "b"',
    'l contains "a;b"',
    "l is missing",
    's = "smb"',
    's in "Enterprise", "mid-market"',
    "n is missing",
    "n is not missing",
    "t is missing and b",
    "k is missing",
]

CONDITION_VALUES = {
    "n": ["1200", "1,200", "3", "", "n/a", "999", "-5", "2", "200", "0", "1"],
    "k": ["", "3", "1000"],
    "x": ["10.5", "0.2", "0.30", "-1", "", "1,234.5", "0.1"],
    "m": ["$1,234.50", "-$5", "1000000", "", "$2,000,000", "0"],
    "t": [
        "Software",
        " software ",
        "Straße",
        "STRASSE",
        "ß",
        "",
        "soft",
        "Fintech",
        "x",
    ],
    "e": ["Software", "software", "", "Soft"],
    "b": ["Y", "no", "", "TRUE", "0"],
    "d": ["2026-11-20", "", "2025-12-01", "2026-12-10", "2026-11-28", "2024-12-02"],
    "w": [
        "2026-11-28T10:00:00Z",
        "2026-11-30T23:30:00-05:00",
        "",
        "2026-11-20",
        "2026-11-28",
    ],
    "l": ["Salesforce; Snowflake", "a;b", "", "A ; B", "x", "b"],
    "s": ["smb", " SMB ", "", "ENTERPRISE", "mid-market"],
}


@pytest.mark.parametrize("condition", CONDITIONS)
def test_conditions_evaluate_the_same(tmp_path: Path, condition: str) -> None:
    policy = compile_policy(CONDITION_POLICY.replace("{condition}", condition))
    columns = list(CONDITION_VALUES)
    rows = [
        [
            f"r{k}",
            *(
                CONDITION_VALUES[c][(k * (j + 2)) % len(CONDITION_VALUES[c])]
                for j, c in enumerate(columns)
            ),
        ]
        for k in range(90)
    ]
    path = _write(tmp_path / "in.csv", ["id", *columns], rows)
    assert_same(policy, path, "2026-12-01")


def test_quotient_rounded_by_python_is_left_to_it(tmp_path: Path) -> None:
    # 999999999999999999998 / 3 rounds to 28 digits, 333333333333333333332.6666667:
    # equal for Python, just below for exact arithmetic.
    policy = compile_policy(
        CONDITION_POLICY.replace(
            "{condition}", "n / 3 >= 333333333333333333332.6666667"
        )
    )
    values = ["999999999999999999998", "999999999999999999999", "3", "-6", "", "0"]
    rows = [[f"r{k}", v, *[""] * 10] for k, v in enumerate(values)]
    path = _write(tmp_path / "in.csv", ["id", *CONDITION_VALUES], rows)
    got = assert_same(policy, path, "2026-12-01")
    assert got.output.splitlines()[1].startswith("r0,A,")


EXPLAIN_POLICY = """
policy "explain" version 1
facts
  a  int  from "a"
  b  int  from "b"
  c  text  from "c"
  d  int  from "d"  default 0
criterion "Size, in people" weight 30
  a >= 100 => 100
  a >= 10 => 50
  otherwise => 0
  missing => 0
criterion "Fit, as seen" weight 20
  c = "good" => 100
  c = "bad" => -50
  otherwise => 0
criterion "Twin" weight 30
  b >= 10 => 50
  otherwise => 0
criterion "Mix" weight 20
  a + b >= 20 => 75
  d > 1 => 25
  otherwise => 0
tiers
  A from 40
  B from 10
  C below 10
override "Tiny"
  when a = 1 => tier C, reason "one person, tiny"
override "Gone"
  when d = 7 => exclude, reason "seven"
routes, all matching fire
  tier A => tag "a, first"
  d > 2 => notify "d"
"""


@pytest.fixture()
def explain_file(tmp_path: Path) -> Path:
    values = {
        "a": ["", "1", "5", "10", "100", "50", "0"],
        "b": ["", "10", "20", "0", "3"],
        "c": ["", "good", "bad", "meh"],
        "d": ["", "0", "2", "3", "7"],
    }
    rows = [
        [f"r{k}", *(v[(k * (j + 3)) % len(v)] for j, v in enumerate(values.values()))]
        for k in range(140)
    ]
    return _write(tmp_path / "in.csv", ["id", *values], rows)


def test_composed_reasons_are_the_ledgers(explain_file: Path) -> None:
    # Ties, negative and zero points, missing facts, overrides, routes and
    # names that need quoting: every reason composed from columns.
    policy = compile_policy(EXPLAIN_POLICY)
    assert_same(policy, explain_file, "2026-12-01")


def test_reasons_by_the_ledger_when_composing_is_off(
    explain_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tierwise.engine import columnar as engine

    init = engine.ColumnarGrader.__init__

    def ledger_only(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.composed = False

    monkeypatch.setattr(engine.ColumnarGrader, "__init__", ledger_only)
    assert_same(compile_policy(EXPLAIN_POLICY), explain_file, "2026-12-01")


def test_a_composed_reason_that_differs_hands_over_to_the_ledger(
    explain_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tierwise.engine import columnar_explain

    monkeypatch.setattr(columnar_explain, "NOTHING", "nothing scored")
    monkeypatch.setattr(columnar_explain, "TOP", 2)
    assert_same(compile_policy(EXPLAIN_POLICY), explain_file, "2026-12-01")


def test_routes_first_match_and_explanation_columns(tmp_path: Path) -> None:
    policy = load_policy(ROOT / "policies" / "starter.grade")
    out = io.StringIO()
    grade_file_columnar(
        policy,
        ROOT / "examples" / "accounts.csv",
        out,
        as_of="2026-12-01",
        explain=True,
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    names = [c.name for c in policy.checked.policy.criteria]
    assert list(rows[0])[5:] == names
    from decimal import Decimal

    for row in rows:
        assert sum(Decimal(row[n]) for n in names) == Decimal(row["score"])


# ---- other inputs ------------------------------------------------------------------


def test_json_lines_grade_the_same(tmp_path: Path) -> None:
    policy = compile_policy(READING_POLICY)
    records: list[Any] = [
        {"id": "a", "n": 1200, "x": 0.3, "m": "$5", "t": "Software", "b": True},
        {"id": "b", "n": "1,200", "x": 1e2, "b": "no", "l": ["Salesforce", " a "]},
        {"ID": "c", "N": 12.5, "B": 1, "D": "2026-11-20"},
        {"id": "d", "n": True, "t": {"nested": 1}, "s": None},
        [1, 2],
        {"id": 5, "n": 10**30, "x": "0.00000000001"},
    ]
    lines = [json.dumps(r) for r in records]
    lines.insert(3, "")
    lines.insert(5, "{not json")
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_same(policy, path, "2026-12-01")


def test_a_list_item_holding_the_separator_stays_one_item(tmp_path: Path) -> None:
    policy = compile_policy(
        'policy "p" version 1\nfacts\n  l list of text split on ";"\n'
        'criterion "L" weight 100\n  l contains "foo" => 100\n  otherwise => 10\n'
        "tiers\n  A from 50\n  B below 50\n"
    )
    records = [{"id": "a", "l": ["a;foo"]}, {"id": "b", "l": ["foo", "x"]}]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    got = assert_same(policy, path, "2026-12-01")
    assert [line.split(",")[1] for line in got.output.splitlines()[1:]] == ["B", "A"]


def test_tier_names_are_quoted_as_csv_quotes_them(tmp_path: Path) -> None:
    policy = compile_policy(
        'policy "p" version 1\nfacts\n  employees int\ncriterion "Size" weight 100\n'
        "  employees >= 1000 => 100\n  employees >= 100 => 50\n  otherwise => 0\n"
        'tiers\n  "Top, 1" from 80\n  "T\\"2" from 40\n  Rest below 40\n'
    )
    path = tmp_path / "in.csv"
    path.write_text("id,employees\na,5000\nb,500\nc,5\n", encoding="utf-8")
    got = assert_same(policy, path, "2026-12-01")
    rows = list(csv.reader(io.StringIO(got.output)))
    assert [row[1] for row in rows[1:]] == ["Top, 1", 'T"2', "Rest"]


@pytest.mark.parametrize(
    "records",
    [
        [{"id": "a", "n": 5, "t": "x"}, {"id": "b", "n": 5}],
        [{"id": "a"}, {"id": "b", "n": 5000}],
        [{"ID": "a", "n": 1}, {"key": "b", "n": 2}],
    ],
    ids=["later-lacks-a-key", "first-has-no-fact", "id-key-varies"],
)
def test_json_records_each_name_their_own_fields(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    """No header: a record without the policy's keys is not a wrong file, and
    a column is unread only if no record had it."""
    policy = compile_policy(READING_POLICY)
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    got = assert_same(policy, path, "2026-12-01", id_column="id")
    seen = {key.casefold() for record in records for key in record}
    columns = [f.source or f.name for f in policy.facts]
    expected = [c for c in columns if c.casefold() not in seen]
    assert got.summary.unread_columns == expected
    assert got.summary.read == len(records)


def test_parquet_grades_as_the_same_values_would(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    import datetime as dt

    policy = compile_policy(READING_POLICY)
    table = pa.table(
        {
            "id": ["a", "b", "c", None],
            "n": [1200, None, 5, 7],
            "x": [0.3, 1e2, None, 0.1],
            "t": ["Software", " STRASSE ", None, "x"],
            "b": [True, False, None, True],
            "d": [
                dt.date(2026, 11, 20),
                None,
                dt.date(2020, 1, 1),
                dt.date(2026, 12, 1),
            ],
        }
    )
    path = tmp_path / "in.parquet"
    pq.write_table(table, path)
    out = io.StringIO()
    rejects: list[Rejected] = []
    summary = grade_file_columnar(
        policy, path, out, as_of="2026-12-01", rejects=rejects.append
    )
    fields = tuple(table.column_names)
    records = [
        InputRecord(k + 1, fields, tuple(row.values()))
        for k, row in enumerate(table.to_pylist())
    ]
    expected = io.StringIO()
    reference = grade_records(
        policy,
        records,
        as_of=policy.as_of("2026-12-01"),
        on_graded=_output_writer(expected, "csv"),
        on_rejected=lambda r: None,
    )
    assert out.getvalue() == expected.getvalue()
    assert (summary.read, summary.graded) == (reference.read, reference.graded)


# ---- accounts hypothesis makes up ------------------------------------------------

MESSY = st.sampled_from(
    [
        "",
        " ",
        "n/a",
        "N/A",
        "-",
        "yes",
        "Y",
        "0",
        "1",
        "true",
        "maybe",
        "Software",
        " software ",
        "FINTECH",
        "Healthcare IT",
        "Government",
        "United States",
        "canada ",
        "Germany",
        "Enterprise",
        "smb",
        "Mid-Market",
        "Salesforce;Snowflake",
        "hubspot ; segment",
        ";;",
        "1,200",
        "1200.0",
        "12.5",
        "$1,234,000",
        "-$5",
        "€5",
        "2026-11-20",
        "2026-13-01",
        "2026-09-01",
        " 2026-11-30 ",
        "2026-11-20T10:00Z",
        "Straße",
        "Cafe\u0301",
        "\u00a0x",
        "a\nb",
        'q"uote',
        "x,y",
        "\u212a",
    ]
)
CELL = st.one_of(MESSY, st.text(max_size=8), st.integers(-5, 70000).map(str))
STARTER = load_policy(ROOT / "policies" / "starter.grade")
STARTER_HEADER = [
    "Account ID",
    "Account Name",
    "Industry",
    "Country",
    "Employees",
    "Annual Revenue",
    "Technologies",
    "Web Visits (30d)",
    "Last Activity",
    "Is Customer",
    "Segment",
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(st.lists(CELL, min_size=11, max_size=11), min_size=1, max_size=25),
    block_bytes=st.sampled_from([None, 64, 1024]),
)
def test_made_up_accounts_grade_the_same(
    tmp_path: Path, rows: list[list[str]], block_bytes: int | None
) -> None:
    text = [[c.replace("\x00", "") for c in row] for row in rows]
    path = _write(tmp_path / "made-up.csv", STARTER_HEADER, text)
    assert_same(STARTER, path, "2026-12-01", block_bytes)


# ---- the command-line worker -------------------------------------------------


@click.command()
@click.argument("policy")
@click.option("--input", "input_", required=True)
@click.option("--output")
@click.option("--rejects")
@click.option("--as-of")
@click.option("--engine")
def grade_command(
    policy: str,
    input_: str,
    output: str | None,
    rejects: str | None,
    as_of: str | None,
    engine: str | None,
) -> None:
    """A stand-in for `tierwise grade` with --engine, for testing the worker."""
    options = GradeOptions(
        policy=policy,
        input=input_,
        output=output,
        format="csv",
        rejects=rejects,
        audit=None,
        as_of=as_of,
        input_format=None,
        encoding=None,
        delimiter=",",
        id_column=None,
    )
    if choose_engine(input_, engine, options) != "columns":
        raise click.ClickException("expected the columnar engine")
    summary = run_columnar(options)
    click.echo(
        f"read {summary.read}: {summary.graded} graded, {summary.rejected} rejected",
        err=True,
    )


def test_worker_writes_what_grade_writes(tmp_path: Path) -> None:
    args = [
        str(ROOT / "policies" / "starter.grade"),
        "--input",
        str(ROOT / "examples" / "accounts.csv"),
        "--as-of",
        "2026-12-01",
        "--engine",
        "columns",
    ]
    result = CliRunner().invoke(
        grade_command,
        [
            *args,
            "--output",
            str(tmp_path / "o.csv"),
            "--rejects",
            str(tmp_path / "r.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    expected = per_account(STARTER, ROOT / "examples" / "accounts.csv", "2026-12-01")
    assert (tmp_path / "o.csv").read_text(encoding="utf-8") == expected.output
    rejects = list(
        csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8")))
    )
    assert rejects[0] == ["line", "id", "field", "value", "reason"]
    first = expected.rejects[0]
    assert rejects[1][:4] == [str(first.line), "ACC-00032", "Employees", "lots"]
    echoed = CliRunner().invoke(grade_command, args)
    assert echoed.exit_code == 0
    assert (
        f"rejected line {first.line} (ACC-00032): Employees = 'lots'" in echoed.stderr
    )


@pytest.mark.parametrize(
    ("size", "forced", "expected"),
    [
        (10, None, "rows"),
        (20 * 1024 * 1024, None, "columns"),
        (10, "columns", "columns"),
        (20 * 1024 * 1024, "rows", "rows"),
    ],
    ids=["small", "large", "forced-columns", "forced-rows"],
)
def test_choose_engine(
    tmp_path: Path, size: int, forced: str | None, expected: str
) -> None:
    path = tmp_path / "in.csv"
    with open(path, "wb") as handle:
        handle.truncate(size)
    assert choose_engine(str(path), forced) == expected


def test_choose_engine_refuses_what_columns_cannot_do(tmp_path: Path) -> None:
    options = GradeOptions(
        policy="p",
        input="in.csv",
        output=None,
        format="jsonl",
        rejects=None,
        audit=None,
        as_of=None,
        input_format=None,
        encoding=None,
        delimiter=",",
        id_column=None,
    )
    assert choose_engine("in.csv", None, options) == "rows"
    with pytest.raises(TierwiseError, match="JSON lines"):
        choose_engine("in.csv", "columns", options)
    with pytest.raises(TierwiseError, match="unknown engine"):
        choose_engine("in.csv", "gpu")


def test_parquet_is_read_by_the_columnar_engine_whatever_its_size(
    tmp_path: Path,
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    path = tmp_path / "small.parquet"
    pq.write_table(pa.table({"id": ["a"], "employees": [5000]}), path)
    assert choose_engine(str(path), None) == "columns"
    with pytest.raises(TierwiseError, match="--engine rows cannot read Parquet"):
        choose_engine(str(path), "rows")
    policy = tmp_path / "p.grade"
    policy.write_text(
        'policy "p" version 1\nfacts\n  employees int\ncriterion "S" weight 100\n'
        "  employees >= 1000 => 100\n  otherwise => 0\ntiers\n  A from 50\n"
        "  B below 50\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["grade", str(policy), "--input", str(path), "--as-of", "2026-12-01"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == ["a,A,100,S +100,"]
    audit = ["--audit", str(tmp_path / "audit.jsonl")]
    refused = CliRunner().invoke(
        main, ["grade", str(policy), "--input", str(path), *audit]
    )
    assert refused.exit_code != 0
    assert "Parquet input (read by the columnar engine only) cannot write an audit" in (
        refused.output
    )


def test_docstring_example_runs() -> None:
    import doctest

    import tierwise.engine.columnar as module

    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0
