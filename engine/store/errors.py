"""The errors the audit store raises, and how database errors are told."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from tierwise.dsl.errors import TierwiseError


class StoreError(TierwiseError):
    """The store cannot be opened or used as asked: what and why is in the message."""


def describe(error: SQLAlchemyError) -> str:
    """The database's own first line about `error`, without SQLAlchemy's SQL dump."""
    origin = getattr(error, "orig", None) or error
    lines = str(origin).strip().splitlines()
    return lines[0] if lines else type(origin).__name__
