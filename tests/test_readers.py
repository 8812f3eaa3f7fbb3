"""Reading account files: every record comes out, with the line it starts on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.dsl.errors import InputError
from tierwise.engine.readers import RecordReader


def records(tmp_path: Path, name: str, content: str | bytes, **options: str) -> list:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return [(r.line, r.values, r.problem) for r in RecordReader(path, **options)]


def test_rows_of_the_wrong_width_or_empty_are_marked(tmp_path: Path) -> None:
    content = (
        "Id,Name,Employees\n1,A,500\n2,B\n3,C,7,extra\n4,D,9,,\n,,\n   \n\n5,E,1\n"
    )
    assert records(tmp_path, "in.csv", content) == [
        (2, ("1", "A", "500"), None),
        (3, ("2", "B"), "the row has 2 fields but the header has 3"),
        (4, ("3", "C", "7"), "the row has 4 fields but the header has 3"),
        (5, ("4", "D", "9"), None),  # trailing empty fields, as spreadsheets add
        (6, ("", "", ""), "every field of the row is empty"),
        (7, ("   ",), "the row has 1 fields but the header has 3"),
        (9, ("5", "E", "1"), None),
    ]


def test_blank_lines_before_the_header_are_skipped(tmp_path: Path) -> None:
    assert records(tmp_path, "in.csv", "\n\nId,N\n1,2\n") == [(4, ("1", "2"), None)]


def test_a_quoted_value_may_span_lines_and_be_long(tmp_path: Path) -> None:
    note = "note line\n" * 20_000
    content = f'Id,Notes,N\n1,"{note}",5\n2,short,6\n'
    found = records(tmp_path, "in.csv", content)
    assert [(line, values[0], problem) for line, values, problem in found] == [
        (2, "1", None),
        (20_003, "2", None),
    ]


def test_an_unclosed_quote_is_explained(tmp_path: Path) -> None:
    found = records(tmp_path, "in.csv", 'Id,N\n1,"a"b\n2,3\n')
    assert found[0][2] == (
        "a quoted value is not closed properly: a '\"' inside a quoted value must "
        "be doubled"
    )
    assert found[1] == (3, ("2", "3"), None)


def test_a_byte_order_mark_left_by_an_explicit_encoding_is_not_a_name(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("Id,N\n1,2\n".encode("utf-8-sig"))
    (record,) = RecordReader(path, encoding="utf-8")
    assert record.fields == ("Id", "N")


def test_json_array_records_keep_their_lines(tmp_path: Path) -> None:
    content = '[\n  {"id": 1},\n\n  {"id": 2,\n   "n": 3},\n  [4]\n]\n'
    assert records(tmp_path, "in.json", content) == [
        (2, (1,), None),
        (4, (2, 3), None),
        (6, (), "expected a JSON object, got a list"),
    ]


def test_json_lines_with_unreadable_lines(tmp_path: Path) -> None:
    huge = "1" * 5000
    content = f'{{"id": 1}}\n\n{{bad\n{{"n": {huge}}}\nnull\n'
    found = records(tmp_path, "in.jsonl", content)
    assert [(line, problem is None) for line, _, problem in found] == [
        (1, True),
        (3, False),
        (4, False),
        (5, False),
    ]
    assert found[3][2] == "expected a JSON object, got null"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "input file {p} does not exist"),
        (lambda p: p.mkdir(), "input {p} is a folder, not a file"),
        (
            lambda p: p.write_bytes(b"PK\x03\x04rest"),
            "{p} looks like a spreadsheet workbook (.xlsx); export it as CSV",
        ),
    ],
    ids=["missing", "folder", "workbook"],
)
def test_unreadable_inputs_are_refused(tmp_path: Path, setup, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "accounts.csv"
    setup(path)
    with pytest.raises(InputError) as caught:
        RecordReader(path)
    assert str(caught.value) == message.format(p=path)


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n"])
def test_a_bad_delimiter_is_refused(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a\n", "utf-8")
    with pytest.raises(InputError, match="the delimiter must be one character"):
        RecordReader(path, delimiter=delimiter)
