"""The agreement check: every engine's outcome for every account, exactly.

An engine agrees when its results name exactly the accounts of the
baseline (no account missing, none extra, none twice) and each has the same
tier (or is excluded in both) and the same score, compared as exact
decimals ("48", "48.0" and "48.00" are the same score; "48.01" is not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from common import read_results

SHOWN = 5  # disagreements listed in the report, per engine

Expected = dict[str, tuple[str, Decimal]]


@dataclass
class Agreement:
    checked: int = 0
    differing: int = 0
    first: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checked > 0 and self.differing == 0

    def differ(self, text: str) -> None:
        self.differing += 1
        if len(self.first) < SHOWN:
            self.first.append(text)


def _score(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def load_expected(path: Path) -> Expected:
    return {i: (tier, Decimal(score)) for i, tier, score in read_results(path)}


def compare(expected: Expected, path: Path) -> Agreement:
    """How the results at `path` compare with the baseline's, account by account."""
    found = Agreement()
    seen: set[str] = set()
    for ident, tier, score in read_results(path):
        found.checked += 1
        want = expected.get(ident)
        if want is None or ident in seen:
            found.differ(f"{ident}: {'not in the input' if want is None else 'twice'}")
            continue
        seen.add(ident)
        have = (tier, _score(score))
        if have != want:
            found.differ(
                f"{ident}: tier {tier or 'excluded'} score {score}, "
                f"want tier {want[0] or 'excluded'} score {want[1]}"
            )
    missing = sorted(expected.keys() - seen)
    for ident in missing[:SHOWN]:
        found.differ(f"{ident}: missing from the results")
    found.differing += max(0, len(missing) - SHOWN)
    return found
