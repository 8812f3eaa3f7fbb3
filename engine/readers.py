"""Account records from CSV, JSON and JSON Lines files, streamed.

Every record keeps the line it starts on so that a rejected record can be
found in the file. CSV follows RFC 4180 with any line ending (CRLF, LF or a
bare CR as old Mac exports use); a byte-order mark picks UTF-8 or UTF-16 by
itself, and other encodings (Mac Roman, Latin-1) are named by the caller.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tierwise.dsl.errors import InputError

FORMATS = ("csv", "json", "jsonl")


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


def detect_encoding(path: Path, given: str | None) -> str:
    """The caller's encoding, or the one a byte-order mark announces, or UTF-8."""
    if given:
        try:
            codecs.lookup(given)
        except LookupError:
            raise InputError(f"unknown encoding '{given}'") from None
        return given
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
        if not self.path.is_file():
            raise InputError(f"input file {self.path} does not exist")
        self.format = detect_format(self.path, format)
        if self.format not in FORMATS:
            raise InputError(f"unknown input format '{self.format}'")
        self.encoding = detect_encoding(self.path, encoding)
        self.delimiter = delimiter
        self.size = self.path.stat().st_size
        self._binary: IO[bytes] | None = None

    @property
    def position(self) -> int:
        """Bytes read so far, for a progress bar."""
        return self._binary.tell() if self._binary and not self._binary.closed else 0

    def __iter__(self) -> Iterator[InputRecord]:
        with self.path.open("rb") as binary:
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

    def _csv(self, text: IO[str]) -> Iterator[InputRecord]:
        lines = _Lines(text)
        reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"{self.path}:1: cannot read the header: {exc}") from None
        fields = tuple(name.strip() for name in header)
        while True:
            start = lines.count + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield InputRecord(start, fields, (), f"malformed CSV: {exc}")
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
            yield _json_record(number, data)

    def _json(self, text: IO[str]) -> Iterator[InputRecord]:
        try:
            data = json.load(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{self.path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
            ) from None
        if isinstance(data, dict):  # an object of records keyed by their id
            items = [
                {"id": key, **value} if isinstance(value, dict) else value
                for key, value in data.items()
            ]
        elif isinstance(data, list):
            items = data
        else:
            raise InputError(f"{self.path}: expected a list of records or an object")
        for number, item in enumerate(items, start=1):
            yield _json_record(number, item)


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
    if len(row) > len(fields):
        extra = [value for value in row[len(fields) :] if value.strip()]
        if extra:
            problem = f"the row has {len(row)} fields but the header has {len(fields)}"
            return InputRecord(line, fields, tuple(row[: len(fields)]), problem)
        row = row[: len(fields)]
    if len(row) < len(fields):
        row = row + [""] * (len(fields) - len(row))
    return InputRecord(line, fields, tuple(row))


def _json_record(line: int, data: Any) -> InputRecord:
    if not isinstance(data, dict):
        kind = type(data).__name__
        return InputRecord(line, (), (), f"expected a JSON object, got {kind}")
    return InputRecord(line, tuple(data), tuple(data.values()))
