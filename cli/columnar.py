"""The columnar engine behind `tierwise grade`: the worker and the engine choice.

`choose_engine` picks the per-account engine ("rows") for small inputs and
the columnar one ("columns", `engine/columnar.py`) for large files;
`--engine rows|columns` forces either; Parquet is read by the columnar
engine only. `run_columnar` is the worker that grades with the columnar
engine from the same `GradeOptions` as `cli/grade.py`, writing the same CSV
output and rejects; it refuses the options only the per-account engine
supports (an audit file, the audit store, JSONL output, standard input).
"""

from __future__ import annotations

import importlib.util
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tierwise.cli.common import SHOW_REJECTS, check_paths, echo_rejected, written_whole
from tierwise.dsl.errors import TierwiseError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tierwise.cli.grade import GradeOptions
    from tierwise.engine.result import Rejected
    from tierwise.engine.run import RunSummary

Engine = Literal["rows", "columns"]
ENGINES = ("rows", "columns")
# Below this size the per-account engine starts and finishes sooner (polars'
# start-up and the per-batch planning are not worth it for a few thousand rows).
COLUMNS_FROM_BYTES = 16 * 1024 * 1024


def columnar_available() -> bool:
    """Whether polars, which the columnar engine needs, is installed."""
    return importlib.util.find_spec("polars") is not None


def choose_engine(
    path: str, forced: str | None, options: GradeOptions | None = None
) -> Engine:
    """ "rows" or "columns": `forced` if given, else by the input's size.

    With `options`, an input the columnar engine cannot grade as asked goes to
    the per-account engine, and forcing "columns" on it is an error.
    """
    if forced is not None and forced not in ENGINES:
        raise TierwiseError(f"unknown engine '{forced}' (use rows or columns)")
    refusal = columnar_refusal(options) if options is not None else None
    given = options.input_format if options is not None else None
    if given == "parquet" or (given is None and path.lower().endswith(".parquet")):
        if forced == "rows":
            raise TierwiseError(
                "--engine rows cannot read Parquet: use --engine columns"
            )
        return _columns("Parquet input (read by the columnar engine only)", refusal)
    if forced == "columns":
        return _columns("--engine columns", refusal)
    if forced == "rows" or refusal is not None or not columnar_available():
        return "rows"
    try:
        size = Path(path).stat().st_size
    except OSError:
        return "rows"  # the per-account reader reports a missing file
    return "columns" if size >= COLUMNS_FROM_BYTES else "rows"


def _columns(why: str, refusal: str | None) -> Engine:
    """The columnar engine where nothing else will do (`why`), if it can."""
    if refusal is not None:
        raise TierwiseError(f"{why} cannot {refusal}")
    if not columnar_available():
        raise TierwiseError(f"{why} needs polars: pip install 'tierwise[columnar]'")
    return "columns"


def columnar_refusal(options: GradeOptions) -> str | None:
    """What the columnar engine cannot do of `options`, in words, or None."""
    if options.audit:
        return "write an audit file (--audit)"
    if options.db or options.resume:
        return "record the run in the audit store (--db, --resume)"
    if options.format != "csv":
        return "write JSON lines (--format jsonl)"
    if options.input == "-":
        return "read standard input"
    return None


def run_columnar(options: GradeOptions) -> RunSummary:
    """Grade `options.input` with the columnar engine; the output and rejects
    are what `run_grade` writes with the per-account engine."""
    from tierwise.engine.columnar import grade_file_columnar
    from tierwise.engine.policy import load_policy
    from tierwise.engine.run import rejects_writer

    refusal = columnar_refusal(options)
    if refusal is not None:
        raise TierwiseError(f"the columnar engine cannot {refusal}")
    check_paths(options)
    policy = load_policy(options.policy)
    with ExitStack() as stack:
        output = sys.stdout
        if options.output is not None:
            output = stack.enter_context(written_whole(options.output))
        rejects: Callable[[Rejected], None] = _EchoRejects()
        if options.rejects is not None:
            stream = stack.enter_context(written_whole(options.rejects))
            rejects = rejects_writer(stream, options.rejects)
        return grade_file_columnar(
            policy,
            options.input,
            output,
            as_of=policy.as_of(options.as_of),
            rejects=rejects,
            format=options.input_format,
            encoding=options.encoding,
            delimiter=options.delimiter,
            id_column=options.id_column,
        )


class _EchoRejects:
    """The first rejects on stderr, as `tierwise grade` shows them without
    --rejects."""

    def __init__(self) -> None:
        self.shown = 0

    def __call__(self, rejected: Rejected) -> None:
        self.shown += 1
        if self.shown <= SHOW_REJECTS:
            echo_rejected(rejected)
