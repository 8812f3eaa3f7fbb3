"""Shared pytest fixtures for the tierwise test suite.

`shared_data` finds the public datasets that live next to the repository, in
`../shared/data` (see that folder's README.md). They are not part of the
repository, so tests that need them are skipped when the folder is absent,
unless `TIERWISE_REQUIRE_ALL=1` is set: then a missing folder is a failure, so
that CI cannot pass by silently skipping them. `shared_data_file` applies
the same rule to one file inside that folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _absent(message: str) -> NoReturn:
    """Skip the current test for missing data, or fail it under TIERWISE_REQUIRE_ALL."""
    if os.environ.get("TIERWISE_REQUIRE_ALL") == "1":
        pytest.fail(f"{message} (and TIERWISE_REQUIRE_ALL=1 is set)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of shared public datasets; skips (or fails) when it is absent."""
    if not SHARED_DATA.is_dir():
        _absent(f"no shared data folder at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data_file(shared_data: Path) -> Callable[[str], Path]:
    """A function from a path inside `shared_data` to that file.

    It skips (or fails, under TIERWISE_REQUIRE_ALL=1) when the file is absent,
    as `shared_data` does for the whole folder.
    """

    def locate(relative: str) -> Path:
        path = shared_data / relative
        if not path.is_file():
            _absent(f"no shared data file {path}")
        return path

    return locate
