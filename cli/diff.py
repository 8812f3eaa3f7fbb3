"""`tierwise diff OLD NEW --input FILE`: what a policy change does to real accounts."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tierwise.engine.impact import Impact, Mover
    from tierwise.engine.policy import CompiledPolicy


def load_version(spec: str) -> CompiledPolicy:
    """A policy from a file, or from git as `REVISION:path` (e.g. main:p.grade)."""
    from tierwise.dsl.errors import TierwiseError
    from tierwise.dsl.files import read_policy
    from tierwise.engine.policy import compile_policy

    if Path(spec).exists() or ":" not in spec:
        return compile_policy(read_policy(spec), spec)
    revision, path = spec.split(":", 1)
    folder = Path(path).parent
    shown = subprocess.run(
        ["git", "show", f"{revision}:./{Path(path).name}"],
        cwd=folder if str(folder) else ".",
        capture_output=True,
    )
    if shown.returncode != 0:
        message = shown.stderr.decode("utf-8", "replace").strip()
        raise TierwiseError(f"cannot read {spec} from git: {message}")
    return compile_policy(shown.stdout.decode("utf-8-sig"), spec)


@click.command()
@click.argument("old_spec", metavar="OLD")
@click.argument("new_spec", metavar="NEW")
@click.option("--input", "input_", required=True, help="Accounts to grade with both.")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option("--as-of", help="Grade both as of this date (default: now).")
@click.option("--top", default=10, show_default=True, help="How many movers to list.")
@click.option("--input-format", type=click.Choice(["csv", "json", "jsonl"]))
@click.option("--encoding", help="Encoding of --input.")
@click.option("--delimiter", default=",", show_default=True)
@click.option("--id-column", help="Column holding the account id (default: the first).")
def diff(old_spec: str, new_spec: str, **options: Any) -> None:
    """Compare two versions of a policy and their effect on accounts.

    OLD and NEW are policy files or git revisions such as
    main:policies/icp.grade. Prints what changed in the policy, the tier
    migration matrix, the accounts that move furthest and why, and the actions
    that would newly fire.
    """
    from tierwise.dsl.compare import describe_changes
    from tierwise.engine.impact import measure_impact
    from tierwise.engine.readers import RecordReader

    old, new = load_version(old_spec), load_version(new_spec)
    reader = RecordReader(
        options["input_"],
        format=options["input_format"],
        encoding=options["encoding"],
        delimiter=options["delimiter"],
    )
    as_of = new.as_of(options["as_of"])
    impact = measure_impact(
        old, new, reader, as_of, id_field=options["id_column"], keep=options["top"]
    )
    changes = describe_changes(old.checked.policy, new.checked.policy)
    heading = f"{old_spec} → {new_spec} over {options['input_']} as of {as_of.label}"
    render = {"text": render_text, "markdown": render_markdown, "json": render_json}
    click.echo(render[options["format_"]](heading, changes, impact), nl=False)


# ---- rendering --------------------------------------------------------------------


def _number(value: Any) -> str:
    from tierwise.engine.policy import format_decimal

    return "-" if value is None else format_decimal(Decimal(value))


def _signed(value: Any) -> str:
    text = _number(value)
    return text if text.startswith("-") else "+" + text


def _mover_text(mover: Mover) -> str:
    drivers = ", ".join(f"{name} {_signed(delta)}" for name, delta in mover.drivers)
    if not drivers and mover.old_score == mover.new_score:
        drivers = "same score, the tier thresholds moved"
    scores = f"{_number(mover.old_score)} → {_number(mover.new_score)}"
    why = f": {drivers}" if drivers else ""
    return f"{mover.id}: {mover.old} → {mover.new} ({scores}){why}"


def _matrix_rows(impact: Impact) -> list[list[str]]:
    columns = impact.columns()
    rows = [["old \\ new", *columns, "total"]]
    for old in impact.rows():
        counts = [impact.matrix[(old, new)] for new in columns]
        if any(counts):
            rows.append([old, *(str(c) for c in counts), str(sum(counts))])
    totals = [
        sum(impact.matrix[(old, new)] for old in impact.rows()) for new in columns
    ]
    rows.append(["total", *(str(t) for t in totals), str(impact.read)])
    return rows


def _size_changes(impact: Impact) -> list[str]:
    lines = []
    for tier in dict.fromkeys(
        impact.old_tiers + impact.new_tiers + ["excluded", "rejected"]
    ):
        before, after = impact.size(tier, "old"), impact.size(tier, "new")
        if before or after:
            lines.append(f"{tier}: {before} → {after} ({_signed(after - before)})")
    return lines


def render_text(heading: str, changes: list[str], impact: Impact) -> str:
    out = [heading, "", "Policy changes:"]
    out += [f"  {c}" for c in changes] or ["  none"]
    out += ["", f"{impact.moved} of {impact.read} accounts change tier", ""]
    rows = _matrix_rows(impact)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.append("  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    out += ["", "Tier sizes:"] + [f"  {line}" for line in _size_changes(impact)]
    out += ["", "Furthest moves:"]
    out += [f"  {_mover_text(m)}" for m in impact.movers] or ["  none"]
    out += ["", "Actions that would newly fire:"]
    out += [
        f'  {kind} "{target}": {n}'
        for (kind, target), n in impact.new_actions.most_common()
    ] or ["  none"]
    return "\n".join(out) + "\n"


def render_markdown(heading: str, changes: list[str], impact: Impact) -> str:
    out = [f"### tierwise diff: {heading}", "", "**Policy changes**", ""]
    out += [f"- {c}" for c in changes] or ["- none"]
    out += ["", f"**{impact.moved} of {impact.read} accounts change tier**", ""]
    rows = _matrix_rows(impact)
    out.append("| " + " | ".join(rows[0]) + " |")
    out.append("|" + "---|" * len(rows[0]))
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    out += ["", "**Tier sizes**", ""] + [f"- {line}" for line in _size_changes(impact)]
    out += ["", "**Furthest moves**", ""]
    out += [f"- {_mover_text(m)}" for m in impact.movers] or ["- none"]
    out += ["", "**Actions that would newly fire**", ""]
    out += [
        f'- {kind} "{target}": {n}'
        for (kind, target), n in impact.new_actions.most_common()
    ] or ["- none"]
    return "\n".join(out) + "\n"


def render_json(heading: str, changes: list[str], impact: Impact) -> str:
    data = {
        "changes": changes,
        "read": impact.read,
        "moved": impact.moved,
        "matrix": [
            {"old": old, "new": new, "count": count}
            for (old, new), count in sorted(impact.matrix.items())
        ],
        "sizes": {
            tier: {"old": impact.size(tier, "old"), "new": impact.size(tier, "new")}
            for tier in dict.fromkeys(impact.rows() + impact.columns())
        },
        "movers": [
            {
                "id": m.id,
                "old": m.old,
                "new": m.new,
                "old_score": _number(m.old_score),
                "new_score": _number(m.new_score),
                "drivers": {name: _number(delta) for name, delta in m.drivers},
            }
            for m in impact.movers
        ],
        "new_actions": [
            {"kind": kind, "target": target, "count": n}
            for (kind, target), n in impact.new_actions.most_common()
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
