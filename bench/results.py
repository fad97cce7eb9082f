"""The benchmarks' one result type and table.

Every ``bench_*.py`` ends the same way: it turns what it measured into :class:`Result` rows and
hands them to :func:`emit`, which prints the table and, with ``--json FILE`` (added to the
script's parser by :func:`add_json_option`), writes the rows as JSON for ``run_all.py``.

A script plugs into ``run_all.py`` by defining, beside ``main()``, the module constants
``QUICK`` and ``FULL``: the arguments of a quick run (minutes) and of the large plant's run
(``BENCH_SCALE=full``). ``run_all.py`` adds ``--json FILE`` itself.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    """One row: a piece of work timed in the app (``ours``) against a baseline measured in the same
    run. Times are seconds; ``ratio`` is what the script compares with its target (usually the
    median of the rounds' ratios, so not always ``ours / baseline``); ``target`` is its text
    (``≤ 1.5×``, ``≥ 0.25×``, ``≤ 300 ms``), ``passed`` None for a row given for information."""

    bench: str
    work: str
    ours: float | None
    baseline: float | None
    ratio: float | None
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: ""}[self.passed]


def at_most(limit: float, ratio: float) -> tuple[str, bool]:
    """(target text, passed) for a ratio that must not exceed ``limit`` (lower is better)."""
    return f"≤ {limit:g}×", ratio <= limit


def at_least(limit: float, ratio: float) -> tuple[str, bool]:
    """(target text, passed) for a ratio that must reach ``limit`` (higher is better)."""
    return f"≥ {limit:g}×", ratio >= limit


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def table(results: list[Result]) -> str:
    """The rows as one Markdown table (what the terminal shows and bench/README.md keeps)."""
    lines = [
        "| bench | work | ours | baseline | ratio | target | | note |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for row in results:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}×"
        cells = (row.bench, row.work, duration(row.ours), duration(row.baseline), ratio, row.target, row.verdict)
        lines.append("| " + " | ".join((*cells, row.note)) + " |")
    return "\n".join(lines)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the result rows to FILE as JSON")


def emit(results: list[Result], json_path: Path | None) -> None:
    """Print the rows' table; write them to ``json_path`` too when given."""
    print(table(results), flush=True)
    if json_path is not None:
        json_path.write_text(json.dumps([asdict(row) for row in results], ensure_ascii=False, indent=1))


def load(json_path: Path) -> list[Result]:
    return [Result(**row) for row in json.loads(json_path.read_text())]
