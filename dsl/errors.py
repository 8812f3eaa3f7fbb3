"""The exceptions tierwise raises; all of them derive from `TierwiseError`."""

from __future__ import annotations

from tierwise.dsl.diagnostics import Diagnostic, has_errors


class TierwiseError(Exception):
    """Root of every error tierwise raises on purpose."""


class PolicyError(TierwiseError):
    """A policy could not be loaded: it has at least one error diagnostic."""

    def __init__(self, path: str, source: str, diagnostics: list[Diagnostic]):
        self.path = path
        self.source = source
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        first = errors[0] if errors else diagnostics[0]
        where = f"{path}:{first.span.line}:{first.span.column}"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{where}: {first.message}{more}")

    @property
    def has_errors(self) -> bool:
        return has_errors(self.diagnostics)


class InputError(TierwiseError):
    """An input file cannot be read at all (not a single bad record)."""
