"""Load a policy once, grade many accounts with it.

`load_policy` parses, checks and compiles a policy file; the resulting
`CompiledPolicy` grades one account (`grade`) or a stream of them
(`grade_many`) without looking at the syntax tree again.

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
... ''')
>>> result = policy.grade({"employees": "1,200"}, as_of="2026-12-01")
>>> result.tier, str(result.score)
('A', '100')
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tierwise.dsl import ast
from tierwise.dsl.check import CheckedPolicy, check_source
from tierwise.dsl.diagnostics import Diagnostic, source_lines
from tierwise.dsl.errors import PolicyError, TierwiseError
from tierwise.dsl.files import read_policy
from tierwise.engine import runtime
from tierwise.engine.coerce import BadValue, bind_facts, make_coercer, time_zone
from tierwise.engine.compile import (
    Generated,
    OverrideSlot,
    contributions,
    generate,
    override_slots,
    score_scale,
    units,
)
from tierwise.engine.result import (
    Action,
    AppliedOverride,
    Contribution,
    FieldProblem,
    GradeResult,
    PolicyRef,
    Rejected,
    assemble,
)

BINDINGS_KEPT = 64  # record shapes whose field binding is remembered
OUTCOMES_KEPT = 4096  # distinct scores and route sets remembered


class RecordError(TierwiseError):
    """An account's facts could not be read; `problems` says which and why."""

    def __init__(self, problems: Sequence[FieldProblem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in self.problems))


@dataclass(frozen=True)
class AsOf:
    """The instant a grade is computed for, as the policy's time zone sees it."""

    label: str
    today: dt.date
    now: dt.datetime


def resolve_as_of(value: Any, tz: dt.tzinfo) -> AsOf:
    """An as-of from None (now), a date, a datetime or ISO text.

    A date stands for that whole day: `today` is the date and `now` the last
    instant of the day, so everything that happened on it counts as past.
    """
    if value is None:
        value = dt.datetime.now(dt.UTC)
    if isinstance(value, str):
        value = _parse_as_of(value)
    if not isinstance(value, dt.date):
        raise TierwiseError(f"as-of {value!r} must be a date, a date and time or text")
    if not dt.date(1900, 1, 1) <= _day(value) <= dt.date(9000, 1, 1):
        raise TierwiseError(f"as-of {value.isoformat()} is out of range (1900 to 9000)")
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=tz)
        local = aware.astimezone(tz)
        return AsOf(aware.isoformat(), local.date(), aware)
    end_of_day = dt.datetime.combine(value, dt.time.max, tz)
    return AsOf(value.isoformat(), value, end_of_day)


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _parse_as_of(text: str) -> dt.date:
    """`2026-12-01` (the whole day) or `2026-12-01T09:00[:00][Z|+01:00]`."""
    text = text.strip()
    try:
        if "T" not in text and " " not in text:
            return dt.date.fromisoformat(text)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise TierwiseError(
            f"as-of '{text}' is not a date (YYYY-MM-DD) or a date and time "
            "(YYYY-MM-DDTHH:MM, optionally with Z or an offset)"
        ) from None


def load_policy(path: str | Path) -> CompiledPolicy:
    """Read, check and compile a policy file; raise `PolicyError` if it has errors."""
    return compile_policy(read_policy(path), str(path))


def compile_policy(source: str, path: str = "<policy>") -> CompiledPolicy:
    checked = check_source(source, path)
    if not checked.ok:
        raise PolicyError(path, source, checked.diagnostics)
    return CompiledPolicy(checked, source, path)


class CompiledPolicy:
    """A checked policy, compiled once and ready to grade any number of accounts."""

    def __init__(self, checked: CheckedPolicy, source: str, path: str):
        policy = checked.policy
        self.checked = checked
        self.source = source
        self.path = path
        self.name = policy.name
        self.version = policy.version
        self.hash = hashlib.sha256(source.encode("utf-8")).hexdigest()
        self.tz = time_zone(policy.time_zone)
        self.facts: tuple[ast.FactDecl, ...] = policy.facts
        self.warnings: list[Diagnostic] = checked.diagnostics
        self.ref = PolicyRef(name=self.name, version=self.version, hash=self.hash)
        self._coercers = [make_coercer(f, self.tz) for f in self.facts]
        self._generated: Generated = generate(checked, self.tz, self._coercers)
        self._ledger = _Ledger(checked, source)
        self._as_of_cache: tuple[Any, AsOf, tuple[Any, ...]] | None = None
        self._bindings: dict[tuple[str, ...], tuple[list[int | None], list[str]]] = {}

    @property
    def generated_source(self) -> str:
        return self._generated.source

    # ---- reading facts -----------------------------------------------------

    def columns(self) -> list[str]:
        """The input field each fact reads, in declaration order."""
        return [f.source or f.name for f in self.facts]

    def bind(self, header: Sequence[str]) -> list[int | None]:
        """Which position of `header` each fact reads (None: no such column).

        A fact's column is matched exactly first, then ignoring case and
        surrounding spaces; a fact without `from` also matches its own name.
        """
        return bind_facts(self.facts, header)

    def coerce(self, raw: Sequence[Any], names: Sequence[str]) -> tuple[Any, ...]:
        """Typed values from raw ones aligned with `self.facts`.

        Raises `RecordError` naming every field that cannot be read.
        """
        try:
            return tuple([c(v) for c, v in zip(self._coercers, raw)])
        except BadValue:
            pass
        problems = []
        for coercer, value, name in zip(self._coercers, raw, names):
            try:
                coercer(value)
            except BadValue as exc:
                problems.append(
                    FieldProblem(field=name, value=str(value), reason=str(exc))
                )
        raise RecordError(problems)

    def _from_mapping(self, facts: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
        """The raw value of each fact and the field it came from.

        Callers usually send records of one shape, so the binding of field
        names to facts is kept for the last few shapes seen.
        """
        header = tuple(facts)
        binding = self._bindings.get(header)
        if binding is None:
            positions = self.bind(header)
            names = [
                header[p] if p is not None else f.name
                for p, f in zip(positions, self.facts)
            ]
            binding = (positions, names)
            if len(self._bindings) >= BINDINGS_KEPT:
                self._bindings.clear()
            self._bindings[header] = binding
        positions, names = binding
        values = list(facts.values())
        return [values[p] if p is not None else None for p in positions], names

    # ---- grading -----------------------------------------------------------

    def as_of(self, value: Any = None) -> AsOf:
        if isinstance(value, AsOf):
            return value
        return resolve_as_of(value, self.tz)

    def grade(
        self, facts: Mapping[str, Any], *, as_of: Any = None, id: str | None = None
    ) -> GradeResult:
        """Grade one account given as a mapping of field names to raw values.

        Raises `RecordError` if a value cannot be read as its fact's type. A
        field that names no fact is ignored; a fact with no field is missing.
        """
        if type(facts) is not dict and not isinstance(facts, Mapping):
            raise TierwiseError(
                f"facts must be a mapping of field names to values, not "
                f"{type(facts).__name__}"
            )
        resolved = as_of if type(as_of) is AsOf else self.as_of(as_of)
        bounds = self._bounds(resolved)
        try:
            outcome = self._generated.grade(facts, resolved.today, resolved.now, bounds)
        except BadValue:
            outcome = None
        if outcome is None:  # loosely named fields, or a value to reject
            values = self.coerce(*self._from_mapping(facts))
            return self.grade_values(values, resolved, id)
        return self._ledger.result(outcome, resolved, id, self.ref)

    def grade_many(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        as_of: Any = None,
        id_field: str | None = None,
    ) -> Iterator[GradeResult | Rejected]:
        """Grade a stream of accounts; bad records come out as `Rejected`, in order.

        A record's id is its `id_field`, or else its `id` field in any case.
        `line` in a `Rejected` is the record's position in the stream.
        """
        resolved = as_of if isinstance(as_of, AsOf) else self.as_of(as_of)
        for number, record in enumerate(records, start=1):
            if not isinstance(record, Mapping):
                raise TierwiseError(
                    f"record {number} is {type(record).__name__}, not a mapping of "
                    "field names to values"
                )
            key = id_field or next((k for k in record if k.casefold() == "id"), None)
            ident = None if key is None or record.get(key) is None else str(record[key])
            try:
                yield self.grade(record, as_of=resolved, id=ident)
            except RecordError as exc:
                yield Rejected(id=ident, line=number, problems=exc.problems)

    def grade_values(
        self, values: tuple[Any, ...], as_of: AsOf | Any, id: str | None = None
    ) -> GradeResult:
        """Grade already-typed fact values (the output of `coerce`); `as_of` as
        `grade` takes it (resolve it once with `as_of` when grading many)."""
        cached = self._as_of_cache  # `_bounds` inlined: this is a hot path
        if cached is not None and cached[0] is as_of:
            bounds = cached[2]
        else:
            if not isinstance(as_of, AsOf):
                as_of = self.as_of(as_of)
            bounds = self._bounds(as_of)
        outcome = self._generated.function(values, as_of.today, as_of.now, bounds)
        return self._ledger.result(outcome, as_of, id, self.ref)

    def result_from(
        self,
        outcome: tuple[Any, ...],
        values: Sequence[Any],
        as_of: AsOf,
        id: str | None = None,
    ) -> GradeResult:
        """The result of an outcome worked out elsewhere (the columnar engine).

        `outcome` is what the generated evaluator returns, without its last
        item: the score in units (`units`), tier index, override slot (-1 for
        none), whether excluded, the routes that matched and the branch each
        criterion took; `values` need only be None where a fact is missing.
        """
        missing = sum(1 << i for i, v in enumerate(values) if v is None)
        return self._ledger.result((*outcome[:6], missing), as_of, id, self.ref)

    def units(self, score: Decimal) -> int:
        """A score in the evaluator's exact integer units."""
        return units(score, self._ledger.scale)

    def _bounds(self, as_of: AsOf) -> tuple[Any, ...]:
        cached = self._as_of_cache
        if cached is not None and cached[0] is as_of:
            return cached[2]
        bounds = tuple(
            runtime.shift(
                as_of.today if b.temporal == "date" else as_of.now,
                b.sign * b.amount,
                b.unit,
            )
            for b in self._generated.bounds
        )
        self._as_of_cache = (as_of, as_of, bounds)
        return bounds


class _Ledger:
    """Turns the evaluator's raw outcome into a `GradeResult`.

    Per account it only looks up the score, tier and actions; the explanation
    is built from the branches and the missing-facts mask when a caller first
    reads it. Everything that does not depend on the account (each branch's
    contribution, condition text and line) is built once, here.
    """

    def __init__(self, checked: CheckedPolicy, source: str):
        policy = checked.policy
        lines = source_lines(source)
        fact_index = {f.name: i for i, f in enumerate(policy.facts)}
        self.fact_names = [f.name for f in policy.facts]
        self.tiers = [t.name for t in policy.tiers]
        self.criteria = [
            _CriterionLedger(c, lines, fact_index) for c in policy.criteria
        ]
        self.slots: list[OverrideSlot] = override_slots(policy)
        self.overrides = [self._override(n) for n in range(len(self.slots))]
        self.scale = score_scale(policy)
        self.scores: dict[int, Decimal] = {}
        self.routed: dict[tuple[int, ...], tuple[Action, ...]] = {}
        routes = policy.routes.routes if policy.routes else ()
        self.actions = [
            tuple(
                Action(
                    kind=a.kind,
                    target=a.target,
                    route_line=route.span.line,
                    trigger=route.trigger.kind,
                    trigger_tier=route.trigger.tier,
                )
                for a in route.actions
            )
            for route in routes
        ]

    def result(
        self, outcome: tuple[Any, ...], as_of: AsOf, id: str | None, ref: PolicyRef
    ) -> GradeResult:
        """The result of an evaluator's outcome; the explanation waits until read."""
        units, tier_index, slot, excluded, routes, branches, missing = outcome
        score = self.scores.get(units)
        if score is None:
            score = self._score(units)
        actions = self.routed.get(routes)
        if actions is None:
            actions = self._routed(routes)
        return assemble(
            self,
            branches,
            missing,
            id,
            None if excluded else self.tiers[tier_index],
            score,
            excluded,
            self.overrides[slot] if slot >= 0 else None,
            actions,
            ref,
            as_of.label,
        )

    def _score(self, units: int) -> Decimal:
        """A score in units as a decimal without exponent or trailing zeros."""
        value = Decimal(units).scaleb(-self.scale)
        value = (
            value.quantize(1)
            if value == value.to_integral_value()
            else value.normalize()
        )
        if len(self.scores) < OUTCOMES_KEPT:
            self.scores[units] = value
        return value

    def _routed(self, routes: tuple[int, ...]) -> tuple[Action, ...]:
        actions = tuple(action for r in routes for action in self.actions[r])
        if len(self.routed) < OUTCOMES_KEPT:
            self.routed[routes] = actions
        return actions

    # ---- the explanation, built when a result is first asked for -----------

    def contributions(
        self, branches: tuple[int, ...], missing: int
    ) -> tuple[Contribution, ...]:
        return tuple(
            c.contribution(b, missing) for c, b in zip(self.criteria, branches)
        )

    def missing(self, missing: int) -> tuple[str, ...]:
        return tuple(n for i, n in enumerate(self.fact_names) if missing >> i & 1)

    def reason(
        self, parts: tuple[Contribution, ...], override: AppliedOverride | None
    ) -> str:
        return _reason(parts, override)

    def _override(self, slot: int) -> AppliedOverride:
        chosen = self.slots[slot]
        return AppliedOverride(
            name=chosen.override.name,
            effect="exclude" if chosen.effect.kind == "exclude" else "tier",
            tier=chosen.effect.tier,
            reason=chosen.effect.reason or "",
            line=chosen.override.span.line,
            on_missing=chosen.on_missing,
        )


class _CriterionLedger:
    def __init__(
        self, criterion: ast.Criterion, lines: list[str], facts: dict[str, int]
    ):
        whens = [b for b in criterion.branches if b.kind == "when"]
        explicit: dict[str, ast.Branch] = {
            b.kind: b for b in criterion.branches if b.kind != "when"
        }
        shares = contributions(criterion)
        self.reads = sorted(
            {
                facts[node.name]
                for b in whens
                for node in ast.walk(b.condition)  # type: ignore[arg-type]
                if isinstance(node, ast.Name) and node.name in facts
            }
        )
        self.names = {i: name for name, i in facts.items()}
        self.outcomes: list[Contribution] = []
        for index, kind in enumerate(["when"] * len(whens) + ["otherwise", "missing"]):
            branch = whens[index] if kind == "when" else explicit.get(kind)
            self.outcomes.append(
                Contribution(
                    criterion=criterion.name,
                    weight=criterion.weight,
                    points=branch.points if branch else Decimal(0),
                    contribution=shares[index],
                    branch=kind,  # type: ignore[arg-type]
                    condition=_source_text(branch.condition.span, lines)
                    if branch and branch.condition
                    else None,
                    line=branch.span.line if branch else None,
                )
            )
        self.missing_index = len(self.outcomes) - 1

    def contribution(self, outcome: int, missing: int) -> Contribution:
        """The contribution of `outcome` for an account lacking the facts of
        the bit mask `missing`."""
        part = self.outcomes[outcome]
        if outcome != self.missing_index:
            return part
        lacking = tuple(self.names[i] for i in self.reads if missing >> i & 1)
        return part.model_copy(update={"missing": lacking})


def _source_text(span: ast.Span, lines: list[str]) -> str:
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    first = lines[span.line - 1][span.column - 1 :]
    rest = [line.strip() for line in lines[span.line : span.end_line - 1]]
    last = lines[span.end_line - 1][: span.end_column - 1].strip()
    return " ".join([first.strip(), *rest, last]).strip()


def _reason(parts: tuple[Contribution, ...], override: AppliedOverride | None) -> str:
    """A short reason, the kind a CRM field can show."""
    if override is not None:
        what = "excluded" if override.effect == "exclude" else f"tier {override.tier}"
        return f"{what} by '{override.name}': {override.reason}"
    ranked = sorted(
        (p for p in parts if p.contribution != 0),
        key=lambda p: abs(p.contribution),
        reverse=True,
    )
    shown = ", ".join(f"{p.criterion} {_signed(p.contribution)}" for p in ranked[:3])
    missing = sorted({m for p in parts for m in p.missing})
    if missing:
        shown += ("; " if shown else "") + "missing " + ", ".join(missing)
    return shown or "no criterion scored"


def _signed(value: Decimal) -> str:
    text = format_decimal(value)
    return text if text.startswith("-") else "+" + text


def format_decimal(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 80, 24.5, -3.75."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
