"""Input for the columnar path: CSV, JSON Lines and Parquet as batches of columns.

Every batch is a `RawBatch`: one text column per fact (`r0`, `r1`, ...), the
record's line, its id and a problem that makes the whole record unreadable,
exactly as `engine/readers.py` would report them record by record.

CSV is read in blocks of bytes cut after a line break and parsed by polars.
A block is trusted only when cheap counts prove that polars read it as the
csv module does (`_plain_block`): polars refuses most stray quotes itself, and
the block's length must equal its values' lengths plus exactly one separator
fewer than the header has columns per row, plus its quotes and line breaks.
That rules out short, long and blank rows and line breaks inside values, so
each record starts on the block's first line plus its row number. A block
with line breaks inside quoted values is checked again by counting the
separators inside values (`_fields_agree`), and its lines are the rows before
a record plus the line breaks inside their values. A block that fails, and
everything after it, is read by `RecordReader` instead, so malformed files
get the per-account reader's exact lines and reasons.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import polars as pl

from tierwise.dsl.errors import InputError
from tierwise.engine.policy import CompiledPolicy
from tierwise.engine.readers import (
    FIELD_LIMIT,
    InputRecord,
    RecordReader,
    csv_problem,
    detect_encoding,
    locate_decode_error,
)
from tierwise.engine.run import RunSummary, bind_fields, unbound

logger = logging.getLogger(__name__)

# What Python's str.strip() removes: the csv reader's ids and "empty" use it.
PY_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
    "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
LINE = "__line"
IDENT = "__id"
PROBLEM = "__problem"
BLOCK_BYTES = 8 * 1024 * 1024
BATCH_ROWS = 100_000


@dataclass
class RawBatch:
    """Records as columns: `r{i}` is fact i's raw text (null: no such field)."""

    frame: pl.DataFrame
    names: list[str]  # the field each fact is read from, for rejects
    typed: dict[int, dict[int, Any]] = field(default_factory=dict)
    row_names: dict[int, list[str]] = field(default_factory=dict)


class Binding:
    """Which column each fact and the id come from, for one set of fields.

    It is `grade_records`' own binding, errors included: the first record of
    an input with none of the policy's columns, or without the --id-column,
    stops the run.
    """

    def __init__(
        self,
        policy: CompiledPolicy,
        fields: tuple[str, ...],
        id_field: str | None,
        first: bool,
        header: bool = True,
    ):
        probe = RunSummary("", "", read=1 if first else 2)
        _, self.positions, self.id_position = bind_fields(
            policy, fields, id_field, probe, header
        )
        self.fields = fields
        self.unread = unbound(policy, self.positions)
        self.names = [
            fields[p] if p is not None else fact.name
            for p, fact in zip(self.positions, policy.facts)
        ]


# ---- CSV ---------------------------------------------------------------------


class CsvSource:
    """The records of a CSV file, as batches of columns."""

    def __init__(
        self,
        path: Path,
        policy: CompiledPolicy,
        *,
        encoding: str | None,
        delimiter: str,
        id_field: str | None,
        block_bytes: int = BLOCK_BYTES,
    ):
        _check_delimiter(delimiter)
        self.path = path
        self.policy = policy
        self.encoding = detect_encoding(path, encoding)
        self.delimiter = delimiter
        self.id_field = id_field
        self.block_bytes = block_bytes
        self.binding: Binding | None = None
        self.fallback_from: int | None = None  # record count where blocks gave up
        self._fallback_batcher: RecordBatcher | None = None

    def unread(self) -> list[str]:
        """The policy's columns the file lacks, whichever reader saw its header."""
        if self.binding is not None:
            return list(self.binding.unread)
        if self._fallback_batcher is not None:
            return list(self._fallback_batcher.unread)
        return []

    def batches(self) -> Iterator[RawBatch]:
        stream = _Utf8Stream(self.path, self.encoding, self.block_bytes)
        try:
            yield from self._blocks(stream)
        finally:
            stream.close()

    def _blocks(self, stream: _Utf8Stream) -> Iterator[RawBatch]:
        header, line, rest = _read_header(stream, self.delimiter, self.path)
        if header is None:
            return
        done = 0
        blocks = _Blocks(stream, self.block_bytes, rest)
        for chunk in blocks:
            parsed = _parse_block(chunk, len(header), self.delimiter, line)
            if parsed is None and blocks.recut(chunk):
                chunk = next(iter(blocks))
                parsed = _parse_block(chunk, len(header), self.delimiter, line)
            if parsed is None:
                self.fallback_from = done
                logger.info(
                    "%s: the csv module reads on from record %d", self.path, done
                )
                yield from self._fallback(done)
                return
            frame, lines = parsed
            line += lines
            if frame.height == 0:
                continue
            if self.binding is None:  # as `grade_records`, on the first record
                self.binding = Binding(self.policy, header, self.id_field, True)
            done += frame.height
            yield self._batch(frame)

    def _batch(self, frame: pl.DataFrame) -> RawBatch:
        binding = self.binding
        assert binding is not None
        columns = [
            (pl.col(f"c{p}") if p is not None else pl.lit(None, pl.String)).alias(
                f"r{i}"
            )
            for i, p in enumerate(binding.positions)
        ]
        ident = pl.lit(None, pl.String)
        if binding.id_position is not None:
            ident = pl.col(f"c{binding.id_position}").str.strip_chars(PY_SPACE)
        frame = frame.select(
            pl.col(LINE),
            ident.alias(IDENT),
            _empty_rows(frame, len(binding.fields)).alias(PROBLEM),
            *columns,
        )
        return RawBatch(frame, list(binding.names))

    def _fallback(self, done: int) -> Iterator[RawBatch]:
        reader = RecordReader(
            self.path, format="csv", encoding=self.encoding, delimiter=self.delimiter
        )
        batcher = RecordBatcher(self.policy, self.id_field, started=done > 0)
        self._fallback_batcher = batcher
        yield from record_batches(reader, batcher, BATCH_ROWS, skip=done)


def _check_delimiter(delimiter: str) -> None:
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise InputError(
            f"the delimiter must be one character other than a quote or a "
            f"line break, not {delimiter!r}"
        )


class _Utf8Stream:
    """The file's text as UTF-8 bytes, block by block, whatever its encoding.

    UTF-8 files pass through as they are (polars refuses invalid UTF-8, and the
    csv module then reports it as the per-account path does); others are
    decoded and encoded again.
    """

    def __init__(self, path: Path, encoding: str, block_bytes: int):
        self.path = path
        self.encoding = encoding
        self.block_bytes = block_bytes
        self._handle: IO[bytes] = path.open("rb")
        name = codecs.lookup(encoding).name
        self._passthrough = name in ("utf-8", "utf-8-sig")
        self._bom = name == "utf-8-sig"
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self.done = False

    def close(self) -> None:
        self._handle.close()

    def read(self) -> bytes:
        if self.done:
            return b""
        block = self._handle.read(self.block_bytes)
        if not block:
            self.done = True
            self._handle.close()
        if self._passthrough:
            if self._bom and block.startswith(codecs.BOM_UTF8):
                block = block[len(codecs.BOM_UTF8) :]
            self._bom = False
            return block
        try:
            text = self._decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            self._handle.close()
            raise decode_error(self.path, self.encoding, exc.reason) from None
        return text.encode("utf-8")


def decode_error(path: Path, encoding: str, reason: str) -> InputError:
    """The per-account reader's message for a file that is not in `encoding`."""
    line, offset = locate_decode_error(path, encoding)
    return InputError(
        f"{path}:{line}: cannot decode the file as {encoding} "
        f"({reason} at byte {offset}); pass --encoding, for "
        "example --encoding mac_roman or --encoding latin-1"
    )


def _read_header(
    stream: _Utf8Stream, delimiter: str, path: Path
) -> tuple[tuple[str, ...] | None, int, bytes]:
    """The header row, the line the first record starts on and the bytes read
    past the header.

    The header is read by the csv module, line by line, as `RecordReader` does.
    """
    lines = _HeaderLines(stream)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    header: list[str] = []
    while not header:
        try:
            header = next(reader)
        except StopIteration:
            return None, 0, b""
        except csv.Error as exc:
            raise InputError(
                f"{path}:{lines.count}: cannot read the header: {csv_problem(exc)}"
            ) from None
    fields = tuple(name.strip().lstrip("\ufeff") for name in header)
    return fields, lines.count + 1, lines.buffer


class _HeaderLines:
    """Lines of the stream for the csv module, keeping what it did not take."""

    def __init__(self, stream: _Utf8Stream):
        self.stream = stream
        self.buffer = b""
        self.count = 0

    def __iter__(self) -> _HeaderLines:
        return self

    def __next__(self) -> str:
        end = self._line_end()
        while end < 0 and not self.stream.done:
            self.buffer += self.stream.read()
            end = self._line_end()
        if end < 0:
            end = len(self.buffer)
        if end == 0:
            raise StopIteration
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        self.count += 1
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise decode_error(
                self.stream.path, self.stream.encoding, exc.reason
            ) from None

    def _line_end(self) -> int:
        """Where the first line ends (after its line break), or -1 if unknown yet."""
        cr, lf = self.buffer.find(b"\r"), self.buffer.find(b"\n")
        if lf >= 0 and (cr < 0 or lf < cr):
            return lf + 1
        if cr < 0:
            return -1
        if cr + 1 < len(self.buffer):
            return cr + 2 if self.buffer[cr + 1 : cr + 2] == b"\n" else cr + 1
        return cr + 1 if self.stream.done else -1


class _Blocks:
    """Blocks of the records' bytes, each cut after a line break.

    A block is cut at its last line break. When polars then cannot read it
    (the cut fell inside a quoted value), `recut` cuts it again at the last
    line break with an even number of quotes before it.
    """

    def __init__(self, stream: _Utf8Stream, block_bytes: int, start: bytes):
        self.stream = stream
        self.block_bytes = block_bytes
        self.buffer = start
        self._careful = False

    def __iter__(self) -> Iterator[bytes]:
        while True:
            while len(self.buffer) < self.block_bytes and not self.stream.done:
                self.buffer += self.stream.read()
            if not self.buffer:
                return
            cut = len(self.buffer) if self.stream.done else self._cut()
            if cut <= 0:
                self.buffer += self.stream.read()
                continue
            chunk, self.buffer = self.buffer[:cut], self.buffer[cut:]
            self._careful = False
            yield chunk

    def recut(self, chunk: bytes) -> bool:
        """Put `chunk` back to be cut by quote parity; False if it already was."""
        if self._careful or self.stream.done and not self.buffer:
            return False
        self.buffer = chunk + self.buffer
        self._careful = True
        return True

    def _cut(self) -> int:
        data = self.buffer
        eol = b"\n" if b"\n" in data else b"\r"
        # A CR at the very end may be the first half of a CRLF: not a cut.
        end = data.rfind(eol, 0, len(data) - (eol == b"\r"))
        if not self._careful:
            return end + 1
        quotes = data.count(b'"', 0, end)
        while end > 0 and quotes % 2:
            previous = data.rfind(eol, 0, end)
            quotes -= data.count(b'"', max(previous, 0), end)
            end = previous
        return end + 1 if end >= 0 else 0


def _line_count(chunk: bytes) -> int:
    """Physical lines in `chunk`, as Python's universal newlines count them."""
    breaks = chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
    return breaks + (0 if chunk.endswith((b"\n", b"\r")) else 1)


def _parse_block(
    chunk: bytes, width: int, delimiter: str, first_line: int
) -> tuple[pl.DataFrame, int] | None:
    """Columns `c0`... with each record's line, and the block's line count; None
    when the block is not provably read as the csv module reads it."""
    if width < 2 or b"\x00" in chunk:
        return None
    eol = "\n" if b"\n" in chunk else "\r"
    body = chunk.lstrip(b"\r\n")
    lead = _line_count(chunk[: len(chunk) - len(body)]) if len(body) < len(chunk) else 0
    trimmed = _trim_trailing_blank_lines(body)
    trail = _line_count(body[len(trimmed) :]) if len(trimmed) < len(body) else 0
    frame = _read_block(trimmed, width, delimiter, eol)
    if frame is None:
        return None
    if _plain_block(frame, trimmed, width):
        start = pl.int_range(pl.len(), dtype=pl.Int64) + first_line + lead
        return frame.with_columns(start.alias(LINE)), lead + frame.height + trail
    if not _fields_agree(frame, trimmed, delimiter, width, eol):
        return None
    framed = _with_lines(frame, trimmed, eol, first_line + lead)
    if framed is None:
        return None
    return framed[0], lead + framed[1] + trail


def _read_block(
    body: bytes, width: int, delimiter: str, eol: str
) -> pl.DataFrame | None:
    names = [f"c{k}" for k in range(width)]
    try:
        return pl.read_csv(
            body,
            has_header=False,
            new_columns=names,
            schema=dict.fromkeys(names, pl.String),
            separator=delimiter,
            quote_char='"',
            eol_char=eol,
            empty_string_is_null=False,
            raise_if_empty=False,
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError:  # stray quotes, too many fields, bad UTF-8
        return None


def _trim_trailing_blank_lines(body: bytes) -> bytes:
    """Blank lines after the last record are no records (the csv module skips them).

    Only the last bytes are stripped unless they are all line breaks: copying
    a whole block twice to drop nothing cost more than reading it.
    """
    last = body[-4:]
    kept = len(last.rstrip(b"\r\n"))
    end = len(body) - len(last) + kept if kept else len(body.rstrip(b"\r\n"))
    end += 2 if body.startswith(b"\r\n", end) else min(1, len(body) - end)
    return body if end == len(body) else body[:end]


def _plain_block(frame: pl.DataFrame, body: bytes, width: int) -> bool:
    """Whether every record is one line of exactly `width` fields, proved by
    counting bytes.

    Each byte of the block is in a value, a separator, a line break or a
    quote. With Q quotes in the block, q of them kept in values (a doubled
    quote keeps one) and E line-break bytes of which e are in values,
    len(block) = sum(len(values)) + S + (Q - q) + (E - e), where S counts
    the separators. So X = len(block) - sum(len(values)) - Q - E = S - q - e.
    Polars refuses a row with too many fields, so S <= rows x (width - 1);
    hence X + q = rows x (width - 1) only when S is exactly that and e = 0:
    no short or blank row and no line break inside a value (q is counted
    only when X alone falls short). Polars drops a CR that is not before an
    LF in some places, so a block with such a CR is never plain.
    """
    if frame.height == 0:
        return not body
    values = frame.select(
        pl.sum_horizontal(pl.col(c).str.len_bytes().sum() for c in frame.columns)
    ).item()
    quotes = body.count(b'"') if b'"' in body else 0
    if quotes % 2:  # a quoted value left open (polars may accept it)
        return False
    breaks = body.count(b"\n")
    if b"\r" in body:
        returns = body.count(b"\r")
        if returns != body.count(b"\r\n"):  # polars may drop a lone CR
            return False
        breaks += returns
    spare = len(body) - int(values or 0) - quotes - breaks
    wanted = frame.height * (width - 1)
    if spare == wanted or not quotes:
        return spare == wanted
    kept = _total(frame, lambda c: c.str.count_matches('"', literal=True))
    return spare + kept == wanted


def _fields_agree(
    frame: pl.DataFrame, body: bytes, delimiter: str, width: int, eol: str
) -> bool:
    """Every row has exactly `width` fields, and no CR stands alone.

    Polars refuses a row with too many fields; a short or blank row has fewer
    separators, so the separators outside values must add up to exactly
    (width - 1) per row.
    """
    if frame.height == 0:
        return not body.strip(b"\r\n")
    if eol == "\n" and body.count(b"\r") != body.count(b"\r\n"):
        return False  # a lone CR ends a line for the csv module, not for polars
    separators = body.count(delimiter.encode("utf-8"))
    if b'"' in body:  # only a quoted value can hold the separator
        if body.count(b'"') % 2:  # a quoted value left open
            return False
        separators -= _total(
            frame, lambda c: c.str.count_matches(delimiter, literal=True)
        )
    return separators == frame.height * (width - 1)


def _total(frame: pl.DataFrame, count: Any) -> int:
    total = frame.select(
        pl.sum_horizontal(count(pl.col(c)).sum() for c in frame.columns)
    )
    return int(total.item() or 0)


def _with_lines(
    frame: pl.DataFrame, body: bytes, eol: str, first_line: int
) -> tuple[pl.DataFrame, int] | None:
    """Each record's first line: the rows before it and the line breaks inside
    their quoted values (counted only when the block has more lines than rows)."""
    start = pl.int_range(pl.len(), dtype=pl.Int64) + first_line
    if not body:
        return frame.with_columns(start.alias(LINE)), 0
    breaks = body.count(eol.encode("utf-8"))
    lines = breaks + (0 if body.endswith(eol.encode("utf-8")) else 1)
    if lines == frame.height:
        return frame.with_columns(start.alias(LINE)), lines
    extra = pl.sum_horizontal(
        pl.col(c).str.count_matches(eol, literal=True) for c in frame.columns
    ).cast(pl.Int64)
    framed = frame.with_columns(
        (start + extra.cum_sum() - extra).alias(LINE), extra.alias("__extra")
    )
    if framed.height + int(framed["__extra"].sum()) != lines:
        return None
    return framed.drop("__extra"), lines


def _empty_rows(frame: pl.DataFrame, width: int) -> pl.Expr:
    """The problem of a row whose every field is blank (checked only for rows
    whose first field is blank)."""
    blank = [pl.col(f"c{k}").str.strip_chars(PY_SPACE) == "" for k in range(width)]
    candidates = frame.select(blank[0].sum()).item()
    problem = pl.lit("every field of the row is empty")
    if not candidates:
        return pl.lit(None, pl.String)
    return (
        pl.when(pl.all_horizontal(blank))
        .then(problem)
        .otherwise(pl.lit(None, pl.String))
    )


# ---- records read one by one (JSON Lines, and CSV the blocks gave up on) ------


def record_batches(
    reader: RecordReader,
    builder: RecordBatcher,
    size: int,
    skip: int = 0,
) -> Iterator[RawBatch]:
    """Batches of columns from `reader`'s records after the first `skip`.

    The reader's file is closed however this ends: an error's traceback would
    otherwise keep it open until the garbage collector came by.
    """
    records = cast(Generator[InputRecord, None, None], iter(reader))
    try:
        for record in itertools.islice(records, skip, None):
            builder.add(record)
            if builder.rows >= size:
                yield builder.take()
        if builder.rows:
            yield builder.take()
    finally:
        records.close()


class RecordBatcher:
    """Collects records as columns, bound as `grade_records` binds them (again
    whenever the fields change); `unread` lists the columns no record had."""

    def __init__(
        self,
        policy: CompiledPolicy,
        id_field: str | None,
        started: bool = False,
        header: bool = True,
    ):
        self.policy = policy
        self.id_field = id_field
        self.started = started  # records came before this batcher's first
        self.header = header  # as `bind_fields` takes it
        self.binding: Binding | None = None
        self.unread: list[str] = []
        self._reset()

    def _reset(self) -> None:
        count = len(self.policy.facts)
        self.rows = 0
        self.lines: list[int] = []
        self.ids: list[str | None] = []
        self.problems: list[str | None] = []
        self.columns: list[list[str | None]] = [[] for _ in range(count)]
        self.typed: dict[int, dict[int, Any]] = {}
        self.row_names: dict[int, list[str]] = {}
        self.names: list[str] | None = None

    def add(self, record: InputRecord) -> None:
        if self.binding is None or self.binding.fields != record.fields:
            known = self.binding is not None
            first = not known and not self.started
            self.binding = Binding(
                self.policy, record.fields, self.id_field, first, self.header
            )
            missing = self.binding.unread  # keep the columns no record had
            self.unread = [c for c in self.unread if c in missing] if known else missing
        binding = self.binding
        row = self.rows
        if self.names is None:
            self.names = list(binding.names)
        elif binding.names != self.names:
            self.row_names[row] = list(binding.names)
        self.lines.append(record.line)
        self.ids.append(_ident(record, binding.id_position))
        self.problems.append(record.problem)
        for index, position in enumerate(binding.positions):
            value = None
            if record.problem is None and position is not None:
                value = record.values[position]
            if value is None or isinstance(value, str):
                self.columns[index].append(value)
            else:
                self.columns[index].append(None)
                self.typed.setdefault(index, {})[row] = value
        self.rows += 1

    def take(self) -> RawBatch:
        frame = pl.DataFrame(
            {
                LINE: pl.Series(self.lines, dtype=pl.Int64),
                IDENT: pl.Series(self.ids, dtype=pl.String),
                PROBLEM: pl.Series(self.problems, dtype=pl.String),
                **{
                    f"r{i}": pl.Series(column, dtype=pl.String)
                    for i, column in enumerate(self.columns)
                },
            }
        )
        batch = RawBatch(frame, self.names or [], self.typed, self.row_names)
        self._reset()
        return batch


def _ident(record: InputRecord, position: int | None) -> str | None:
    if position is None or position >= len(record.values):
        return None
    value = record.values[position]
    return None if value is None else str(value).strip()


# ---- Parquet -----------------------------------------------------------------


def parquet_batches(
    path: Path, policy: CompiledPolicy, id_field: str | None, size: int
) -> tuple[Binding, Iterator[RawBatch]]:
    """Row groups of a Parquet file; the line of a record is its row number.

    Text and integer columns are read as text (an integer reads the same as its
    digits); other types (floats, booleans, dates, decimals) keep their Python
    values, which the fact's reading rules take as JSON values are taken.
    """
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "reading Parquet needs pyarrow: pip install 'tierwise[parquet]'"
        ) from None
    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several kinds for a bad file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    fields = tuple(handle.schema_arrow.names)
    binding = Binding(policy, fields, id_field, handle.metadata.num_rows > 0)
    return binding, _parquet_iter(handle, binding, size)


def _parquet_iter(handle: Any, binding: Binding, size: int) -> Iterator[RawBatch]:
    offset = 0
    for table in handle.iter_batches(batch_size=size):
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        yield _parquet_batch(frame, binding, offset)
        offset += frame.height


def _parquet_batch(frame: pl.DataFrame, binding: Binding, offset: int) -> RawBatch:
    typed: dict[int, dict[int, Any]] = {}
    columns = []
    for index, position in enumerate(binding.positions):
        if position is None:
            columns.append(pl.lit(None, pl.String).alias(f"r{index}"))
            continue
        series = frame.to_series(position)
        if series.dtype == pl.String or series.dtype.is_integer():
            columns.append(pl.lit(series.cast(pl.String)).alias(f"r{index}"))
            continue
        values = series.to_list()
        typed[index] = {r: v for r, v in enumerate(values) if v is not None}
        columns.append(pl.lit(None, pl.String).alias(f"r{index}"))
    ident: pl.Expr = pl.lit(None, pl.String)
    if binding.id_position is not None:
        ident = pl.lit(_parquet_ids(frame.to_series(binding.id_position)))
    out = frame.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + offset + 1).alias(LINE),
        ident.alias(IDENT),
        pl.lit(None, pl.String).alias(PROBLEM),
        *columns,
    )
    return RawBatch(out, list(binding.names), typed)


def _parquet_ids(series: pl.Series) -> pl.Series:
    if series.dtype == pl.String or series.dtype.is_integer():
        return series.cast(pl.String).str.strip_chars(PY_SPACE)
    values = [None if v is None else str(v).strip() for v in series.to_list()]
    return pl.Series(values, dtype=pl.String)
