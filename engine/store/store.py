"""`Store`: the audit store as one object, for the CLI and for services alike.

>>> from tierwise.engine.policy import compile_policy
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
... routes
...   tier A => assign "ae"
... ''')
>>> with Store.open("sqlite://") as store:
...     with store.begin_run(policy, as_of="2026-12-01") as run:
...         first = run.grade({"employees": "5000"}, id="acme")
...     with store.begin_run(policy, as_of="2026-12-02") as run:
...         again = run.grade({"employees": "5000"}, id="acme")
...     history = store.history("acme")
>>> [f"{a.kind} {a.target}" for a in first.fired], again.fired
(['assign ae'], ())
>>> [(entry.previous_tier, entry.tier, entry.change) for entry in history]
[(None, 'A', 'new'), ('A', 'A', 'same')]
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from tierwise.engine.policy import AsOf, CompiledPolicy
from tierwise.engine.store import migrate
from tierwise.engine.store.connect import (
    create,
    display_url,
    parse_url,
    resolve_url,
    sqlite_path,
)
from tierwise.engine.store.errors import StoreError, describe
from tierwise.engine.store.history import (
    HistoryEntry,
    RunInfo,
    account_history,
    find_run,
    recent_runs,
)
from tierwise.engine.store.outbox import (
    DeliveryReport,
    OutboxAction,
    Webhook,
    count_by_status,
    deliver,
    list_actions,
)
from tierwise.engine.store.recorder import BATCH_SIZE, RunRecorder
from tierwise.engine.store.replay import ReplayReport, replay_run
from tierwise.engine.store.start import IN_PROCESS, RunInput, resume_run, start_run


class Store:
    """An open audit store. Safe to share between threads; each run's
    `RunRecorder` is not."""

    def __init__(self, engine: Engine, url: URL):
        self.engine = engine
        self.url = display_url(url)
        self.backend = url.get_backend_name()

    @classmethod
    def open(
        cls, url: str | None = None, *, create: bool = True, check: bool = True
    ) -> Store:
        """Open the store at `url` (default: `TIERWISE_DB`, else `tierwise.db`).

        A new SQLite store gets its schema at once when `create` is true;
        otherwise a missing file is an error. Any other store must already be
        at this version's schema (`Store.upgrade`), unless `check` is false.
        """
        parsed = parse_url(resolve_url(url))
        path = sqlite_path(parsed)
        if path is not None and not create and not Path(path).is_file():
            raise StoreError(
                f"no store at {path}: `tierwise grade --db` or `tierwise db "
                "upgrade` creates one"
            )
        store = cls(_create(parsed), parsed)
        try:
            if check:
                store._check_schema(create)
        except SQLAlchemyError as exc:
            store.close()
            where = store.url
            raise StoreError(
                f"cannot open the store at {where}: {describe(exc)}"
            ) from None
        except BaseException:
            store.close()
            raise
        return store

    def _check_schema(self, create: bool) -> None:
        with self.engine.connect() as conn:
            revision = migrate.current_revision(conn)
            empty = revision is None and not migrate.has_tables(conn)
        head = migrate.head_revision()
        if revision == head:
            return
        if empty and create and self.backend == "sqlite":
            self.upgrade()
            return
        upgrade = f"run `tierwise db upgrade --db {self.url}`"
        if revision is None:
            raise StoreError(f"{self.url} has no tierwise schema yet: {upgrade}")
        raise StoreError(
            f"{self.url} has schema revision {revision}, this tierwise needs "
            f"{head}: {upgrade}"
        )

    # ---- schema ------------------------------------------------------------

    def upgrade(self) -> tuple[str | None, str | None]:
        """Create or migrate the schema; the revisions before and after."""
        return migrate.upgrade(self.engine)

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return migrate.current_revision(conn)

    # ---- recording ---------------------------------------------------------

    def begin_run(
        self,
        policy: CompiledPolicy,
        *,
        as_of: Any = None,
        source: RunInput | None = None,
        run_id: str | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> RunRecorder:
        """Start recording a run of `policy`; use the recorder as a context manager.

        `as_of` is an `AsOf`, a date, a datetime or ISO text (default: now);
        `source` names what the run reads (default: an in-process run whose
        account ids are given to `RunRecorder.grade`, not read from a column).
        """
        resolved = as_of if isinstance(as_of, AsOf) else policy.as_of(as_of)
        source = source or IN_PROCESS
        return start_run(
            self.engine,
            policy,
            resolved,
            source,
            run_id=run_id,
            batch_size=batch_size,
        )

    def resume_run(
        self,
        run_id: str,
        policy: CompiledPolicy,
        source: RunInput,
        *,
        batch_size: int = BATCH_SIZE,
    ) -> RunRecorder:
        """Carry on an unfinished run after its last committed batch."""
        return resume_run(self.engine, run_id, policy, source, batch_size=batch_size)

    # ---- looking back ------------------------------------------------------

    def history(
        self, account_id: str, policy_name: str | None = None
    ) -> list[HistoryEntry]:
        with self.engine.connect() as conn:
            return account_history(conn, account_id, policy_name)

    def runs(self, limit: int = 20, policy_name: str | None = None) -> list[RunInfo]:
        with self.engine.connect() as conn:
            return recent_runs(conn, limit, policy_name)

    def run(self, run_id: str) -> RunInfo:
        with self.engine.connect() as conn:
            return find_run(conn, run_id)

    def replay(self, run_id: str) -> ReplayReport:
        return replay_run(self.engine, run_id)

    # ---- actions -----------------------------------------------------------

    def actions(
        self,
        *,
        status: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
    ) -> list[OutboxAction]:
        with self.engine.connect() as conn:
            return list_actions(conn, status=status, run_id=run_id, limit=limit)

    def action_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return count_by_status(conn)

    def deliver(
        self,
        to: str,
        *,
        webhook: Webhook | None = None,
        retry_failed: bool = False,
        limit: int | None = None,
    ) -> DeliveryReport:
        """Deliver pending actions to a JSONL file or an http(s) webhook."""
        return deliver(
            self.engine, to, webhook=webhook, retry_failed=retry_failed, limit=limit
        )

    # ---- closing -----------------------------------------------------------

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _create(url: URL) -> Engine:
    try:
        return create(url)
    except (SQLAlchemyError, ImportError) as exc:
        where = display_url(url)
        raise StoreError(f"cannot open the store at {where}: {exc}") from None
