"""`tierwise schema POLICY`: the JSON Schema of the records a policy reads."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("policy", metavar="POLICY")
def schema(policy: str) -> None:
    """Print the JSON Schema of the account records POLICY reads.

    Teams that send accounts can validate their records against it.
    """
    from tierwise.dsl.schema import facts_schema
    from tierwise.engine.policy import load_policy

    compiled = load_policy(policy)
    click.echo(json.dumps(facts_schema(compiled.checked.policy), indent=2))
