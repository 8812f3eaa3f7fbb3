"""Reading policy files: UTF-8, with or without the byte-order mark Windows adds."""

from __future__ import annotations

from pathlib import Path

from tierwise.dsl.errors import TierwiseError


def read_policy(path: str | Path) -> str:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TierwiseError(f"cannot read policy {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TierwiseError(
            f"{path}:{line}: a policy file must be UTF-8 text ({exc.reason} at "
            f"byte {exc.start}); save it as UTF-8"
        ) from None
