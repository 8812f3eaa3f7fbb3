"""Which of a grade's actions fire, given the account's tier before this run.

Grading reports every action whose route matched, as if the account were new.
The store knows the account's current tier under the policy's name and keeps
only the actions whose trigger holds. `previous` is that tier: None for an
account graded for the first time and for one that was excluded; `tier` is
the new one (None when excluded: excluded accounts are never routed).

>>> from tierwise.engine.result import Action
>>> assign = Action(kind="assign", target="ae", route_line=3)
>>> fires(assign, None, "A"), fires(assign, "A", "A"), fires(assign, "B", "A")
(True, False, True)
>>> entering_a = assign.model_copy(update={"trigger": "entering", "trigger_tier": "A"})
>>> fires(entering_a, "B", "A"), fires(entering_a, "A", "A")
(True, False)
"""

from __future__ import annotations

from tierwise.engine.result import Action


def fires(action: Action, previous: str | None, tier: str | None) -> bool:
    """Whether `action` fires for an account going from `previous` to `tier`
    (see `Action.fires`, where the rule lives)."""
    return action.fires(previous, tier)
