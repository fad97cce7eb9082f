"""Work-order KPIs: order mix, PM compliance, backlog, MTBF/MTTR, 计划对口率, 检修物资库存率,
in-house vs outsourced cost and savings.

Every function takes a :class:`Period` (plant-local days) and an optional workshop, runs a fixed
number of aggregate queries (grouped in the database, never loading the orders) and returns small
dataclasses. The order mix, PM compliance and the material KPIs also come for many workshops at
once (:func:`order_mix_by_workshop`, …): the same query grouped by workshop, which the one-workshop
form runs for a group of one. Where a KPI depends on the plant's calendar (months, "done by the due
date") the boundaries are computed here in Python as UTC instants and compared in SQL, so the same
queries run on SQLite and PostgreSQL; the two engine-specific expressions (plant-local date of a
timestamp, hours between two timestamps) are built by :func:`plant_date` and :func:`hours_between`.

Formulas (shown on the KPI page too):

- planned work share = labour hours of planned orders (every type but corrective: PM, CBM, TA,
  PRJ are planned before they are worked) ÷ labour hours of all orders raised in the period
  (SMRP: 80–90 %);
- PM compliance = PM orders due in the period (not cancelled) finished on or before their due date
  (the plant-local date of ``actual_finish_at`` ≤ due date) ÷ PM orders due in the period
  (SMRP: ≥ 90 %);
- backlog = orders open now (draft, approved, scheduled, in progress, on hold), aged from
  ``requested_at``; planned hours = planned quantity of their labour lines;
- failures = CM and CBM orders (not cancelled) with a failure mode whose downtime start
  (else actual start, else request time) falls in the period;
  MTTR = Σ downtime hours ÷ failures with a recorded downtime start and end;
  MTBF = (assets in service × hours in the period − Σ downtime hours) ÷ failures, where "assets in
  service" are the non-retired assets in scope and the hours stop at "now" for a period that is not
  over; per asset: (hours in the period − its downtime hours) ÷ its failures;
- 计划对口率 = material lines with a planned quantity whose issued quantity equals it ÷ material lines
  with a planned quantity, on orders completed or closed in the period;
- 检修物资库存率 = Σ (issued − used − returned) × issue price ÷ Σ issued × issue price, over material
  lines of those orders that record the used quantity;
- in-house share = in-house labour and service cost ÷ all labour and service cost; savings = Σ saving
  of refurbished (修旧利废) and localised (国产化) lines; both on orders raised in the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, and_, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from maintenance.assets.choices import AssetClass, AssetStatus
from maintenance.assets.models import Asset
from maintenance.choices import Choice
from maintenance.db import UTCDateTime, WorkshopSplit, plant_timezone, utcnow
from maintenance.orders.choices import DONE_STATES, OPEN_STATES, CostKind, OrderState, OrderType, Provider
from maintenance.orders.models import CostLine, WorkOrder
from maintenance.orders.periods import ZERO, Period, month_bucket, sql_decimal

HOURS = Decimal("0.1")

PM_COMPLIANCE_TARGET = 0.9
PLANNED_WORK_TARGET = (0.8, 0.9)
TOP_ASSETS = 10


# --- Portable SQL for the plant's calendar ------------------------------------------------


def _offset_minutes(zone: ZoneInfo, at: datetime) -> int:
    offset = at.astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def offset_segments(zone: ZoneInfo, start_at: datetime, end_at: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offset over [start_at, end_at) as (until, minutes) pieces; the last piece
    has no end. A zone without daylight saving (Asia/Shanghai) gives one piece."""
    pieces: list[tuple[datetime | None, int]] = []
    at, current = start_at, _offset_minutes(zone, start_at)
    while at < end_at:
        step = min(at + timedelta(days=1), end_at)
        if _offset_minutes(zone, step) == current:
            at = step
            continue
        low, high = at, step  # the change happens in (low, high]: find it to the second
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            low, high = (middle, high) if _offset_minutes(zone, middle) == current else (low, middle)
        pieces.append((high, current))
        at, current = high, _offset_minutes(zone, high)
    pieces.append((None, current))
    return pieces


def plant_date(dialect: str, expr: Any, *, around: Period) -> ColumnElement[Any]:
    """The plant-local calendar date of a UTC timestamp column, comparable with a date column.

    PostgreSQL converts with the time-zone database. SQLite has none, so the zone's UTC offset is
    applied by the piece of time it holds in (exact for timestamps within two days of ``around``;
    further away only the comparison with dates of ``around`` matters, and it is unaffected).
    """
    zone = plant_timezone()
    if dialect != "sqlite":
        return cast(func.timezone(zone.key, expr), Date)
    margin = timedelta(days=2)
    pieces = offset_segments(zone, around.start_at - margin, around.end_at + margin)

    def shifted(minutes: int) -> ColumnElement[Any]:
        return func.date(expr, f"{minutes:+d} minutes")

    if len(pieces) == 1:
        return shifted(pieces[0][1])
    whens = [(expr < literal(until, UTCDateTime), shifted(minutes)) for until, minutes in pieces[:-1]]
    return case(*whens, else_=shifted(pieces[-1][1]))


def hours_between(dialect: str, start: Any, end: Any) -> ColumnElement[float]:
    """``end − start`` in hours (a float; NULL when either is NULL)."""
    if dialect == "sqlite":
        return cast((func.julianday(end) - func.julianday(start)) * 24.0, Float)
    return cast(func.extract("epoch", end - start) / 3600.0, Float)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _in_workshop(column: Any, workshop_id: int | None) -> list[ColumnElement[bool]]:
    return [] if workshop_id is None else [column == workshop_id]


def _ratio(part: float | Decimal | int, whole: float | Decimal | int) -> float | None:
    return float(part) / float(whole) if whole else None


# --- Order mix ----------------------------------------------------------------------------


@dataclass
class MixCell:
    count: int = 0
    hours: Decimal = ZERO
    cost_cny: Decimal = ZERO

    def add(self, other: MixCell) -> None:
        self.count += other.count
        self.hours += other.hours
        self.cost_cny += other.cost_cny


@dataclass
class MonthMix:
    label: str
    by_type: dict[OrderType, MixCell]


@dataclass
class OrderMix:
    """Orders raised in the period (not cancelled) by month of ``requested_at`` (plant time) and type."""

    months: list[MonthMix]
    totals: dict[OrderType, MixCell]

    @property
    def total(self) -> MixCell:
        total = MixCell()
        for cell in self.totals.values():
            total.add(cell)
        return total

    @property
    def planned_hours(self) -> Decimal:
        return self.total.hours - self.totals[OrderType.CM].hours

    @property
    def planned_work_share(self) -> float | None:
        """Labour hours of all but corrective work ÷ all labour hours (SMRP: 80–90 %)."""
        return _ratio(self.planned_hours, self.total.hours)


def order_mix(session: Session, period: Period, workshop_id: int | None = None) -> OrderMix:
    """One query: orders bucketed by month with a CASE over the months' UTC boundaries."""
    return _order_mixes(session, period, WorkshopSplit.of(col(WorkOrder.workshop_id), workshop_id))[workshop_id]


def order_mix_by_workshop(session: Session, period: Period, workshop_ids: Sequence[int]) -> dict[int, OrderMix]:
    """Each workshop's order mix, in one query grouped by workshop."""
    mixes = _order_mixes(session, period, WorkshopSplit(col(WorkOrder.workshop_id), workshop_ids))
    return {workshop_id: mixes[workshop_id] for workshop_id in workshop_ids}


def _order_mixes(session: Session, period: Period, split: WorkshopSplit) -> dict[int | None, OrderMix]:
    months = period.months()
    requested = col(WorkOrder.requested_at)
    rows = (
        select(
            split.key.label("workshop"),
            month_bucket(requested, months).label("bucket"),
            col(WorkOrder.order_type).label("order_type"),
            col(WorkOrder.labour_hours).label("hours"),
            col(WorkOrder.actual_cost_cny).label("cost"),
        )
        .where(
            requested >= period.start_at,
            requested < period.end_at,
            col(WorkOrder.state) != OrderState.CANCELLED,
            *split.where,
        )
        .subquery()
    )
    # Grouped over the subquery: PostgreSQL would not match a CASE with parameters in SELECT
    # to its copy in GROUP BY.
    stmt = select(
        rows.c.workshop, rows.c.bucket, rows.c.order_type, func.count(), func.sum(rows.c.hours), func.sum(rows.c.cost)
    ).group_by(rows.c.workshop, rows.c.bucket, rows.c.order_type)
    mixes = {
        key: OrderMix(
            [MonthMix(m.label, {t: MixCell() for t in OrderType}) for m in months], {t: MixCell() for t in OrderType}
        )
        for key in split.keys
    }
    for key, index, order_type, count, hours, cost in session.execute(stmt):
        cell = MixCell(int(count), sql_decimal(hours, Decimal("0.001")), sql_decimal(cost))
        mix = mixes[key]
        mix.months[int(index)].by_type[OrderType(order_type)] = cell
        mix.totals[OrderType(order_type)].add(cell)
    return mixes


# --- PM compliance ------------------------------------------------------------------------


@dataclass
class PmCompliance:
    due: int
    on_time: int
    target: float = PM_COMPLIANCE_TARGET

    @property
    def late_or_open(self) -> int:
        return self.due - self.on_time

    @property
    def ratio(self) -> float | None:
        return _ratio(self.on_time, self.due)

    @property
    def meets_target(self) -> bool | None:
        return None if self.ratio is None else self.ratio >= self.target


def pm_compliance(session: Session, period: Period, workshop_id: int | None = None) -> PmCompliance:
    """PM orders due in the period (not cancelled), and how many were finished by their due date."""
    return _pm_compliances(session, period, WorkshopSplit.of(col(WorkOrder.workshop_id), workshop_id))[workshop_id]


def pm_compliance_by_workshop(session: Session, period: Period, workshop_ids: Sequence[int]) -> dict[int, PmCompliance]:
    """Each workshop's PM compliance, in one query grouped by workshop."""
    compliances = _pm_compliances(session, period, WorkshopSplit(col(WorkOrder.workshop_id), workshop_ids))
    return {workshop_id: compliances[workshop_id] for workshop_id in workshop_ids}


def _pm_compliances(session: Session, period: Period, split: WorkshopSplit) -> dict[int | None, PmCompliance]:
    due = func.coalesce(col(WorkOrder.due_date), col(WorkOrder.plan_due_date))
    finished = col(WorkOrder.actual_finish_at)
    on_time = and_(finished.is_not(None), plant_date(_dialect(session), finished, around=period) <= due)
    stmt = (
        select(split.key, func.count(), func.sum(case((on_time, 1), else_=0)))
        .where(
            col(WorkOrder.order_type) == OrderType.PM,
            col(WorkOrder.state) != OrderState.CANCELLED,
            due >= period.start,
            due <= period.end,
            *split.where,
        )
        .group_by(*split.group_by)
    )
    compliances = {key: PmCompliance(due=0, on_time=0) for key in split.keys}
    for key, count, done in session.execute(stmt):
        compliances[key] = PmCompliance(due=int(count or 0), on_time=int(done or 0))
    return compliances


# --- Backlog ------------------------------------------------------------------------------


class BacklogAge(Choice):
    """How long an open order has waited since it was raised."""

    FRESH = ("lt7", "7天以内", "< 7 days", "success")
    WAITING = ("7to30", "7–30天", "7–30 days", "warning")
    OLD = ("gt30", "30天以上", "> 30 days", "danger")


@dataclass
class BacklogRow:
    count: int = 0
    planned_hours: Decimal = ZERO
    by_age: dict[BacklogAge, int] = field(default_factory=lambda: dict.fromkeys(BacklogAge, 0))


@dataclass
class Backlog:
    """Orders open at ``as_of`` by type and age."""

    as_of: datetime
    by_type: dict[OrderType, BacklogRow]

    @property
    def count(self) -> int:
        return sum(row.count for row in self.by_type.values())

    @property
    def planned_hours(self) -> Decimal:
        return sum((row.planned_hours for row in self.by_type.values()), ZERO)

    @property
    def by_age(self) -> dict[BacklogAge, int]:
        return {age: sum(row.by_age[age] for row in self.by_type.values()) for age in BacklogAge}


def backlog(session: Session, workshop_id: int | None = None, *, now: datetime | None = None) -> Backlog:
    """One query: open orders with their labour lines' planned hours, counted by type and age."""
    now = now or utcnow()
    requested = col(WorkOrder.requested_at)
    ages = list(BacklogAge)
    age = case(
        (requested > literal(now - timedelta(days=7), UTCDateTime), 0),
        (requested >= literal(now - timedelta(days=30), UTCDateTime), 1),
        else_=2,
    )
    planned_hours = (
        select(func.coalesce(func.sum(col(CostLine.planned_quantity)), 0))
        .where(col(CostLine.order_id) == col(WorkOrder.id), col(CostLine.kind) == CostKind.LABOUR)
        .scalar_subquery()
    )
    rows = (
        select(col(WorkOrder.order_type).label("order_type"), age.label("age"), planned_hours.label("planned_hours"))
        .where(
            col(WorkOrder.state).in_(sorted(OPEN_STATES)),
            *_in_workshop(col(WorkOrder.workshop_id), workshop_id),
        )
        .subquery()
    )
    stmt = select(rows.c.order_type, rows.c.age, func.count(), func.sum(rows.c.planned_hours)).group_by(
        rows.c.order_type, rows.c.age
    )
    by_type = {t: BacklogRow() for t in OrderType}
    for order_type, index, count, hours in session.execute(stmt):
        row = by_type[OrderType(order_type)]
        row.count += int(count)
        row.planned_hours += sql_decimal(hours, Decimal("0.001"))
        row.by_age[ages[int(index)]] += int(count)
    return Backlog(now, by_type)


# --- MTBF and MTTR ------------------------------------------------------------------------


@dataclass
class ReliabilityRow:
    """Failures and downtime of a group of assets (a class, an asset, or all of them)."""

    assets: int
    failures: int
    downtime_hours: float
    repairs_timed: int  # failures with a downtime start and end
    period_hours: float

    @property
    def mttr_hours(self) -> float | None:
        """Σ downtime hours ÷ failures with a recorded downtime."""
        return self.downtime_hours / self.repairs_timed if self.repairs_timed else None

    @property
    def mtbf_hours(self) -> float | None:
        """(assets × hours in the period − Σ downtime hours) ÷ failures."""
        if not self.failures or not self.assets:
            return None
        return max(0.0, self.assets * self.period_hours - self.downtime_hours) / self.failures


@dataclass
class ClassReliability(ReliabilityRow):
    asset_class: AssetClass = AssetClass.PUMP


@dataclass
class AssetReliability(ReliabilityRow):
    asset_id: int = 0
    tag: str = ""
    name: str = ""
    asset_class: AssetClass = AssetClass.PUMP


@dataclass
class Reliability:
    period_hours: float
    overall: ReliabilityRow
    by_class: list[ClassReliability]
    top_assets: list[AssetReliability]


def reliability(
    session: Session, period: Period, workshop_id: int | None = None, *, now: datetime | None = None
) -> Reliability:
    """Three queries: the fleet by class, failures by class, and the assets that failed most."""
    hours = period.hours_until(now or utcnow())
    event_at = func.coalesce(
        col(WorkOrder.downtime_start_at), col(WorkOrder.actual_start_at), col(WorkOrder.requested_at)
    )
    timed = and_(col(WorkOrder.downtime_start_at).is_not(None), col(WorkOrder.downtime_end_at).is_not(None))
    downtime = case(
        (timed, hours_between(_dialect(session), col(WorkOrder.downtime_start_at), col(WorkOrder.downtime_end_at)))
    )
    failures = func.count()
    downtime_sum = func.sum(downtime)
    timed_count = func.count(downtime)
    is_failure = [
        col(WorkOrder.order_type).in_([OrderType.CM, OrderType.CBM]),
        col(WorkOrder.failure_mode).is_not(None),
        col(WorkOrder.state) != OrderState.CANCELLED,
        event_at >= literal(period.start_at, UTCDateTime),
        event_at < literal(period.end_at, UTCDateTime),
        *_in_workshop(col(WorkOrder.workshop_id), workshop_id),
    ]

    fleet = dict(
        session.execute(
            select(col(Asset.asset_class), func.count())
            .where(col(Asset.status) != AssetStatus.RETIRED, *_in_workshop(col(Asset.workshop_id), workshop_id))
            .group_by(col(Asset.asset_class))
        ).all()
    )
    failed_by_class = {
        asset_class: (int(n), float(dt or 0), int(t))
        for asset_class, n, dt, t in session.execute(
            select(col(Asset.asset_class), failures, downtime_sum, timed_count)
            .join(Asset, col(Asset.id) == col(WorkOrder.asset_id))
            .where(*is_failure)
            .group_by(col(Asset.asset_class))
        )
    }
    by_class = [
        ClassReliability(
            assets=int(fleet.get(asset_class, 0)),
            failures=failed_by_class.get(asset_class, (0, 0.0, 0))[0],
            downtime_hours=failed_by_class.get(asset_class, (0, 0.0, 0))[1],
            repairs_timed=failed_by_class.get(asset_class, (0, 0.0, 0))[2],
            period_hours=hours,
            asset_class=AssetClass(asset_class),
        )
        for asset_class in AssetClass
        if asset_class in fleet or asset_class in failed_by_class
    ]
    overall = ReliabilityRow(
        assets=sum(row.assets for row in by_class),
        failures=sum(row.failures for row in by_class),
        downtime_hours=sum(row.downtime_hours for row in by_class),
        repairs_timed=sum(row.repairs_timed for row in by_class),
        period_hours=hours,
    )
    top = session.execute(
        select(col(WorkOrder.asset_id), col(Asset.tag), col(Asset.name), col(Asset.asset_class), failures, downtime_sum)
        .add_columns(timed_count)
        .join(Asset, col(Asset.id) == col(WorkOrder.asset_id))
        .where(*is_failure)
        .group_by(col(WorkOrder.asset_id), col(Asset.tag), col(Asset.name), col(Asset.asset_class))
        .order_by(failures.desc(), func.coalesce(downtime_sum, 0).desc(), col(Asset.tag))
        .limit(TOP_ASSETS)
    ).all()
    top_assets = [
        AssetReliability(
            assets=1,
            failures=int(n),
            downtime_hours=float(dt or 0),
            repairs_timed=int(t),
            period_hours=hours,
            asset_id=asset_id,
            tag=tag,
            name=name,
            asset_class=AssetClass(asset_class),
        )
        for asset_id, tag, name, asset_class, n, dt, t in top
    ]
    return Reliability(hours, overall, by_class, top_assets)


# --- Materials: 计划对口率 and 检修物资库存率 -----------------------------------------------------


@dataclass
class MaterialKpis:
    planned_lines: int
    matching_lines: int
    issued_value_cny: Decimal
    left_in_stock_cny: Decimal

    @property
    def match_rate(self) -> float | None:
        """计划对口率: lines issued exactly as planned ÷ lines with a planned quantity."""
        return _ratio(self.matching_lines, self.planned_lines)

    @property
    def stock_rate(self) -> float | None:
        """检修物资库存率: issued value neither used nor returned ÷ issued value."""
        return _ratio(self.left_in_stock_cny, self.issued_value_cny)


def material_kpis(session: Session, period: Period, workshop_id: int | None = None) -> MaterialKpis:
    """One query over the material lines of orders completed or closed in the period."""
    return _material_kpis(session, period, WorkshopSplit.of(col(WorkOrder.workshop_id), workshop_id))[workshop_id]


def material_kpis_by_workshop(session: Session, period: Period, workshop_ids: Sequence[int]) -> dict[int, MaterialKpis]:
    """Each workshop's material KPIs, in one query grouped by workshop."""
    materials = _material_kpis(session, period, WorkshopSplit(col(WorkOrder.workshop_id), workshop_ids))
    return {workshop_id: materials[workshop_id] for workshop_id in workshop_ids}


def _material_kpis(session: Session, period: Period, split: WorkshopSplit) -> dict[int | None, MaterialKpis]:
    finished = col(WorkOrder.actual_finish_at)
    planned = col(CostLine.planned_quantity) > 0
    matches = and_(planned, col(CostLine.quantity) == col(CostLine.planned_quantity))
    counted = col(CostLine.used_quantity).is_not(None)
    issued = col(CostLine.quantity) * col(CostLine.unit_price_cny)
    unused = (
        col(CostLine.quantity) - func.coalesce(col(CostLine.used_quantity), 0) - col(CostLine.returned_quantity)
    ) * col(CostLine.unit_price_cny)
    stmt = (
        select(
            split.key,
            func.sum(case((planned, 1), else_=0)),
            func.sum(case((matches, 1), else_=0)),
            func.sum(case((counted, issued), else_=0)),
            func.sum(case((counted, unused), else_=0)),
        )
        .join(WorkOrder, col(WorkOrder.id) == col(CostLine.order_id))
        .where(
            col(CostLine.kind) == CostKind.MATERIAL,
            col(WorkOrder.state).in_(sorted(DONE_STATES)),
            finished >= period.start_at,
            finished < period.end_at,
            *split.where,
        )
        .group_by(*split.group_by)
    )
    materials = {key: MaterialKpis(0, 0, sql_decimal(None), sql_decimal(None)) for key in split.keys}
    for key, planned_lines, matching, issued_value, left in session.execute(stmt):
        materials[key] = MaterialKpis(
            int(planned_lines or 0), int(matching or 0), sql_decimal(issued_value), sql_decimal(left)
        )
    return materials


# --- In-house vs outsourced, savings ------------------------------------------------------


@dataclass
class CostSplit:
    """Labour and service cost by provider, and savings, of orders raised in the period."""

    by_kind: dict[tuple[CostKind, Provider], Decimal]
    refurbished_saving_cny: Decimal
    localised_saving_cny: Decimal

    def cost_of(self, provider: Provider) -> Decimal:
        return sum((amount for (_kind, who), amount in self.by_kind.items() if who == provider), ZERO)

    @property
    def in_house_cny(self) -> Decimal:
        return self.cost_of(Provider.IN_HOUSE)

    @property
    def outsourced_cny(self) -> Decimal:
        return self.cost_of(Provider.CONTRACTOR)

    @property
    def in_house_share(self) -> float | None:
        return _ratio(self.in_house_cny, self.in_house_cny + self.outsourced_cny)

    @property
    def savings_cny(self) -> Decimal:
        return self.refurbished_saving_cny + self.localised_saving_cny


def _raised_in(period: Period, workshop_id: int | None) -> list[ColumnElement[bool]]:
    requested = col(WorkOrder.requested_at)
    return [
        requested >= period.start_at,
        requested < period.end_at,
        col(WorkOrder.state) != OrderState.CANCELLED,
        *_in_workshop(col(WorkOrder.workshop_id), workshop_id),
    ]


def cost_split(session: Session, period: Period, workshop_id: int | None = None) -> CostSplit:
    """One query: actual cost and saving by line kind and provider."""
    kinds = [CostKind.LABOUR, CostKind.SERVICE, CostKind.REFURBISHED, CostKind.LOCALISED]
    stmt = (
        select(
            col(CostLine.kind),
            col(CostLine.provider),
            func.sum(col(CostLine.actual_cny)),
            func.sum(col(CostLine.saving_cny)),
        )
        .join(WorkOrder, col(WorkOrder.id) == col(CostLine.order_id))
        .where(col(CostLine.kind).in_(kinds), *_raised_in(period, workshop_id))
        .group_by(col(CostLine.kind), col(CostLine.provider))
    )
    by_kind: dict[tuple[CostKind, Provider], Decimal] = {}
    savings = {CostKind.REFURBISHED: ZERO, CostKind.LOCALISED: ZERO}
    for kind, provider, actual, saving in session.execute(stmt):
        kind, provider = CostKind(kind), Provider(provider)
        if kind in (CostKind.LABOUR, CostKind.SERVICE):
            by_kind[(kind, provider)] = sql_decimal(actual)
        else:
            savings[kind] += sql_decimal(saving)
    return CostSplit(by_kind, savings[CostKind.REFURBISHED], savings[CostKind.LOCALISED])


# --- Everything on the page ---------------------------------------------------------------


@dataclass
class KpiReport:
    period: Period
    workshop_id: int | None
    mix: OrderMix
    compliance: PmCompliance
    backlog: Backlog
    reliability: Reliability
    materials: MaterialKpis
    costs: CostSplit


def kpi_report(
    session: Session, period: Period, workshop_id: int | None = None, *, now: datetime | None = None
) -> KpiReport:
    """All KPIs of the page: eight queries whatever the number of orders."""
    now = now or utcnow()
    return KpiReport(
        period=period,
        workshop_id=workshop_id,
        mix=order_mix(session, period, workshop_id),
        compliance=pm_compliance(session, period, workshop_id),
        backlog=backlog(session, workshop_id, now=now),
        reliability=reliability(session, period, workshop_id, now=now),
        materials=material_kpis(session, period, workshop_id),
        costs=cost_split(session, period, workshop_id),
    )
