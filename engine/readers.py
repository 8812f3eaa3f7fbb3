"""Account records from CSV, JSON and JSON Lines files, streamed.

Every record keeps the line it starts on so that a rejected record can be
found in the file. CSV follows RFC 4180 with any line ending (CRLF, LF or a
bare CR as old Mac exports use); a byte-order mark picks UTF-8 or UTF-16 by
itself, and other encodings (Mac Roman, Latin-1) are named by the caller.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tierwise.dsl.errors import InputError

FORMATS = ("csv", "json", "jsonl")
# The csv module refuses values over 128 KiB by default; free-text columns
# (notes, descriptions) in real exports can be longer.
FIELD_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class InputRecord:
    line: int  # where the record starts in the file (1-based)
    fields: tuple[str, ...]  # the names of `values`, in order
    values: tuple[Any, ...]
    problem: str | None = None  # set when the record is malformed as a whole


def detect_format(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    return "json" if suffix == "json" else "csv"


def detect_encoding(path: Path | None, given: str | None) -> str:
    """The caller's encoding, or the one a byte-order mark announces, or UTF-8."""
    if given:
        try:
            codecs.lookup(given)
        except LookupError:
            raise InputError(f"unknown encoding '{given}'") from None
        return given
    if path is None:
        return "utf-8-sig"
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


class RecordReader:
    """Iterates the records of one file; `position` tells how far it has read."""

    def __init__(
        self,
        path: str | Path,
        *,
        format: str | None = None,
        encoding: str | None = None,
        delimiter: str = ",",
    ):
        self.path = Path(path)
        self.stdin = str(path) == "-"
        if not self.stdin:
            _check_readable(self.path)
        self.format = detect_format(self.path, format)
        if self.format not in FORMATS:
            raise InputError(f"unknown input format '{self.format}'")
        if len(delimiter) != 1 or delimiter in '\r\n"':
            raise InputError(
                f"the delimiter must be one character other than a quote or a "
                f"line break, not {delimiter!r}"
            )
        if self.stdin:
            self.encoding = detect_encoding(None, encoding)
        else:
            self.encoding = detect_encoding(self.path, encoding)
        self.delimiter = delimiter
        self.size = 0 if self.stdin else self.path.stat().st_size
        self._binary: IO[bytes] | None = None

    @property
    def position(self) -> int:
        """Bytes read so far, for a progress bar."""
        return self._binary.tell() if self._binary and not self._binary.closed else 0

    def __iter__(self) -> Iterator[InputRecord]:
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
        with self._open() as binary:
            self._binary = binary
            # newline="" splits lines on CRLF, LF and a bare CR alike and keeps
            # them, as the csv module wants.
            text = io.TextIOWrapper(binary, encoding=self.encoding, newline="")
            try:
                if self.format == "csv":
                    yield from self._csv(text)
                elif self.format == "jsonl":
                    yield from self._jsonl(text)
                else:
                    yield from self._json(text)
            except UnicodeDecodeError as exc:
                line, offset = locate_decode_error(self.path, self.encoding)
                raise InputError(
                    f"{self.path}:{line}: cannot decode the file as {self.encoding} "
                    f"({exc.reason} at byte {offset}); pass --encoding, for "
                    "example --encoding mac_roman or --encoding latin-1"
                ) from None

    def _open(self) -> AbstractContextManager[IO[bytes]]:
        if self.stdin:  # read, but not closed: it is not ours
            return contextlib.nullcontext(sys.stdin.buffer)
        return self.path.open("rb")

    def _csv(self, text: IO[str]) -> Iterator[InputRecord]:
        lines = _Lines(text)
        reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
        header: list[str] = []
        while not header:  # blank lines before the header are not the header
            try:
                header = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(
                    f"{self.path}:{lines.count}: cannot read the header: "
                    f"{csv_problem(exc)}"
                ) from None
        # A byte-order mark the caller's encoding did not remove is not a name.
        fields = tuple(name.strip().lstrip("\ufeff") for name in header)
        while True:
            start = lines.count + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield InputRecord(start, fields, (), csv_problem(exc))
                continue
            if not row:  # a blank line is not a record
                continue
            yield _csv_record(start, fields, row)

    def _jsonl(self, text: IO[str]) -> Iterator[InputRecord]:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield InputRecord(number, (), (), f"not valid JSON: {exc.msg}")
                continue
            except ValueError as exc:  # e.g. an integer of thousands of digits
                yield InputRecord(number, (), (), f"not readable JSON: {exc}")
                continue
            yield _json_record(number, data)

    def _json(self, text: IO[str]) -> Iterator[InputRecord]:
        """A JSON array of records, or an object of records keyed by their id.

        The file is read whole, but records are decoded one at a time so each
        keeps the line it starts on.
        """
        content = text.read()
        start = _skip_space(content, 0)
        if content[start : start + 1] == "{":
            yield from self._json_object(content)
            return
        if content[start : start + 1] != "[":
            raise InputError(
                f"{self.path}: expected a JSON list of records or an object"
            )
        decoder = json.JSONDecoder()
        position = _skip_space(content, start + 1)
        while content[position : position + 1] not in ("]", ""):
            line = content.count("\n", 0, position) + 1
            try:
                item, position = decoder.raw_decode(content, position)
            except ValueError as exc:
                raise InputError(f"{self.path}:{line}: not valid JSON: {exc}") from None
            yield _json_record(line, item)
            position = _skip_space(content, position)
            if content[position : position + 1] == ",":
                position = _skip_space(content, position + 1)

    def _json_object(self, content: str) -> Iterator[InputRecord]:
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise InputError(f"{self.path}: not valid JSON: {exc}") from None
        for number, (key, value) in enumerate(data.items(), start=1):
            record = {"id": key, **value} if isinstance(value, dict) else value
            yield _json_record(number, record)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(f"input file {path} does not exist")
    if path.is_dir():
        raise InputError(f"input {path} is a folder, not a file")
    with path.open("rb") as handle:
        start = handle.read(4)
    if start == b"PK\x03\x04":
        raise InputError(
            f"{path} looks like a spreadsheet workbook (.xlsx); export it as CSV"
        )


def locate_decode_error(path: Path, encoding: str) -> tuple[int, int]:
    """The line and file offset of the first byte `encoding` cannot decode.

    The text reader decodes ahead in chunks, so its error does not say where
    in the file the bad byte is; this reads the file again to find out.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(65536):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # The decoder may hold back a few bytes of the previous chunk.
                bad = max(0, offset + exc.start - len(exc.object) + len(chunk))
                head = path.read_bytes()[:bad]
                line_break = b"\n" if b"\n" in head else b"\r"
                return head.count(line_break) + 1, bad
            offset += len(chunk)
    return 0, offset


class _Lines:
    """File lines for the csv module, counting them as they go."""

    def __init__(self, text: IO[str]):
        self._text = text
        self.count = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._text)
        self.count += 1
        return line


def _csv_record(line: int, fields: tuple[str, ...], row: list[str]) -> InputRecord:
    """A row as a record; a row of the wrong width or with nothing in it is marked.

    Empty fields after the last column are tolerated (spreadsheets add them);
    anything else that does not line up with the header would be misread.
    """
    if len(row) > len(fields) and not any(v.strip() for v in row[len(fields) :]):
        row = row[: len(fields)]
    if len(row) != len(fields):
        problem = f"the row has {len(row)} fields but the header has {len(fields)}"
        return InputRecord(line, fields, tuple(row[: len(fields)]), problem)
    if not any(value.strip() for value in row):
        return InputRecord(line, fields, tuple(row), "every field of the row is empty")
    return InputRecord(line, fields, tuple(row))


def csv_problem(exc: csv.Error) -> str:
    """The csv module's complaint in the words of someone who exports spreadsheets."""
    text = str(exc)
    if "expected after" in text:
        return (
            "a quoted value is not closed properly: a '\"' inside a quoted value "
            "must be doubled"
        )
    if "unexpected end of data" in text:
        return "the file ends inside a quoted value"
    if "field larger than field limit" in text:
        return f"a value is longer than {FIELD_LIMIT:,} characters"
    return f"malformed CSV: {text}"


_JSON_KINDS = {list: "a list", str: "text", bool: "true or false", type(None): "null"}


def _json_record(line: int, data: Any) -> InputRecord:
    if not isinstance(data, dict):
        kind = _JSON_KINDS.get(type(data), "a number")
        return InputRecord(line, (), (), f"expected a JSON object, got {kind}")
    return InputRecord(line, tuple(data), tuple(data.values()))
