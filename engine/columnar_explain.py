"""The per-account ledger's short reason, as polars expressions.

With ten criteria nearly every account takes its own combination of branches,
so the reason cannot be made once per combination by the ledger. It is
composed from columns instead, by the ledger's rule: the `TOP` largest
contributions that are not zero (ties in the policy's order) as
"Criterion +points", then "missing" and the facts the missing branches lack,
sorted; "no criterion scored" when there is neither. An override's reason
and the actions come from the ledger itself (`columnar.py`), and the grader
checks a sample of composed reasons against the ledger's.
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
        self.names = [c.name for c in policy.criteria]
        facts = {f.name: i for i, f in enumerate(policy.facts)}
        read = {i for c in policy.criteria for i in criterion_reads(c, facts)}
        self.missing = sorted((policy.facts[i].name, i) for i in read)
        self.width = max((len(s) for s in shares), default=1)

    def stages(self) -> list[list[pl.Expr]]:
        """The columns that make `__reason`, each stage from the ones before."""
        top = pl.concat_str(
            [self._piece(k) for k in range(TOP)], separator=", ", ignore_nulls=True
        )
        lacking = pl.concat_str(
            [
                pl.when((pl.col(f"__mask{i // 62}") & (1 << (i % 62))) != 0).then(
                    pl.lit(name)
                )
                for name, i in self.missing
            ],
            separator=", ",
            ignore_nulls=True,
        )
        shown, missing = pl.col("__top"), pl.lit("missing ") + pl.col("__lacking")
        reason = (
            pl.when(pl.col("__lacking") != "")
            .then(pl.when(shown != "").then(shown + "; " + missing).otherwise(missing))
            .when(shown != "")
            .then(shown)
            .otherwise(pl.lit(NOTHING))
        )
        return [
            self._sizes(),
            [self._rank(i).alias(f"__rank{i}") for i in range(len(self.shares))],
            [top.alias("__top"), lacking.alias("__lacking")],
            [reason.alias("__reason")],
        ]

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

    def _piece(self, position: int) -> pl.Expr:
        """ "Criterion +points" for the criterion named at `position`, or null."""
        code: Any = pl
        for index in range(len(self.shares)):
            value = pl.col(f"o{index}") + index * self.width
            code = code.when(pl.col(f"__rank{index}") == position).then(value)
        if code is pl:
            return pl.lit(None, pl.String)
        texts = {
            index * self.width + branch: f"{name} {_signed(share)}"
            for index, (name, shares) in enumerate(zip(self.names, self.shares))
            for branch, share in enumerate(shares)
        }
        return code.otherwise(None).replace_strict(
            list(texts), list(texts.values()), default=None, return_dtype=pl.String
        )


def _signed(value: Decimal) -> str:
    text = format_decimal(value)
    return text if text.startswith("-") else "+" + text
