"""Generate a large plant for the benchmarks: assets, work orders with their cost lines, readings.

    .venv/bin/python bench/generate.py [PATH] [--assets 100000] [--cost-lines 1000000]
        [--readings 10000000] [--seed 2026] [--database-url postgresql+psycopg://…/db]

The database (default ``bench/var/bench.db``, gitignored, replaced; or an empty PostgreSQL
database named by ``--database-url``) is migrated with Alembic like production and loaded with
the demo org (site, 6 workshops, 18 units, one user per role; password as printed by ``maintenance
seed --demo``), N assets with their first ``AssetVersion`` rows, work orders carrying
``--cost-lines`` cost lines between them, and ``--readings`` vibration readings over one
measurement point per asset for the first ``readings`` ÷ 1,000 assets.

The assets are drawn from the demo registry (``seed/assets/assets.csv``) used as templates: a
top-level seed asset and its components (pump + motor, vessel + safety valve, …) are copied
again and again with a new tag number, dates, status, value, unit, custodian, so classes,
specs, special-equipment shares (about a third) and the parent/child structure look like a real
plant. Rows are bulk-inserted with SQLAlchemy Core (``executemany`` in batches, one
transaction), with exactly the columns ``service.create_asset`` would write (``name_initials``
from ``service.name_initials``, ``version`` 1, the first version valid from the creation time);
no change-log rows are written. The same seed gives the same database.

Work orders (:class:`Orders`) are raised over the three years up to the registry's today, one
after the other, on random assets of the plant: 45 % PM, 25 % corrective (CM, with an ISO 14224
failure report and the downtime), 12 % condition-based (CBM), 8 % turnaround, 10 % project work.
Older orders are mostly completed or closed (signed off), a few cancelled or left open; the last
month's are spread over the open states. Each has 1–9 cost lines (labour, materials, services,
refurbished and localised parts; the amounts and savings as ``orders.service`` computes them,
actual amounts for work done, planned ones otherwise) and the order's totals are their sums. The
year counters of the order numbers are set, so the app numbers its next order after them.

Readings: one drive-end vibration point per asset (``monitoring.service.create_point``, ISO
10816-3 group 1 rigid), 1,000 readings each, ten minutes apart up to the registry's today, values
in the normal zone; the points' latest values are set from them as ingest would.

SQLite rows go in with SQLAlchemy Core ``executemany``; PostgreSQL rows with psycopg's ``COPY``.
A progress bar shows each table; rows/s are printed at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import sys
import time as clock
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_DB = BENCH_DIR / "var" / "bench.db"
BATCH = 5000
CENT = Decimal("0.01")
# The large plant (the defaults).
ASSETS, COST_LINES, READINGS = 100_000, 1_000_000, 10_000_000
POINT_READINGS = 1_000  # readings per measurement point (a week at ten minutes)
READING_STEP = timedelta(minutes=10)
ORDER_YEARS = 3
ORDER_TYPES = (("PM", 45), ("CM", 25), ("CBM", 12), ("TA", 8), ("PRJ", 10))
OLD_STATES = (("closed", 55), ("completed", 33), ("cancelled", 5), ("in_progress", 3), ("on_hold", 2), ("approved", 2))
NEW_STATES = (
    ("draft", 15),
    ("approved", 20),
    ("scheduled", 20),
    ("in_progress", 20),
    ("completed", 15),
    ("closed", 10),
)
LINE_KINDS = (("labour", 35), ("material", 35), ("service", 20), ("refurbished", 5), ("localised", 5))
MATERIALS = (("机械密封", "套"), ("轴承 6312", "个"), ("缠绕垫片 DN100", "片"), ("螺栓 M20×120", "套"), ("盘根", "kg"))
TITLES = {
    "PM": "{name}定期保养",
    "CM": "{name}故障抢修",
    "CBM": "{name}振动超标检查",
    "TA": "{name}大修",
    "PRJ": "{name}技改",
}
# The demo registry's "today" (fixed, so a seed always gives the same data); no date is after it.
TODAY = min(date(2026, 11, 23), date.today())

STATUSES = (("in_service", 72), ("standby", 14), ("under_repair", 4), ("idle", 3), ("retired", 7))
RETIRE_REASONS = (
    "超过使用年限, 经技术鉴定报废",
    "腐蚀严重, 修复费用超过新购60%, 经技术鉴定报废",
    "能效不达标, 列入淘汰目录",
    "工艺改造后停用, 无再利用价值",
    "事故损坏, 无修复价值",
    "随主设备报废",
)
NOTES = ("节能改造新增", "整体更新", "SIS改造", "二期改造项目", "干气密封改造", "大修后性能恢复", "备件已储备")


def configure_environment(db_path: Path, url: str | None = None) -> None:
    """Point the application at ``url`` (default: the SQLite file ``db_path``): settings are read
    once, before any maintenance import."""
    os.environ["MAINTENANCE_DATABASE_URL"] = url or f"sqlite:///{db_path}"
    os.environ.setdefault("MAINTENANCE_VAR_DIR", str(BENCH_DIR / "var"))
    sys.path.insert(0, str(ROOT / "src"))


def read_seed() -> list[dict[str, str]]:
    with (ROOT / "seed" / "assets" / "assets.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _renumber(tag: str, number: int) -> str:
    """Replace the first run of digits in a seed tag (P-2104A → P-012345A): one group, one number."""
    start = next((i for i, char in enumerate(tag) if char.isdigit()), None)
    if start is None:
        return f"{tag}-{number:06d}"
    end = start
    while end < len(tag) and tag[end].isdigit():
        end += 1
    return f"{tag[:start]}{number:06d}{tag[end:]}"


_DIGITS = re.compile(r"\d+")


def _scramble_digits(rng: random.Random, text: str) -> str:
    """Same shape, other digits: serial and registration numbers stay plausible."""
    return _DIGITS.sub(lambda match: str(rng.randrange(10 ** len(match[0]))).zfill(len(match[0])), text)


class Generator:
    """Asset rows (dicts of ``asset`` columns) in id order, parents before their components."""

    def __init__(self, rng: random.Random, workshops: dict[str, int], units: dict[str, tuple[int, int]], site_id: int):
        from maintenance.assets.service import name_initials
        from maintenance.db import plant_timezone

        self.rng = rng
        self.site_id = site_id
        self.zone = plant_timezone()
        self.workshops = workshops  # code → id
        self.units = units  # code → (unit id, workshop id)
        self.units_by_workshop: dict[int, list[int]] = defaultdict(list)
        for unit_id, workshop_id in units.values():
            self.units_by_workshop[workshop_id].append(unit_id)
        self.all_units = list(units.values())
        self.seed = read_seed()
        children: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in self.seed:
            if row["parent_tag"]:
                children[row["parent_tag"]].append(row)
        self.children = children
        self.tops = [row for row in self.seed if not row["parent_tag"]]
        self.by_class: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in self.seed:
            self.by_class[row["asset_class"]].append(row)
        self.custodians = sorted({row["custodian"] for row in self.seed if row["custodian"]})
        self._initials_cache: dict[str, str] = {}
        self._name_initials = name_initials
        self.status_names = [name for name, _ in STATUSES]
        self.status_weights = [weight for _, weight in STATUSES]

    def initials(self, name: str) -> str:
        cached = self._initials_cache.get(name)
        if cached is None:
            cached = self._initials_cache[name] = self._name_initials(name)
        return cached

    def rows(self, count: int) -> Iterator[dict[str, Any]]:
        next_id = 1
        group = 0
        while next_id <= count:
            group += 1
            top = self.rng.choice(self.tops)
            members = self._subtree(top)
            if next_id + len(members) - 1 > count:
                members = members[: count - next_id + 1]  # parents come first: a prefix stays consistent
            yield from self._group(members, group, next_id)
            next_id += len(members)

    def _subtree(self, row: dict[str, str]) -> list[dict[str, str]]:
        found = [row]
        for child in self.children.get(row["tag"], ()):
            found.extend(self._subtree(child))
        return found

    def _placement(self, template: dict[str, str]) -> tuple[int, int]:
        """(unit id, workshop id): mostly the template's unit, sometimes a sibling unit or anywhere."""
        draw = self.rng.random()
        unit_id, workshop_id = self.units[template["unit"]]
        if draw < 0.6:
            return unit_id, workshop_id
        if draw < 0.85:
            return self.rng.choice(self.units_by_workshop[workshop_id]), workshop_id
        return self.rng.choice(self.all_units)

    def _group(self, members: list[dict[str, str]], group: int, first_id: int) -> Iterator[dict[str, Any]]:
        rng = self.rng
        unit_id, workshop_id = self._placement(members[0])
        installed = TODAY - timedelta(days=rng.randrange(60, 36 * 365))
        status = rng.choices(self.status_names, self.status_weights)[0]
        # "3#" names the third of several alike (3#循环水泵, its motor 3#循环水泵电机): one number per group.
        prefix = "" if rng.random() < 0.7 else f"{rng.randint(1, 9)}#"
        ids: dict[str, int] = {}
        for offset, template in enumerate(members):
            asset_id = first_id + offset
            ids[template["tag"]] = asset_id
            # Components usually share the parent's fate; sometimes one is in another state.
            own_status = status if offset == 0 or rng.random() < 0.9 else rng.choice(self.status_names[:4])
            yield self._asset(template, asset_id, group, prefix, unit_id, workshop_id, installed, own_status, ids)

    def _asset(
        self,
        template: dict[str, str],
        asset_id: int,
        group: int,
        prefix: str,
        unit_id: int,
        workshop_id: int,
        installed: date,
        status: str,
        ids: dict[str, int],
    ) -> dict[str, Any]:
        rng = self.rng
        # Another maker of the same class now and then (with its serial-number pattern); the spec stays.
        maker = template if rng.random() < 0.7 else rng.choice(self.by_class[template["asset_class"]])
        name = f"{prefix}{template['name']}"
        install_date = min(TODAY - timedelta(days=30), installed + timedelta(days=rng.randrange(0, 15)))
        commission_date = min(TODAY - timedelta(days=1), install_date + timedelta(days=rng.randrange(5, 120)))
        retired_date = None
        retire_reason = ""
        if status == "retired":
            retired_date = commission_date + timedelta(days=rng.randrange(1, max(2, (TODAY - commission_date).days)))
            retire_reason = rng.choice(RETIRE_REASONS)
        value = Decimal(template["original_value_cny"]) * Decimal(str(round(rng.lognormvariate(0, 0.35), 3)))
        special = template["special_category"]
        criticality = template["criticality"] if rng.random() < 0.8 else rng.choice("ABC")
        created = datetime.combine(commission_date, time(8), tzinfo=self.zone).astimezone(UTC)  # as the demo loader
        return {
            "id": asset_id,
            "site_id": self.site_id,
            "tag": _renumber(template["tag"], group),
            "name": name,
            "asset_class": template["asset_class"],
            "workshop_id": workshop_id,
            "unit_id": unit_id,
            "parent_id": ids.get(template["parent_tag"]),
            "manufacturer": maker["manufacturer"],
            "spec": template["spec"],
            "serial_number": _scramble_digits(rng, maker["serial_number"]),
            "install_date": install_date,
            "commission_date": commission_date,
            "criticality": criticality,
            "status": status,
            "fixed_asset_number": f"GD-{commission_date.year}-{asset_id:06d}",
            "original_value_cny": value.quantize(Decimal("100")).quantize(Decimal("0.01")),
            "useful_life_years": int(template["useful_life_years"]),
            "salvage_rate": Decimal(template["salvage_rate"]),
            "special_category": special,
            "registration_number": _scramble_digits(rng, template["registration_number"]) if special != "none" else "",
            "custodian": template["custodian"] if rng.random() < 0.6 else rng.choice(self.custodians),
            "notes": f"{commission_date.year}年{rng.choice(NOTES)}" if rng.random() < 0.1 else "",
            "retired_date": retired_date,
            "retire_reason": retire_reason,
            "name_initials": self.initials(name),
            "version": 1,
            "created_at": created,
            "updated_at": created,
        }


def version_of(row: dict[str, Any]) -> dict[str, Any]:
    """The asset's first version, as ``service._open_version`` writes it."""
    version = {key: value for key, value in row.items() if key not in ("id", "created_at", "updated_at")}
    return version | {"asset_id": row["id"], "valid_from": row["created_at"], "valid_to": None}


def _weighted(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [name for name, _ in pairs], [weight for _, weight in pairs]


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(CENT)


class Orders:
    """Work orders and their cost lines (dicts of ``work_order`` and ``cost_line`` columns), in
    id order, raised one after the other over the ORDER_YEARS before ``now``."""

    def __init__(self, rng: random.Random, assets: list[tuple[int, int, str]], now: datetime) -> None:
        from maintenance.orders.choices import DetectionMethod, FailureCause, FailureMechanism, FailureMode

        self.rng = rng
        self.assets = assets  # (id, workshop id, name)
        self.now = now
        self.start = now - timedelta(days=365 * ORDER_YEARS)
        self.types = _weighted(ORDER_TYPES)
        self.old_states = _weighted(OLD_STATES)
        self.new_states = _weighted(NEW_STATES)
        self.kinds = _weighted(LINE_KINDS)
        self.modes = [choice.value for choice in FailureMode]
        self.mechanisms = [choice.value for choice in FailureMechanism]
        self.causes = [choice.value for choice in FailureCause]
        self.detections = [choice.value for choice in DetectionMethod]
        self.counters: dict[int, int] = defaultdict(int)  # year → last number drawn

    def rows(self, lines: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """(order, its cost lines) until ``lines`` cost lines are made."""
        order_id = line_id = 0
        while line_id < lines:
            order_id += 1
            count = min(self.rng.randint(1, 9), lines - line_id)
            # The orders' times follow the lines made so far, so the last one is raised about now.
            raised = self.start + (self.now - self.start) * (line_id / lines)
            order = self._order(order_id, raised + timedelta(minutes=self.rng.randrange(60)))
            order_lines = [self._line(line_id + offset + 1, order) for offset in range(count)]
            line_id += count
            order["planned_cost_cny"] = sum((line["planned_cny"] for line in order_lines), Decimal("0.00"))
            order["actual_cost_cny"] = sum((line["actual_cny"] for line in order_lines), Decimal("0.00"))
            order["labour_hours"] = sum(
                (line["quantity"] for line in order_lines if line["kind"] == "labour"), Decimal("0")
            )
            yield order, order_lines

    def _order(self, order_id: int, raised: datetime) -> dict[str, Any]:
        rng, now = self.rng, self.now
        asset_id, workshop_id, name = rng.choice(self.assets)
        order_type = rng.choices(*self.types)[0]
        states = self.new_states if now - raised < timedelta(days=30) else self.old_states
        state = rng.choices(*states)[0]
        approved = start = finish = signed = None
        if state != "draft" and not (state == "cancelled" and rng.random() < 0.5):
            approved = min(now, raised + timedelta(hours=rng.randrange(1, 72)))
        if approved and state in ("in_progress", "on_hold", "completed", "closed"):
            start = min(now, approved + timedelta(hours=rng.randrange(1, 240)))
        if start and state in ("completed", "closed"):
            finish = min(now, start + timedelta(hours=rng.randrange(2, 96)))
        if finish and state == "closed":
            signed = min(now, finish + timedelta(days=rng.randrange(1, 10)))
        year = raised.astimezone(self.now.tzinfo).year
        self.counters[year] += 1
        planned = (raised + timedelta(days=rng.randrange(1, 14))).date()
        row: dict[str, Any] = {
            "id": order_id,
            "number": f"WO-{year}-{self.counters[year]:06d}",
            "order_type": order_type,
            "asset_id": asset_id,
            "workshop_id": workshop_id,
            "title": TITLES[order_type].format(name=name)[:200],
            "description": "",
            "priority": rng.choice("1223") if order_type == "CM" else rng.choice("2334"),
            "planned_start_date": planned,
            "planned_finish_date": planned + timedelta(days=rng.randrange(0, 5)),
            "due_date": planned if order_type == "PM" else None,
            "provider": "in_house" if rng.random() < 0.7 else "contractor",
            "assignee_name": "",
            "assignee_id": None,
            "turnaround_id": None,
            "is_revamp_tie_in": order_type == "PRJ" and rng.random() < 0.2,
            "state": state,
            "pm_plan_id": None,
            "plan_due_date": None,
            "origin_order_id": None,
            "requested_by_id": None,
            "requested_at": raised,
            "approved_by_id": None,
            "approved_at": approved,
            "actual_start_at": start,
            "actual_finish_at": finish,
            "findings": "",
            "completion_notes": "",
            "signed_off_by_id": None,
            "signed_off_at": signed,
            "version": 1,
            "created_at": raised,
            "updated_at": signed or finish or start or approved or raised,
        }
        return row | self._failure(order_type, raised, finish)

    def _failure(self, order_type: str, raised: datetime, finish: datetime | None) -> dict[str, Any]:
        """The ISO 14224 failure report: corrective orders stop the equipment (downtime, sometimes
        lost production); condition-based ones were found by condition monitoring."""
        rng = self.rng
        report: dict[str, Any] = dict.fromkeys(
            (
                "failure_mode",
                "failure_mechanism",
                "failure_cause",
                "detection_method",
                "downtime_start_at",
                "downtime_end_at",
                "production_loss_t",
                "production_loss_cny",
            )
        )
        if order_type == "CM":
            report |= {
                "failure_mode": rng.choice(self.modes),
                "failure_mechanism": rng.choice(self.mechanisms),
                "failure_cause": rng.choice(self.causes),
                "detection_method": rng.choice(self.detections),
                "downtime_start_at": raised - timedelta(minutes=rng.randrange(0, 240)),
                "downtime_end_at": finish and finish + timedelta(minutes=rng.randrange(0, 240)),
            }
            if rng.random() < 0.3:
                tonnes = Decimal(rng.randrange(1, 500_000)) / 1000
                report |= {"production_loss_t": tonnes, "production_loss_cny": (tonnes * 4200).quantize(CENT)}
        elif order_type == "CBM":
            report |= {"failure_mode": rng.choice(("VIB", "OHE", "NOI")), "detection_method": "CM"}
        return report

    def _line(self, line_id: int, order: dict[str, Any]) -> dict[str, Any]:
        """A cost line: planned amounts always, actual ones once the work is done."""
        rng = self.rng
        kind = rng.choices(*self.kinds)[0]
        reference = used = None
        item_code = uom = ""
        provider = order["provider"]
        if kind == "labour":
            description, planned_qty, price = "检修工时", Decimal(rng.randrange(2, 80)), _money(rng.uniform(85, 160))
        elif kind == "material":
            description, uom = rng.choice(MATERIALS)
            item_code = f"M{rng.randrange(10**8):08d}"
            planned_qty, price = Decimal(rng.randrange(1, 20)), _money(rng.lognormvariate(6, 1.2))
        elif kind == "service":
            description, planned_qty, price = "外委检修", Decimal(1), _money(rng.lognormvariate(9.5, 1))
            provider = "contractor"
        else:
            description = "修复叶轮" if kind == "refurbished" else "国产化轴承"
            planned_qty, price = Decimal(rng.randrange(1, 5)), _money(rng.lognormvariate(7.5, 1))
            reference = (price * Decimal(str(round(rng.uniform(1.3, 4), 2)))).quantize(CENT)
        done = order["state"] in ("completed", "closed")
        quantity = planned_qty + (rng.choice((-1, 0, 0, 0, 1)) if planned_qty > 1 else 0) if done else Decimal(0)
        unit_price = (price * Decimal(str(round(rng.uniform(0.9, 1.15), 2)))).quantize(CENT) if done else price
        returned = Decimal(0)
        if kind == "material" and done:
            returned = Decimal(rng.randrange(0, 2)) if quantity > 1 else Decimal(0)
            used = quantity - returned
        saving = (reference - unit_price) * quantity if reference is not None else Decimal(0)
        return {
            "id": line_id,
            "order_id": order["id"],
            "kind": kind,
            "description": description,
            "item_code": item_code,
            "uom": uom,
            "provider": provider,
            "planned_quantity": planned_qty,
            "planned_unit_price_cny": price,
            "quantity": quantity,
            "unit_price_cny": unit_price,
            "used_quantity": used,
            "returned_quantity": returned,
            "reference_price_cny": reference,
            "planned_cny": (planned_qty * price).quantize(CENT),
            "actual_cny": (quantity * unit_price).quantize(CENT),
            "saving_cny": saving.quantize(CENT),
            "created_at": order["created_at"],
        }


def create_points(session: Any, count: int, actor: Any, advance: Callable[[], object] = lambda: None) -> list[str]:
    """One drive-end vibration point (ISO 10816-3 group 1 rigid) on each of the first ``count``
    assets, through the service (``advance()`` after each); their codes."""
    from sqlalchemy import select

    from maintenance.assets.models import Asset
    from maintenance.monitoring import service
    from maintenance.monitoring.choices import LimitPreset, Quantity
    from maintenance.monitoring.models import PointCreate

    assets = session.scalars(select(Asset).order_by(Asset.id).limit(count)).all()  # type: ignore[arg-type]
    codes: list[str] = []
    for asset in assets:
        point = service.create_point(
            session,
            PointCreate(
                code=f"{asset.tag}-DE-V",
                asset_id=asset.id,  # type: ignore[arg-type]
                name="驱动端振动",
                quantity=Quantity.VIBRATION,
                preset=LimitPreset.G1_RIGID,
            ),
            actor=actor,
        )
        codes.append(point.code)
        advance()
    return codes


def readings(rng: random.Random, point_ids: list[int], count: int, end: datetime) -> Iterator[dict[str, Any]]:
    """``count`` readings over the points, point by point (the primary key's order), ten minutes
    apart up to ``end``; each point vibrates around a level of its own, in the normal zone."""
    per_point, extra = divmod(count, len(point_ids))
    for index, point_id in enumerate(point_ids):
        level = rng.uniform(0.8, 2.8)
        steps = per_point + (index < extra)
        first = end - READING_STEP * (steps - 1)
        for step in range(steps):
            value = round(min(4.2, max(0.2, rng.gauss(level, 0.25))), 3)
            yield {
                "point_id": point_id,
                "taken_at": first + READING_STEP * step,
                "value": value,
                "state": "normal",
                "source": "api",
                "entered_by_id": None,
            }


def remove_database(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def generate(
    db_path: Path, count: int, seed: int, cost_lines: int = 0, readings: int = 0, url: str | None = None
) -> None:
    """Build the plant in the SQLite file ``db_path`` (replaced) or, given ``url``, in that empty
    PostgreSQL database."""
    configure_environment(db_path, url)
    if url is None:
        remove_database(db_path)
        db_path.parent.mkdir(parents=True, exist_ok=True)
    populate(count, seed, url or str(db_path), cost_lines, readings)
    if url is None:
        from rich.console import Console

        Console(stderr=True).print(f"{db_path}: {db_path.stat().st_size / 1e6:.0f} MB")


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Loader:
    """Bulk inserts: SQLAlchemy Core ``executemany`` on SQLite, psycopg ``COPY`` on PostgreSQL.
    Keeps each stage's rows and time for the rows/s printed at the end."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.stages: list[tuple[str, int, float]] = []

    def insert(self, connection: Any, table: Any, batch: list[dict[str, Any]]) -> None:
        if connection.dialect.name != "postgresql":
            from sqlalchemy import insert

            connection.execute(insert(table), batch)
            return
        columns = list(batch[0])
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(tuple(row[column] for column in columns))

    def stage(self, description: str, total: int) -> Any:
        """A progress bar; call the function returned with the stage's row count when it is done."""
        task = self.progress.add_task(description, total=total)
        started = clock.perf_counter()

        def done(rows: int) -> None:
            self.stages.append((description, rows, clock.perf_counter() - started))

        return task, done


def populate(count: int, seed: int, name: str, cost_lines: int = 0, readings: int = 0) -> None:
    """Migrate the database ``MAINTENANCE_DATABASE_URL`` names (SQLite or an empty PostgreSQL
    database), load the demo org and insert ``count`` assets with their first versions, work orders
    with ``cost_lines`` cost lines between them and ``readings`` readings."""
    from alembic import command
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy import func, select

    from maintenance.assets.models import Asset
    from maintenance.cli import alembic_config
    from maintenance.config import get_settings
    from maintenance.db import get_engine, plant_timezone, session_scope, utcnow
    from maintenance.demo import org as org_demo
    from maintenance.demo.plant import SEED_ACTOR
    from maintenance.org.models import Site, Unit, Workshop

    console = Console(stderr=True)
    started = clock.perf_counter()
    with console.status("migrating"):
        command.upgrade(alembic_config(), "head")
    with console.status("loading the demo org"), session_scope() as session:
        if session.scalar(select(func.count()).select_from(Asset)):
            raise SystemExit(f"{name} already holds assets: give an empty database")
        org_demo.load(session, get_settings().seed_dir, SEED_ACTOR, utcnow())

    engine = get_engine()
    rng = random.Random(seed)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        loader = Loader(progress)
        with engine.begin() as connection:
            site_id = connection.execute(select(Site.id)).scalar_one()
            codes: dict[int, str] = dict(connection.execute(select(Workshop.id, Workshop.code)).all())
            workshops = {code: workshop_id for workshop_id, code in codes.items()}
            units = {
                code: (unit_id, workshop_id)
                for unit_id, code, workshop_id in connection.execute(select(Unit.id, Unit.code, Unit.workshop_id))
            }
            placed = _insert_assets(connection, loader, Generator(rng, workshops, units, site_id), count)
            if cost_lines:
                now = datetime.combine(TODAY, time(8), tzinfo=plant_timezone())
                _insert_orders(connection, loader, Orders(rng, placed, now), cost_lines)
            _advance_sequences(connection)
        if readings:
            _insert_readings(engine, loader, rng, readings)
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(Asset.__table__)).scalar_one()
        special = connection.execute(
            select(func.count()).select_from(Asset.__table__).where(Asset.special_category != "none")
        ).scalar_one()
        components = connection.execute(
            select(func.count()).select_from(Asset.__table__).where(Asset.parent_id.is_not(None))  # type: ignore[union-attr]
        ).scalar_one()
        per_workshop = dict(
            connection.execute(select(Asset.workshop_id, func.count()).group_by(Asset.workshop_id)).all()
        )
    engine.dispose()  # closing the last connection checkpoints the WAL into the database file
    elapsed = clock.perf_counter() - started
    spread = ", ".join(f"{codes[key]} {number:,}" for key, number in sorted(per_workshop.items()))
    console.print(
        f"{name}: {total:,} assets ({special / total:.0%} special equipment, {components / total:.0%} components; "
        f"{spread}) in {elapsed:.1f} s"
    )
    for description, rows, seconds in loader.stages:
        console.print(f"  {description}: {rows:,} rows in {seconds:.1f} s, {rows / seconds:,.0f} rows/s")


def _insert_assets(connection: Any, loader: Loader, generator: Generator, count: int) -> list[tuple[int, int, str]]:
    """The assets and their first versions; (id, workshop id, name) of each, for the orders."""
    from maintenance.assets.models import Asset, AssetVersion

    task, done = loader.stage("assets (each with its first version)", count)
    placed: list[tuple[int, int, str]] = []
    for batch in _batches(generator.rows(count), BATCH):
        loader.insert(connection, Asset.__table__, batch)  # type: ignore[attr-defined]
        loader.insert(connection, AssetVersion.__table__, [version_of(row) for row in batch])  # type: ignore[attr-defined]
        placed.extend((row["id"], row["workshop_id"], row["name"]) for row in batch)
        loader.progress.advance(task, len(batch))
    done(2 * count)
    return placed


def _insert_orders(connection: Any, loader: Loader, orders: Orders, lines: int) -> None:
    """The work orders and their cost lines, then the order numbers' year counters."""
    from sqlalchemy import insert

    from maintenance.orders.models import CostLine, OrderNumberCounter, WorkOrder

    task, done = loader.stage("work orders and their cost lines", lines)
    made = 0
    for pairs in _batches(orders.rows(lines), BATCH // 5):
        loader.insert(connection, WorkOrder.__table__, [order for order, _lines in pairs])  # type: ignore[attr-defined]
        batch = [line for _order, order_lines in pairs for line in order_lines]
        loader.insert(connection, CostLine.__table__, batch)  # type: ignore[attr-defined]
        made += len(pairs)
        loader.progress.advance(task, len(batch))
    counters = [{"year": year, "last_number": last} for year, last in sorted(orders.counters.items())]
    connection.execute(insert(OrderNumberCounter.__table__), counters)  # type: ignore[attr-defined]
    done(made + lines)
    loader.progress.update(task, description=f"{made:,} work orders and their {lines:,} cost lines")


def _advance_sequences(connection: Any) -> None:
    """On PostgreSQL, the id sequences of the tables loaded with explicit ids continue after them."""
    from sqlalchemy import text

    if connection.dialect.name != "postgresql":
        return
    for table in ("asset", "work_order", "cost_line"):
        connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
        )


def _insert_readings(engine: Any, loader: Loader, rng: random.Random, count: int) -> None:
    """One point per asset on the first ``count`` ÷ POINT_READINGS assets, then the readings, and
    the points' latest values as ingest keeps them."""
    from sqlalchemy import select, text

    from maintenance.audit.service import SystemActor
    from maintenance.db import plant_timezone, session_scope
    from maintenance.monitoring.models import MeasurementPoint, Reading
    from maintenance.org.permissions import EVERY_CAPABILITY

    points = max(1, count // POINT_READINGS)
    task, done = loader.stage("measurement points (through the service)", points)
    with session_scope() as session:
        actor = SystemActor(username="bench", capabilities=EVERY_CAPABILITY)
        create_points(session, points, actor, advance=lambda: loader.progress.advance(task))
    done(points)
    end = datetime.combine(TODAY, time(8), tzinfo=plant_timezone())
    task, done = loader.stage("readings", count)
    with engine.begin() as connection:
        point_ids = list(connection.execute(select(MeasurementPoint.id).order_by(MeasurementPoint.id)).scalars())
        for batch in _batches(readings(rng, point_ids, count, end), BATCH * 4):
            loader.insert(connection, Reading.__table__, batch)  # type: ignore[attr-defined]
            loader.progress.advance(task, len(batch))
        newest = "FROM reading AS r WHERE r.point_id = measurement_point.id"
        connection.execute(
            text(
                f"UPDATE measurement_point SET latest_taken_at = (SELECT max(r.taken_at) {newest}),"
                f" latest_value = (SELECT r.value {newest} ORDER BY r.taken_at DESC LIMIT 1),"
                f" state_since = (SELECT min(r.taken_at) {newest}), latest_state = 'normal'"
                f" WHERE EXISTS (SELECT 1 {newest})"
            )
        )
    done(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DB, help=f"database file (default {DEFAULT_DB})")
    parser.add_argument("--assets", type=int, default=ASSETS, help=f"number of assets (default {ASSETS})")
    parser.add_argument("--cost-lines", type=int, default=COST_LINES, help=f"cost lines (default {COST_LINES})")
    parser.add_argument("--readings", type=int, default=READINGS, help=f"readings (default {READINGS})")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database instead of the SQLite file PATH")
    args = parser.parse_args()
    generate(args.path.resolve(), args.assets, args.seed, args.cost_lines, args.readings, args.database_url)


if __name__ == "__main__":
    main()
