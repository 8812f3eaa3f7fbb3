"""The `tierwise` command, run in-process: exact output and exit codes."""

from __future__ import annotations

import csv
import json
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
test "big software is A"
  given employees 5000, industry "software"
  expect tier A, score 100, assign "ae"
test "small retail is C"
  given employees 10, industry "Retail"
  expect tier C, score 10
"""

ACCOUNTS = """\
Account,Employees,Industry,Customer
acme,"5,000", Software ,no
bolt,150,Retail,
crux,lots,Software,no
dyna,12,retail,yes
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.grade"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture
def accounts(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS, encoding="utf-8")
    return path


# ---- check -----------------------------------------------------------------------


def test_check_a_clean_policy(policy_file: Path) -> None:
    result = run("check", str(policy_file))
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "checked 1 policy: 0 errors, 0 warnings\n"


def test_check_reports_errors_with_carets_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.grade"
    bad.write_text(POLICY.replace('industry = "Software"', "industri = 5"), "utf-8")
    result = run("check", str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout == textwrap.dedent(
        f"""\
        {bad}:11:3: error[TW101]: unknown fact 'industri'
            11 |   industri = 5 => 100
               |   ^^^^^^^^
          = did you mean 'industry'?
        """
    )
    assert result.stderr == "checked 1 policy: 1 error, 0 warnings\n"


def test_check_json_format(tmp_path: Path) -> None:
    bad = tmp_path / "bad.grade"
    bad.write_text(POLICY.replace("weight 40", "weight 30"), "utf-8")
    result = run("check", "--format", "json", str(bad))
    assert result.exit_code == 0  # a warning does not fail the check
    assert json.loads(result.stdout) == [
        {
            "file": str(bad),
            "line": 6,
            "column": 11,
            "end_line": 6,
            "end_column": 17,
            "code": "TW104",
            "severity": "warning",
            "message": "weights add up to 90, not 100",
            "details": [
                "with weights adding to 100 and points from 0 to 100 the score "
                "runs from 0 to 100"
            ],
        }
    ]


def test_check_a_missing_path_exits_2(tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "nope.grade"))
    assert result.exit_code == 2
    assert (
        result.stderr == f"error: no such file or folder: {tmp_path / 'nope.grade'}\n"
    )


# ---- test ------------------------------------------------------------------------


def test_test_passes(policy_file: Path) -> None:
    result = run("test", str(policy_file))
    assert result.exit_code == 0
    assert result.stdout == (
        f"PASS {policy_file}:22: big software is A\n"
        f"PASS {policy_file}:25: small retail is C\n"
        "2 passed, 0 failed\n"
    )


def test_a_failing_test_shows_expected_actual_and_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "mini.grade"
    path.write_text(POLICY.replace("expect tier C, score 10", "expect tier B"), "utf-8")
    result = run("test", "--quiet", str(path))
    assert result.exit_code == 1
    assert result.stdout == textwrap.dedent(
        f"""\
        FAIL {path}:25: small retail is C
          expected tier B, got tier C
          | account: tier C, score 10
          | policy mini version 2, as of {_as_of(result.stdout)}
          |\x20
          | criterion  weight  points  score  because
          | Size           60       0      0  otherwise (line 9)
          | Industry       40      25     10  otherwise (line 12)
          | total                         10
          |\x20
          | actions: enroll "nurture" (route on line 21)
        1 passed, 1 failed
        """
    )


def _as_of(output: str) -> str:
    """Tests without `as of` grade as of now; read the instant back."""
    return output.split("as of ", 1)[1].split("\n", 1)[0]


# ---- grade -----------------------------------------------------------------------


def test_grade_csv_to_stdout(policy_file: Path, accounts: Path) -> None:
    result = run(
        "grade", str(policy_file), "--input", str(accounts), "--as-of", "2026-12-01"
    )
    assert result.exit_code == 1  # one record was rejected
    assert result.stdout == textwrap.dedent(
        """\
        id,tier,score,reason,actions
        acme,A,100,"Size +60, Industry +40",assign ae
        bolt,B,40,"Size +30, Industry +10",enroll nurture
        dyna,,10,excluded by 'Customers': account management,
        """
    )
    assert result.stderr.splitlines()[:3] == [
        "rejected line 4 (crux): Employees = 'lots': 'lots' is not a number",
        f"read 4 records from {accounts}: 2 graded, 1 excluded, 1 rejected",
        "tiers: A 1, B 1, C 0",
    ]


def test_grade_writes_rejects_jsonl_and_audit(
    tmp_path: Path, policy_file: Path, accounts: Path
) -> None:
    out, rejects, audit = (
        tmp_path / "out.jsonl",
        tmp_path / "rejects.csv",
        tmp_path / "audit.jsonl",
    )
    result = run(
        "grade", str(policy_file), "--input", str(accounts), "--format", "jsonl",
        "--output", str(out), "--rejects", str(rejects), "--audit", str(audit),
        "--as-of", "2026-12-01",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(r["id"], r["tier"], r["score"], r["excluded"]) for r in rows] == [
        ("acme", "A", 100, False),
        ("bolt", "B", 40, False),
        ("dyna", None, 10, True),
    ]
    assert rows[0]["contributions"][0] == {
        "criterion": "Size",
        "weight": 60,
        "points": 100,
        "contribution": 60,
        "branch": "when",
        "condition": "employees >= 1000",
        "line": 7,
        "missing": [],
    }
    assert rows[1]["missing"] == []
    assert rows[0]["actions"] == [
        {
            "kind": "assign",
            "target": "ae",
            "route_line": 20,
            "trigger": "change",
            "trigger_tier": None,
        }
    ]
    assert rows[0]["policy"]["name"] == "mini" and rows[0]["as_of"] == "2026-12-01"
    assert list(csv.reader(rejects.read_text("utf-8").splitlines())) == [
        ["line", "id", "field", "value", "reason"],
        ["4", "crux", "Employees", "lots", "'lots' is not a number"],
    ]
    entries = [json.loads(line) for line in audit.read_text("utf-8").splitlines()]
    assert [e["id"] for e in entries] == ["acme", "bolt", "dyna"]
    assert [e["line"] for e in entries] == [2, 3, 5]
    assert entries[0]["policy"]["hash"] == rows[0]["policy"]["hash"]
    assert entries[0]["input_digest"].startswith("sha256:")
    assert len({e["input_digest"] for e in entries}) == 3


def test_grade_exits_0_when_nothing_is_rejected(
    tmp_path: Path, policy_file: Path
) -> None:
    accounts = tmp_path / "ok.jsonl"
    accounts.write_text(
        '{"id": "x", "Employees": 2000, "Industry": "Software"}\n', "utf-8"
    )
    result = run(
        "grade", str(policy_file), "--input", str(accounts), "--as-of", "2026-12-01"
    )
    assert result.exit_code == 0
    assert (
        result.stdout
        == 'id,tier,score,reason,actions\nx,A,100,"Size +60, Industry +40",assign ae\n'
    )


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [("utf-8-sig", "\r\n"), ("utf-16", "\n"), ("mac_roman", "\r")],
    ids=["utf8-bom-crlf", "utf16-bom", "mac-roman-cr"],
)
def test_grade_reads_encodings_and_line_endings(
    tmp_path: Path, policy_file: Path, encoding: str, newline: str
) -> None:
    text = "Account,Employees,Industry\nSoci\u00e9t\u00e9,2000,Software\nb,5,x\n"
    path = tmp_path / "in.csv"
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    args = ["grade", str(policy_file), "--input", str(path), "--as-of", "2026-12-01"]
    if encoding == "mac_roman":
        args += ["--encoding", "mac_roman"]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    assert [row[:3] for row in csv.reader(result.stdout.splitlines())] == [
        ["id", "tier", "score"],
        ["Soci\u00e9t\u00e9", "A", "100"],
        ["b", "C", "10"],
    ]


def test_grade_names_the_encoding_problem(tmp_path: Path, policy_file: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("Account,Employees\nSoci\u00e9t\u00e9,2\n".encode("mac_roman"))
    result = run("grade", str(policy_file), "--input", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:2: cannot decode the file as utf-8-sig (invalid start byte "
        "at byte 22); pass --encoding, for example --encoding mac_roman or "
        "--encoding latin-1\n"
    )


@pytest.mark.parametrize("engine", ["rows", "columns"])
def test_a_failed_run_leaves_no_partial_output(
    tmp_path: Path, policy_file: Path, engine: str
) -> None:
    """An undecodable byte near the end stops the run: the outputs are the old
    files (or none), not the first part of new ones."""
    pytest.importorskip("polars")
    rows = "".join(f"a{i},{i}\n" for i in range(50_000))
    path = tmp_path / "in.csv"
    path.write_bytes(f"Account,Employees\n{rows}".encode() + b"\xff,1\n")
    output, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    output.write_text("the old output\n", encoding="utf-8")
    args = ["--output", str(output), "--rejects", str(rejects), "--engine", engine]
    result = run("grade", str(policy_file), "--input", str(path), *args)
    assert result.exit_code == 2, result.output
    assert "cannot decode" in result.stderr
    assert output.read_text(encoding="utf-8") == "the old output\n"
    assert not rejects.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in.csv", "mini.grade", "out.csv"
    ]  # fmt: skip
    good = tmp_path / "good.csv"
    good.write_text(f"Account,Employees\n{rows}", encoding="utf-8")
    result = run("grade", str(policy_file), "--input", str(good), *args)
    assert result.exit_code == 0, result.output
    assert len(output.read_text(encoding="utf-8").splitlines()) == 50_001
    assert oct(output.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's mode


def test_outputs_keep_their_links_and_modes(tmp_path: Path) -> None:
    from tierwise.cli.common import written_whole

    real = tmp_path / "real.csv"
    real.write_text("old\n", encoding="utf-8")
    real.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with written_whole(str(link)) as stream:
        stream.write("new\n")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new\n"
    assert real.stat().st_mode & 0o777 == 0o600
    with pytest.raises(RuntimeError), written_whole(str(link)) as stream:
        stream.write("half")
        raise RuntimeError("the run failed")
    assert real.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]
    with written_whole("/dev/null") as stream:  # in place: /dev is not ours
        stream.write("nothing\n")
    assert Path("/dev/null").is_char_device()


def test_grade_with_a_broken_policy_exits_2(tmp_path: Path, accounts: Path) -> None:
    bad = tmp_path / "bad.grade"
    bad.write_text(POLICY.replace("A from 80", "A from 30"), "utf-8")
    result = run("grade", str(bad), "--input", str(accounts))
    assert result.exit_code == 2
    assert "error[TW105]: tier 'B' from 40 is listed below 'A' from 30" in result.stderr
    assert result.stdout == ""


def test_grade_warns_about_a_column_the_input_lacks(
    tmp_path: Path, policy_file: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Account,Employees\na,2000\n", "utf-8")
    result = run(
        "grade", str(policy_file), "--input", str(path), "--as-of", "2026-12-01"
    )
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == (
        f"warning: no column 'Industry' in {path}; "
        "that fact is missing for every account"
    )


# ---- explain ---------------------------------------------------------------------


def test_explain_from_a_file(policy_file: Path, accounts: Path) -> None:
    result = run(
        "explain", str(policy_file), "--input", str(accounts), "--id", "bolt",
        "--as-of", "2026-12-01",
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout == textwrap.dedent(
        """\
        bolt: tier B, score 40
        policy mini version 2, as of 2026-12-01

        criterion  weight  points  score  because
        Size           60      50     30  employees >= 100 (line 8)
        Industry       40      25     10  otherwise (line 12)
        total                         40

        actions: enroll "nurture" (route on line 21)
        """
    )


def test_explain_from_facts_shows_missing_facts(policy_file: Path) -> None:
    result = run(
        "explain",
        str(policy_file),
        "--facts",
        '{"industry": "Software"}',
        "--as-of",
        "2026-12-01",
    )
    assert result.exit_code == 0
    assert "Size           60       0      0  missing employees\n" in result.stdout
    assert result.stdout.endswith("missing facts: employees\n")


def test_explain_needs_an_account(policy_file: Path) -> None:
    result = run("explain", str(policy_file))
    assert result.exit_code == 2
    assert "give either --input FILE --id ID, or --facts JSON" in result.stderr


def test_explain_an_unknown_id(policy_file: Path, accounts: Path) -> None:
    result = run("explain", str(policy_file), "--input", str(accounts), "--id", "zzz")
    assert result.exit_code == 2
    assert result.stderr == f"error: no account with id 'zzz' in {accounts}\n"


JSON_INPUTS = [
    pytest.param(
        "in.json",
        '[{"Account": "a", "Employees": 2000, "Industry": "Software"},\n'
        ' {"Account": "b", "Employees": "x"}]',
        ["a,A,100"],
        [("2", "b", "Employees", "x")],
        id="json-array",
    ),
    pytest.param(
        "in.json",
        '{"a": {"Employees": 2000, "Industry": "Software"}, "b": {"Employees": 5}}',
        ["a,A,100", "b,C,0"],
        [],
        id="json-object-keyed-by-id",
    ),
    pytest.param(
        "in.jsonl",
        '{"Account": "a", "Employees": 2000, "Industry": "Software"}\n'
        "\n"
        "{not json\n"
        "[1, 2]\n",
        ["a,A,100"],
        [("3", "", "", ""), ("4", "", "", "")],
        id="json-lines",
    ),
]


@pytest.mark.parametrize(("name", "text", "graded", "rejected"), JSON_INPUTS)
def test_grade_json_inputs(
    tmp_path: Path,
    policy_file: Path,
    name: str,
    text: str,
    graded: list[str],
    rejected: list[tuple[str, str, str, str]],
) -> None:
    path, rejects = tmp_path / name, tmp_path / "rejects.csv"
    path.write_text(text, "utf-8")
    result = run(
        "grade", str(policy_file), "--input", str(path), "--rejects", str(rejects),
        "--as-of", "2026-12-01",
    )  # fmt: skip
    assert result.exit_code == (1 if rejected else 0)
    rows = [",".join(row[:3]) for row in csv.reader(result.stdout.splitlines()[1:])]
    assert rows == graded
    found = list(csv.reader(rejects.read_text("utf-8").splitlines()))[1:]
    assert [tuple(row[:4]) for row in found] == rejected
    assert all(row[4] for row in found)  # every reject has a reason


def test_explain_refuses_a_row_grade_would_reject(
    tmp_path: Path, policy_file: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Account,Employees,Industry\nshort,5\n", "utf-8")
    result = run("explain", str(policy_file), "--input", str(path), "--id", "short")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:2: account 'short' cannot be graded: the row has 2 fields "
        "but the header has 3\n"
    )


def test_explain_names_a_missing_id_column(policy_file: Path, accounts: Path) -> None:
    result = run(
        "explain", str(policy_file), "--input", str(accounts), "--id", "acme",
        "--id-column", "Name",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == f"error: no column 'Name' in {accounts}\n"
    found = run(
        "explain", str(policy_file), "--input", str(accounts), "--id", "acme",
        "--id-column", "account", "--as-of", "2026-12-01",
    )  # fmt: skip
    assert found.stdout.startswith("acme: tier A, score 100\n")


def test_explain_says_when_a_division_by_zero_decided(tmp_path: Path) -> None:
    path = tmp_path / "ratio.grade"
    path.write_text(
        'policy "r" version 1\nfacts\n  revenue money\n  staff int\n'
        'criterion "Ratio" weight 100\n  revenue / staff > 10 => 100\n'
        "tiers\n  A from 50\n  B below 50\n",
        "utf-8",
    )
    facts = '{"revenue": "100", "staff": "0"}'
    result = run("explain", str(path), "--facts", facts, "--as-of", "2026-12-01")
    row = result.stdout.splitlines()[4]
    assert row.split() == "Ratio 100 0 0 a condition could not be decided".split() + [
        "(division",
        "by",
        "zero)",
    ]


@pytest.mark.parametrize(
    ("engine", "option", "other"),
    [
        *((engine, option, None) for engine in ("rows", "columns")
          for option in ("--output", "--rejects")),
        ("rows", "--audit", None),  # the columnar engine writes no audit file
        ("rows", "--rejects", "--output"),
        ("columns", "--rejects", "--output"),
    ],
)  # fmt: skip
def test_grade_refuses_to_write_over_its_input(
    policy_file: Path, accounts: Path, option: str, other: str | None, engine: str
) -> None:
    pytest.importorskip("polars")
    before = accounts.read_text("utf-8")
    output = accounts.parent / "out.csv"
    target = output if other else accounts
    args = [option, str(target), *([other, str(output)] if other else [])]
    result = run(
        "grade", str(policy_file), "--input", str(accounts), "--engine", engine, *args
    )
    assert result.exit_code == 2
    clash = f"{option} {target} is the same file as {other or '--input'}"
    assert result.stderr == f"error: {clash}; writing it would destroy it\n"
    assert accounts.read_text("utf-8") == before


@pytest.mark.parametrize("engine", ["rows", "columns"])
@pytest.mark.parametrize("where", [("no", "such", "out.csv"), ("adir",)])
def test_grade_names_an_unwritable_output(
    policy_file: Path, accounts: Path, engine: str, where: tuple[str, ...]
) -> None:
    pytest.importorskip("polars")
    (accounts.parent / "adir").mkdir()
    result = run(
        "grade", str(policy_file), "--input", str(accounts), "--engine", engine,
        "--output", str(accounts.parent.joinpath(*where)),
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot write ")
    reason = "No such file or directory" if len(where) > 1 else "Is a directory"
    assert reason in result.stderr


def test_grade_refuses_an_input_without_any_policy_column(
    tmp_path: Path, policy_file: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Account;Employees;Industry\na;5;x\n", "utf-8")
    result = run("grade", str(policy_file), "--input", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        "error: the input has none of the columns the policy reads ('Employees', "
        "'Industry', 'Customer'); is it the right file, with the right --delimiter "
        "and --encoding?\n"
    )
    tab = tmp_path / "in.tsv"
    tab.write_text("Account\tEmployees\tIndustry\na\t5000\tSoftware\n", "utf-8")
    read = run(
        "grade", str(policy_file), "--input", str(tab), "--delimiter", "\\t",
        "--as-of", "2026-12-01",
    )  # fmt: skip
    assert read.exit_code == 0
    assert read.stdout.splitlines()[1].startswith("a,A,100,")


def test_grade_id_column_in_any_case_or_an_error(
    policy_file: Path, accounts: Path
) -> None:
    found = run(
        "grade", str(policy_file), "--input", str(accounts), "--id-column", "INDUSTRY",
        "--as-of", "2026-12-01",
    )  # fmt: skip
    assert found.stdout.splitlines()[1].startswith("Software,A,100,")
    missing = run(
        "grade", str(policy_file), "--input", str(accounts), "--id-column", "Key"
    )
    assert missing.exit_code == 2
    assert missing.stderr == "error: no column 'Key' (--id-column) in the input\n"


def test_grade_reads_standard_input(policy_file: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["grade", str(policy_file), "--input", "-", "--as-of", "2026-12-01"],
        input=ACCOUNTS,
    )
    assert result.exit_code == 1  # the same accounts, the same reject
    assert result.stdout.splitlines()[1:] == [
        'acme,A,100,"Size +60, Industry +40",assign ae',
        'bolt,B,40,"Size +30, Industry +10",enroll nurture',
        "dyna,,10,excluded by 'Customers': account management,",
    ]


def test_grade_inside_a_database_and_column_by_column(
    tmp_path: Path, policy_file: Path, accounts: Path
) -> None:
    import sqlite3

    database = tmp_path / "accounts.db"
    with sqlite3.connect(database) as connection:
        connection.execute(
            'create table accounts ("Account" text, "Employees" text, '
            '"Industry" text, "Customer" text)'
        )
        connection.executemany(
            "insert into accounts values (?, ?, ?, ?)",
            [("acme", "5,000", " Software ", "no"), ("bolt", "150", "Retail", "")],
        )
    pushed = run(
        "grade", str(policy_file), "--source", f"sqlite:///{database}",
        "--table", "accounts", "--as-of", "2026-12-01",
    )  # fmt: skip
    assert pushed.exit_code == 0, pushed.stderr
    assert pushed.stdout.splitlines() == [
        "id,tier,score,reason",
        "acme,A,100,",
        "bolt,B,40,",
    ]
    columns = run(
        "grade", str(policy_file), "--input", str(accounts), "--engine", "columns",
        "--as-of", "2026-12-01",
    )  # fmt: skip
    rows = run(
        "grade", str(policy_file), "--input", str(accounts), "--engine", "rows",
        "--as-of", "2026-12-01",
    )  # fmt: skip
    assert columns.stdout == rows.stdout
    assert columns.exit_code == rows.exit_code == 1


def test_an_interrupted_run_exits_130_not_1(
    policy_file: Path, accounts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tierwise.engine import run as run_module

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "grade_records", interrupted)
    output = accounts.parent / "out.csv"
    result = run(
        "grade", str(policy_file), "--input", str(accounts), "--engine", "rows",
        "--output", str(output),
    )  # fmt: skip
    assert (result.exit_code, result.stderr) == (130, "interrupted\n")
    assert sorted(p.name for p in accounts.parent.iterdir()) == [
        "accounts.csv", "mini.grade"
    ]  # fmt: skip
