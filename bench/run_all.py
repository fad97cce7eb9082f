"""Run every benchmark and print one table; keep the latest table in bench/README.md.

    .venv/bin/python bench/run_all.py [--only NAME …] [--no-readme]      (make bench)
    BENCH_SCALE=full .venv/bin/python bench/run_all.py                   (make bench BENCH_SCALE=full)

First ``generate.py`` builds a plant (quick: 1/100 of the large plant into
``bench/var/plant-quick.db``; full: the large plant of 100,000 assets, 1,000,000 cost lines and
10,000,000 readings into ``bench/var/bench.db``, which ``bench_assets.py`` then measures) and its
time and rows/s make the first row. Then every ``bench_*.py`` beside this file that has the
shared interface of ``results.py`` (``main()``, the argument lists ``QUICK`` and ``FULL``, and
``--json FILE``) runs as a child process with its arguments of the scale; scripts without it are
named and skipped, so a new benchmark plugs in by defining them. A script that fails gives a FAIL
row and the run goes on.

The table is printed with the date, the scale, the machine's CPUs and its load average before and
after, and replaces what stands between the marker comments of bench/README.md (``--no-readme``
leaves the file alone). Exit status 1 if a script failed; a ratio that misses its target is a FAIL
row, not an error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from generate import ASSETS, COST_LINES, DEFAULT_DB, READINGS, remove_database
from results import Result, load, table

BENCH_DIR = Path(__file__).resolve().parent
README = BENCH_DIR / "README.md"
BEGIN, END = "<!-- run_all: begin -->", "<!-- run_all: end -->"
SCALES = ("quick", "full")
QUICK_PLANT = BENCH_DIR / "var" / "plant-quick.db"
QUICK_DIVISOR = 100


def scripts(only: list[str] | None) -> list[tuple[str, list[str], list[str]]]:
    """(name, QUICK, FULL) of each benchmark with the shared interface, in name order."""
    found = []
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        module = importlib.import_module(path.stem)
        quick, full = getattr(module, "QUICK", None), getattr(module, "FULL", None)
        if callable(getattr(module, "main", None)) and isinstance(quick, list) and isinstance(full, list):
            found.append((name, quick, full))
        else:
            print(f"skipping {path.name}: no QUICK and FULL arguments (see results.py)", flush=True)
    return found


def plant(scale: str) -> tuple[list[str], str]:
    """generate.py's arguments at ``scale``, and what the row calls the work."""
    divisor = QUICK_DIVISOR if scale == "quick" else 1
    assets, lines, readings = ASSETS // divisor, COST_LINES // divisor, READINGS // divisor
    path = QUICK_PLANT if scale == "quick" else DEFAULT_DB
    arguments = [str(path), "--assets", str(assets), "--cost-lines", str(lines), "--readings", str(readings)]
    return arguments, f"{assets:,} assets, {lines:,} cost lines and their orders, {readings:,} readings"


def run_generate(scale: str) -> Result:
    """Build the scale's plant; its time, with generate.py's rows/s lines as the note."""
    arguments, work = plant(scale)
    remove_database(Path(arguments[0]))
    started = time.perf_counter()
    child = subprocess.run(  # noqa: S603 (generate.py beside this file)
        [sys.executable, str(BENCH_DIR / "generate.py"), *arguments], stderr=subprocess.PIPE, text=True
    )
    took = time.perf_counter() - started
    sys.stderr.write(child.stderr)
    rates = re.findall(r"^\s+(.+?): [\d,]+ rows in [\d.]+ s, ([\d,]+ rows/s)$", child.stderr, re.MULTILINE)
    note = "; ".join(f"{stage} {rate}" for stage, rate in rates) + "; no baseline: for information"
    return Result("generate", f"SQLite, {work}", took, None, None, "", None if child.returncode == 0 else False, note)


def run_script(name: str, arguments: list[str]) -> list[Result] | None:
    """The rows ``bench_<name>.py`` writes with ``--json``; None if it fails."""
    with tempfile.TemporaryDirectory() as folder:
        rows = Path(folder) / "rows.json"
        command = [sys.executable, str(BENCH_DIR / f"bench_{name}.py"), *arguments, "--json", str(rows)]
        print(f"\n=== {' '.join(command[1:])}", flush=True)
        child = subprocess.run(command, check=False)  # noqa: S603 (a script beside this file)
        return load(rows) if child.returncode == 0 and rows.exists() else None


def update_readme(text: str) -> None:
    readme = README.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(readme):
        raise SystemExit(f"{README} has no {BEGIN} … {END} markers")
    README.write_text(pattern.sub(lambda _match: f"{BEGIN}\n{text}\n{END}", readme), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these benchmarks (bench_NAME.py)")
    parser.add_argument("--no-generate", action="store_true", help="skip generate.py")
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md as it is")
    args = parser.parse_args()
    scale = os.environ.get("BENCH_SCALE", "quick")
    if scale not in SCALES:
        raise SystemExit(f"BENCH_SCALE={scale}: give one of {', '.join(SCALES)}")
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    results = [] if args.no_generate else [run_generate(scale)]
    failed = [row.bench for row in results if row.passed is False]
    for name, quick, full in scripts(args.only):
        arguments = quick if scale == "quick" else full
        rows = run_script(name, arguments)
        if rows is None:
            failed.append(name)
            rows = [Result(name, f"bench_{name}.py {' '.join(arguments)}", None, None, None, "", False, "it failed")]
        results.extend(rows)
    minutes = (datetime.now(UTC) - started).total_seconds() / 60
    load_after = os.getloadavg()
    heading = (
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `bench/run_all.py`, scale **{scale}**, in {minutes:.1f} min; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after. Times are medians; ours ÷ baseline "
        "measured in the same run (see each benchmark below for its ratio and baseline)."
    )
    text = f"{heading}\n\n{table(results)}"
    print(f"\n{text}")
    if not args.no_readme:
        update_readme(text)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
