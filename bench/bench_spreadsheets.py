"""Spreadsheet reading benchmark: the imports' one reader against the other ways to read a sheet.

    .venv/bin/python bench/bench_spreadsheets.py [--rows 100000] [--runs 3]

A large asset list is generated once (``--rows`` rows × 12 columns shaped like a plant ledger:
tags, Chinese names and makers, dates as date cells, amounts, rates, choices, notes; the same
seed gives the same sheet) and written as XLSX (XlsxWriter) and as CSV (UTF-8 with BOM) to a
temporary folder; writing is not timed. Each reader then reads every row of the file and touches
every cell (the rows are counted and the cells' text lengths summed, so a lazy reader does the
whole work):

XLSX, each against python-calamine's ``to_python()`` of the sheet (the parse alone):
  a. python-calamine row by row (``iter_rows``): how ``spreadsheets.read_tables`` reads a sheet;
  b. ``pandas.read_excel(engine="calamine", header=None, dtype=object, na_filter=False)`` and
     ``itertuples``: how the asset import read workbooks before (every sheet into a DataFrame);
  c. ``spreadsheets.read_tables`` as the imports call it: the archive first checked against
     limits by ``spreadsheets.check_workbook`` (every XML part walked with expat), then (a).

CSV, each against ``csv.reader`` over the whole file decoded at once, without bounds:
  a. ``spreadsheets.read_tables``: the encoding sniffed, the csv module over a text stream,
     line length, columns and rows bounded as it reads (how both imports read CSV);
  b. ``pandas.read_csv(header=None, dtype=str, keep_default_na=False)`` and ``itertuples``.

Each case runs ``--runs`` rounds of reader + baseline, alternating which goes first, after one
warm-up; the ratio is the median of the rounds' ratios (reader ÷ baseline, lower is faster).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from results import Result, add_json_option, emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
# run_all.py's arguments: the reader's choice needs no large plant, so both scales read the same sheet.
QUICK = ["--rows", "10000", "--runs", "3"]
FULL = ["--rows", "100000", "--runs", "3"]

HEADER = [
    "位号",
    "设备名称",
    "设备类别",
    "车间",
    "制造厂",
    "规格型号",
    "安装日期",
    "原值(元)",
    "残值率",
    "状态",
    "重要度",
    "备注",
]
CLASSES = ("离心泵", "往复泵", "换热器", "容器", "塔器", "电动机", "压缩机", "阀门")
MAKERS = ("大连耐酸泵厂", "沈阳鼓风机集团", "上海电机厂", "兰州石化机械厂", "杭州制氧机集团")
STATES = ("在用", "备用", "检修", "闲置")


def ledger_rows(count: int, seed: int = 2026) -> Iterable[list[Any]]:
    rng = random.Random(seed)
    first = date(1995, 1, 1)
    for number in range(count):
        yield [
            f"P-{number:06d}A",
            f"{rng.choice(CLASSES)}{number % 97}号",
            rng.choice(CLASSES),
            rng.choice(("SYN", "UTL", "PWR", "TANK", "ACID", "NH3")),
            rng.choice(MAKERS),
            f"IH{rng.randint(50, 200)}-{rng.randint(32, 160)}-{rng.randint(100, 400)}",
            first + timedelta(days=rng.randint(0, 11_000)),
            round(rng.uniform(5_000, 5_000_000), 2),
            rng.choice((0.03, 0.05, 0.1)),
            rng.choice(STATES),
            rng.choice("ABC"),
            "" if rng.random() < 0.7 else "2019年大修更换机封，运行正常",
        ]


def write_xlsx(path: Path, rows: int) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("设备台账")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADER)
    for index, row in enumerate(ledger_rows(rows), start=1):
        for column, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(index, column, value, day)
            else:
                sheet.write(index, column, value)
    book.close()


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(
            [cell.isoformat() if isinstance(cell, date) else cell for cell in row] for row in ledger_rows(rows)
        )


def touch(rows: Iterable[Sequence[Any]]) -> tuple[int, int]:
    """(rows, characters): every cell is looked at, as an import's checks would."""
    count = chars = 0
    for row in rows:
        count += 1
        for cell in row:
            chars += len(cell) if isinstance(cell, str) else 1
    return count, chars


def limits() -> Any:
    from maintenance import spreadsheets

    return spreadsheets.SheetLimits(
        rows=1_048_576, columns=200, cells=50_000_000, unpacked_bytes=2**31, text_chars=500_000_000
    )


def app_reader(path: Path, extension: str) -> tuple[int, int]:
    from maintenance import spreadsheets

    with path.open("rb") as file:
        table = next(spreadsheets.read_tables(file, extension, limits()))
        return touch(cells for _number, cells in table.rows)


def calamine_rows(path: Path) -> tuple[int, int]:
    import python_calamine

    with path.open("rb") as file:
        workbook = python_calamine.CalamineWorkbook.from_filelike(file)
        return touch(workbook.get_sheet_by_index(0).iter_rows())


def pandas_xlsx(path: Path) -> tuple[int, int]:
    import pandas as pd

    frames = pd.read_excel(path, sheet_name=None, header=None, dtype=object, na_filter=False, engine="calamine")
    frame = next(iter(frames.values()))
    return touch(frame.itertuples(index=False, name=None))


def calamine_alone(path: Path) -> tuple[int, int]:
    import python_calamine

    with path.open("rb") as file:
        workbook = python_calamine.CalamineWorkbook.from_filelike(file)
        return touch(workbook.get_sheet_by_index(0).to_python())


def pandas_csv(path: Path) -> tuple[int, int]:
    import pandas as pd

    frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return touch(frame.itertuples(index=False, name=None))


def csv_alone(path: Path) -> tuple[int, int]:
    text = path.read_bytes().decode("utf-8-sig")
    return touch(csv.reader(io.StringIO(text, newline="")))


def timed(run: Callable[[], tuple[int, int]]) -> tuple[float, tuple[int, int]]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def compare(
    name: str, reader: Callable[[], tuple[int, int]], baseline: Callable[[], tuple[int, int]], runs: int
) -> Result:
    """``reader`` against ``baseline`` over ``runs`` alternating rounds, for information (no target)."""
    reader(), baseline()  # warm-up: imports, the file in the page cache
    reader_times: list[float] = []
    base_times: list[float] = []
    ratios: list[float] = []
    for round_number in range(runs):
        if round_number % 2:
            base, base_result = timed(baseline)
            took, result = timed(reader)
        else:
            took, result = timed(reader)
            base, base_result = timed(baseline)
        if result[0] != base_result[0]:
            raise SystemExit(f"{name}: {result[0]} rows read, the baseline read {base_result[0]}")
        reader_times.append(took)
        base_times.append(base)
        ratios.append(took / base)
    ratio = statistics.median(ratios)
    note = f"rounds {min(ratios):.2f}–{max(ratios):.2f}×"
    return Result(
        "spreadsheets", name, statistics.median(reader_times), statistics.median(base_times), ratio, note=note
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data rows of the generated sheet (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds per case (default 3)")
    add_json_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        xlsx, text = Path(folder) / "ledger.xlsx", Path(folder) / "ledger.csv"
        write_xlsx(xlsx, args.rows)
        write_csv(text, args.rows)
        print(
            f"{args.rows:,} rows × {len(HEADER)} columns: XLSX {xlsx.stat().st_size / 2**20:.1f} MB, "
            f"CSV {text.stat().st_size / 2**20:.1f} MB; load average {os.getloadavg()[0]:.2f}"
        )
        cases = (
            ("XLSX, calamine row by row", lambda: calamine_rows(xlsx), lambda: calamine_alone(xlsx)),
            ("XLSX, pandas.read_excel (calamine)", lambda: pandas_xlsx(xlsx), lambda: calamine_alone(xlsx)),
            (
                "XLSX, spreadsheets.read_tables (limits + row by row)",
                lambda: app_reader(xlsx, "xlsx"),
                lambda: calamine_alone(xlsx),
            ),
            ("CSV, spreadsheets.read_tables", lambda: app_reader(text, "csv"), lambda: csv_alone(text)),
            ("CSV, pandas.read_csv", lambda: pandas_csv(text), lambda: csv_alone(text)),
        )
        results = [
            compare(f"{name}, {args.rows:,} rows", reader, baseline, args.runs) for name, reader, baseline in cases
        ]
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    emit(results, args.json)


if __name__ == "__main__":
    main()
