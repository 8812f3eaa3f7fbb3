"""The README's example and the docstring examples run as written."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(ROOT)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


@pytest.mark.parametrize("module", ["tierwise.engine.policy", "tierwise.dsl.parser"])
def test_docstring_examples(module: str) -> None:
    failures, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failures == 0


def test_readme_policy_checks_and_its_tests_pass() -> None:
    from tierwise.engine.policy import compile_policy
    from tierwise.engine.testing import run_tests

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A policy, line by line", 1)[1]
    source = re.search(r"```\n(.*?)```", section, flags=re.S).group(1)  # type: ignore[union-attr]
    policy = compile_policy(source, "README.md")
    assert policy.warnings == []
    outcomes = run_tests(policy)
    assert outcomes and all(o.passed for o in outcomes), [o.failures for o in outcomes]
