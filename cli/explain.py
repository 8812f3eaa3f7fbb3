"""`tierwise explain`: one account's grade, criterion by criterion."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tierwise.engine.result import GradeResult


def render_result(result: GradeResult) -> str:
    """A grade as a small table a person can check by hand."""
    from tierwise.engine.policy import format_decimal as num

    head = "excluded" if result.excluded else f"tier {result.tier}"
    lines = [
        f"{result.id or 'account'}: {head}, score {num(result.score)}",
        f"policy {result.policy.name} version {result.policy.version}, "
        f"as of {result.as_of}",
        "",
    ]
    rows = [("criterion", "weight", "points", "score", "because")]
    for part in result.contributions:
        rows.append(
            (
                part.criterion,
                num(part.weight),
                num(part.points),
                num(part.contribution),
                _because(part.branch, part.condition, part.line, part.missing),
            )
        )
    rows.append(("total", "", "", num(result.score), ""))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            row[i].rjust(widths[i]) for i in range(1, 4)
        ]
        lines.append(("  ".join(cells) + "  " + row[4]).rstrip())
    lines.append("")
    if result.override is not None:
        o = result.override
        when = " (its facts were missing)" if o.on_missing else ""
        what = "excluded the account" if o.effect == "exclude" else f"set tier {o.tier}"
        lines.append(f"override '{o.name}' (line {o.line}) {what}{when}: {o.reason}")
    actions = ", ".join(
        f'{a.kind} "{a.target}" (route on line {a.route_line})' for a in result.fired()
    )
    lines.append(f"actions: {actions or 'none'}")
    if result.missing:
        lines.append("missing facts: " + ", ".join(result.missing))
    return "\n".join(lines)


def _because(
    branch: str, condition: str | None, line: int | None, missing: tuple[str, ...]
) -> str:
    where = f" (line {line})" if line else ""
    if branch == "when":
        return f"{condition}{where}"
    if branch == "missing":
        if not missing:  # unknown without a missing fact: a division by zero
            return f"a condition could not be decided (division by zero){where}"
        return f"missing {', '.join(missing)}{where}"
    return f"otherwise{where}" if line else "no branch matched"


@click.command()
@click.argument("policy_path", metavar="POLICY")
@click.option(
    "--input", "input_path", help="A file of accounts to find the account in."
)
@click.option("--id", "account_id", help="The account's id in --input.")
@click.option("--facts", "facts_json", help="The account's facts as a JSON object.")
@click.option("--as-of", "as_of", help="Grade as of this date (default: now).")
@click.option("--id-column", help="The column holding account ids (default: first).")
@click.option("--encoding", help="The encoding of --input.")
@click.option("--delimiter", default=",", help="The CSV delimiter of --input.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def explain(
    policy_path: str,
    input_path: str | None,
    account_id: str | None,
    facts_json: str | None,
    as_of: str | None,
    id_column: str | None,
    encoding: str | None,
    delimiter: str,
    as_json: bool,
) -> None:
    """Explain one account's grade, criterion by criterion.

    Give the account either with --input FILE --id ID or with --facts JSON.
    """
    from tierwise.engine.policy import RecordError, load_policy
    from tierwise.engine.run import result_record

    if (facts_json is None) == (input_path is None) or (input_path and not account_id):
        raise click.UsageError("give either --input FILE --id ID, or --facts JSON")
    policy = load_policy(policy_path)
    facts, ident = _facts(
        input_path, account_id, facts_json, id_column, encoding, delimiter
    )
    try:
        result = policy.grade(facts, as_of=as_of, id=ident)
    except RecordError as exc:
        for problem in exc.problems:
            click.echo(
                f"error: {problem.field} = {problem.value!r}: {problem.reason}",
                err=True,
            )
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(result_record(result), indent=2, default=str))
    else:
        click.echo(render_result(result))


def _facts(
    input_path: str | None,
    account_id: str | None,
    facts_json: str | None,
    id_column: str | None,
    encoding: str | None,
    delimiter: str,
) -> tuple[dict[str, Any], str | None]:
    from tierwise.dsl.errors import TierwiseError
    from tierwise.engine.readers import RecordReader

    if facts_json is not None:
        try:
            facts = json.loads(facts_json)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(
                f"not valid JSON: {exc.msg}", param_hint="--facts"
            ) from None
        if not isinstance(facts, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--facts")
        return facts, None
    assert input_path is not None
    reader = RecordReader(input_path, encoding=encoding, delimiter=delimiter)
    for record in reader:
        if not record.fields:
            continue
        column = _id_position(record.fields, id_column, input_path)
        values = record.values
        if column >= len(values) or str(values[column]).strip() != account_id:
            continue
        if record.problem is not None:
            raise TierwiseError(
                f"{input_path}:{record.line}: account '{account_id}' cannot be "
                f"graded: {record.problem}"
            )
        return dict(zip(record.fields, values)), account_id
    raise TierwiseError(f"no account with id '{account_id}' in {input_path}")


def _id_position(fields: tuple[str, ...], id_column: str | None, path: str) -> int:
    """Where the ids are: the named column (in any case) or the first one."""
    from tierwise.dsl.errors import TierwiseError

    if id_column is None:
        return 0
    folded = [field.casefold() for field in fields]
    if id_column.casefold() not in folded:
        raise TierwiseError(f"no column '{id_column}' in {path}")
    return folded.index(id_column.casefold())
