"""Grade whole files column by column: the batch path for large inputs.

`grade_file_columnar` reads a CSV, JSON Lines or Parquet file in batches
(`columnar_read.py`), reads every fact as a typed column by the per-account
reading rules (`columnar_coerce.py`), evaluates the policy as polars
expressions (`columnar_compile.py`) and writes the graded CSV batch by batch,
so memory stays flat. Its output is byte for byte what `tierwise grade`
writes with the per-account path, and its rejects are the same records with
the same line, field, value and reason.

Everything an account's output row shows besides its id (tier, score, short
reason, actions, points per criterion) depends only on which branch each
criterion took, the override that fired, the routes that matched and which
facts a missing branch lacked: its signature. With many criteria nearly every
row has a signature of its own, so each field is made from as little as it
depends on: the tier, score and points from small tables; the reason and
actions once per distinct reason (`columnar_explain.py`), an override's
reason and the actions by the per-account engine's own ledger, and the first
rows of every batch checked against the ledger (a difference hands the rest
to it, once per signature). Rows the columns cannot hold exactly (see
`columnar_coerce.py` and `columnar_compile.py`) are graded by the per-account
evaluator and merged in order.

>>> from tierwise.engine.policy import compile_policy
>>> import io, pathlib, tempfile
>>> policy = compile_policy('''
... policy "demo" version 1
... facts
...   employees int
... criterion "Size" weight 100
...   employees >= 1000 => 100
...   otherwise => 20
... tiers
...   A from 80
...   B below 80
... ''')
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "in.csv").write_text('id,employees\\nx,"1,200"\\ny,12\\n')
>>> out = io.StringIO()
>>> summary = grade_file_columnar(policy, folder / "in.csv", out, as_of="2026-12-01")
>>> print(out.getvalue(), end="")
id,tier,score,reason,actions
x,A,100,Size +100,
y,B,20,Size +20,
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from queue import Empty, Queue
from typing import IO, Any

import polars as pl

from tierwise.dsl.errors import InputError, TierwiseError
from tierwise.engine.columnar_coerce import Coerced, Coercion
from tierwise.engine.columnar_compile import (
    ESCAPE,
    ROUTES,
    SCORE,
    SLOT,
    TIER,
    Plan,
    Unsupported,
    plan,
    slot_effects,
)
from tierwise.engine.columnar_explain import ReasonColumns
from tierwise.engine.columnar_read import (
    BATCH_ROWS,
    BLOCK_BYTES,
    IDENT,
    LINE,
    PROBLEM,
    CsvSource,
    RawBatch,
    RecordBatcher,
    parquet_batches,
    record_batches,
)
from tierwise.engine.compile import contributions
from tierwise.engine.policy import AsOf, CompiledPolicy, RecordError, format_decimal
from tierwise.engine.readers import RecordReader, detect_format
from tierwise.engine.result import FieldProblem, GradeResult, Rejected
from tierwise.engine.run import RunSummary, rejects_writer

logger = logging.getLogger(__name__)

OUTPUT_COLUMNS = ("id", "tier", "score", "reason", "actions")
FORMATS = ("csv", "jsonl", "json", "parquet")
CHECKED = 16  # composed reasons checked against the ledger's, per batch
KNOWN = 1 << 20  # `__said` texts remembered across batches


def grade_file_columnar(
    policy: CompiledPolicy,
    input: str | Path,
    output: str | Path | IO[str],
    *,
    as_of: Any = None,
    rejects: str | Path | Callable[[Rejected], None] | None = None,
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str = ",",
    id_column: str | None = None,
    explain: bool = False,
    batch_size: int = BATCH_ROWS,
    block_bytes: int = BLOCK_BYTES,
    run_id: str | None = None,
) -> RunSummary:
    """Grade every record of `input` and write the graded CSV to `output`.

    `output` is a path or an open text stream; `rejects` is a path (CSV, or
    JSON lines when it ends in .jsonl or .json) or a function given each
    `Rejected`. `explain` adds one column per criterion with its
    contribution to the score. `format` is csv, jsonl, json or parquet
    (default: from the extension).
    """
    resolved = as_of if isinstance(as_of, AsOf) else policy.as_of(as_of)
    grader = ColumnarGrader(policy, resolved, explain=explain)
    source = open_source(
        policy,
        Path(input),
        format=format,
        encoding=encoding,
        delimiter=delimiter,
        id_column=id_column,
        batch_size=batch_size,
        block_bytes=block_bytes,
    )
    summary = RunSummary(run_id or uuid.uuid4().hex, resolved.label)
    summary.tiers.update({tier.name: 0 for tier in policy.checked.policy.tiers})
    with ExitStack() as stack:
        write = _sink(stack, output)
        on_rejected = _rejects_sink(stack, rejects)
        write(grader.header().encode("utf-8"))
        for batch in _ahead(source.batches()):
            write(grader.grade(batch, summary, on_rejected))
    summary.unread_columns = source.unread()
    return summary


# ---- sources -------------------------------------------------------------------


def _ahead(batches: Iterator[RawBatch]) -> Iterator[RawBatch]:
    """`batches`, read one batch ahead in a thread while the last one is graded
    (polars parses without the GIL). At most two batches are in memory."""
    queue: Queue[tuple[RawBatch | None, BaseException | None]] = Queue(maxsize=1)
    stop = threading.Event()

    def read() -> None:
        try:
            for batch in batches:
                queue.put((batch, None))
                if stop.is_set():
                    return
            queue.put((None, None))
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put((None, exc))

    worker = threading.Thread(target=read, name="tierwise-read", daemon=True)
    worker.start()
    try:
        while True:
            batch, error = queue.get()
            if error is not None:
                raise error
            if batch is None:
                return
            yield batch
    finally:
        stop.set()
        while worker.is_alive():  # let a blocked put finish, then the thread ends
            try:
                queue.get(timeout=0.05)
            except Empty:
                pass
        worker.join()


class Source:
    """Batches of records from one input file, and the columns no fact found."""

    def __init__(
        self, batches: Callable[[], Iterator[RawBatch]], unread: Callable[[], list[str]]
    ):
        self.batches = batches
        self.unread = unread


def open_source(
    policy: CompiledPolicy,
    path: Path,
    *,
    format: str | None,
    encoding: str | None,
    delimiter: str,
    id_column: str | None,
    batch_size: int,
    block_bytes: int,
) -> Source:
    if str(path) == "-":
        raise InputError("the columnar engine reads files, not standard input")
    kind = "parquet" if format is None and path.suffix.lower() == ".parquet" else None
    kind = kind or detect_format(path, format)
    if kind not in FORMATS:
        raise InputError(f"unknown input format '{kind}'")
    if kind == "parquet":
        _check_exists(path)
        binding, batches = parquet_batches(path, policy, id_column, batch_size)
        return Source(lambda: batches, lambda: list(binding.unread))
    if kind == "csv":
        _check_exists(path)
        csv_source = CsvSource(
            path,
            policy,
            encoding=encoding,
            delimiter=delimiter,
            id_field=id_column,
            block_bytes=block_bytes,
        )
        return Source(csv_source.batches, csv_source.unread)
    reader = RecordReader(path, format=kind, encoding=encoding, delimiter=delimiter)
    batcher = RecordBatcher(policy, id_column, header=False)  # JSON records
    return Source(
        lambda: record_batches(reader, batcher, batch_size),
        lambda: list(batcher.unread),
    )


def _check_exists(path: Path) -> None:
    RecordReader(path, format="csv")  # the per-account reader's checks and messages


# ---- grading a batch ---------------------------------------------------------------


class ColumnarGrader:
    """A policy compiled to polars expressions for one as-of."""

    def __init__(self, policy: CompiledPolicy, as_of: AsOf, *, explain: bool = False):
        self.policy = policy
        self.as_of = as_of
        self.explain = explain
        self.criteria = policy.checked.policy.criteria
        self.tiers = [t.name for t in policy.checked.policy.tiers]
        self.shares = [contributions(c) for c in self.criteria]
        self.plan: Plan | None
        try:
            self.plan = plan(policy.checked, policy.tz, as_of)
        except Unsupported as exc:
            logger.warning("the per-account evaluator grades every record: %s", exc)
            self.plan = None
        midnights = self.plan.midnights if self.plan else set()
        self.coercion = Coercion(policy, midnights)
        self.excludes, self.forced = slot_effects(policy.checked.policy)
        self.reasons = ReasonColumns(policy.checked.policy, self.shares)
        self.composed = True  # reasons composed from columns (see `_agrees`)
        self.checked: set[tuple[Any, ...]] = set()
        self.fixed: dict[tuple[int, int], tuple[str | None, str]] = {}
        self.known: pl.DataFrame | None = None  # `__said` by key (`_said`)
        self.scores: dict[int, str] = {}  # by score units
        self.quote = _quote_expr()

    def header(self) -> str:
        columns = list(OUTPUT_COLUMNS)
        if self.explain:
            columns += [c.name for c in self.criteria]
        return _csv_line(columns)

    def grade(
        self,
        batch: RawBatch,
        summary: RunSummary,
        on_rejected: Callable[[Rejected], None],
    ) -> bytes:
        """The graded CSV lines of one batch, in UTF-8; rejects go to
        `on_rejected`."""
        coerced = self.coercion.apply(batch)
        frame = coerced.frame.with_row_index("__row")
        summary.read += frame.height
        rejected = self._rejects(frame, coerced, summary, on_rejected)
        if rejected:
            frame = frame.filter(~pl.col("__row").is_in(sorted(rejected)))
        escaped = set(coerced.exotic) - rejected
        if self.plan is None:
            escaped |= set(frame["__row"].to_list())
            frame = frame.clear()
        else:
            frame = self._evaluate(frame, self.plan)
            escaped |= set(frame.filter(pl.col(ESCAPE))["__row"].to_list())
        if escaped:
            frame = frame.filter(~pl.col("__row").is_in(sorted(escaped)))
        lines = self._lines(frame, summary)
        if escaped:
            rows = self._graded_by_rows(batch, sorted(escaped), summary)
            lines = pl.concat([lines, rows]).sort("__row")
        text = lines.select(pl.col("__text").str.join("").cast(pl.Binary))
        return bytes(text.item())

    # ---- rejects -------------------------------------------------------------

    def _rejects(
        self,
        frame: pl.DataFrame,
        coerced: Coerced,
        summary: RunSummary,
        sink: Callable[[Rejected], None],
    ) -> set[int]:
        broken = frame.filter(pl.col(PROBLEM).is_not_null())
        problems = dict.fromkeys(broken["__row"].to_list(), "")
        for row, text in zip(broken["__row"].to_list(), broken[PROBLEM].to_list()):
            problems[row] = text
        rows = sorted(set(problems) | set(coerced.problems))
        if not rows:
            return set()
        picked = frame.select(LINE, IDENT)[rows]
        for row, line, ident in zip(
            rows, picked[LINE].to_list(), picked[IDENT].to_list()
        ):
            if row in problems:
                found = (FieldProblem(field="", value="", reason=problems[row]),)
            else:
                found = tuple(coerced.problems[row])
            summary.rejected += 1
            sink(Rejected(id=ident, line=line, problems=found))
        return set(rows)

    # ---- the columnar evaluation --------------------------------------------

    def _evaluate(self, frame: pl.DataFrame, plan: Plan) -> pl.DataFrame:
        escape = plan.escape if plan.escape is not None else pl.lit(False)
        forced = pl.col(SLOT).replace_strict(
            list(range(len(self.forced))),
            self.forced,
            default=-1,
            return_dtype=pl.Int32,
        )
        excluded = pl.col(SLOT).replace_strict(
            list(range(len(self.excludes))),
            self.excludes,
            default=False,
            return_dtype=pl.Boolean,
        )
        return (
            frame.lazy()
            .with_columns(*plan.outcomes, escape.fill_null(False).alias(ESCAPE))
            .with_columns(plan.score, plan.slot)
            .with_columns(
                pl.when(forced >= 0).then(forced).otherwise(plan.tier).alias(TIER),
                excluded.alias("__excluded"),
            )
            .with_columns(plan.routes, *plan.masks)
            .with_columns(
                pl.when(pl.col("__excluded"))
                .then(pl.lit(0, pl.Int64))
                .otherwise(pl.col(ROUTES))
                .alias(ROUTES)
            )
            .collect()
        )

    def _signature_columns(self) -> list[str]:
        """What a row's reason and actions are made from, for `_result`."""
        assert self.plan is not None
        outcomes = [f"o{i}" for i in range(len(self.criteria))]
        masks = [f"__mask{k}" for k in range(len(self.plan.masks))]
        return [*outcomes, SLOT, ROUTES, *masks]

    def _radices(self) -> list[int]:
        """How many values each signature column takes (slots shifted by one)."""
        assert self.plan is not None
        routes = self.policy.checked.policy.routes
        facts = len(self.policy.facts)
        masks = [min(62, facts - 62 * k) for k in range(len(self.plan.masks))]
        return [
            *(len(shares) for shares in self.shares),
            len(self.excludes) + 1,
            1 << (len(routes.routes) if routes else 0),
            *(1 << bits for bits in masks),
        ]

    def _lines(self, frame: pl.DataFrame, summary: RunSummary) -> pl.DataFrame:
        """Each row's CSV line: the id, tier, score and points from columns and
        small tables, the reason and actions by `_composed` (or `_said`)."""
        if frame.height == 0:
            return pl.DataFrame(schema={"__row": pl.UInt32, "__text": pl.String})
        self._count(frame, summary)
        lazy = frame.lazy()
        for stage in self.reasons.stages():
            lazy = lazy.with_columns(stage)
        frame = lazy.collect()
        said = self._composed(frame) if self.composed else None
        if said is None:
            said = self._by_ledger(frame)
        tiers = pl.col(TIER).replace_strict(
            list(range(len(self.tiers))),
            [_escape(t) for t in self.tiers],
            return_dtype=pl.String,
        )
        fields = [
            self.quote,
            pl.lit(","),
            pl.when(pl.col("__excluded")).then(pl.lit("")).otherwise(tiers),
            pl.lit(","),
            self._score_text(frame),
            pl.col("__said"),
        ]
        if self.explain:
            fields += [self._points(i) for i in range(len(self.shares))]
        line = pl.concat_str([*fields, pl.lit("\n")])
        return said.select("__row", line.alias("__text"))

    def _composed(self, frame: pl.DataFrame) -> pl.DataFrame | None:
        """`frame` with `__said` (",reason,actions"), made once per distinct
        `__named`, missing facts, override and routes: the reason by
        `ReasonColumns` unless an override gives it, an override's reason and
        the actions by the ledger. None if a sample disagrees with the ledger
        (then it is never tried again)."""
        assert self.plan is not None
        routes = self.policy.checked.policy.routes
        plain = pl.col(SLOT) < 0
        parts = [
            pl.when(plain).then(pl.col("__named")).otherwise(0),
            *(pl.when(plain).then(m).otherwise(0) for m in self.plan.masks),
            pl.col(SLOT) + 1,
            pl.col(ROUTES),
        ]
        radices = [
            self.reasons.named_values,
            *self._radices()[len(self.criteria) + 2 :],
            len(self.excludes) + 1,
            1 << (len(routes.routes) if routes else 0),
        ]
        said = self._said(frame, parts, radices, self._compose)
        if not self._agrees(said):
            self.composed = False
            self.known = None  # its keys were this method's
            return None
        return said

    def _compose(self, parts: tuple[int, ...], frame: pl.DataFrame) -> str:
        named, *masks, slot, routes = parts
        if (slot, routes) not in self.fixed:
            found = (pl.col(SLOT) == slot - 1) & (pl.col(ROUTES) == routes)
            signature = frame.filter(found).select(self._signature_columns()).row(0)
            result = self._result(signature)
            reason = result.reason if slot > 0 else None
            self.fixed[slot, routes] = (reason, _actions(result))
        reason, actions = self.fixed[slot, routes]
        if reason is None:
            reason = self.reasons.text(named, tuple(masks))
        return f",{_escape(reason)},{_escape(actions)}"

    def _agrees(self, frame: pl.DataFrame) -> bool:
        """Whether `__said` of up to `CHECKED` rows with a signature not checked
        before is what the ledger says."""
        columns = self._signature_columns()
        head = frame.head(CHECKED * 4).select(*columns, "__said")
        checked = 0
        for *signature, said in head.iter_rows():
            key = tuple(signature)
            if key in self.checked or checked == CHECKED:
                continue
            self.checked.add(key)
            checked += 1
            expected = self._ledger_said(key)
            if said != expected:
                logger.warning(
                    "the columnar reason and actions %r differ from the "
                    "ledger's %r: the ledger writes them from now on",
                    said,
                    expected,
                )
                return False
        return True

    def _by_ledger(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` with `__said`, made by the ledger once per distinct signature."""
        columns = self._signature_columns()
        slot = columns.index(SLOT)
        parts = [pl.col(c) + (1 if c == SLOT else 0) for c in columns]

        def describe(key: tuple[int, ...], _: pl.DataFrame) -> str:
            return self._ledger_said((*key[:slot], key[slot] - 1, *key[slot + 1 :]))

        return self._said(frame, parts, self._radices(), describe)

    def _ledger_said(self, signature: tuple[Any, ...]) -> str:
        """ ",reason,actions" as the ledger writes them for one signature."""
        result = self._result(signature)
        return f",{_escape(result.reason)},{_escape(_actions(result))}"

    def _said(
        self,
        frame: pl.DataFrame,
        parts: list[pl.Expr],
        radices: list[int],
        describe: Callable[[tuple[int, ...], pl.DataFrame], str],
    ) -> pl.DataFrame:
        """`frame` with `__said`: `describe(parts, frame)` once per distinct
        value of `parts` (each below its radix) in the run."""
        names = [f"__part{j}" for j in range(len(parts))]
        frame = frame.with_columns(
            p.cast(pl.Int64).alias(n) for p, n in zip(parts, names)
        )
        keys, weight = names, 1
        for radix in radices:
            weight *= radix
        if weight < 1 << 62:  # one Int64 joins faster than several columns
            key, weight = pl.lit(0, pl.Int64), 1
            for name, radix in zip(names, radices):
                key, weight = key + pl.col(name) * weight, weight * radix
            frame, keys = frame.with_columns(key.alias("__key")), ["__key"]
        if self.known is None or self.known.height > KNOWN:
            self.known = pl.DataFrame(
                schema={**dict.fromkeys(keys, pl.Int64), "__said": pl.String}
            )
        if keys == names:
            new = frame.select(names).unique()
        else:
            new = frame.group_by(keys).agg(pl.col(n).first() for n in names)
        new = new.join(self.known, on=keys, how="anti")
        if new.height:
            picked = new.select(names).iter_rows()
            texts = [describe(row, frame) for row in picked]
            found = new.select(keys).with_columns(
                pl.Series("__said", texts, dtype=pl.String)
            )
            self.known = pl.concat([self.known, found])
        return frame.join(self.known, on=keys, how="left", maintain_order="left")

    def _score_text(self, frame: pl.DataFrame) -> pl.Expr:
        """The score as the ledger writes it, made once per distinct score."""
        assert self.plan is not None
        scale = self.plan.score_scale
        found = frame.get_column(SCORE).unique().to_list()
        for units in found:
            if units not in self.scores:
                self.scores[units] = format_decimal(Decimal(f"{units}E-{scale}"))
        return pl.col(SCORE).replace_strict(
            found, [self.scores[u] for u in found], return_dtype=pl.String
        )

    def _points(self, index: int) -> pl.Expr:
        """ "," and criterion `index`'s contribution."""
        shares = self.shares[index]
        return pl.col(f"o{index}").replace_strict(
            list(range(len(shares))),
            ["," + format_decimal(s) for s in shares],
            return_dtype=pl.String,
        )

    def _count(self, frame: pl.DataFrame, summary: RunSummary) -> None:
        counts = frame.group_by("__excluded", TIER).len()
        for excluded, tier, count in counts.iter_rows():
            if excluded:
                summary.excluded += count
            else:
                summary.graded += count
                summary.tiers[self.tiers[tier]] += count

    def _result(self, key: tuple[Any, ...]) -> GradeResult:
        """The ledger's result for one signature (`_signature_columns`)."""
        count = len(self.criteria)
        branches, slot, routes = key[:count], key[count], key[count + 1]
        masks = key[count + 2 :]
        score = self.shares[0][branches[0]]
        for shares, branch in zip(self.shares[1:], branches[1:]):
            score = score + shares[branch]
        tier = self._score_tier(score)
        if slot >= 0 and self.forced[slot] >= 0:
            tier = self.forced[slot]
        excluded = slot >= 0 and self.excludes[slot]
        fired = tuple(i for i in range(63) if routes >> i & 1)
        facts = len(self.policy.facts)
        values = tuple(
            None if masks[i // 62] >> (i % 62) & 1 else True for i in range(facts)
        )
        outcome = (self.policy.units(score), tier, slot, excluded, fired, branches)
        # The per-account engine's own explanation, so both say the same.
        result = self.policy.result_from(outcome, values, self.as_of)
        return result

    def _score_tier(self, score: Decimal) -> int:
        for index, tier in enumerate(self.policy.checked.policy.tiers[:-1]):
            if score >= tier.threshold:
                return index
        return len(self.tiers) - 1

    def _fields(self, result: GradeResult) -> list[str]:
        fields = [
            result.tier or "",
            format_decimal(result.score),
            result.reason,
            _actions(result),
        ]
        if self.explain:
            fields += [format_decimal(p.contribution) for p in result.contributions]
        return fields

    # ---- records the per-account evaluator grades ----------------------------

    def _graded_by_rows(
        self, batch: RawBatch, rows: list[int], summary: RunSummary
    ) -> pl.DataFrame:
        texts = []
        picked = batch.frame[rows]
        for offset, row in enumerate(rows):
            raw = [
                batch.typed.get(i, {}).get(row, picked[f"r{i}"][offset])
                for i in range(len(self.policy.facts))
            ]
            names = batch.row_names.get(row, batch.names)
            ident = picked[IDENT][offset]
            try:
                values = self.policy.coerce(raw, names)
            except RecordError as exc:  # pragma: no cover - rejected before
                raise TierwiseError(f"record {row}: {exc}") from None
            result = self.policy.grade_values(values, self.as_of, ident)
            if result.excluded:
                summary.excluded += 1
            else:
                summary.graded += 1
                summary.tiers[result.tier or ""] += 1
            fields = [ident or "", *self._fields(result)]
            texts.append(_csv_line(fields))
        return pl.DataFrame(
            {
                "__row": pl.Series(rows, dtype=pl.UInt32),
                "__text": pl.Series(texts, dtype=pl.String),
            }
        )


# ---- writing -------------------------------------------------------------------


def _actions(result: GradeResult) -> str:
    return "; ".join(f"{a.kind} {a.target}" for a in result.actions)


def _escape(field: str) -> str:
    """One field as csv.writer writes it inside a row."""
    if _QUOTED.isdisjoint(field):
        return field
    return '"' + field.replace('"', '""') + '"'


def _csv_line(fields: list[Any]) -> str:
    """One CSV line exactly as `csv.writer(..., lineterminator="\\n")` writes it."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def _quoted_characters() -> list[str]:
    """The characters that make csv.writer quote a field (it varies by version)."""
    return [c for c in ',"\n\r' if _csv_line([f"a{c}b", "x"]).startswith('"')]


_QUOTED = frozenset(_quoted_characters())


def _quote_expr() -> pl.Expr:
    """The id as csv.writer writes it."""
    return _csv_field(pl.col(IDENT).fill_null(""))


def _csv_field(text: pl.Expr) -> pl.Expr:
    """A text column's values as csv.writer writes them inside a row."""
    special = "".join(_quoted_characters()).replace("\n", "\\n").replace("\r", "\\r")
    needs = text.str.contains(f"[{special}]")
    quoted = pl.lit('"') + text.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(needs).then(quoted).otherwise(text)


def _sink(stack: ExitStack, output: str | Path | IO[str]) -> Callable[[bytes], Any]:
    """Where the graded CSV's UTF-8 bytes go (a file gets them as they are)."""
    if isinstance(output, (str, Path)):
        return stack.enter_context(open(output, "wb")).write
    return lambda data: output.write(data.decode("utf-8"))


def _rejects_sink(
    stack: ExitStack, rejects: str | Path | Callable[[Rejected], None] | None
) -> Callable[[Rejected], None]:
    if rejects is None:
        return lambda rejected: None
    if callable(rejects):
        return rejects
    stream = stack.enter_context(open(rejects, "w", encoding="utf-8", newline=""))
    return rejects_writer(stream, str(rejects))
