"""The audit store: runs, audit records, grade history and fired actions in a
database (SQLite by default, PostgreSQL for teams).

`Store.open(url)` opens one; `Store.begin_run` records a run and decides
which actions fire; `history`, `runs` and `replay` look back; `deliver` sends
the outbox. Imported on first use, so that `tierwise --help` does not load
SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tierwise.engine.store.connect import DEFAULT_URL as DEFAULT_URL
    from tierwise.engine.store.errors import StoreError as StoreError
    from tierwise.engine.store.outbox import Webhook as Webhook
    from tierwise.engine.store.recorder import FiredAction as FiredAction
    from tierwise.engine.store.recorder import Recorded as Recorded
    from tierwise.engine.store.recorder import RunRecorder as RunRecorder
    from tierwise.engine.store.start import RunInput as RunInput
    from tierwise.engine.store.store import Store as Store

_EXPORTS = {
    "Store": "tierwise.engine.store.store",
    "StoreError": "tierwise.engine.store.errors",
    "RunInput": "tierwise.engine.store.start",
    "RunRecorder": "tierwise.engine.store.recorder",
    "Recorded": "tierwise.engine.store.recorder",
    "FiredAction": "tierwise.engine.store.recorder",
    "Webhook": "tierwise.engine.store.outbox",
    "DEFAULT_URL": "tierwise.engine.store.connect",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
