"""Helpers the generated evaluator calls, and the as-of arithmetic.

Kept apart from the code generator so the names the generated source may use
are listed in one place (`HELPERS`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any


def _divide(numerator: Any, denominator: Any) -> Decimal | None:
    if denominator == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


def _local_date(value: dt.date, tz: dt.tzinfo) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).date()
    return value


def _days_since(value: dt.date, today: dt.date, tz: dt.tzinfo, sign: int) -> int:
    return sign * (today - _local_date(value, tz)).days


def _years_since(value: dt.date, today: dt.date, tz: dt.tzinfo, sign: int) -> int:
    """Whole years from `value` to the as-of, as a birthday counts age."""
    start = _local_date(value, tz)
    early, late = (start, today) if sign > 0 else (today, start)
    return late.year - early.year - ((late.month, late.day) < (early.month, early.day))


def _midnight(value: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(value, dt.time(), tz)


HELPERS: dict[str, Any] = {
    "_divide": _divide,
    "_days_since": _days_since,
    "_years_since": _years_since,
    "_midnight": _midnight,
}


def shift(value: dt.date, amount: int, unit: str) -> Any:
    """`value` moved by a signed number of days, weeks, months or years.

    Months and years keep the day of the month where they can and clip to the
    month's last day where they cannot (January 31 plus a month is February 28).
    """
    if unit == "days":
        return value + dt.timedelta(days=amount)
    if unit == "weeks":
        return value + dt.timedelta(weeks=amount)
    months = amount * (12 if unit == "years" else 1)
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)
