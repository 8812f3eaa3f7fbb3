"""Run one engine at one size in its own process, and say how it went.

The runner starts this script once per engine, size and round, so that each
run's peak memory is its own (this process's VmHWM, reported at the end). It
writes the engine's outcomes as a results CSV and its timings as JSON:

    python bench/worker.py ENGINE CONTEXT_JSON STATS_JSON RESULTS_CSV REPS

Only the grading is timed: loading and compiling the policy, reading the
JSONL for the per-account engines and writing their outcomes are not. A
module that cannot be imported makes the status "unavailable", with the
import error, so the report can say why an engine has no numbers.
"""

from __future__ import annotations

import csv
import importlib
import json
import sys
import time
import traceback
from array import array
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULT_COLUMNS, Context, append_results, iter_jsonl  # noqa: E402
from engines import BY_NAME, RowEngine, TableEngine  # noqa: E402

CHUNK = 10_000  # accounts read from the JSONL at a time
KEEP_IN_MEMORY = 200_000  # up to this size, accounts are read once for all reps
LATENCY_SAMPLE = 100_000  # accounts timed one by one (the first ones)
WARM_UP = 1_000  # accounts graded untimed before anything is measured


def run_rows(
    engine: RowEngine, ctx: Context, results: str, reps: int
) -> dict[str, Any]:
    """Best-of-`reps` throughput, then one pass timing each call for latency."""
    kept = list(_prepared_chunks(engine, ctx)) if ctx.size <= KEEP_IN_MEMORY else None
    _warm_up(engine, kept if kept is not None else _prepared_chunks(engine, ctx))
    runs = []
    with open(results, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RESULT_COLUMNS)
        for rep in range(reps):
            chunks = kept if kept is not None else _prepared_chunks(engine, ctx)
            last = rep == reps - 1
            runs.append(_time_chunks(engine, chunks, writer if last else None))
    chunks = kept if kept is not None else _prepared_chunks(engine, ctx)
    latencies = _latencies(engine, chunks)
    return {"seconds": min(runs), "runs": runs, **_percentiles(latencies)}


def _prepared_chunks(engine: RowEngine, ctx: Context) -> Any:
    for chunk in iter_jsonl(ctx.jsonl_path, CHUNK):
        yield [a["id"] for a in chunk], [engine.prepare(a) for a in chunk]


def _time_chunks(engine: RowEngine, chunks: Any, writer: Any) -> float:
    """Seconds spent in `grade`; outcomes go to `writer` (if any), untimed."""
    grade, outcome = engine.grade, engine.outcome
    total = 0
    for ids, prepared in chunks:
        start = time.perf_counter_ns()
        graded = [grade(p) for p in prepared]
        total += time.perf_counter_ns() - start
        if writer is not None:
            append_results(writer, ((i, *outcome(g)) for i, g in zip(ids, graded)))
    return total / 1e9


def _warm_up(engine: RowEngine, chunks: Any) -> None:
    for _ids, prepared in chunks:
        for p in prepared[:WARM_UP]:
            engine.grade(p)
        return


def _latencies(engine: RowEngine, chunks: Any) -> array[int]:
    """Each call's time in ns, for the first `LATENCY_SAMPLE` accounts."""
    grade, clock = engine.grade, time.perf_counter_ns
    found = array("q")
    for _ids, prepared in chunks:
        for p in prepared:
            start = clock()
            grade(p)
            found.append(clock() - start)
        if len(found) >= LATENCY_SAMPLE:
            break
    return found


def _percentiles(latencies: array[int]) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000

    return {"p50_us": at(0.50), "p99_us": at(0.99)}


def run_file(grade_file: Any, ctx: Context, results: str, reps: int) -> dict[str, Any]:
    runs = []
    for _ in range(reps):
        start = time.perf_counter()
        grade_file(ctx.csv_path, results)
        runs.append(time.perf_counter() - start)
    return {"seconds": min(runs), "runs": runs}


def run_table(
    engine: TableEngine, ctx: Context, name: str, results: str, reps: int
) -> dict[str, Any]:
    import pg

    table = f"results_{name.replace('-', '_')}"
    runs = []
    for _ in range(reps):
        pg.drop_table(ctx, table)
        start = time.perf_counter()
        engine.grade(table)
        runs.append(time.perf_counter() - start)
    with open(results, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RESULT_COLUMNS)
        append_results(writer, engine.read(table))
    pg.drop_table(ctx, table)
    return {"seconds": min(runs), "runs": runs}


def run(name: str, ctx: Context, results: str, reps: int) -> dict[str, Any]:
    spec = BY_NAME[name]
    try:
        module = importlib.import_module(f"engines.{spec.module}")
    except ImportError as exc:
        return {"status": "unavailable", "error": f"{type(exc).__name__}: {exc}"}
    engine = getattr(module, spec.entry)(ctx)
    if spec.kind == "rows":
        stats = run_rows(engine, ctx, results, reps)
    elif spec.kind == "file":
        stats = run_file(engine, ctx, results, reps)
    else:
        stats = run_table(engine, ctx, name, results, reps)
    return {"status": "ok", **stats}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MiB.

    Not `getrusage`: Linux carries the parent's high-water mark across
    fork and exec into the child's `ru_maxrss`, so a child of a large
    runner would report the runner's memory as its own.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    name, context, stats_path, results, reps = sys.argv[1:6]
    ctx = Context.from_json(context)
    try:
        stats = run(name, ctx, results, int(reps))
    except Exception as exc:  # reported, not raised: the run goes on
        traceback.print_exc()
        stats = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    Path(stats_path).write_text(json.dumps({**stats, "rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
