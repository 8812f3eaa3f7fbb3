"""`tierwise grade POLICY --input FILE`: grade every account in a file."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import click

from tierwise.cli.columnar import choose_engine, run_columnar
from tierwise.cli.common import (
    SHOW_REJECTS,
    check_paths,
    echo_rejected,
    plural,
    written_whole,
)
from tierwise.cli.db import StoredRun, finish_recording, open_recorder, print_stored
from tierwise.cli.pushdown import PushdownOptions, pushdown_options, run_pushdown

if TYPE_CHECKING:
    from tierwise.engine.readers import InputRecord, RecordReader
    from tierwise.engine.result import Rejected
    from tierwise.engine.run import Graded, RunSummary
    from tierwise.engine.store.recorder import RunRecorder

OUTPUT_COLUMNS = ("id", "tier", "score", "reason", "actions")
PROGRESS_FROM_BYTES = 1_000_000


# Options that mean something for one kind of input only: given with the
# other, they would be silently ignored, so they are refused.
FILE_ONLY = (
    "output",
    "format_",
    "rejects",
    "audit",
    "input_format",
    "encoding",
    "delimiter",
    "engine",
    "resume",
)
SOURCE_ONLY = ("table", "where", "into", "replace", "print_sql")


def _refuse_given(names: tuple[str, ...], other: str) -> None:
    context = click.get_current_context()
    given = [
        param.opts[0]
        for param in context.command.params
        if param.name in names
        and context.get_parameter_source(param.name)
        not in (None, click.core.ParameterSource.DEFAULT)
    ]
    if given:
        raise click.UsageError(f"{', '.join(given)} cannot be used with {other}")


@dataclass(frozen=True)
class GradeOptions:
    policy: str
    input: str
    output: str | None
    format: str
    rejects: str | None
    audit: str | None
    as_of: str | None
    input_format: str | None
    encoding: str | None
    delimiter: str
    id_column: str | None
    db: str | None = None  # record the run in this store
    resume: str | None = None  # carry on this unfinished run


@click.command()
@click.argument("policy", metavar="POLICY")
@click.option(
    "--input", "input_", help="Accounts: CSV, JSON, JSONL or Parquet file; - for stdin."
)
@click.option("--output", help="Write graded accounts here (default: stdout).")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
    help="Format of the graded output.",
)
@click.option(
    "--rejects", help="Write rejected records here (CSV, or JSONL if .jsonl)."
)
@click.option(
    "--audit", help="Write one JSON line per graded account, with its ledger."
)
@click.option("--as-of", help="Grade as of this date or instant (default: now).")
@click.option(
    "--input-format",
    type=click.Choice(["csv", "json", "jsonl", "parquet"]),
    help="Format of --input (default: from its extension).",
)
@click.option(
    "--encoding", help="Encoding of --input, e.g. mac_roman (default: UTF-8)."
)
@click.option("--delimiter", default=",", show_default=True, help="CSV delimiter.")
@click.option("--id-column", help="Column holding the account id (default: the first).")
@click.option(
    "--db",
    envvar="TIERWISE_DB",
    metavar="URL",
    help="Record the run in this audit store (URL or SQLite file; $TIERWISE_DB).",
)
@click.option(
    "--resume",
    metavar="RUN_ID",
    help="Carry on a run that stopped partway (default store: tierwise.db).",
)
@click.option(
    "--engine",
    type=click.Choice(["rows", "columns"]),
    help="Grade record by record, or column by column (default: by input size).",
)
@pushdown_options
def grade(**kwargs: Any) -> None:
    """Grade every account in --input (or in a database table) with POLICY.

    Every record is either graded (or excluded by an override) or rejected
    with its line, field, value and reason; the summary on stderr shows that
    the counts add up. Exits 0 when no record was rejected, 1 when some were,
    2 when the run could not start.
    """
    pushdown = PushdownOptions.from_kwargs(kwargs)
    if pushdown.source is not None:
        if kwargs["input_"] is not None:
            raise click.UsageError("give either --input or --source, not both")
        _refuse_given(FILE_ONLY, "--source")
        code = run_pushdown(
            kwargs["policy"],
            pushdown,
            as_of=kwargs["as_of"],
            id_column=kwargs["id_column"],
            db=kwargs["db"],
        )
        sys.exit(code)
    if kwargs["input_"] is None:
        raise click.UsageError("give the accounts with --input FILE or --source URL")
    _refuse_given(SOURCE_ONLY, "--input")
    options = GradeOptions(
        policy=kwargs["policy"],
        input=kwargs["input_"],
        output=kwargs["output"],
        format=kwargs["format_"],
        rejects=kwargs["rejects"],
        audit=kwargs["audit"],
        as_of=kwargs["as_of"],
        input_format=kwargs["input_format"],
        encoding=kwargs["encoding"],
        delimiter=_unescape(kwargs["delimiter"]),
        id_column=kwargs["id_column"],
        db=kwargs["db"],
        resume=kwargs["resume"],
    )
    if choose_engine(options.input, kwargs["engine"], options) == "columns":
        summary, stored = run_columnar(options), None
    else:
        summary, stored = run_grade(options)
    _print_summary(options, summary)
    if stored is not None:
        print_stored(stored)
    sys.exit(1 if summary.rejected else 0)


def _unescape(delimiter: str) -> str:
    """`--delimiter '\\t'` as typed in a shell means a tab."""
    return "\t" if delimiter in ("\\t", "tab", "TAB") else delimiter


def run_grade(options: GradeOptions) -> tuple[RunSummary, StoredRun | None]:
    from tierwise.engine.policy import load_policy
    from tierwise.engine.readers import RecordReader
    from tierwise.engine.run import grade_records

    check_paths(options)
    policy = load_policy(options.policy)
    reader = RecordReader(
        options.input,
        format=options.input_format,
        encoding=options.encoding,
        delimiter=options.delimiter,
    )
    as_of = policy.as_of(options.as_of)
    with ExitStack() as stack:
        recorder = open_recorder(stack, options, policy, reader, as_of)
        if recorder is not None:
            as_of = recorder.as_of
        out = _open(stack, options.output) or sys.stdout
        sinks = _Sinks(
            output=_output_writer(out, options.format),
            rejects=_rejects_writer(stack, options.rejects),
            audit=_open(stack, options.audit),
            store=recorder,
        )
        records = _with_progress(stack, reader)
        summary = grade_records(
            policy,
            recorder.track(records) if recorder else records,
            as_of=as_of,
            on_graded=sinks.graded,
            on_rejected=sinks.rejected,
            id_field=options.id_column,
            run_id=recorder.run_id if recorder else None,
            header=reader.format == "csv",
        )
        sinks.run_id = summary.run_id
        stored = finish_recording(recorder, summary) if recorder else None
    return summary, stored


def _open(stack: ExitStack, path: str | None) -> IO[str] | None:
    # written_whole names a path it cannot write
    return None if path is None else stack.enter_context(written_whole(path))


class _Sinks:
    """Where graded and rejected records go, as they come."""

    def __init__(
        self,
        output: Any,
        rejects: Any,
        audit: IO[str] | None,
        store: RunRecorder | None = None,
    ):
        self.output = output
        self.rejects = rejects
        self.audit = audit
        self.store = store
        self.run_id = ""
        self.unshown = 0

    def graded(self, graded: Graded) -> None:
        self.output(graded)
        if self.store is not None:
            self.store.graded(graded)
        if self.audit is not None:
            from tierwise.engine.run import result_record

            entry = {
                "id": graded.result.id,
                "line": graded.line,
                "input_digest": graded.input_digest(),
                **result_record(graded.result),
            }
            self.audit.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")

    def rejected(self, rejected: Rejected) -> None:
        if self.store is not None:
            self.store.rejected(rejected)
        if self.rejects is not None:
            self.rejects(rejected)
            return
        self.unshown += 1
        if self.unshown <= SHOW_REJECTS:
            echo_rejected(rejected)


def _output_writer(stream: IO[str], format_: str) -> Any:
    from tierwise.engine.policy import format_decimal
    from tierwise.engine.run import result_record

    if format_ == "jsonl":

        def write_json(graded: Graded) -> None:
            data = result_record(graded.result)
            stream.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")

        return write_json
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)

    def write_csv(graded: Graded) -> None:
        result = graded.result
        actions = "; ".join(f"{a.kind} {a.target}" for a in result.fired())
        score = format_decimal(result.score)
        writer.writerow((result.id, result.tier or "", score, result.reason, actions))

    return write_csv


def _rejects_writer(stack: ExitStack, path: str | None) -> Any:
    from tierwise.engine.run import rejects_writer

    stream = _open(stack, path)
    return None if stream is None else rejects_writer(stream, path or "")


def _with_progress(stack: ExitStack, reader: RecordReader) -> Iterator[InputRecord]:
    """The reader's records, with a progress bar on a terminal for large files."""
    if reader.size < PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        yield from reader
        return
    bar = stack.enter_context(
        click.progressbar(length=reader.size, label="grading", file=sys.stderr)
    )
    done = 0
    for record in reader:
        position = reader.position
        if position > done:
            bar.update(position - done)
            done = position
        yield record


def _print_summary(options: GradeOptions, summary: RunSummary) -> None:
    for column in summary.unread_columns:
        click.echo(
            f"warning: no column '{column}' in {options.input}; "
            "that fact is missing for every account",
            err=True,
        )
    click.echo(
        f"read {plural(summary.read, 'record')} from {options.input}: "
        f"{summary.graded} graded, {summary.excluded} excluded, "
        f"{summary.rejected} rejected",
        err=True,
    )
    tiers = ", ".join(f"{tier} {count}" for tier, count in summary.tiers.items())
    click.echo(f"tiers: {tiers or 'none'}", err=True)
    click.echo(f"as of {summary.as_of}, run {summary.run_id}", err=True)
    if summary.rejected > SHOW_REJECTS and not options.rejects:
        click.echo(
            f"{summary.rejected - SHOW_REJECTS} more rejected; "
            "pass --rejects FILE to list them all",
            err=True,
        )
