"""Asset registry benchmark: the app against baselines measured in the same run.

    .venv/bin/python bench/generate.py && .venv/bin/python bench/bench_assets.py

Each case times the application and a baseline doing the same essential work, alternately
(warm-up, then ``--runs`` rounds; medians), and prints the ratio app ÷ baseline:

a. list page: ``GET /assets?workshop_id=…&status=in_service&sort=-value`` as htmx asks for it
   (the ``results`` fragment, 50 rows; logged-in session, Starlette TestClient) ÷ the same two
   SQL statements that ``service.list_assets`` + ``web.paginate`` issue (count, page), run alone
   on the same engine in a fresh session, plus a bare Jinja render of those 50 rows as a table.
b. XLSX export: ``GET /assets?export=xlsx`` with the whole body read ÷ a plain query of the same
   rows (same order, same 24 columns) written cell by cell, typed the same way, by XlsxWriter in
   constant-memory mode to a temporary file.
c. CSV export: ``GET /assets?export=csv`` with the whole body read ÷ the same plain query into a
   pandas DataFrame and ``to_csv`` (UTF-8 with BOM) to a temporary file. Both sides include
   fetching the rows.

The exports run on all assets and on the list's filter. Peak Python memory (tracemalloc) of one
more run of each export side shows that the app streams. Timings are not tests: the ratios are
what to look at, and the load average says how busy the machine was.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generate import BENCH_DIR, DEFAULT_DB, configure_environment
from results import Result, add_json_option, at_most, emit

LIST_TARGET, XLSX_TARGET, CSV_TARGET = 2.0, 1.2, 1.5
# run_all.py's arguments. Quick: a registry of 10,000 assets (each XLSX run of 100,000 takes about half
# a minute), three rounds, no memory runs. Full: the large plant run_all.py has generated.
QUICK = [str(BENCH_DIR / "var" / "bench-10k.db"), "--assets", "10000", "--runs", "3", "--no-memory"]
FULL = ["--runs", "5"]


@dataclass
class Case:
    name: str
    app: Callable[[], Any]
    baseline: Callable[[], Any]
    target: float | None
    note: str = ""
    warm_up: bool = True  # False when the case before it ran the same code (a smaller export)
    app_times: list[float] = field(default_factory=list)
    base_times: list[float] = field(default_factory=list)
    app_cpu: list[float] = field(default_factory=list)
    base_cpu: list[float] = field(default_factory=list)

    @property
    def app_median(self) -> float:
        return statistics.median(self.app_times)

    @property
    def base_median(self) -> float:
        return statistics.median(self.base_times)

    @property
    def ratios(self) -> list[float]:
        """Each round's app ÷ baseline: a round's two runs share the machine's load of the moment."""
        return [app / base for app, base in zip(self.app_times, self.base_times, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(app / base for app, base in zip(self.app_cpu, self.base_cpu, strict=True))

    def run_app(self) -> None:
        wall, cpu = timed(self.app)
        self.app_times.append(wall)
        self.app_cpu.append(cpu)

    def run_baseline(self) -> None:
        wall, cpu = timed(self.baseline)
        self.base_times.append(wall)
        self.base_cpu.append(cpu)


def timed(function: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process: all its threads, so the app's server side too)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(case: Case, runs: int) -> None:
    """Warm up both sides, then alternate them (app first, then baseline first) so that changes in
    the machine's load hit both alike."""
    if case.warm_up:
        case.app()
        case.baseline()
    for index in range(runs):
        if index % 2 == 0:
            case.run_app()
            case.run_baseline()
        else:
            case.run_baseline()
            case.run_app()


def peak_memory(function: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DB, help=f"database (default {DEFAULT_DB})")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per side after a warm-up (default 5)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs of the exports")
    parser.add_argument("--only", choices=("list", "xlsx", "csv"), action="append", help="run only these cases")
    parser.add_argument("--assets", type=int, default=100_000, help="assets of the registry made when PATH is missing")
    add_json_option(parser)
    args = parser.parse_args()
    db_path = args.path.resolve()
    if not db_path.exists():
        plant = ["--assets", str(args.assets), "--readings", "0", "--cost-lines", "0"]  # the registry alone
        subprocess.run([sys.executable, str(BENCH_DIR / "generate.py"), str(db_path), *plant], check=True)  # noqa: S603
    configure_environment(db_path)

    import jinja2
    import pandas as pd
    import xlsxwriter
    from fastapi.testclient import TestClient
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import String, func, select, type_coerce
    from sqlalchemy.orm import aliased
    from sqlmodel import Session

    from maintenance.assets import exports, service
    from maintenance.assets.filters import AssetFilters
    from maintenance.assets.models import Asset
    from maintenance.config import get_settings
    from maintenance.db import get_engine
    from maintenance.demo.org import DEMO_PASSWORD
    from maintenance.main import create_app
    from maintenance.org.models import Unit, Workshop

    console = Console(width=200)
    load_before = os.getloadavg()
    engine = get_engine()
    settings = get_settings()

    # --- The app, logged in ------------------------------------------------------------------
    client = TestClient(create_app(), base_url="http://testserver", follow_redirects=False)
    client.__enter__()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token, "login page has a CSRF token"
    response = client.post(
        "/login", data={"username": "admin", "password": DEMO_PASSWORD, "csrf_token": token[1], "next": "/"}
    )
    assert response.status_code == 303, f"login failed ({response.status_code}): is {db_path} a bench database?"

    with Session(engine) as session:
        workshop_id = session.scalar(select(Workshop.id).where(Workshop.code == "SYN"))
        total_assets = session.scalar(select(func.count()).select_from(Asset)) or 0
    list_filters = AssetFilters(workshop_id=workshop_id, status="in_service", sort="-value")
    list_url = f"/assets?workshop_id={workshop_id}&status=in_service&sort=-value"

    # --- a. The list page ----------------------------------------------------------------------
    def app_list() -> str:
        response = client.get(list_url, headers={"HX-Request": "true"})
        assert response.status_code == 200, response.status_code
        return response.text

    def app_full_page() -> str:
        response = client.get(list_url)
        assert response.status_code == 200, response.status_code
        return response.text

    page_size = settings.page_size
    list_stmt = service.list_assets(list_filters)
    count_stmt = select(func.count()).select_from(list_stmt.order_by(None).subquery())
    page_stmt = list_stmt.limit(page_size).offset(0)
    bare = jinja2.Environment(autoescape=True).from_string(
        '<p>{{ total }} assets</p><table><tbody>{% for r in rows %}<tr><td><a href="/assets/{{ r.id }}">'
        "{{ r.tag }}</a></td><td>{{ r.name }}</td><td>{{ r.asset_class }}</td><td>{{ r.workshop_id }}</td>"
        "<td>{{ r.unit_id }}</td><td>{{ r.status }}</td><td>{{ r.criticality }}</td><td>{{ r.special_category }}"
        "</td><td>{{ r.fixed_asset_number }}</td><td>{{ r.original_value_cny }}</td><td>{{ r.commission_date }}"
        "</td></tr>{% endfor %}</tbody></table>"
    )

    def baseline_list() -> str:
        with Session(engine) as session:
            connection = session.connection()
            total = connection.execute(count_stmt).scalar_one()
            rows = connection.execute(page_stmt).all()
        return bare.render(rows=rows, total=total)

    table_row = re.compile(r"<tr[\s>]")
    rows_in_fragment = len(table_row.findall(app_list())) - 1  # minus the header row
    baseline_rows = len(table_row.findall(baseline_list()))
    assert rows_in_fragment == baseline_rows == page_size, (rows_in_fragment, baseline_rows)

    # --- b./c. Exports ------------------------------------------------------------------------
    parent, workshop, unit = aliased(Asset), aliased(Workshop), aliased(Unit)

    def plain_select(filters: AssetFilters) -> Any:
        """The export's 24 columns the plain way: codes as stored, names by join, value columns
        read as they are (the app computes depreciation for two of them)."""
        columns = [
            Asset.tag,
            Asset.name,
            type_coerce(Asset.asset_class, String()),
            workshop.name,
            unit.name,
            parent.tag,
            Asset.manufacturer,
            Asset.spec,
            Asset.serial_number,
            Asset.install_date,
            Asset.commission_date,
            type_coerce(Asset.criticality, String()),
            type_coerce(Asset.status, String()),
            Asset.fixed_asset_number,
            Asset.original_value_cny,
            Asset.useful_life_years,
            Asset.salvage_rate,
            Asset.original_value_cny,
            Asset.original_value_cny,
            type_coerce(Asset.special_category, String()),
            Asset.registration_number,
            Asset.custodian,
            Asset.retired_date,
            Asset.retire_reason,
        ]
        stmt = (
            service.list_assets(filters)
            .with_only_columns(*columns)
            .join(workshop, workshop.id == Asset.workshop_id)
            .outerjoin(unit, unit.id == Asset.unit_id)
            .outerjoin(parent, parent.id == Asset.parent_id)
        )
        return stmt.execution_options(yield_per=1000)

    headers = [column.header("zh_CN") for column in exports.COLUMNS]
    kinds = [column.kind for column in exports.COLUMNS]
    assert len(headers) == 24, "the baseline query has 24 columns; update it with the export"

    def fetch(filters: AssetFilters) -> list[Any]:
        with engine.connect() as connection:
            return connection.execute(plain_select(filters)).all()

    def app_export(fmt: str, query: str) -> Callable[[], int]:
        def run() -> int:
            size = 0
            with client.stream("GET", f"/assets?{query}export={fmt}") as response:
                assert response.status_code == 200, response.status_code
                for chunk in response.iter_bytes():
                    size += len(chunk)
            return size

        return run

    def baseline_xlsx(filters: AssetFilters) -> Callable[[], int]:
        def run() -> int:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "baseline.xlsx"
                workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
                sheet = workbook.add_worksheet("Assets")
                date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
                number_formats = {
                    "money": workbook.add_format({"num_format": "#,##0.00"}),
                    "int": workbook.add_format({"num_format": "0"}),
                    "rate": workbook.add_format({"num_format": "0.00%"}),
                }
                sheet.write_row(0, 0, headers)
                write_string, write_datetime, write_number = (
                    sheet.write_string,
                    sheet.write_datetime,
                    sheet.write_number,
                )
                plan = list(enumerate(kinds))
                with engine.connect() as connection:
                    for number, row in enumerate(connection.execute(plain_select(filters)), start=1):
                        for index, kind in plan:
                            value = row[index]
                            if value is None or value == "":
                                continue
                            if kind == "text":
                                write_string(number, index, value)
                            elif kind == "date":
                                write_datetime(number, index, value, date_format)
                            else:
                                write_number(number, index, float(value), number_formats[kind])
                workbook.close()
                return path.stat().st_size

        return run

    def baseline_csv(filters: AssetFilters) -> Callable[[], int]:
        def run() -> int:
            frame = pd.DataFrame(fetch(filters), columns=headers)
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "baseline.csv"
                frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
                return path.stat().st_size

        return run

    everything = AssetFilters()
    list_query = f"workshop_id={workshop_id}&status=in_service&sort=-value&"
    with Session(engine) as session:
        filtered_rows = session.connection().execute(count_stmt).scalar_one()

    cases = []
    if not args.only or "list" in args.only:
        cases.append(
            Case(
                f"list page: htmx fragment, {page_size} of {filtered_rows:,} rows",
                app_list,
                baseline_list,
                LIST_TARGET,
                "count + page SQL alone + bare Jinja table",
            )
        )
        cases.append(Case("list page: full page (information)", app_full_page, baseline_list, None, "the same"))
    exports_plan = (
        ("xlsx", baseline_xlsx, XLSX_TARGET, "plain query + XlsxWriter constant_memory, typed cells"),
        ("csv", baseline_csv, CSV_TARGET, "plain query + pandas DataFrame.to_csv (fetch in both)"),
    )
    for fmt, baseline, target, note in exports_plan:
        if args.only and fmt not in args.only:
            continue
        name = fmt.upper()
        cases.append(
            Case(
                f"{name} export: list filter, {filtered_rows:,} rows",
                app_export(fmt, list_query),
                baseline(list_filters),
                target,
                note,
            )
        )
        # The filtered export just ran the same code on the same engine: it is this case's warm-up.
        cases.append(
            Case(
                f"{name} export: all {total_assets:,} rows",
                app_export(fmt, ""),
                baseline(everything),
                target,
                note,
                warm_up=False,
            )
        )

    console.print(
        f"[bold]{db_path}[/bold]: {total_assets:,} assets; {os.cpu_count()} CPUs; "
        f"load average {_load(load_before)} before; {args.runs} runs per side after a warm-up"
    )
    for case in cases:
        with console.status(f"measuring {case.name}"):
            measure(case, args.runs)

    memory: list[tuple[str, int]] = []
    if not args.no_memory:
        for case in cases:
            if "export" in case.name:
                with console.status(f"peak memory of {case.name}"):
                    memory.append((f"app, {case.name}", peak_memory(case.app)))
                    if "CSV export: all" in case.name:
                        memory.append((f"pandas baseline, {case.name}", peak_memory(case.baseline)))
    load_after = os.getloadavg()
    client.__exit__(None, None, None)

    results = []
    for case in cases:
        target, passed = at_most(case.target, case.ratio) if case.target is not None else ("", None)
        note = (
            f"rounds {min(case.ratios):.2f}–{max(case.ratios):.2f}×; CPU ratio {case.cpu_ratio:.2f}×; "
            f"baseline: {case.note}"
        )
        results.append(Result("assets", case.name, case.app_median, case.base_median, case.ratio, target, passed, note))
    emit(results, args.json)
    if memory:
        table = Table(
            title="Peak Python memory of one export (tracemalloc; the body is read and dropped chunk by chunk)"
        )
        table.add_column("export")
        table.add_column("peak", justify="right")
        for name, peak in memory:
            table.add_row(name, f"{peak / 1e6:.1f} MB")
        console.print(table)
    console.print(f"load average after: {_load(load_after)}; max RSS of this process {_max_rss_mb():.0f} MB")


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def _max_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
