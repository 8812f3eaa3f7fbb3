"""The per-account ledger's short reason, from a few integer columns.

With ten criteria nearly every account takes its own combination of branches,
so the ledger cannot write the reason once per combination. The reason of an
account without an override depends on less: the `TOP` largest contributions
that are not zero (ties in the policy's order) and the facts its missing
branches lack. `ReasonColumns` finds the first per row as one integer,
`__named` (polars), and writes the text once per distinct `__named` and
missing facts (Python) by the ledger's rule: "Criterion +points, ...;
missing fact, ...", or "no criterion scored". An override's reason and the
actions come from the ledger itself (`columnar.py`), which also checks a
sample of these reasons against its own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl

from tierwise.dsl import ast
from tierwise.engine.columnar_compile import criterion_reads
from tierwise.engine.policy import format_decimal

TOP = 3  # the contributions the ledger's short reason names
NOTHING = "no criterion scored"


class ReasonColumns:
    """The reason of rows without an override, from `o{i}` and `__mask{g}`."""

    def __init__(self, policy: ast.Policy, shares: list[tuple[Decimal, ...]]):
        self.shares = shares
        facts = {f.name: i for i, f in enumerate(policy.facts)}
        read = {i for c in policy.criteria for i in criterion_reads(c, facts)}
        self.missing = sorted((policy.facts[i].name, i) for i in read)
        self.offsets = [0]  # piece number = offset of the criterion + branch
        for group in shares:
            self.offsets.append(self.offsets[-1] + len(group))
        self.pieces = [
            f"{c.name} {_signed(share)}"
            for c, group in zip(policy.criteria, shares)
            for share in group
        ]
        self.radix = len(self.pieces) + 1  # `__named` digits: piece number + 1
        self.named_values = self.radix**TOP

    def stages(self) -> list[list[pl.Expr]]:
        """The columns that make `__named`, each stage from the ones before:
        in base `radix`, digit k is the piece the reason shows k-th, plus one."""
        named = pl.lit(0, pl.Int64)
        for position in range(TOP):
            code: Any = pl
            for index, offset in enumerate(self.offsets[:-1]):
                piece = pl.col(f"o{index}").cast(pl.Int64) + (offset + 1)
                code = code.when(pl.col(f"__rank{index}") == position).then(piece)
            if code is not pl:
                named = named + code.otherwise(0) * self.radix**position
        return [
            self._sizes(),
            [self._rank(i).alias(f"__rank{i}") for i in range(len(self.shares))],
            [named.alias("__named")],
        ]

    def text(self, named: int, masks: tuple[int, ...]) -> str:
        """The reason for one `__named` and the missing facts' bits."""
        digits = [named // self.radix**k % self.radix for k in range(TOP)]
        shown = ", ".join(self.pieces[d - 1] for d in digits if d)
        lacking = [n for n, i in self.missing if masks[i // 62] >> (i % 62) & 1]
        if lacking:
            shown += ("; " if shown else "") + "missing " + ", ".join(lacking)
        return shown or NOTHING

    def _sizes(self) -> list[pl.Expr]:
        """`__size{i}`: criterion i's contribution's size as a rank among all
        contributions' sizes (0: it is zero), so sizes compare as Int32."""
        sizes = sorted({abs(s) for shares in self.shares for s in shares} - {0})
        rank = {size: number + 1 for number, size in enumerate(sizes)}
        return [
            pl.col(f"o{i}")
            .replace_strict(
                list(range(len(shares))),
                [rank.get(abs(s), 0) for s in shares],
                return_dtype=pl.Int32,
            )
            .alias(f"__size{i}")
            for i, shares in enumerate(self.shares)
        ]

    def _rank(self, index: int) -> pl.Expr:
        """Where the reason names criterion `index` (0 first), or null."""
        size = pl.col(f"__size{index}")
        ahead = [
            (pl.col(f"__size{j}") >= size if j < index else pl.col(f"__size{j}") > size)
            for j in range(len(self.shares))
            if j != index
        ]
        rank = pl.sum_horizontal(a.cast(pl.Int32) for a in ahead) if ahead else 0
        return pl.when((size > 0) & (rank < TOP)).then(rank)


def _signed(value: Decimal) -> str:
    text: str = format_decimal(value)
    return text if text.startswith("-") else "+" + text
