"""The work-order part of the demo plant: a year of maintenance history of 华东化工.

What ``seed/orders/`` holds (CSV, UTF-8, edited by hand):

- ``pm_plans.csv``: the PM plans (asset tag, title, basis, interval, start date = first due date,
  lead days, checklist lines separated by ``;``, estimated lines as ``code:quantity`` separated
  by ``;`` where the code is ``labour``/``contractor`` (hours), a material or a service). A plan
  with ``cbm_from`` was switched to condition monitoring on that date: from then on it falls due
  every ``cbm_interval`` months under ``cbm_title`` (the loader edits the plan so at the end).
- ``materials.csv`` (domestic price, import price of localisable bearings and seals, repair price
  of refurbishable parts) and ``services.csv`` (outsourced services).
- ``failures.csv``: typical faults per asset class with their ISO 14224 mode, mechanism, cause and
  detection method, downtime and labour ranges, parts and services.
- ``turnarounds.csv`` and ``turnaround_tasks.csv``: the year's overhaul (大修) and the work it
  does per asset class (``{year}`` in its code and name is the year it starts).
- ``fixed_orders.csv``: orders told one by one: the phase-II revamp tie-ins, the year's projects
  (waste-heat power grid connection, main transformer expansion, leak-free plant) and the repairs
  under way today (the assets the registry shows under repair).

The dates in these files tell the story as seen on :data:`STORY_DATE`. A demo built on another day
moves every one of them by the whole weeks between that day and the story's (weekdays stay
weekdays), so the overhaul, the projects and the repairs under way keep their place in the year
whatever the calendar says. The rest is generated with ``random.Random(SEED)`` relative to the
``today`` passed in, so it always covers the twelve months before today: PM orders from the plans
(most done on time), CBM and CM orders drawn from ``failures.csv`` in a monthly mix that drifts
from mostly planned toward condition-based work, and the overhaul's scope.

Every order goes through the services, as users would have raised and worked it: each order's
whole life is planned first (a :class:`Job` of timed :class:`Step` s), then the steps of all
orders are replayed in time order through :func:`service.create_order` and :func:`service.perform`
with ``at=`` (so numbers follow the calendar and transitions are backdated). Steps that fall on or
after the start of today have not happened yet: recent orders stay approved, scheduled, in
progress or on hold, the newest ones drafts.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit.service import Actor, SystemActor
from maintenance.db import plant_timezone
from maintenance.demo.orders.jobs import ZERO, Job, Line
from maintenance.demo.orders.replay import replay
from maintenance.demo.orders.seed_data import Fault, Item, parse_quantities, parse_range, read_faults, read_items
from maintenance.demo.seed_files import read_csv
from maintenance.orders import service
from maintenance.orders.choices import (
    ChecklistResult,
    CostKind,
    DetectionMethod,
    FailureCause,
    FailureMechanism,
    FailureMode,
    IntervalUnit,
    OrderType,
    PlanBasis,
    Priority,
    Provider,
)
from maintenance.orders.models import (
    PmPlan,
    PmPlanCostLine,
    PmPlanCreate,
    PmPlanUpdate,
    Turnaround,
    TurnaroundCreate,
    WorkOrder,
    WorkOrderCreate,
)
from maintenance.orders.pm import service as pm
from maintenance.orders.pm.scheduler import add_months
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.org import service as org_service
from maintenance.org.models import Role, User
from maintenance.org.permissions import ROLE_CAPABILITIES, Capability

SEED = 20261123
# The plant date on which the dated story in seed/orders is told (see the module docstring).
STORY_DATE = date(2026, 11, 23)
# Raises the PM orders, as the PM scheduler does (and with its capabilities).
SCHEDULER = SystemActor(username="scheduler", capabilities=frozenset({Capability.WRITE_EVERYWHERE}))
LABOUR_RATE = {Provider.IN_HOUSE: Decimal("85.00"), Provider.CONTRACTOR: Decimal("145.00")}  # 元/h
PRODUCT_MARGIN_CNY = Decimal("4200.00")  # 元 per tonne of lost production
# How the year goes, from its first month to its last (interpolated linearly in between).
PM_SHARE = (0.58, 0.37)  # of the month's orders
CBM_SHARE = (0.10, 0.36)
CM_SHARE = (0.24, 0.18)
ON_TIME = (0.84, 0.93)  # PM orders finished by their due date
LOCALISED = (0.15, 0.70)  # localisable spares bought domestic instead of imported
REFURBISHED = 0.45  # refurbishable parts repaired instead of bought new
TA_COST_SHARE = Decimal("0.94")  # the overhaul ends a little under budget
REFURBISHED_TARGET_CNY = Decimal("1200000")  # the year's 修旧利废 savings beat the plan's 100万
# How likely an asset class is to need corrective or condition-based work.
CLASS_WEIGHT = {
    "PU": 3.0, "CO": 5.0, "BL": 3.0, "EM": 1.2, "HE": 1.2, "VE": 0.5, "VA": 0.5, "PI": 0.8, "MI": 2.0,
    "CF": 3.0, "HB": 4.0, "ST": 5.0, "EG": 2.0, "PT": 1.0, "SG": 1.0, "CR": 1.5, "VH": 2.0, "IP": 1.5,
    "FC": 2.0, "TA": 0.6,
}  # fmt: skip
CRITICALITY_WEIGHT = {"A": 1.5, "B": 1.0, "C": 0.7}
# Typical readings of checklist values by unit: (low, high).
VALUE_RANGES = {
    "℃": (38, 72), "mm/s": (1.1, 4.2), "MPa": (0.3, 4.2), "μm": (18, 55), "A": (35, 180), "kg": (0, 0.2),
    "%": (0.05, 0.3), "mm": (0.1, 2.0), "MΩ": (200, 2500), "kPa": (5, 40), "s": (6, 12), "V": (24, 27.5),
    "μL/L": (0, 4), "kV": (42, 60), "μΩ": (30, 90), "mA": (0.1, 0.5), "mg/L": (20, 150),
    "mgKOH/g": (0.05, 0.2), "根": (0, 4), "mm/a": (0.05, 0.3),
}  # fmt: skip
HOLD_NOTES = ("等待备件到货", "生产不具备停机条件，待倒泵", "等待外委单位进场", "等待动火作业票审批")
CANCEL_NOTES = ("设备停运备用，本期免检", "与其他工单合并处理", "重复报修，已合并处理")
TEAMS = {
    "SYN": "合成车间检修班",
    "DIS": "精馏车间检修班",
    "UTL": "公用工程车间维修班",
    "PWR": "热电车间检修班",
    "TNK": "罐区维修班",
    "PKG": "包装车间维修班",
}
# --- Dates --------------------------------------------------------------------------------


def plant_instant(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=plant_timezone()).astimezone(UTC)


def plant_date(at: datetime) -> date:
    return at.astimezone(plant_timezone()).date()


def _lerp(pair: tuple[float, float], fraction: float) -> float:
    return pair[0] + (pair[1] - pair[0]) * fraction


def _month_starts(first: date, today: date) -> list[date]:
    months = []
    while first <= today:
        months.append(first)
        first = add_months(first, 1)
    return months


# --- Loading ------------------------------------------------------------------------------


def story_shift(today: date) -> timedelta:
    """How far the seed's dated story moves for a demo built on ``today``: whole weeks."""
    return timedelta(weeks=(today - STORY_DATE).days // 7)


def _turnaround_rows(seed_dir: Path) -> list[dict[str, str]]:
    return list(read_csv(seed_dir / "orders" / "turnarounds.csv"))


def is_loaded(session: Session, seed_dir: Path) -> bool:
    """By the first order told one by one (the turnaround's code moves with the year, PM plans
    change their titles; this order's title does neither)."""
    first = next(iter(read_csv(seed_dir / "orders" / "fixed_orders.csv")))
    title = f"{first['tag']} {first['title']}"
    return session.scalar(select(col(WorkOrder.id)).where(col(WorkOrder.title) == title).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    History(session, seed_dir, actor, plant_date(now)).load()


class History:
    """Plans the year's orders, then replays them through the services."""

    def __init__(self, session: Session, seed_dir: Path, actor: Actor, today: date) -> None:
        self.session = session
        self.folder = seed_dir / "orders"
        self.actor = actor
        self.today = today
        self.shift = story_shift(today)
        self.cutoff = plant_instant(today)  # what happens from today on has not happened yet
        # The twelve months up to yesterday (on the 1st, this month has no history yet).
        yesterday = today - timedelta(days=1)
        self.months = _month_starts(add_months(yesterday.replace(day=1), -11), yesterday)
        self.start = self.months[0]
        # Checklists went electronic (点检表上线) four months ago; older PM orders were checked on paper.
        self.checklists_from = self.months[-4]
        self.rng = random.Random(SEED)  # noqa: S311 (a reproducible demo, not secrets)
        self.items = read_items(self.folder)
        self.faults = read_faults(self.folder)
        self.assets: dict[str, Asset] = {
            asset.tag: asset for asset in session.scalars(select(Asset).order_by(col(Asset.tag)))
        }
        self.workshop_code = {workshop.id: workshop.code for workshop in org_service.list_workshops(session)}
        # The loader acts for the demo users as a system process: their ids and names go on the
        # orders, transitions and change log, without the per-write permission query a signed-in
        # user's request makes (it decides who acts for whom itself: engineers in their workshops,
        # the manager above the approval limit and for closing).
        self.engineers: dict[str, Actor] = {}
        self.manager: Actor | None = None
        self.users: list[User] = []  # held, so the session's identity map keeps them (assignee checks)
        for row in read_csv(seed_dir / "org" / "users.csv"):
            user = org_service.get_user_by_username(session, row["username"])
            if user is None:
                raise ValueError(f"users.csv: {row['username']} is not loaded")
            self.users.append(user)
            # The demo writes the plant's history in these people's names, with a manager's
            # capabilities: what it replays was decided, not asked for.
            proxy = SystemActor(username=user.username, id=user.id, capabilities=ROLE_CAPABILITIES[Role.MANAGER])
            if row["role"] == Role.ENGINEER:
                for code in row["workshops"].split():
                    self.engineers.setdefault(code, proxy)
            elif row["role"] == Role.MANAGER and self.manager is None:
                self.manager = proxy
        self.jobs: list[Job] = []
        self.plans: list[tuple[PmPlan, dict[str, str]]] = []
        self.turnaround: Turnaround | None = None
        self.ta_row: dict[str, str] = {}
        self.service_factor = Decimal("1")

    # --- helpers ---------------------------------------------------------------------------

    @property
    def boss(self) -> Actor:
        return self.manager or self.actor

    def engineer(self, asset: Asset) -> Actor:
        return self.engineers.get(self.workshop_code[asset.workshop_id], self.boss)

    def team(self, asset: Asset) -> str:
        return TEAMS.get(self.workshop_code[asset.workshop_id], "检修班")

    def asset(self, tag: str) -> Asset:
        if tag not in self.assets:
            raise ValueError(f"seed/orders: asset {tag} is not in the registry")
        return self.assets[tag]

    def story_date(self, text: str) -> date:
        """A date of the seed's story, moved to the demo's year."""
        return date.fromisoformat(text) + self.shift

    def story_instant(self, text: str) -> datetime | None:
        """A plant-local time of the seed's story (blank: none), moved to the demo's year, in UTC."""
        if not text.strip():
            return None
        return (datetime.fromisoformat(text).replace(tzinfo=plant_timezone()) + self.shift).astimezone(UTC)

    def working_time(self, day: date, earliest: int = 8, latest: int = 16) -> datetime:
        return plant_instant(day, self.rng.randint(earliest, latest), self.rng.choice((0, 10, 20, 30, 40, 50)))

    def fraction(self, at: datetime | date) -> float:
        """How far into the year ``at`` is, 0 (first month) … 1 (this month)."""
        day = plant_date(at) if isinstance(at, datetime) else at
        index = (day.year - self.start.year) * 12 + day.month - self.start.month
        return min(max(index / max(len(self.months) - 1, 1), 0.0), 1.0)

    def has_standby(self, asset: Asset) -> bool:
        tag = asset.tag
        return tag[-1] in "ABC" and any(tag[:-1] + twin in self.assets for twin in "ABC" if twin != tag[-1])

    def in_use(self, asset: Asset, day: date) -> bool:
        commissioned = asset.commission_date or asset.install_date
        return (
            asset.status not in (AssetStatus.RETIRED, AssetStatus.IDLE)
            and commissioned is not None
            and commissioned < day
        )

    def close_time(self, finished: datetime) -> datetime | None:
        """Managers close last month's completed orders in the first week of the month."""
        if self.rng.random() < 0.04:
            return None  # awaiting cost settlement
        month = add_months(plant_date(finished).replace(day=1), 1)
        return self.working_time(month.replace(day=self.rng.randint(2, 8)), 9, 16)

    # --- cost lines ------------------------------------------------------------------------

    def labour(self, hours: float, provider: Provider, *, finished: bool, started: bool) -> Line:
        planned = Decimal(str(round(hours, 1)))
        actual = ZERO
        if started:
            factor = self.rng.uniform(0.85, 1.3) if finished else self.rng.uniform(0.3, 0.7)
            actual = Decimal(str(round(hours * factor * 2) / 2 or 0.5))
        rate = LABOUR_RATE[provider]
        text = "检修人工（自修）" if provider == Provider.IN_HOUSE else "外委施工人工"
        return Line(
            CostKind.LABOUR,
            text,
            uom="h",
            provider=provider,
            planned_quantity=planned,
            planned_price=rate,
            quantity=actual,
            price=rate,
        )

    def part_lines(
        self,
        code: str,
        quantity: Decimal,
        at: datetime,
        *,
        started: bool,
        finished: bool,
        prefer: CostKind | None = None,
    ) -> list[Line]:
        """The line(s) of a part: bought new (material), repaired (修旧利废) or domestic (国产化)."""
        item = self.items[code]
        issued = quantity if started else ZERO
        if item.is_service:
            price = item.price
            actual = (price * Decimal(str(round(self.rng.uniform(0.9, 1.1), 2)))) if finished else price
            return [
                Line(
                    CostKind.SERVICE,
                    item.name,
                    item.code,
                    item.uom,
                    Provider.CONTRACTOR,
                    quantity,
                    price,
                    quantity if finished else ZERO,
                    actual,
                )
            ]
        if item.refurbish_price is not None and (prefer == CostKind.REFURBISHED or self.rng.random() < REFURBISHED):
            return [
                Line(
                    CostKind.REFURBISHED,
                    f"{item.name}（修复旧件）",
                    item.code,
                    item.uom,
                    Provider.IN_HOUSE,
                    quantity,
                    item.refurbish_price,
                    issued,
                    item.refurbish_price,
                    reference=item.price,
                )
            ]
        if item.import_price is not None:
            if prefer == CostKind.LOCALISED or self.rng.random() < _lerp(LOCALISED, self.fraction(at)):
                return [
                    Line(
                        CostKind.LOCALISED,
                        f"{item.name}（国产化）",
                        item.code,
                        item.uom,
                        Provider.IN_HOUSE,
                        quantity,
                        item.price,
                        issued,
                        item.price,
                        reference=item.import_price,
                    )
                ]
            return [self.material(item, quantity, item.import_price, started=started, finished=finished)]
        return [self.material(item, quantity, item.price, started=started, finished=finished)]

    def material(self, item: Item, planned: Decimal, price: Decimal, *, started: bool, finished: bool) -> Line:
        """Planned vs issued: most lines issue what was planned; some more, some less, a few nothing."""
        line = Line(CostKind.MATERIAL, item.name, item.code, item.uom, Provider.IN_HOUSE, planned, price)
        if not started:
            return line
        roll = self.rng.random()
        issued, issued_price = planned, price
        if roll < 0.06:
            issued = ZERO
        elif roll < 0.13:
            issued = max(planned + self._step_of(planned) * self.rng.choice((-1, 1, 2)), self._step_of(planned))
        elif roll < 0.17:
            issued_price = (price * Decimal(str(round(self.rng.uniform(0.92, 1.12), 2)))).quantize(Decimal("0.01"))
        line.quantity, line.price = issued, issued_price
        if issued and finished:
            roll = self.rng.random()
            if roll < 0.12:
                line.returned = self._step_of(issued) if issued > self._step_of(issued) else ZERO
                line.used = issued - line.returned
            elif roll < 0.18:
                line.used = issued - self._step_of(issued) if issued > self._step_of(issued) else issued
            else:
                line.used = issued
        return line

    @staticmethod
    def _step_of(quantity: Decimal) -> Decimal:
        return Decimal("1") if quantity >= 2 else (quantity / 2).quantize(Decimal("0.001"))

    def unplanned(self, at: datetime) -> Line:
        """An emergency issue nobody planned (it lowers 计划对口率)."""
        item = self.items[self.rng.choice(("GKT-SW100", "BOLT-M24", "LUB-GRS", "SEAL-PK", "PAINT-EPX"))]
        quantity = Decimal(self.rng.choice((1, 2, 4, 8)))
        return Line(
            CostKind.MATERIAL,
            item.name,
            item.code,
            item.uom,
            Provider.IN_HOUSE,
            ZERO,
            ZERO,
            quantity,
            item.price,
            used=quantity,
        )

    # --- the run ---------------------------------------------------------------------------

    def load(self) -> None:
        self.plan()
        replay(self.session, self.jobs, cutoff=self.cutoff, manager=self.boss)
        self.switch_plans_to_condition_monitoring()

    def plan(self) -> list[Job]:
        """Create the turnaround and the PM plans, and plan every order's life (nothing else is written)."""
        self.create_turnaround()
        self.create_plans()
        self.plan_pm_orders()
        self.plan_fixed_orders()
        self.plan_turnaround_orders()
        self.fit_turnaround_cost()
        self.plan_condition_and_corrective_orders()
        self.fit_refurbished_savings()
        return self.jobs

    def create_turnaround(self) -> None:
        row = _turnaround_rows(self.folder.parent)[0]
        site = next(iter(org_service.list_sites(self.session)))
        assert site.id is not None
        self.ta_row = row
        start = self.story_date(row["start_date"])
        self.turnaround = turnarounds.create_turnaround(
            self.session,
            TurnaroundCreate(
                code=row["code"].format(year=start.year),
                name=row["name"].format(year=start.year),
                start_date=start,
                end_date=self.story_date(row["end_date"]),
                budget_cny=Decimal(row["budget_cny"]),
                notes=row["notes"],
                site_id=site.id,
            ),
            actor=self.boss,
        )

    @property
    def ta_start(self) -> date:
        assert self.turnaround is not None
        return self.turnaround.start_date

    @property
    def ta_end(self) -> date:
        assert self.turnaround is not None
        return self.turnaround.end_date

    def in_turnaround(self, asset: Asset, day: date) -> bool:
        return (
            self.ta_start <= day <= self.ta_end
            and self.workshop_code[asset.workshop_id] in self.ta_row["workshops"].split()
        )

    # --- PM plans and their orders ---------------------------------------------------------

    def create_plans(self) -> None:
        for row in read_csv(self.folder / "pm_plans.csv"):
            asset = self.asset(row["tag"])
            plan = pm.create_plan(
                self.session,
                PmPlanCreate(
                    asset_id=asset.id,  # type: ignore[arg-type]
                    title=row["title"],
                    basis=PlanBasis(row["basis"]),
                    interval=int(row["interval"]),
                    interval_unit=IntervalUnit(row["unit"]),
                    interval_hours=int(row["interval_hours"]) if row["interval_hours"] else None,
                    start_date=self.story_date(row["start_date"]),
                    lead_days=int(row["lead_days"]),
                    priority=Priority(row["priority"]),
                    provider=Provider(row["provider"]),
                    assignee_name=row["assignee"],
                    checklist_template="\n".join(line.strip() for line in row["checklist"].split(";")),
                ),
                actor=self.engineer(asset),
            )
            for code, quantity in parse_quantities(row["estimate"], ";"):
                pm.add_estimated_line(
                    self.session, plan, self.estimate(plan, code, quantity), actor=self.engineer(asset)
                )
            self.plans.append((plan, row))

    def estimate(self, plan: PmPlan, code: str, quantity: Decimal) -> PmPlanCostLine:
        if code in ("labour", "contractor"):
            provider = Provider.IN_HOUSE if code == "labour" else Provider.CONTRACTOR
            text = "检修人工（自修）" if code == "labour" else "外委施工人工"
            return PmPlanCostLine(
                plan_id=plan.id,  # type: ignore[arg-type]
                kind=CostKind.LABOUR,
                description=text,
                uom="h",
                provider=provider,
                quantity=quantity,
                unit_price_cny=LABOUR_RATE[provider],
            )
        item = self.items[code]
        return PmPlanCostLine(
            plan_id=plan.id,  # type: ignore[arg-type]
            kind=CostKind.SERVICE if item.is_service else CostKind.MATERIAL,
            description=item.name,
            item_code=item.code,
            uom=item.uom,
            provider=Provider.CONTRACTOR if item.is_service else Provider.IN_HOUSE,
            quantity=quantity,
            unit_price_cny=item.import_price or item.price,
        )

    def due_dates(self, plan: PmPlan, row: dict[str, str], asset: Asset) -> Iterator[tuple[date, bool]]:
        """(due date, after the switch to condition monitoring) of the plan's orders raised in the year."""
        horizon = self.today + timedelta(days=plan.lead_days)
        switched = self.story_date(row["cbm_from"]) if row["cbm_from"] else None
        if plan.basis == PlanBasis.RUNTIME:
            hours_a_day = 22 if asset.status == AssetStatus.IN_SERVICE else 8
            step_days = max(int((plan.interval_hours or 4000) / hours_a_day), 7)
            due = plan.start_date
            while due <= horizon:
                if due - timedelta(days=plan.lead_days) >= self.start:
                    yield due, False
                due += timedelta(days=step_days)
            return
        k = 0
        while True:
            if plan.interval_unit == IntervalUnit.MONTH:
                due = add_months(plan.start_date, k * plan.interval)
            else:
                days = plan.interval * (7 if plan.interval_unit == IntervalUnit.WEEK else 1)
                due = plan.start_date + timedelta(days=k * days)
            k += 1
            if due > horizon:
                return
            if due - timedelta(days=plan.lead_days) < self.start:
                continue
            after = switched is not None and due >= switched
            if after:
                # From the switch the plan falls due every cbm_interval months on its old rhythm.
                months = (due.year - plan.start_date.year) * 12 + due.month - plan.start_date.month
                if months % int(row["cbm_interval"]):
                    continue
            yield due, after

    def plan_pm_orders(self) -> None:
        for plan, row in self.plans:
            asset = self.asset(row["tag"])
            checks = service.parse_checklist_template(plan.checklist_template)
            estimates = parse_quantities(row["estimate"], ";")
            for due, switched in self.due_dates(plan, row, asset):
                title = row["cbm_title"] if switched else plan.title
                self.jobs.append(self.pm_job(plan, asset, due, title, checks, estimates))

    def pm_job(
        self,
        plan: PmPlan,
        asset: Asset,
        due: date,
        title: str,
        checks: list[tuple[str, str]],
        estimates: list[tuple[str, Decimal]],
    ) -> Job:
        rng = self.rng
        engineer = self.engineer(asset)
        requested = plant_instant(due - timedelta(days=plan.lead_days), 6)
        in_ta = plan.interval_unit == IntervalUnit.MONTH and plan.interval >= 6 and self.in_turnaround(asset, due)
        on_time = in_ta or rng.random() < _lerp(ON_TIME, self.fraction(due))
        hours = sum(float(q) for code, q in estimates if code in ("labour", "contractor")) or 2.0
        if hours <= 8:  # a crew of two, within the day
            duration = timedelta(hours=max(1.0, hours / 2) * rng.uniform(0.8, 1.4))
        else:  # a crew of four or more, ten-hour days
            duration = timedelta(days=math.ceil(hours / 40) - 1, hours=8 * rng.uniform(0.8, 1.1))
        if on_time:
            early = duration.days + rng.choice((0, 0, 0, 1, 1, 2, 3))
            start_day = max(due - timedelta(days=early), plant_date(requested) + timedelta(days=1))
            if in_ta:  # the plant is running until the shutdown: the work waits for it
                start_day = max(start_day, self.ta_start)
        else:
            start_day = due + timedelta(days=rng.randint(2, 18))
        planned_start = min(start_day, due)
        start = self.working_time(start_day, 8, 9)
        job = Job(
            WorkOrderCreate(
                order_type=OrderType.PM,
                asset_id=asset.id,  # type: ignore[arg-type]
                title=title,
                priority=plan.priority,
                planned_start_date=planned_start,
                planned_finish_date=planned_start + timedelta(days=(duration.days)),
                due_date=due,
                provider=plan.provider,
                assignee_name=plan.assignee_name,
                assignee_id=engineer.id,
                turnaround_id=self.turnaround.id if in_ta and self.turnaround else None,
            ),
            requested,
            SCHEDULER,
            engineer,
            plan=plan,
            due=due,
            checks=checks if plant_date(requested) >= self.checklists_from else [],
        )
        approve_day = plant_date(requested) + timedelta(days=rng.choice((0, 1, 1, 2, 3)))
        approved = job.add(self.working_time(min(approve_day, start_day), 8, 11), "approve", engineer)
        if rng.random() < 0.015:
            job.add(
                approved + timedelta(minutes=rng.randint(10, 600)), "cancel", engineer, rng.choice(CANCEL_NOTES[:2])
            )
            return job
        if hours > 2 or rng.random() < 0.5:  # small routine jobs often start straight from the approved list
            job.add(min(approved + self.planning_delay(), start - timedelta(hours=1)), "schedule", engineer)
        if not on_time and rng.random() < 0.4:
            held = job.add(self.working_time(planned_start, 8, 10), "hold", engineer, HOLD_NOTES[1])
            job.add(
                held + timedelta(days=max((start_day - planned_start).days - 1, 0), hours=rng.randint(1, 6)),
                "resume_scheduled",
                engineer,
            )
        start = job.add(start, "start", engineer)
        finished = job.add(start + duration, "complete", engineer)
        started_ok, finished_ok = start < self.cutoff, finished < self.cutoff
        for code, quantity in estimates:
            if code in ("labour", "contractor"):
                provider = Provider.IN_HOUSE if code == "labour" else Provider.CONTRACTOR
                job.lines.append(self.labour(float(quantity), provider, finished=finished_ok, started=started_ok))
            else:
                job.lines.extend(self.part_lines(code, quantity, requested, started=started_ok, finished=finished_ok))
        if in_ta:
            closed = self.working_time(self.ta_end + timedelta(days=rng.randint(8, 30)), 9, 16)
        else:
            closed = self.close_time(finished)  # type: ignore[assignment]
        if closed is not None:
            job.add(closed, "close", self.boss)
        job.results = [self.check_result(text, unit) for text, unit in job.checks]
        failed = [i for i, (result, _v, _n) in enumerate(job.results) if result == ChecklistResult.NOT_OK]
        if failed and finished_ok and rng.random() < 0.8:
            job.raises = self.corrective_from_check(asset, finished)
        return job

    def planning_delay(self) -> timedelta:
        """From approval to scheduling: mostly at once, sometimes at the next planning meeting."""
        roll = self.rng.random()
        if roll < 0.6:
            return timedelta(minutes=self.rng.randint(5, 90))
        return timedelta(days=1 if roll < 0.85 else self.rng.randint(2, 3), minutes=self.rng.randint(0, 120))

    def check_result(self, text: str, unit: str) -> tuple[ChecklistResult, Decimal | None, str]:
        value = None
        if unit:
            low, high = VALUE_RANGES.get(unit, (1, 10))
            value = Decimal(str(round(self.rng.uniform(low, high), 2)))
        if self.rng.random() < 0.012:
            return ChecklistResult.NOT_OK, value, f"{text}异常，需安排处理"
        return ChecklistResult.OK, value, ""

    def corrective_from_check(self, asset: Asset, found: datetime) -> Job:
        """The CM order a failed check raises (created by the service from the check)."""
        fault = self.pick_fault(asset, OrderType.CM)
        job = self.repair_job(asset, fault, OrderType.CM, found + timedelta(minutes=self.rng.randint(10, 60)))
        job.steps = [step for step in job.steps if step.action != "schedule"]
        return job

    # --- CBM and CM ------------------------------------------------------------------------

    def pick_fault(self, asset: Asset, order_type: OrderType) -> Fault:
        faults = [f for f in self.faults if f.asset_class == asset.asset_class and order_type in f.types]
        if not faults:
            faults = [f for f in self.faults if f.asset_class == asset.asset_class] or [self.faults[0]]
        return self.rng.choices(faults, weights=[f.weight for f in faults])[0]

    def candidates(self, order_type: OrderType) -> tuple[list[Asset], list[float]]:
        classes = {f.asset_class for f in self.faults if order_type in f.types}
        assets = [
            a
            for a in self.assets.values()
            if a.asset_class in classes and a.status not in (AssetStatus.RETIRED, AssetStatus.IDLE)
        ]
        weights = [
            CLASS_WEIGHT.get(a.asset_class, 1.0)
            * CRITICALITY_WEIGHT.get(a.criticality, 1.0)
            * (0.3 if a.status == AssetStatus.STANDBY else 1.0)
            for a in assets
        ]
        return assets, weights

    def plan_condition_and_corrective_orders(self) -> None:
        pm_by_month = Counter(
            (plant_date(job.requested_at).year, plant_date(job.requested_at).month)
            for job in self.jobs
            if job.data.order_type == OrderType.PM
        )
        pools = {order_type: self.candidates(order_type) for order_type in (OrderType.CBM, OrderType.CM)}
        for month in self.months:
            fraction = self.fraction(month)
            total = pm_by_month[(month.year, month.month)] / _lerp(PM_SHARE, fraction)
            last_day = min(add_months(month, 1) - timedelta(days=1), self.today - timedelta(days=1))
            days = (last_day - month).days + 1
            for order_type, share in ((OrderType.CBM, CBM_SHARE), (OrderType.CM, CM_SHARE)):
                assets, weights = pools[order_type]
                for _n in range(round(total * _lerp(share, fraction))):
                    day = month + timedelta(days=self.rng.randrange(days))
                    asset = self.rng.choices(assets, weights=weights)[0]
                    while not self.in_use(asset, day):
                        asset = self.rng.choices(assets, weights=weights)[0]
                    if order_type == OrderType.CM:
                        hour = self.rng.choice((2, 5, 8, 9, 10, 10, 11, 13, 14, 14, 15, 16, 19, 22))
                        requested = plant_instant(day, hour, self.rng.randrange(60))
                    else:
                        requested = self.working_time(day, 8, 16)
                    fault = self.pick_fault(asset, order_type)
                    self.jobs.append(self.repair_job(asset, fault, order_type, requested))

    def repair_job(self, asset: Asset, fault: Fault, order_type: OrderType, requested: datetime) -> Job:
        rng = self.rng
        engineer = self.engineer(asset)
        urgent = order_type == OrderType.CM and (
            asset.criticality == "A" or fault.detection == DetectionMethod.PRODUCTION_INTERFERENCE
        )
        priority = Priority.URGENT if urgent else Priority.HIGH if asset.criticality in "AB" else Priority.NORMAL
        if order_type == OrderType.CBM:
            priority = Priority.HIGH if asset.criticality == "A" else Priority.NORMAL
        labour = rng.uniform(*fault.labour_hours)
        downtime = rng.uniform(*fault.downtime_hours)
        contractor = bool(fault.services) and rng.random() < 0.3
        provider = Provider.CONTRACTOR if contractor else Provider.IN_HOUSE
        if urgent:
            approved_at = requested + timedelta(minutes=rng.randint(10, 60))
            start_at = approved_at + timedelta(minutes=rng.randint(20, 120))
            planned_start = plant_date(start_at)
        else:
            late = requested.astimezone(plant_timezone()).hour >= 14
            approve_day = plant_date(requested) + timedelta(days=rng.choice((0, 0, 1, 2)) + late)
            approved_at = self.working_time(approve_day, 8, 11)
            backlog = rng.randint(2, 12) if order_type == OrderType.CBM else rng.randint(1, 5)
            planned_start = plant_date(approved_at) + timedelta(days=backlog)
            start_at = self.working_time(planned_start, 8, 9)
        crew = rng.choice((2, 2, 3, 4))
        hours = max(labour / crew, min(downtime, labour), 1.0)
        if hours <= 10:
            duration = timedelta(hours=hours)
        else:  # ten-hour days
            duration = timedelta(days=math.ceil(hours / 10) - 1, hours=rng.uniform(4, 9))
        finish_at = start_at + duration
        job = Job(
            WorkOrderCreate(
                order_type=order_type,
                asset_id=asset.id,  # type: ignore[arg-type]
                title=f"{asset.tag} {fault.title}",
                description=f"{asset.name}：{fault.title}。",
                priority=priority,
                planned_start_date=planned_start,
                planned_finish_date=plant_date(finish_at),
                provider=provider,
                assignee_name="外委检修单位" if contractor else self.team(asset),
                assignee_id=engineer.id,
            ),
            requested,
            engineer,
            engineer,
        )
        if rng.random() < 0.02:
            job.add(requested + timedelta(minutes=rng.randint(30, 300)), "cancel", engineer, CANCEL_NOTES[2])
            return job
        # Four eyes: the engineer raised it, the manager approves it (urgent ones by phone).
        job.add(approved_at, "approve", self.boss)
        if not urgent:
            job.add(min(approved_at + self.planning_delay(), start_at - timedelta(hours=1)), "schedule", engineer)
        start_at = job.add(start_at, "start", engineer)
        if rng.random() < 0.06:
            held = job.add(start_at + duration / 2, "hold", engineer, HOLD_NOTES[0])
            pause = timedelta(days=rng.randint(1, 5))
            job.add(held + pause, "resume_work", engineer)
            finish_at += pause
        finish_at = job.add(finish_at, "complete", engineer)
        if rng.random() < 0.012:
            reopened = job.add(
                finish_at + timedelta(hours=rng.randint(6, 30)), "reopen", engineer, "试车后仍有异常，返工处理"
            )
            finish_at = job.add(reopened + timedelta(hours=rng.randint(3, 8)), "complete", engineer)
        started, finished = start_at < self.cutoff, finish_at < self.cutoff
        job.lines.append(self.labour(labour, Provider.IN_HOUSE, started=started, finished=finished))
        if contractor:
            job.lines.append(self.labour(labour * 0.6, Provider.CONTRACTOR, started=started, finished=finished))
        for code, quantity in (*fault.parts, *fault.services):
            job.lines.extend(self.part_lines(code, quantity, requested, started=started, finished=finished))
        if started and rng.random() < 0.08:
            job.lines.append(self.unplanned(start_at))
        closed = self.close_time(finish_at)
        if closed is not None:
            job.add(closed, "close", self.boss)
        down_start = requested if order_type == OrderType.CM else start_at
        has_downtime = downtime > 0 and not (order_type == OrderType.CBM and self.has_standby(asset))
        loss_t = None
        if has_downtime and order_type == OrderType.CM and asset.criticality == "A" and not self.has_standby(asset):
            loss_t = Decimal(str(round(downtime * rng.uniform(1.5, 6.0), 1)))
        job.failure = {
            "failure_mode": fault.mode,
            "failure_mechanism": fault.mechanism,
            "failure_cause": fault.cause,
            "detection_method": DetectionMethod.CONDITION_MONITORING
            if order_type == OrderType.CBM
            else fault.detection,
            "downtime_start_at": down_start if has_downtime else None,
            "downtime_end_at": (
                min(down_start + timedelta(hours=downtime), finish_at) if order_type == OrderType.CBM else finish_at
            )
            if has_downtime and finished
            else None,
            "production_loss_t": loss_t if finished else None,
            "production_loss_cny": (loss_t * PRODUCT_MARGIN_CNY).quantize(Decimal("0.01"))
            if loss_t and finished
            else None,
        }
        return job

    # --- the turnaround and the orders told one by one ----------------------------------------

    def plan_turnaround_orders(self) -> None:
        rng = self.rng
        assert self.turnaround is not None
        workshops = self.ta_row["workshops"].split()
        tasks = list(read_csv(self.folder / "turnaround_tasks.csv"))
        ta_jobs: list[Job] = []
        for asset in self.assets.values():
            if self.workshop_code[asset.workshop_id] not in workshops or not self.in_use(
                asset, self.ta_start - timedelta(days=365)
            ):
                continue
            for task in tasks:
                if (
                    task["asset_class"] == asset.asset_class
                    and asset.tag.startswith(task["tag_prefix"])
                    and (not task["criticality"] or task["criticality"] == asset.criticality)
                    and asset.asset_class != "VA"
                ):
                    if rng.random() < float(task["share"]):
                        ta_jobs.append(self.turnaround_job(asset, task))
                    break
        # A few are still open today: on hold waiting for parts, or not yet signed off.
        for job in rng.sample(ta_jobs, 3):
            job.steps = [step for step in job.steps if step.action not in ("complete", "close")]
            if job is not ta_jobs[0]:
                start = next(step.at for step in job.steps if step.action == "start")
                job.add(start + timedelta(days=2), "hold", job.worker, "关键备件未到货，待二次停车时处理")
        for job in rng.sample(ta_jobs, 8):
            job.steps = [step for step in job.steps if step.action != "close"]
        self.jobs.extend(ta_jobs)

    def turnaround_job(self, asset: Asset, task: dict[str, str]) -> Job:
        rng = self.rng
        engineer = self.engineer(asset)
        assert self.turnaround is not None
        requested = self.working_time(date(self.ta_start.year, 6, 15) + timedelta(days=rng.randint(0, 66)), 8, 16)
        hours = rng.uniform(*parse_range(task["labour_hours"]))
        provider = Provider(task["provider"])
        big = hours > 300
        crew_hours = rng.choice((40, 60, 80)) if not big else 160
        days = max(1, math.ceil(hours / crew_hours))
        latest = (self.ta_end - self.ta_start).days - days - 2
        offset = rng.randint(0, 3) if big else rng.randint(0, max(latest, 0))
        planned_start = self.ta_start + timedelta(days=offset)
        finish_day = min(planned_start + timedelta(days=days), self.ta_end - timedelta(days=1))
        job = Job(
            WorkOrderCreate(
                order_type=OrderType.TA,
                asset_id=asset.id,  # type: ignore[arg-type]
                title=f"{asset.tag} {task['title']}",
                description=f"{self.turnaround.name}：{asset.name}{task['title']}。",
                priority=Priority.HIGH if asset.criticality == "A" else Priority.NORMAL,
                planned_start_date=planned_start,
                planned_finish_date=finish_day,
                provider=provider,
                assignee_name=task["assignee"] or self.team(asset),
                assignee_id=engineer.id,
                turnaround_id=self.turnaround.id,
            ),
            requested,
            engineer,
            engineer,
        )
        approved = job.add(
            self.working_time(plant_date(requested) + timedelta(days=rng.randint(2, 8))), "approve", self.boss
        )
        job.add(approved + timedelta(days=rng.randint(1, 5)), "schedule", engineer)
        start = job.add(self.working_time(planned_start, 7, 8), "start", engineer)
        if rng.random() < 0.05:
            held = job.add(start + timedelta(days=1), "hold", engineer, HOLD_NOTES[0])
            job.add(held + timedelta(days=rng.randint(1, 2)), "resume_work", engineer)
        job.add(plant_instant(finish_day, rng.randint(16, 19), rng.choice((0, 30))), "complete", engineer)
        job.add(self.working_time(self.ta_end + timedelta(days=rng.randint(8, 30)), 9, 16), "close", self.boss)
        job.lines.append(self.labour(hours, provider, started=True, finished=True))
        if provider == Provider.CONTRACTOR:
            job.lines.append(self.labour(hours * 0.1, Provider.IN_HOUSE, started=True, finished=True))
        for code, quantity in parse_quantities(task["parts"]) + parse_quantities(task["services"]):
            job.lines.extend(self.part_lines(code, quantity, requested, started=True, finished=True))
        for column, kind in (("refurbished", CostKind.REFURBISHED), ("localised", CostKind.LOCALISED)):
            for code, quantity in parse_quantities(task[column]):
                job.lines.extend(self.part_lines(code, quantity, requested, started=True, finished=True, prefer=kind))
        return job

    def plan_fixed_orders(self) -> None:
        for row in read_csv(self.folder / "fixed_orders.csv"):
            self.jobs.append(self.fixed_job(row))

    def fixed_job(self, row: dict[str, str]) -> Job:
        asset = self.asset(row["tag"])
        engineer = self.engineer(asset)
        instant = self.story_instant
        requested, start, finish, closed = (instant(row[name]) for name in ("requested", "start", "finish", "closed"))
        assert requested is not None
        assert start is not None
        order_type = OrderType(row["type"])
        turnaround_id = None
        if row["turnaround"]:
            assert self.turnaround is not None
            assert row["turnaround"] == self.ta_row["code"]
            turnaround_id = self.turnaround.id
        job = Job(
            WorkOrderCreate(
                order_type=order_type,
                asset_id=asset.id,  # type: ignore[arg-type]
                title=f"{asset.tag} {row['title']}",
                description=f"{asset.name}：{row['title']}。",
                priority=Priority(row["priority"]),
                planned_start_date=plant_date(start),
                planned_finish_date=plant_date(finish) if finish else None,
                provider=Provider(row["provider"]),
                assignee_name=row["assignee"],
                assignee_id=engineer.id,
                turnaround_id=turnaround_id,
                is_revamp_tie_in=row["tie_in"] == "1",
            ),
            requested,
            engineer,
            engineer,
        )
        urgent = order_type in (OrderType.CM, OrderType.CBM)
        approved = job.add(
            requested + timedelta(minutes=30)
            if urgent
            else self.working_time(plant_date(requested) + timedelta(days=2), 9, 11),
            "approve",
            self.boss,  # four eyes: not the engineer who raised it
        )
        if start - approved > timedelta(days=1):
            job.add(approved + timedelta(hours=1), "schedule", engineer)
        job.add(start, "start", engineer)
        if row["hold"]:
            held_text, _bar, note = row["hold"].partition("|")
            held = instant(held_text)
            assert held is not None
            job.add(held, "hold", engineer, note)
        if finish:
            job.add(finish, "complete", engineer)
            if closed:
                job.add(closed, "close", self.boss)
        finished = finish is not None and finish < self.cutoff
        hours = float(row["labour_hours"] or 0)
        provider = Provider(row["provider"])
        if hours:
            job.lines.append(self.labour(hours, provider, started=True, finished=finished))
        for code, quantity in parse_quantities(row["parts"]) + parse_quantities(row["services"]):
            job.lines.extend(
                self.part_lines(code, quantity, requested, started=True, finished=finished, prefer=CostKind.MATERIAL)
            )
        for column, kind in (("refurbished", CostKind.REFURBISHED), ("localised", CostKind.LOCALISED)):
            for code, quantity in parse_quantities(row[column]):
                job.lines.extend(
                    self.part_lines(code, quantity, requested, started=True, finished=finished, prefer=kind)
                )
        if row["failure"]:
            mode, mechanism, cause, detection = row["failure"].split("/")
            job.failure = {
                "failure_mode": FailureMode(mode),
                "failure_mechanism": FailureMechanism(mechanism),
                "failure_cause": FailureCause(cause),
                "detection_method": DetectionMethod(detection),
                "downtime_start_at": requested,
                "downtime_end_at": finish if finished else None,
            }
        return job

    def fit_turnaround_cost(self) -> None:
        """Scale the overhaul's services so its scope ends at TA_COST_SHARE of the budget."""
        assert self.turnaround is not None
        scope = [job for job in self.jobs if job.data.turnaround_id == self.turnaround.id]
        services = [
            line
            for job in scope
            if job.data.order_type == OrderType.TA
            for line in job.lines
            if line.kind == CostKind.SERVICE
        ]
        service_cny = sum((line.actual_cny for line in services), ZERO)
        other_cny = sum((job.actual_cny for job in scope), ZERO) - service_cny
        target = self.turnaround.budget_cny * TA_COST_SHARE
        if service_cny <= 0 or target <= other_cny:
            return
        factor = (target - other_cny) / service_cny
        for line in services:
            line.price = (line.price * factor).quantize(Decimal("0.01"))
            line.planned_price = (line.planned_price * factor).quantize(Decimal("0.01"))
        self.service_factor = factor

    def fit_refurbished_savings(self) -> None:
        """Repair instead of buy, oldest orders first, until the year's 修旧利废 savings reach
        REFURBISHED_TARGET_CNY: the random draw alone lands either side of the plan's target
        depending on the day the demo is built. The overhaul's orders keep their parts (its cost
        is fitted to its budget)."""

        def saving(line: Line) -> Decimal:
            return (line.reference - line.price) * line.quantity if line.reference is not None else ZERO

        done = sorted((job for job in self.jobs if job.requested_at < self.cutoff), key=lambda job: job.requested_at)
        total = sum((saving(line) for job in done for line in job.lines if line.kind == CostKind.REFURBISHED), ZERO)
        for job in done:
            if total >= REFURBISHED_TARGET_CNY:
                return
            if job.data.turnaround_id is not None:
                continue
            for index, line in enumerate(job.lines):
                item = self.items.get(line.item_code)
                if line.kind != CostKind.MATERIAL or item is None or item.refurbish_price is None or not line.quantity:
                    continue
                repaired = Line(
                    CostKind.REFURBISHED,
                    f"{item.name}（修复旧件）",
                    item.code,
                    item.uom,
                    Provider.IN_HOUSE,
                    line.planned_quantity,
                    item.refurbish_price,
                    line.quantity,
                    item.refurbish_price,
                    reference=item.price,
                )
                job.lines[index] = repaired
                total += saving(repaired)

    def switch_plans_to_condition_monitoring(self) -> None:
        for plan, row in self.plans:
            if row["cbm_from"] and self.story_date(row["cbm_from"]) <= self.today:
                data = PmPlanUpdate.model_validate(
                    plan.model_dump() | {"title": row["cbm_title"], "interval": int(row["cbm_interval"])}
                )
                asset = self.asset(row["tag"])
                pm.update_plan(self.session, plan, data, actor=self.engineer(asset))
