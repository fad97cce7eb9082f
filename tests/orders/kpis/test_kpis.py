"""Work-order KPIs on hand-computed cases: the order mix by plant-time month, planned work share,
PM compliance, backlog, MTBF/MTTR, 计划对口率, 检修物资库存率, in-house share and savings; and the
KPI page (every role reads it, a fixed number of queries, charts fed through JSON data blocks)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import literal, select
from sqlmodel import Session

from maintenance.assets.choices import AssetClass, AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.db import UTCDateTime, utcnow
from maintenance.orders import service
from maintenance.orders.choices import CostKind, FailureMode, OrderType, Provider
from maintenance.orders.kpis import charts
from maintenance.orders.kpis import routes as kpi_routes
from maintenance.orders.kpis import service as kpis
from maintenance.orders.kpis.service import BacklogAge, Period
from maintenance.orders.models import CostLineCreate, FailureReportUpdate, WorkOrder, WorkOrderCreate
from maintenance.org.models import Role, Workshop
from maintenance.org.permissions import EVERY_CAPABILITY
from tests import factories
from tests.conftest import login

SYSTEM = SystemActor(username="kpi-test", capabilities=EVERY_CAPABILITY)
PLANT = ZoneInfo("Asia/Shanghai")
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
MARCH_HOURS = 31 * 24  # 744 h
AFTER = datetime(2026, 6, 1, tzinfo=UTC)  # "now" for periods that are over


def plant(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A plant wall-clock time as the UTC instant it is stored as."""
    return datetime(year, month, day, hour, minute, tzinfo=PLANT).astimezone(UTC)


def raise_order(session: Session, asset: Asset, order_type: OrderType, at: datetime, **fields: Any) -> WorkOrder:
    data = {"order_type": order_type, "asset_id": asset.id, "title": f"{order_type.value} {at:%m-%d}", **fields}
    return service.create_order(session, WorkOrderCreate.model_validate(data), actor=SYSTEM, at=at)


def finish(session: Session, order: WorkOrder, at: datetime) -> WorkOrder:
    for action in ("approve", "start", "complete"):
        service.perform(session, order, action, actor=SYSTEM, at=at)
    return order


def add_line(session: Session, order: WorkOrder, kind: CostKind, **fields: Any) -> None:
    data = {"kind": kind, "description": kind.en, **fields}
    service.add_cost_line(session, order, CostLineCreate.model_validate(data), actor=SYSTEM)


def labour(session: Session, order: WorkOrder, hours: str, rate: str = "50", **fields: Any) -> None:
    add_line(session, order, CostKind.LABOUR, quantity=Decimal(hours), unit_price_cny=Decimal(rate), **fields)


def fail(
    session: Session,
    order: WorkOrder,
    mode: FailureMode | None = FailureMode.BRD,
    start: datetime | None = None,
    end: datetime | None = None,
) -> WorkOrder:
    report = FailureReportUpdate(version=order.version, failure_mode=mode, downtime_start_at=start, downtime_end_at=end)
    return service.record_failure(session, order, report, actor=SYSTEM)


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory()


@pytest.fixture
def pump(session: Session, workshop: Workshop) -> Asset:
    return factories.AssetFactory(workshop_id=workshop.id, tag="P-101")


# --- Periods ------------------------------------------------------------------------------


def test_a_year_has_twelve_months_whose_bounds_are_plant_midnights_in_utc() -> None:
    months = Period.for_year(2026).months()

    assert [m.label for m in months] == [f"2026-{n:02d}" for n in range(1, 13)]
    assert months[0].start_at == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    assert months[2].end_at == months[3].start_at == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert Period.for_year(2026).hours == 365 * 24


def test_a_date_range_starts_and_ends_with_partial_months() -> None:
    months = Period(date(2026, 3, 20), date(2026, 5, 10)).months()

    assert [m.label for m in months] == ["2026-03", "2026-04", "2026-05"]
    assert months[0].start_at == plant(2026, 3, 20)
    assert months[-1].end_at == plant(2026, 5, 11)


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="cannot end before"):
        Period(date(2026, 3, 2), date(2026, 3, 1))


def test_hours_of_a_running_period_stop_at_now() -> None:
    assert MARCH.hours_until(plant(2026, 3, 11)) == 10 * 24
    assert MARCH.hours_until(AFTER) == MARCH_HOURS
    assert MARCH.hours_until(plant(2026, 2, 1)) == 0


def test_offsets_of_a_zone_with_daylight_saving_come_in_pieces() -> None:
    # Berlin moves from UTC+1 to UTC+2 at 2026-03-29 01:00 UTC.
    pieces = kpis.offset_segments(ZoneInfo("Europe/Berlin"), plant(2026, 3, 1), plant(2026, 4, 30))

    assert pieces == [(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 60), (None, 120)]
    assert kpis.offset_segments(PLANT, plant(2026, 1, 1), plant(2027, 1, 1)) == [(None, 480)]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
def test_the_plant_date_of_a_timestamp_is_computed_in_the_database(
    session: Session, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    tz = ZoneInfo(zone)
    monkeypatch.setattr(kpis, "plant_timezone", lambda: tz)
    dialect = session.get_bind().dialect.name
    # Around midnight on either side of the spring change and in plain winter/summer time.
    local_times = [datetime(2026, 3, d, h, 30, tzinfo=tz) for d in (1, 8, 28, 29, 30) for h in (0, 23)]
    for local in local_times:
        stamp = literal(local.astimezone(UTC), UTCDateTime)
        day = session.scalar(select(kpis.plant_date(dialect, stamp, around=MARCH)))
        assert str(day) == local.date().isoformat(), local


# --- Order mix and planned work share -----------------------------------------------------


def test_orders_fall_in_the_month_of_their_request_on_the_plant_clock(session: Session, pump: Asset) -> None:
    # 2026-03-31 23:30 in Shanghai is 15:30 UTC on the 31st: March.
    late_march = raise_order(session, pump, OrderType.CM, plant(2026, 3, 31, 23, 30))
    # 2026-04-01 00:30 in Shanghai is 16:30 UTC on March 31st: April, whatever UTC says.
    early_april = raise_order(session, pump, OrderType.CM, plant(2026, 4, 1, 0, 30))
    assert early_april.requested_at.astimezone(UTC).date() == date(2026, 3, 31)
    labour(session, late_march, "3")
    labour(session, early_april, "5", rate="100")
    # New year's eve in Shanghai belongs to 2025; ten past midnight to January 2026.
    raise_order(session, pump, OrderType.PM, plant(2025, 12, 31, 23, 59))
    raise_order(session, pump, OrderType.PM, plant(2026, 1, 1, 0, 10))

    mix = kpis.order_mix(session, Period.for_year(2026))

    by_month = {m.label: m.by_type for m in mix.months}
    assert by_month["2026-03"][OrderType.CM] == kpis.MixCell(1, Decimal("3.000"), Decimal("150.00"))
    assert by_month["2026-04"][OrderType.CM] == kpis.MixCell(1, Decimal("5.000"), Decimal("500.00"))
    assert by_month["2026-01"][OrderType.PM].count == 1
    assert by_month["2026-12"][OrderType.PM].count == 0
    assert mix.total.count == 3


def test_cancelled_orders_and_other_workshops_are_left_out_of_the_mix(
    session: Session, pump: Asset, workshop: Workshop
) -> None:
    raise_order(session, pump, OrderType.CBM, plant(2026, 5, 5))
    cancelled = raise_order(session, pump, OrderType.CBM, plant(2026, 5, 6))
    service.perform(session, cancelled, "cancel", actor=SYSTEM, note="duplicate")
    elsewhere = factories.AssetFactory(tag="P-900")
    raise_order(session, elsewhere, OrderType.CBM, plant(2026, 5, 7))

    assert kpis.order_mix(session, Period.for_year(2026)).totals[OrderType.CBM].count == 2
    assert kpis.order_mix(session, Period.for_year(2026), workshop.id).totals[OrderType.CBM].count == 1


def test_planned_work_share_is_all_but_corrective_hours_over_all_hours(session: Session, pump: Asset) -> None:
    # PM 5 h + CBM 2 h + TA 1 h planned work, CM 2 h reactive: 8 / 10 = 80 %.
    for order_type, hours in [(OrderType.PM, "5"), (OrderType.CBM, "2"), (OrderType.CM, "2"), (OrderType.TA, "1")]:
        labour(session, raise_order(session, pump, order_type, plant(2026, 2, 10)), hours)

    mix = kpis.order_mix(session, Period.for_year(2026))

    assert mix.planned_hours == Decimal("8.000")
    assert mix.total.hours == Decimal("10.000")
    assert mix.planned_work_share == pytest.approx(0.8)


def test_no_hours_means_no_planned_work_share(session: Session) -> None:
    assert kpis.order_mix(session, Period.for_year(2026)).planned_work_share is None


# --- PM compliance ------------------------------------------------------------------------


def test_pm_compliance_counts_orders_done_by_their_due_date_in_plant_time(session: Session, pump: Asset) -> None:
    def pm_due(day: int) -> WorkOrder:
        return raise_order(session, pump, OrderType.PM, plant(2026, 3, 1), due_date=date(2026, 3, day))

    # Due 10 March, finished 23:30 that evening (15:30 UTC): on time.
    finish(session, pm_due(10), plant(2026, 3, 10, 23, 30))
    # Due 20 March, finished early on the 15th: on time.
    finish(session, pm_due(20), plant(2026, 3, 15, 9))
    # Due 25 March, finished 07:00 on the 26th, which is still the 25th in UTC (23:00): late.
    late = finish(session, pm_due(25), plant(2026, 3, 26, 7))
    assert late.actual_finish_at is not None
    assert late.actual_finish_at.date() == date(2026, 3, 25)
    # Not due in March, or cancelled: not counted.
    raise_order(session, pump, OrderType.PM, plant(2026, 3, 1), due_date=date(2026, 4, 1))
    dropped = pm_due(12)
    service.perform(session, dropped, "cancel", actor=SYSTEM, note="asset sold")

    compliance = kpis.pm_compliance(session, MARCH)

    # 2 on time ÷ 3 due = 66.7 %
    assert (compliance.due, compliance.on_time) == (3, 2)
    assert compliance.ratio == pytest.approx(2 / 3)
    assert f"{compliance.ratio:.1%}" == "66.7%"
    assert compliance.meets_target is False


def test_a_pm_order_due_but_not_done_counts_against_compliance(session: Session, pump: Asset) -> None:
    finish(
        session,
        raise_order(session, pump, OrderType.PM, plant(2026, 3, 1), due_date=date(2026, 3, 5)),
        plant(2026, 3, 5),
    )
    raise_order(session, pump, OrderType.PM, plant(2026, 3, 1), due_date=date(2026, 3, 6))  # still open

    assert kpis.pm_compliance(session, MARCH).ratio == pytest.approx(0.5)


def test_no_pm_orders_due_means_no_compliance_figure(session: Session) -> None:
    compliance = kpis.pm_compliance(session, MARCH)

    assert (compliance.due, compliance.ratio, compliance.meets_target) == (0, None, None)


# --- Backlog ------------------------------------------------------------------------------


def test_backlog_counts_open_orders_by_type_and_age(session: Session, pump: Asset) -> None:
    now = utcnow()
    fresh = raise_order(session, pump, OrderType.CM, now - timedelta(days=2))
    labour(session, fresh, "0", planned_quantity=Decimal("6"), planned_unit_price_cny=Decimal("50"))
    waiting = raise_order(session, pump, OrderType.PM, now - timedelta(days=10))
    service.perform(session, waiting, "approve", actor=SYSTEM)
    labour(session, waiting, "0", planned_quantity=Decimal("4"))
    labour(session, waiting, "0", planned_quantity=Decimal("2.5"))
    add_line(session, waiting, CostKind.MATERIAL, planned_quantity=Decimal("9"))  # not labour: no hours
    old = raise_order(session, pump, OrderType.PM, now - timedelta(days=45))
    service.perform(session, old, "approve", actor=SYSTEM)
    service.perform(session, old, "hold", actor=SYSTEM, note="waiting for parts")
    # Done or cancelled orders are not backlog.
    finish(session, raise_order(session, pump, OrderType.PM, now - timedelta(days=45)), now - timedelta(days=1))
    gone = raise_order(session, pump, OrderType.CM, now - timedelta(days=3))
    service.perform(session, gone, "cancel", actor=SYSTEM, note="duplicate")

    backlog = kpis.backlog(session, now=now)

    assert backlog.count == 3
    assert backlog.planned_hours == Decimal("12.5")  # 6 + 4 + 2.5
    assert backlog.by_type[OrderType.CM].by_age == {BacklogAge.FRESH: 1, BacklogAge.WAITING: 0, BacklogAge.OLD: 0}
    assert backlog.by_type[OrderType.PM].by_age == {BacklogAge.FRESH: 0, BacklogAge.WAITING: 1, BacklogAge.OLD: 1}
    assert backlog.by_type[OrderType.PM].planned_hours == Decimal("6.5")
    assert backlog.by_age == {BacklogAge.FRESH: 1, BacklogAge.WAITING: 1, BacklogAge.OLD: 1}


# --- MTBF and MTTR ------------------------------------------------------------------------


@pytest.fixture
def fleet(session: Session, workshop: Workshop) -> dict[str, Asset]:
    """Three pumps and a compressor in service, one retired pump (not in the fleet)."""

    def make(tag: str, asset_class: AssetClass, **fields: Any) -> Asset:
        return factories.AssetFactory(workshop_id=workshop.id, tag=tag, asset_class=asset_class, **fields)

    return {
        "P1": make("P-1", AssetClass.PUMP),
        "P2": make("P-2", AssetClass.PUMP),
        "P3": make("P-3", AssetClass.PUMP),
        "C1": make("C-1", AssetClass.COMPRESSOR),
        "PX": make(
            "P-X", AssetClass.PUMP, status=AssetStatus.RETIRED, retired_date=date(2025, 12, 1), retire_reason="报废"
        ),
    }


def test_mtbf_and_mttr_per_asset_class_and_asset(session: Session, fleet: dict[str, Asset]) -> None:
    def cm(tag: str, at: datetime, **fields: Any) -> WorkOrder:
        return raise_order(session, fleet[tag], OrderType.CM, at, **fields)

    # P-1: two breakdowns, 12 h (2 March 08:00–20:00) and 6 h (10 March 00:00–06:00).
    fail(session, cm("P1", plant(2026, 3, 2, 8)), FailureMode.BRD, plant(2026, 3, 2, 8), plant(2026, 3, 2, 20))
    fail(session, cm("P1", plant(2026, 3, 10)), FailureMode.VIB, plant(2026, 3, 10), plant(2026, 3, 10, 6))
    # P-2: a condition-based order for vibration, 4 h down.
    cbm = raise_order(session, fleet["P2"], OrderType.CBM, plant(2026, 3, 15, 9))
    fail(session, cbm, FailureMode.VIB, plant(2026, 3, 15, 10), plant(2026, 3, 15, 14))
    # P-3: a failure without recorded downtime (counts as a failure, not in MTTR), dated by its request.
    fail(session, cm("P3", plant(2026, 3, 20)), FailureMode.ELP)
    # C-1: one day down (20 March 00:00 – 21 March 00:00).
    fail(session, cm("C1", plant(2026, 3, 20)), FailureMode.FTS, plant(2026, 3, 20), plant(2026, 3, 21))
    # Not failures of March: no failure mode; a PM order; downtime that began in February although
    # raised in March; a cancelled order; a failure dated by its start in April.
    cm("P1", plant(2026, 3, 5))
    fail(session, raise_order(session, fleet["P1"], OrderType.PM, plant(2026, 3, 6)), FailureMode.NOI)
    fail(session, cm("P2", plant(2026, 3, 1)), FailureMode.BRD, plant(2026, 2, 28, 22), plant(2026, 3, 1, 2))
    cancelled = fail(session, cm("P3", plant(2026, 3, 7)), FailureMode.BRD)
    service.perform(session, cancelled, "cancel", actor=SYSTEM, note="raised twice")
    started_in_april = fail(session, cm("P3", plant(2026, 3, 31, 20)), FailureMode.BRD)
    service.perform(session, started_in_april, "approve", actor=SYSTEM, at=plant(2026, 3, 31, 21))
    service.perform(session, started_in_april, "start", actor=SYSTEM, at=plant(2026, 4, 1, 8))

    result = kpis.reliability(session, MARCH, now=AFTER)

    # March has 31 × 24 = 744 h.
    # Pumps: 3 in service (the retired one is not counted), failures 4 (P-1 ×2, P-2, P-3),
    #   downtime 12 + 6 + 4 = 22 h over 3 timed repairs.
    #   MTTR = 22 / 3 = 7.33 h;  MTBF = (3 × 744 − 22) / 4 = 2210 / 4 = 552.5 h.
    # Compressors: 1, failures 1, downtime 24 h.  MTTR = 24 h;  MTBF = (744 − 24) / 1 = 720 h.
    # All: 4 assets, 5 failures, 46 h over 4 timed repairs.
    #   MTTR = 46 / 4 = 11.5 h;  MTBF = (4 × 744 − 46) / 5 = 2930 / 5 = 586 h.
    assert result.period_hours == MARCH_HOURS
    by_class = {row.asset_class: row for row in result.by_class}
    pumps, compressors = by_class[AssetClass.PUMP], by_class[AssetClass.COMPRESSOR]
    assert (pumps.assets, pumps.failures, pumps.repairs_timed) == (3, 4, 3)
    assert pumps.downtime_hours == pytest.approx(22)
    assert pumps.mttr_hours == pytest.approx(22 / 3)
    assert pumps.mtbf_hours == pytest.approx(552.5)
    assert (compressors.assets, compressors.failures) == (1, 1)
    assert compressors.mttr_hours == pytest.approx(24)
    assert compressors.mtbf_hours == pytest.approx(720)
    assert (result.overall.assets, result.overall.failures, result.overall.repairs_timed) == (4, 5, 4)
    assert result.overall.mttr_hours == pytest.approx(11.5)
    assert result.overall.mtbf_hours == pytest.approx(586)

    # Per asset: P-1 = (744 − 18) / 2 = 363 h between failures, 18 / 2 = 9 h to repair.
    # Ties on failures are broken by downtime: C-1 (24 h), P-2 (4 h), P-3 (none).
    assert [row.tag for row in result.top_assets] == ["P-1", "C-1", "P-2", "P-3"]
    p1 = result.top_assets[0]
    assert (p1.failures, p1.mtbf_hours, p1.mttr_hours) == (2, pytest.approx(363), pytest.approx(9))
    assert result.top_assets[-1].mttr_hours is None
    assert result.top_assets[-1].mtbf_hours == pytest.approx(744)


def test_an_asset_class_without_failures_has_no_mtbf(session: Session, fleet: dict[str, Asset]) -> None:
    result = kpis.reliability(session, MARCH, now=AFTER)

    assert {row.asset_class: row.assets for row in result.by_class} == {AssetClass.PUMP: 3, AssetClass.COMPRESSOR: 1}
    assert all(row.mtbf_hours is None and row.mttr_hours is None for row in result.by_class)
    assert result.top_assets == []


def test_only_ten_assets_are_listed_as_the_most_failing(session: Session, workshop: Workshop) -> None:
    for n in range(12):
        asset = factories.AssetFactory(workshop_id=workshop.id, tag=f"P-{n:02d}")
        for _ in range(1 + n % 3):
            fail(session, raise_order(session, asset, OrderType.CM, plant(2026, 3, 3)))

    top = kpis.reliability(session, MARCH, now=AFTER).top_assets

    assert len(top) == kpis.TOP_ASSETS
    assert [row.failures for row in top] == [3, 3, 3, 3, 2, 2, 2, 2, 1, 1]


# --- 计划对口率 and 检修物资库存率 ---------------------------------------------------------------


def test_material_match_rate_and_stock_rate(session: Session, pump: Asset) -> None:
    order = raise_order(session, pump, OrderType.CM, plant(2026, 3, 1), title="更换机封")
    fail(session, order, FailureMode.ELP)

    def material(planned: str, issued: str, price: str, used: str | None, returned: str = "0") -> None:
        add_line(
            session,
            order,
            CostKind.MATERIAL,
            planned_quantity=Decimal(planned),
            planned_unit_price_cny=Decimal(price),
            quantity=Decimal(issued),
            unit_price_cny=Decimal(price),
            used_quantity=None if used is None else Decimal(used),
            returned_quantity=Decimal(returned),
        )

    material("10", "10", "5", used="8", returned="1")  # L1 matches; 1 left in stock = 5 元 of 50
    material("4", "3", "100", used="3")  # L2 short-issued; nothing left, 300 issued
    material("2", "0", "40", used=None)  # L3 planned, never issued
    material("0", "6", "10", used="2")  # L4 unplanned; 4 left = 40 元 of 60
    material("5", "5", "20", used=None)  # L5 matches; no usage recorded: not in the stock rate
    labour(session, order, "2")
    finish(session, order, plant(2026, 3, 5))
    # An order finished in April is outside March.
    april = raise_order(session, pump, OrderType.PM, plant(2026, 3, 30))
    add_line(session, april, CostKind.MATERIAL, planned_quantity=Decimal("1"), quantity=Decimal("2"))
    finish(session, april, plant(2026, 4, 2))

    result = kpis.material_kpis(session, MARCH)

    # 计划对口率 = lines issued as planned (L1, L5) ÷ planned lines (L1, L2, L3, L5) = 2 / 4 = 50 %.
    assert (result.matching_lines, result.planned_lines) == (2, 4)
    assert result.match_rate == pytest.approx(0.5)
    # 库存率 = (1 × 5 + 0 × 100 + 4 × 10) ÷ (10 × 5 + 3 × 100 + 6 × 10) = 45 / 410 = 10.98 %.
    assert result.left_in_stock_cny == Decimal("45.00")
    assert result.issued_value_cny == Decimal("410.00")
    assert result.stock_rate == pytest.approx(45 / 410)


def test_materials_of_open_orders_are_not_counted_yet(session: Session, pump: Asset) -> None:
    order = raise_order(session, pump, OrderType.PM, plant(2026, 3, 1))
    add_line(session, order, CostKind.MATERIAL, planned_quantity=Decimal("1"), quantity=Decimal("1"))

    result = kpis.material_kpis(session, MARCH)

    assert (result.planned_lines, result.match_rate, result.stock_rate) == (0, None, None)


# --- In-house vs outsourced, savings ------------------------------------------------------


def test_in_house_share_and_savings(session: Session, pump: Asset) -> None:
    order = raise_order(session, pump, OrderType.CM, plant(2026, 3, 3))
    labour(session, order, "10", "50")  # in-house labour 500
    labour(session, order, "4", "100", provider=Provider.CONTRACTOR)  # contractor labour 400
    add_line(
        session,
        order,
        CostKind.SERVICE,
        quantity=Decimal("1"),
        unit_price_cny=Decimal("1000"),
        provider=Provider.CONTRACTOR,
    )
    add_line(session, order, CostKind.SERVICE, quantity=Decimal("1"), unit_price_cny=Decimal("100"))  # in-house
    # 修旧利废: 2 repaired parts at 300 instead of 1,000 new → (1000 − 300) × 2 = 1,400 saved.
    add_line(
        session,
        order,
        CostKind.REFURBISHED,
        quantity=Decimal("2"),
        unit_price_cny=Decimal("300"),
        reference_price_cny=Decimal("1000"),
    )
    # 国产化: 3 domestic bearings at 200 instead of 500 imported → (500 − 200) × 3 = 900 saved.
    add_line(
        session,
        order,
        CostKind.LOCALISED,
        quantity=Decimal("3"),
        unit_price_cny=Decimal("200"),
        reference_price_cny=Decimal("500"),
    )
    add_line(session, order, CostKind.MATERIAL, quantity=Decimal("1"), unit_price_cny=Decimal("9999"))  # not counted

    result = kpis.cost_split(session, MARCH)

    # In-house 500 + 100 = 600; outsourced 400 + 1,000 = 1,400; share 600 / 2,000 = 30 %.
    assert result.in_house_cny == Decimal("600.00")
    assert result.outsourced_cny == Decimal("1400.00")
    assert result.in_house_share == pytest.approx(0.3)
    assert result.by_kind[(CostKind.SERVICE, Provider.CONTRACTOR)] == Decimal("1000.00")
    assert (result.refurbished_saving_cny, result.localised_saving_cny) == (Decimal("1400.00"), Decimal("900.00"))
    assert result.savings_cny == Decimal("2300.00")


# --- Charts -------------------------------------------------------------------------------


def test_the_mix_chart_has_one_coloured_series_per_order_type(session: Session, pump: Asset) -> None:
    labour(session, raise_order(session, pump, OrderType.CBM, plant(2026, 2, 1)), "3")
    mix = kpis.order_mix(session, Period.for_year(2026))

    option = charts.order_mix_option(mix, "hours")

    assert [s["name"] for s in option["series"]] == [t.label for t in OrderType]
    assert {s["itemStyle"]["color"] for s in option["series"]} >= {"#0d6efd", "#198754", "#dc3545"}
    cbm = next(s for s in option["series"] if s["name"] == OrderType.CBM.label)
    assert cbm["data"][1] == 3.0
    assert cbm["stack"] == "mix"
    json.dumps(option)  # serialisable as the page's data block


# --- The page -----------------------------------------------------------------------------


def _populate(session: Session, pump: Asset, n: int) -> None:
    for i in range(n):
        order_type = list(OrderType)[i % len(OrderType)]
        order = raise_order(session, pump, order_type, plant(2026, 1 + i % 10, 1 + i % 27), due_date=date(2026, 3, 9))
        labour(session, order, "2", provider=Provider.CONTRACTOR if i % 2 else Provider.IN_HOUSE)
        add_line(
            session,
            order,
            CostKind.MATERIAL,
            planned_quantity=Decimal("2"),
            quantity=Decimal("2"),
            used_quantity=Decimal("1"),
        )
        if order_type in (OrderType.CM, OrderType.CBM):
            fail(session, order, FailureMode.VIB, plant(2026, 3, 9), plant(2026, 3, 9, 5))
        if i % 3 == 0:
            finish(session, order, plant(2026, 3, 10))


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ENGINEER, Role.MANAGER])
def test_every_role_sees_the_kpi_page_with_its_formulas(
    client: TestClient, session: Session, pump: Asset, role: Role
) -> None:
    _populate(session, pump, 6)
    login(client, factories.UserFactory(role=role))

    page = client.get("/orders/kpis?year=2026")

    assert page.status_code == 200
    for tile in (
        "pm-compliance",
        "planned-share",
        "backlog",
        "mtbf",
        "match-rate",
        "stock-rate",
        "in-house",
        "savings",
    ):
        assert f'id="tile-{tile}"' in page.text
    assert page.text.count("kpi-formula") >= 8
    assert "/static/vendor/echarts/echarts.min.js" in page.text
    assert "/static/charts.js" in page.text


@pytest.mark.parametrize(
    ("today", "offered"),
    [
        (date(2026, 12, 31), ["2026", "2025", "2024", "2023", "2022", "2021"]),
        (date(2027, 1, 1), ["2027", "2026", "2025", "2024", "2023", "2022"]),
    ],
)
def test_the_year_picker_offers_the_plant_year_and_earlier_never_a_year_to_come(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, today: date, offered: list[str]
) -> None:
    monkeypatch.setattr(kpi_routes, "plant_today", lambda: today)  # the plant's clock on that day
    login(client, factories.UserFactory(role=Role.MANAGER))

    page = client.get("/orders/kpis").text

    picker = page[page.index('name="year"') :].split("</select>")[0]
    assert re.findall(r'<option value="(\d+)"', picker) == offered
    assert f'<option value="{offered[0]}" selected>' in picker


def test_charts_travel_as_json_in_templates_never_as_inline_script(
    client: TestClient, session: Session, pump: Asset
) -> None:
    _populate(session, pump, 6)
    login(client, factories.UserFactory(role=Role.AUDITOR))

    text = client.get("/orders/kpis?year=2026").text

    scripts = re.findall(r"<script([^>]*)>", text)
    assert all("src=" in attrs for attrs in scripts)
    chart_ids = re.findall(r'data-chart="([^"]+)"', text)
    assert set(chart_ids) >= {"kpi-mix-count", "kpi-mix-hours", "kpi-mix-cost", "kpi-backlog", "kpi-provider"}
    for chart_id in chart_ids:
        block = re.search(rf'<template id="{chart_id}" data-chart-option>(.*?)</template>', text, re.S)
        assert block, chart_id
        assert "series" in json.loads(block.group(1))
    assert " style=" not in text
    assert " onclick=" not in text


def test_the_htmx_filter_gets_the_results_block_only(client: TestClient, session: Session, pump: Asset) -> None:
    login(client, factories.UserFactory(role=Role.AUDITOR))

    fragment = client.get(f"/orders/kpis?year=2026&workshop_id={pump.workshop_id}", headers={"HX-Request": "true"})

    assert fragment.status_code == 200
    assert 'id="tile-pm-compliance"' in fragment.text
    # htmx drops <script> elements from swapped content: the charts' data must not be in one.
    assert '<template id="kpi-mix-count" data-chart-option>' in fragment.text
    assert "<script" not in fragment.text
    assert "<html" not in fragment.text
    assert 'id="kpi-filters"' not in fragment.text


def test_bad_filter_values_fall_back_instead_of_failing(client: TestClient, session: Session) -> None:
    login(client, factories.UserFactory(role=Role.AUDITOR))

    page = client.get("/orders/kpis?year=abc&workshop_id=x")
    assert page.status_code == 200
    assert 'id="kpi-note"' not in page.text


@pytest.mark.parametrize(
    "dates",
    ["start_date=2026-05-01&end_date=2026-04-01", "start_date=2026-05-01", "start_date=2000-01-01&end_date=2026-01-01"],
)
def test_an_unusable_date_range_shows_the_year_with_a_note(client: TestClient, session: Session, dates: str) -> None:
    login(client, factories.UserFactory(role=Role.AUDITOR))

    page = client.get(f"/orders/kpis?year=2025&{dates}")

    assert page.status_code == 200
    assert 'id="kpi-note"' in page.text
    mix = json.loads(re.search(r'id="kpi-mix-count" data-chart-option>(.*?)</template>', page.text, re.S).group(1))  # type: ignore[union-attr]
    assert mix["xAxis"]["data"][0] == "2025-01"
    assert len(mix["xAxis"]["data"]) == 12


def test_a_date_range_narrows_the_period(client: TestClient, session: Session, pump: Asset) -> None:
    raise_order(session, pump, OrderType.CM, plant(2026, 3, 15))
    raise_order(session, pump, OrderType.CM, plant(2026, 5, 15))
    login(client, factories.UserFactory(role=Role.AUDITOR))

    page = client.get("/orders/kpis?start_date=2026-03-01&end_date=2026-03-31")

    assert page.status_code == 200
    mix = json.loads(re.search(r'id="kpi-mix-count" data-chart-option>(.*?)</template>', page.text, re.S).group(1))  # type: ignore[union-attr]
    assert mix["xAxis"]["data"] == ["2026-03"]
    cm = next(s for s in mix["series"] if s["name"] == OrderType.CM.label)
    assert cm["data"] == [1]


def test_the_page_runs_a_fixed_number_of_queries_whatever_the_number_of_orders(
    client: TestClient, session: Session, pump: Asset, count_queries: list[str]
) -> None:
    login(client, factories.UserFactory(role=Role.AUDITOR))

    def queries_with(n: int) -> int:
        _populate(session, pump, n)
        session.flush()
        session.expire_all()  # as in a fresh request: the user is read again
        count_queries.clear()
        assert client.get("/orders/kpis?year=2026").status_code == 200
        return len(count_queries)

    few = queries_with(2)
    many = queries_with(28)
    assert few == many
    assert few <= 12  # the user, the workshops, eight KPI queries, the repair cost (orders, journal)
