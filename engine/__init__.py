"""Compile checked policies and grade accounts with them.

The public API is `load_policy`, `compile_policy` and the result models; they
are imported on first use so that `tierwise --help` does not pay for them.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "load_policy": "tierwise.engine.policy",
    "compile_policy": "tierwise.engine.policy",
    "CompiledPolicy": "tierwise.engine.policy",
    "RecordError": "tierwise.engine.policy",
    "GradeResult": "tierwise.engine.result",
    "Rejected": "tierwise.engine.result",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tierwise.engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
