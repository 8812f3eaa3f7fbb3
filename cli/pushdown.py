"""Options and worker for grading inside a database (`tierwise grade --source`).

`pushdown_options` adds `--source`, `--table`, `--where`, `--into`,
`--replace` and `--print-sql` to a click command; `run_pushdown` does the
work and prints what `tierwise grade` prints for a file: results as CSV on
stdout (unless `--into` names a results table), up to ten rejected rows and
the summary on stderr. With `--db` (or `TIERWISE_DB`) it records the run in
the audit store, its input named by the source URL (without its password),
table and filter.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import click

from tierwise.cli.common import SHOW_REJECTS, plural
from tierwise.cli.db import StoredRun, open_store, print_stored

if TYPE_CHECKING:
    from tierwise.engine.policy import AsOf, CompiledPolicy
    from tierwise.engine.pushdown import PushdownSummary, PushedResult
    from tierwise.engine.store.recorder import RunRecorder

OUTPUT_COLUMNS = ("id", "tier", "score", "reason")


@dataclass(frozen=True)
class PushdownOptions:
    source: str | None
    table: str | None
    where: str | None = None
    into: str | None = None
    replace: bool = False
    print_sql: bool = False

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> PushdownOptions:
        """The options `pushdown_options` added, taken out of a command's kwargs."""
        return cls(
            source=kwargs.pop("source"),
            table=kwargs.pop("table"),
            where=kwargs.pop("where"),
            into=kwargs.pop("into"),
            replace=kwargs.pop("replace"),
            print_sql=kwargs.pop("print_sql"),
        )


_OPTIONS = [
    click.option(
        "--source",
        metavar="URL",
        help="Grade inside this database (a SQLAlchemy URL, or a .duckdb/.db file).",
    ),
    click.option("--table", metavar="NAME", help="The table of accounts in --source."),
    click.option(
        "--where",
        metavar="FILTER",
        help="Grade only accounts for which this condition holds "
        "(policy language, e.g. 'country = \"Canada\"').",
    ),
    click.option(
        "--into",
        metavar="TABLE",
        help="Write results to this new table in --source instead of stdout.",
    ),
    click.option(
        "--replace", is_flag=True, help="Replace the --into table if it exists."
    ),
    click.option(
        "--print-sql", is_flag=True, help="Print the grading query and do not run it."
    ),
]


def pushdown_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options of grading inside a database to a click command."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def run_pushdown(
    policy_path: str,
    options: PushdownOptions,
    *,
    as_of: str | None = None,
    id_column: str | None = None,
    output: IO[str] | None = None,
    db: str | None = None,
) -> int:
    """Grade `options.table` inside `options.source`; the exit code (0, or 1
    when some rows were rejected). With `db`, the run is recorded in that
    audit store as `tierwise grade --input F --db URL` records a file."""
    from tierwise.dsl.errors import TierwiseError
    from tierwise.engine.policy import load_policy
    from tierwise.engine.pushdown import compile_sql, grade_in_database

    if not options.source or not options.table:
        raise TierwiseError("grading in a database needs both --source and --table")
    if options.replace and not options.into:
        raise TierwiseError("--replace only applies with --into")
    policy = load_policy(policy_path)
    moment = policy.as_of(as_of)
    out = output or sys.stdout
    if options.print_sql:
        sql = compile_sql(
            policy,
            options.source,
            options.table,
            as_of=moment,
            where=options.where,
            id_column=id_column,
        )
        click.echo(sql, file=out)
        return 0
    sink = _Sink(out) if options.into is None else None
    with ExitStack() as stack:
        recorder = None
        if db is not None:
            recorder = _begin_run(stack, db, policy, moment, options, id_column)
        summary = grade_in_database(
            policy,
            options.source,
            options.table,
            as_of=moment,
            where=options.where,
            into=options.into,
            replace=options.replace,
            id_column=id_column,
            on_result=sink,
            recorder=recorder,
        )
        stored = None if recorder is None else _finish_run(recorder, summary)
    if sink is not None:
        sink.start()  # an empty table still gets its header
    print_summary(summary)
    if stored is not None:
        print_stored(stored)
    return 1 if summary.rejected else 0


def _begin_run(
    stack: ExitStack,
    db: str,
    policy: CompiledPolicy,
    as_of: AsOf,
    options: PushdownOptions,
    id_column: str | None,
) -> RunRecorder:
    """A run begun in the store, marked failed if grading raises."""
    from tierwise.engine.pushdown import source_url
    from tierwise.engine.store.connect import display_url
    from tierwise.engine.store.start import RunInput

    url = display_url(source_url(options.source or ""))
    name = f"{url} table {options.table}"
    if options.where:
        name += f" where {options.where}"
    source = RunInput(
        name=name,
        digest="",  # set when the run finishes: see `sql_record.RowResults.digest`
        options={
            "source": url,
            "table": options.table,
            "where": options.where,
            "id_column": id_column,
            "into": options.into,
        },
    )
    store = stack.enter_context(open_store(db, create=True))
    recorder = store.begin_run(policy, as_of=as_of, source=source)
    return stack.enter_context(recorder)


def _finish_run(recorder: RunRecorder, summary: PushdownSummary) -> StoredRun:
    from tierwise.engine.run import RunSummary
    from tierwise.engine.store.connect import display_url

    graded = RunSummary(
        recorder.run_id,
        summary.as_of,
        read=summary.read,
        graded=summary.graded,
        excluded=summary.excluded,
        rejected=summary.rejected,
    )
    counts = recorder.finish(graded, input_digest=summary.input_digest)
    url = display_url(recorder.engine.url)
    return StoredRun(url, recorder.run_id, recorder.resumed_after, counts)


class _Sink:
    """Graded and excluded rows to CSV; the first rejected ones to stderr."""

    def __init__(self, stream: IO[str]):
        self.writer = csv.writer(stream, lineterminator="\n")
        self.started = False  # the header waits for the query to run
        self.rejected = 0

    def start(self) -> None:
        if not self.started:
            self.writer.writerow(OUTPUT_COLUMNS)
            self.started = True

    def __call__(self, result: PushedResult) -> None:
        from tierwise.engine.policy import format_decimal

        self.start()
        if result.rejected:
            self.rejected += 1
            if self.rejected <= SHOW_REJECTS:
                click.echo(f"rejected {result.id}: {result.reason}", err=True)
            return
        score = "" if result.score is None else format_decimal(result.score)
        self.writer.writerow((result.id, result.tier or "", score, result.reason or ""))


def print_summary(summary: PushdownSummary) -> None:
    """The counts, tiers and as-of, on stderr, as `tierwise grade` prints them."""
    for column in summary.unread_columns:
        click.echo(
            f"warning: no column '{column}' in {summary.table}; "
            "that fact is missing for every account",
            err=True,
        )
    click.echo(
        f"read {plural(summary.read, 'record')} from {summary.table} "
        f"({summary.dialect}): {summary.graded} graded, {summary.excluded} "
        f"excluded, {summary.rejected} rejected",
        err=True,
    )
    tiers = ", ".join(f"{tier} {count}" for tier, count in summary.tiers.items())
    click.echo(f"tiers: {tiers or 'none'}", err=True)
    where = f", results in {summary.into}" if summary.into else ""
    click.echo(f"as of {summary.as_of}{where}", err=True)
    if summary.into is None and summary.rejected > SHOW_REJECTS:
        click.echo(
            f"{summary.rejected - SHOW_REJECTS} more rejected; "
            "pass --into TABLE to keep them all with their reasons",
            err=True,
        )
