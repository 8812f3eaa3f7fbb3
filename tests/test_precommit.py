"""The pre-commit hooks, run by pre-commit itself in a policy repository.

pre-commit installs tierwise from this repository into an environment of its
own, as it would for a team's policy repository, then runs the hooks on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ["tierwise-check", "tierwise-fmt", "tierwise-test"]


def _pre_commit() -> list[str]:
    found = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "pre_commit"]


def _run(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def policy_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("policy-repo")
    shutil.copy(ROOT / "policies" / "starter.grade", repo / "icp.grade")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "policies")
    return repo


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def test_hooks_pass_on_a_good_policy(policy_repo: Path, home: Path) -> None:
    for hook in HOOKS:
        args = [*_pre_commit(), "try-repo", str(ROOT), hook, "--all-files"]
        result = _run(args, policy_repo, home)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Passed" in result.stdout


def test_hooks_block_a_bad_policy(policy_repo: Path, home: Path) -> None:
    policy = policy_repo / "icp.grade"
    good = policy.read_text("utf-8")
    policy.write_text(
        good.replace("  A from 75", "    A from 75").replace("score 100,", "score 99,"),
        "utf-8",
    )
    _git(policy_repo, "add", ".")
    try:
        for hook, expected in [
            ("tierwise-fmt", "would reformat icp.grade"),
            ("tierwise-test", "expected score 99, got 100"),
        ]:
            args = [*_pre_commit(), "try-repo", str(ROOT), hook, "--all-files"]
            result = _run(args, policy_repo, home)
            assert result.returncode == 1, result.stdout + result.stderr
            assert expected in result.stdout
    finally:
        policy.write_text(good, "utf-8")
