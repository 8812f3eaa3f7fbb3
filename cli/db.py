"""`tierwise db`: the audit store's schema; and what the store commands share.

`tierwise db upgrade` creates or migrates the schema of the store named by
`--db` (or `TIERWISE_DB`, else `sqlite:///tierwise.db`); `tierwise db current`
shows its revision. The helpers below give every store command the same
`--db` option and the same way of opening the store, and let `tierwise grade`
record a run when it is given a store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tierwise.cli.common import plural

if TYPE_CHECKING:
    from tierwise.cli.grade import GradeOptions
    from tierwise.engine.policy import AsOf, CompiledPolicy
    from tierwise.engine.readers import RecordReader
    from tierwise.engine.run import RunSummary
    from tierwise.engine.store.recorder import RunCounts, RunRecorder
    from tierwise.engine.store.store import Store

F = TypeVar("F", bound=Callable[..., Any])

DB_HELP = (
    "The audit store: a database URL (sqlite:///FILE, "
    "postgresql+psycopg://USER@HOST/DB) or a SQLite file. "
    "Default: $TIERWISE_DB, else sqlite:///tierwise.db."
)


def db_option(command: F) -> F:
    """The `--db URL` option every store command takes."""
    return click.option("--db", metavar="URL", help=DB_HELP)(command)


@contextmanager
def open_store(url: str | None, *, create: bool = False) -> Iterator[Store]:
    """The store for one command; database errors surface as `StoreError`."""
    from sqlalchemy.exc import SQLAlchemyError

    from tierwise.engine.store.errors import StoreError, describe
    from tierwise.engine.store.store import Store

    store = Store.open(url, create=create)
    try:
        yield store
    except SQLAlchemyError as exc:
        raise StoreError(f"{store.url}: {describe(exc)}") from None
    finally:
        store.close()


# ---- tierwise db ------------------------------------------------------------------


@click.group()
def db() -> None:
    """Create, migrate and inspect the audit store."""


@db.command()
@db_option
def upgrade(db: str | None) -> None:
    """Create the store's schema, or migrate it to this version's."""
    from sqlalchemy.exc import SQLAlchemyError

    from tierwise.engine.store.errors import StoreError, describe
    from tierwise.engine.store.store import Store

    with Store.open(db, create=True, check=False) as store:
        try:
            before, after = store.upgrade()
        except SQLAlchemyError as exc:
            raise StoreError(f"{store.url}: {describe(exc)}") from None
        url = store.url
    if before == after:
        click.echo(f"{url} is up to date (revision {after})", err=True)
    elif before is None:
        click.echo(f"created the store at {url} (revision {after})", err=True)
    else:
        click.echo(f"upgraded {url} from revision {before} to {after}", err=True)


@db.command()
@db_option
def current(db: str | None) -> None:
    """Show the store's schema revision and this version's."""
    from tierwise.engine.store.migrate import head_revision
    from tierwise.engine.store.store import Store

    with Store.open(db, create=False, check=False) as store:
        revision = store.revision()
        url = store.url
    head = head_revision()
    state = "up to date" if revision == head else "needs `tierwise db upgrade`"
    click.echo(f"{url}: revision {revision or 'none'}, this tierwise: {head} ({state})")


# ---- recording `tierwise grade` ---------------------------------------------------


@dataclass(frozen=True)
class StoredRun:
    """What `tierwise grade` recorded, for its summary."""

    url: str
    run_id: str
    resumed_after: int
    counts: RunCounts


def open_recorder(
    stack: ExitStack,
    options: GradeOptions,
    policy: CompiledPolicy,
    reader: RecordReader,
    as_of: AsOf,
) -> RunRecorder | None:
    """A recorder for this grading when a store is named (or a run resumed).

    The recorder is entered on `stack`: if grading raises, the run is marked
    failed (and can be resumed).
    """
    if options.db is None and options.resume is None:
        return None
    from tierwise.engine.store.start import RunInput, file_digest

    store = stack.enter_context(open_store(options.db, create=True))
    source = RunInput(
        name=options.input,
        digest=file_digest(reader.path),
        options={
            "input_format": reader.format,
            "encoding": reader.encoding,
            "delimiter": reader.delimiter,
            "id_column": options.id_column,
        },
    )
    if options.resume is not None:
        _check_resume_as_of(store, options, policy)
        recorder = store.resume_run(options.resume, policy, source)
    else:
        recorder = store.begin_run(policy, as_of=as_of, source=source)
    return stack.enter_context(recorder)


def finish_recording(recorder: RunRecorder, summary: RunSummary) -> StoredRun:
    """Write the last batch, mark the run complete, say what was recorded."""
    from tierwise.engine.store.connect import display_url

    counts = recorder.finish(summary)
    url = display_url(recorder.engine.url)
    return StoredRun(url, recorder.run_id, recorder.resumed_after, counts)


def _check_resume_as_of(
    store: Store, options: GradeOptions, policy: CompiledPolicy
) -> None:
    from tierwise.engine.store.errors import StoreError

    if options.as_of is None or options.resume is None:
        return
    stored = store.run(options.resume).as_of
    given = policy.as_of(options.as_of).label
    if given != stored:
        raise StoreError(
            f"run {options.resume} grades as of {stored}, not {given}: resume it "
            "without --as-of, or grade as a new run"
        )


def print_stored(stored: StoredRun) -> None:
    counts = stored.counts
    where = f"run {stored.run_id} in {stored.url}"
    if stored.resumed_after:
        where = f"resumed {where} after line {stored.resumed_after}"
    else:
        where = f"recorded {where}"
    click.echo(
        f"{where}: {plural(counts.graded + counts.excluded, 'audit record')}, "
        f"{plural(counts.rejected, 'rejected record')}; "
        f"{plural(counts.new_accounts, 'new account')}, "
        f"{plural(counts.changed, 'tier change')}; "
        f"{plural(counts.fired, 'action')} fired",
        err=True,
    )
