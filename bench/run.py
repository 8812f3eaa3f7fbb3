"""The benchmark in one command: generate, grade with every engine, check, report.

    python bench/run.py          # 10k and 100k accounts: ~5 min on 2 cores
    python bench/run.py --full   # and 1M accounts: ~11 min on 2 cores
    python bench/run.py --sizes 20000 --engines hand,tw-grade,zen

For each size it writes the accounts (bench/data, reused while current),
loads them into PostgreSQL (a schema of the run's own, `tierwise_bench_<run>`
on 127.0.0.1, dropped at the end), then runs every engine in rounds: each
engine once per round, in its own process, so that a change in the machine's
load falls on all of them and each run's peak memory is its own. Throughput
is the best round; latency percentiles come from that round. Every engine's
outcomes for every account are compared with the hand-written function's,
and the Markdown report goes to stdout and to bench/results/<run>/report.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
from agree import Expected, compare, load_expected  # noqa: E402
from common import BENCH, Context, environment_line, versions_line  # noqa: E402
from engines import ENGINES, Engine  # noqa: E402
from report import BASELINE, Measured, table, targets  # noqa: E402

WORKER = BENCH / "worker.py"
ROUNDS = {10_000: 5, 100_000: 3, 1_000_000: 1}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated")
    parser.add_argument("--full", action="store_true", help="add 1,000,000 accounts")
    parser.add_argument("--engines", help="comma-separated names (default: all)")
    parser.add_argument("--rounds", type=int, help="rounds per size (default: 5/3/1)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    parser.add_argument("--keep", action="store_true", help="keep the results files")
    return parser.parse_args()


def chosen_engines(names: str | None) -> list[Engine]:
    if not names:
        return list(ENGINES)
    wanted = {BASELINE, *names.split(",")}
    unknown = wanted - {e.name for e in ENGINES}
    if unknown:
        known = ", ".join(e.name for e in ENGINES)
        sys.exit(f"unknown engine(s) {', '.join(sorted(unknown))}; known: {known}")
    return [e for e in ENGINES if e.name in wanted]


# ---- one engine, one round ---------------------------------------------------------


def spawn(
    engine: Engine, ctx: Context, folder: Path, tag: str, timeout: float
) -> dict[str, Any]:
    """Run the worker; return its stats (timings, peak RSS) or why it failed."""
    stats = folder / f"{engine.name}{tag}.json"
    results = folder / f"{engine.name}{tag}.csv"
    command = [sys.executable, str(WORKER), engine.name, ctx.to_json()]
    with open(folder / f"{engine.name}{tag}.log", "w") as log:
        process = subprocess.Popen(
            [*command, str(stats), str(results), "1"], stdout=log, stderr=log
        )
    try:
        status = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return _failed("timeout", f"stopped after {timeout:.0f} s", results)
    if not stats.exists():
        return _failed("error", f"worker exited with status {status}", results)
    return {**json.loads(stats.read_text()), "results": str(results)}


def _failed(status: str, error: str, results: Path) -> dict[str, Any]:
    return {"status": status, "error": error, "rss_mb": 0.0, "results": str(results)}


def record(m: Measured, stats: dict[str, Any]) -> None:
    """Fold one round's stats into the engine's measurement."""
    m.rss_mb = max(m.rss_mb, stats["rss_mb"])
    if stats["status"] != "ok":
        m.status, m.error = stats["status"], stats.get("error", "")
        return
    fastest = not m.seconds or stats["seconds"] < min(m.seconds)
    m.seconds.append(stats["seconds"])
    if fastest:
        m.p50_us, m.p99_us = stats.get("p50_us"), stats.get("p99_us")


# ---- one size ------------------------------------------------------------------------


def prepare_database(ctx: Context, engines: list[Engine]) -> str | None:
    """Load the accounts into PostgreSQL; say why not if it cannot be reached."""
    if not any(e.kind == "database" for e in engines):
        return None
    try:
        import pg

        pg.load(ctx)
    except Exception as exc:  # the database engines are reported unavailable
        return f"PostgreSQL at 127.0.0.1: {type(exc).__name__}: {exc}"
    return None


def schema_of(out: Path) -> str:
    """A schema name of this run's own, so that runs at the same time never meet."""
    return f"tierwise_bench_{out.name.replace('-', '_')}_{os.getpid()}"


def run_size(
    args: argparse.Namespace, engines: list[Engine], size: int, out: Path
) -> list[Measured]:
    started = time.monotonic()
    csv_path, jsonl_path = generate.write(size, args.data)
    folder = out / f"size-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    ctx = Context(
        size, str(csv_path), str(jsonl_path), str(folder), pg_schema=schema_of(out)
    )
    log(f"{size:,} accounts: data ready in {time.monotonic() - started:.0f} s")

    measured = [Measured(e, size) for e in engines]
    no_database = prepare_database(ctx, engines)
    for m in measured:
        if m.engine.kind == "database" and no_database:
            m.status, m.error = "unavailable", no_database

    expected: Expected = {}
    rounds = args.rounds or ROUNDS.get(size, 3 if size <= 100_000 else 1)
    for number in range(rounds):
        for m in (m for m in measured if m.status == "ok"):
            stats = spawn(m.engine, ctx, folder, f"-{number}", args.timeout)
            record(m, stats)
            if number == 0 and m.status == "ok":
                expected = expected or _baseline(m, Path(stats["results"]))
                m.agreement = (
                    compare(expected, Path(stats["results"])) if expected else None
                )
            log(_progress(m, stats, number, rounds))
    _tidy(folder, args.keep)
    return measured


def _baseline(m: Measured, results: Path) -> Expected:
    """The baseline's outcomes, once it has run (it runs first)."""
    return load_expected(results) if m.engine.name == BASELINE else {}


def _tidy(folder: Path, keep: bool) -> None:
    if keep:
        return
    for path in folder.glob("*.csv"):
        path.unlink()


def _progress(m: Measured, stats: dict[str, Any], number: int, rounds: int) -> str:
    where = f"round {number + 1}/{rounds} {m.engine.name} ({m.size:,})"
    if stats["status"] != "ok":
        return f"{where}: {stats['status']}: {stats.get('error', '')}"
    agreed = ""
    if m.agreement is not None and number == 0:
        agreed = (
            ", agrees" if m.agreement.ok else f", DISAGREES on {m.agreement.differing}"
        )
    rate = m.size / stats["seconds"]
    return f"{where}: {rate:,.0f} accounts/s, {stats['rss_mb']:.0f} MiB{agreed}"


# ---- the whole run -----------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def render(
    results: list[Measured], sizes: list[int], seconds: float, database: str
) -> str:
    today = dt.date.today().isoformat()
    head = [
        f"## tierwise benchmark, {today}",
        "",
        f"Machine: {environment_line()}.",
        f"Versions: {versions_line()}, {database}.",
        "One run: the numbers are noisy; the ratios are to the hand-written Python",
        f"function measured in the same run. The whole run took {seconds / 60:.1f} "
        "minutes.",
        "",
    ]
    tables = [table(size, [m for m in results if m.size == size]) for size in sizes]
    return "\n".join(
        [*head, "\n\n".join(tables), "", "### Targets", "", targets(results, sizes)]
    )


def main() -> None:
    args = parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.full else [])
    sizes = sorted(set(sizes))
    engines = chosen_engines(args.engines)
    out = BENCH / "results" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True)
    started = time.monotonic()
    results: list[Measured] = []
    try:
        for size in sizes:
            results += run_size(args, engines, size, out)
    finally:
        _drop_schema(out, sizes)
    report = render(results, sizes, time.monotonic() - started, _database(out))
    (out / "report.md").write_text(report + "\n")
    (out / "measured.json").write_text(
        json.dumps([_plain(m) for m in results], indent=1)
    )
    print(report)
    log(f"report: {out / 'report.md'}")


def _drop_schema(out: Path, sizes: list[int]) -> None:
    try:
        import pg

        pg.drop_schema(Context(sizes[0], "", "", str(out), pg_schema=schema_of(out)))
    except Exception as exc:  # a database that was never reached has no schema
        log(f"note: could not drop the schema: {exc}")


def _database(out: Path) -> str:
    try:
        import pg

        return pg.server_version(Context(0, "", "", str(out)))
    except Exception:  # named in the table as unavailable already
        return "PostgreSQL not reached"


def _plain(m: Measured) -> dict[str, Any]:
    found = asdict(m)
    found["engine"] = m.engine.name
    return found


if __name__ == "__main__":
    main()
