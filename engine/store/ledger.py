"""An audit record's explanation as JSON text, written fast.

The explanation is the part of a grade that says why: each criterion's
contribution, the missing facts, the override and the matched actions, in the
same JSON shape as `tierwise grade --audit` writes. Most of it is shared
between accounts: a policy has a handful of branches and routes, and grading
reuses one `Contribution` or `Action` object for every account that takes that
branch. `ExplanationText` serialises each shared part once and joins the
texts, which keeps recording a large run cheap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from tierwise.engine.result import Action, Contribution, GradeResult
from tierwise.engine.run import json_number, result_record

EXPLAINED = ("contributions", "missing", "override", "actions")


def explanation(result: GradeResult) -> dict[str, Any]:
    """The explanation of `result` as plain JSON data."""
    data = result_record(result)
    return {key: data[key] for key in EXPLAINED}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _action(action: Action) -> dict[str, Any]:
    return action.model_dump()


def _contribution(part: Contribution) -> dict[str, Any]:
    data = part.model_dump(mode="python")
    for key in ("weight", "points", "contribution"):
        data[key] = json_number(data[key])
    data["missing"] = list(part.missing)
    return data


class ExplanationText:
    """Serialises explanations, reusing the text of parts seen before."""

    MAX_SHARED = 10_000  # parts are shared per branch and route: few per policy

    def __init__(self) -> None:
        self._texts: dict[int, tuple[BaseModel, str]] = {}
        self._missing: dict[tuple[Any, ...], str] = {}

    def __call__(self, result: GradeResult) -> str:
        contributions = ",".join(self._contribution(c) for c in result.contributions)
        actions = ",".join(self._shared(a, _action) for a in result.actions)
        missing = _dumps(list(result.missing)) if result.missing else "[]"
        override = "null"
        if result.override is not None:
            override = _dumps(result.override.model_dump())
        return (
            f'{{"contributions":[{contributions}],"missing":{missing},'
            f'"override":{override},"actions":[{actions}]}}'
        )

    def _contribution(self, part: Contribution) -> str:
        if not part.missing:
            return self._shared(part, _contribution)
        # A copy of a shared part that names this account's missing facts.
        key = (part.criterion, part.branch, part.line, part.missing)
        text = self._missing.get(key)
        if text is None:
            if len(self._missing) >= self.MAX_SHARED:
                self._missing.clear()
            text = self._missing[key] = _dumps(_contribution(part))
        return text

    def _shared(self, part: Any, plain: Callable[[Any], dict[str, Any]]) -> str:
        found = self._texts.get(id(part))
        if found is not None and found[0] is part:
            return found[1]
        if len(self._texts) >= self.MAX_SHARED:
            self._texts.clear()
        text = _dumps(plain(part))
        self._texts[id(part)] = (part, text)
        return text
