"""Inspection routes and rounds: periods in plant time, idempotent round generation, entries that
are never doubled by a retried submit, readings judged by the same ingest (an alarm joins or raises
the point's CBM order), failed checks that raise a corrective order, finishing with missed stops,
and the completion KPI that counts periods nobody started.

Fixtures ``workshop``, ``asset`` and ``make_point`` come from tests/inspections/conftest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit.models import ObjectChange
from maintenance.exceptions import Conflict, PermissionDenied, ValidationFailed
from maintenance.inspections import rounds
from maintenance.inspections.choices import RoundState, RouteFrequency
from maintenance.inspections.models import (
    InspectionRound,
    InspectionRoute,
    RoundEntry,
    RouteCreate,
    RouteStop,
    StopFields,
)
from maintenance.inspections.round_periods import GRACE, period_of, periods_between
from maintenance.monitoring.choices import ConditionState, ReadingSource
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint, Reading
from maintenance.orders.choices import ChecklistResult, OrderType
from maintenance.orders.models import WorkOrder
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.monitoring.conftest import SYSTEM

SHANGHAI = timedelta(hours=8)


def plant(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A plant-local (Asia/Shanghai, UTC+8) wall time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - SHANGHAI


@pytest.fixture
def route(session: Session, workshop: Workshop) -> InspectionRoute:
    return rounds.create_route(
        session,
        RouteCreate(code="RT-P1", name="机泵日常点检", workshop_id=workshop.id, frequency=RouteFrequency.SHIFT),  # type: ignore[arg-type]
        actor=SYSTEM,
    )


NOW = plant(2026, 3, 10, 9, 30)


@pytest.fixture
def current(session: Session, route: InspectionRoute, stops: list[RouteStop]) -> InspectionRound:
    return rounds.ensure_round(session, route, actor=SYSTEM, now=NOW)


class TestPeriods:
    def test_shifts_are_cut_at_midnight_eight_and_sixteen_plant_time(self) -> None:
        assert period_of(RouteFrequency.SHIFT, plant(2026, 3, 10, 7, 59)) == (
            plant(2026, 3, 10, 0),
            plant(2026, 3, 10, 8),
        )
        assert period_of(RouteFrequency.SHIFT, plant(2026, 3, 10, 8)) == (plant(2026, 3, 10, 8), plant(2026, 3, 10, 16))
        assert period_of(RouteFrequency.SHIFT, plant(2026, 3, 10, 23)) == (
            plant(2026, 3, 10, 16),
            plant(2026, 3, 11, 0),
        )

    def test_a_day_is_the_plant_calendar_day_and_a_week_starts_on_monday(self) -> None:
        assert period_of(RouteFrequency.DAY, plant(2026, 3, 10, 23, 59)) == (plant(2026, 3, 10), plant(2026, 3, 11))
        # 2026-03-12 is a Thursday; its week runs from Monday 9 March.
        assert period_of(RouteFrequency.WEEK, plant(2026, 3, 12, 12)) == (plant(2026, 3, 9), plant(2026, 3, 16))

    def test_periods_between_lists_every_period_touched(self) -> None:
        periods = periods_between(RouteFrequency.SHIFT, plant(2026, 3, 10, 7), plant(2026, 3, 10, 17))
        assert [start for start, _end in periods] == [
            plant(2026, 3, 10, 0),
            plant(2026, 3, 10, 8),
            plant(2026, 3, 10, 16),
        ]


class TestRoutesAndStops:
    def test_a_route_code_is_unique(self, session: Session, route: InspectionRoute, workshop: Workshop) -> None:
        with pytest.raises(ValidationFailed) as error:
            rounds.create_route(
                session,
                RouteCreate(code="RT-P1", name="x", workshop_id=workshop.id),
                actor=SYSTEM,  # type: ignore[arg-type]
            )
        assert error.value.errors[0].field == "code"

    def test_a_stop_reads_a_point_or_asks_a_check_not_both(self) -> None:
        with pytest.raises(ValueError, match="not both or neither"):
            StopFields(point_id=1, check_text="机封无泄漏")
        with pytest.raises(ValueError, match="not both or neither"):
            StopFields(asset_id=1)

    def test_a_point_is_on_a_route_once_and_only_from_its_workshop(
        self, session: Session, route: InspectionRoute, stops: list[RouteStop], point: MeasurementPoint
    ) -> None:
        with pytest.raises(ValidationFailed) as error:
            rounds.add_stop(session, route, StopFields(point_id=point.id), actor=SYSTEM)
        assert error.value.errors[0].field == "point_id"
        assert point.code in error.value.errors[0].message
        elsewhere = factories.AssetFactory(workshop_id=factories.WorkshopFactory().id)
        with pytest.raises(ValidationFailed) as error:
            rounds.add_stop(session, route, StopFields(asset_id=elsewhere.id, check_text="地脚螺栓"), actor=SYSTEM)
        assert error.value.errors[0].field == "asset_id"

    def test_stops_keep_their_walking_order_and_move_by_swapping(
        self, session: Session, route: InspectionRoute, stops: list[RouteStop]
    ) -> None:
        rounds.move_stop(session, route, stops[1], -1, actor=SYSTEM)
        assert [stop.id for stop in rounds.stops_of(session, route)] == [stops[1].id, stops[0].id]
        rounds.move_stop(session, route, stops[1], -1, actor=SYSTEM)  # already first: nothing moves
        assert [stop.id for stop in rounds.stops_of(session, route)] == [stops[1].id, stops[0].id]

    def test_a_walked_stop_is_retired_not_deleted(
        self,
        session: Session,
        route: InspectionRoute,
        stops: list[RouteStop],
        current: InspectionRound,
        workshop_engineer: User,
    ) -> None:
        rounds.record_entry(session, current, stops[1], result=ChecklistResult.OK, actor=workshop_engineer, now=NOW)
        rounds.remove_stop(session, route, stops[1], actor=SYSTEM)
        rounds.remove_stop(session, route, stops[0], actor=SYSTEM)
        assert session.get(RouteStop, stops[0].id) is None
        assert session.get(RouteStop, stops[1].id).is_active is False  # type: ignore[union-attr]
        assert [stop.id for stop in rounds.stops_of_round(session, current)] == [stops[1].id]

    def test_engineers_change_routes_of_their_own_workshops_only(
        self, session: Session, route: InspectionRoute, asset: Asset
    ) -> None:
        outsider = factories.UserFactory(role=Role.ENGINEER)
        with pytest.raises(PermissionDenied):
            rounds.add_stop(session, route, StopFields(asset_id=asset.id, check_text="油位正常"), actor=outsider)


class TestRoundGeneration:
    def test_the_scheduler_makes_the_current_round_once(
        self, session: Session, route: InspectionRoute, stops: list[RouteStop]
    ) -> None:
        first = rounds.generate_rounds(session, NOW)
        again = rounds.generate_rounds(session, NOW + timedelta(hours=1))
        assert (first.rounds_created, again.rounds_created) == (1, 0)
        made = session.scalars(select(InspectionRound).where(col(InspectionRound.route_id) == route.id)).all()
        assert len(made) == 1
        assert (made[0].period_start, made[0].period_end) == (plant(2026, 3, 10, 8), plant(2026, 3, 10, 16))
        assert made[0].stops_due == 2

    def test_starting_on_a_phone_opens_the_round_the_scheduler_made(
        self, session: Session, route: InspectionRoute, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        rounds.generate_rounds(session, NOW)
        started = rounds.ensure_round(session, route, actor=workshop_engineer, now=NOW + timedelta(minutes=5))
        assert session.scalar(select(func.count()).select_from(InspectionRound)) == 1
        assert started.period_start == plant(2026, 3, 10, 8)

    def test_routes_without_stops_or_inactive_get_no_rounds(self, session: Session, route: InspectionRoute) -> None:
        assert rounds.generate_rounds(session, NOW).rounds_created == 0
        with pytest.raises(Conflict, match="RT-P1"):
            rounds.ensure_round(session, route, actor=SYSTEM, now=NOW)


class TestEntries:
    def test_a_value_becomes_a_round_reading_judged_against_the_limits(
        self,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        point: MeasurementPoint,
        workshop_engineer: User,
    ) -> None:
        entry, created = rounds.record_entry(session, current, stops[0], value=5.0, actor=workshop_engineer, now=NOW)
        assert created
        reading = session.get(Reading, (point.id, entry.taken_at))
        assert reading is not None
        assert (reading.value, reading.state, reading.source) == (5.0, ConditionState.WARNING, ReadingSource.ROUND)
        assert entry.state == ConditionState.WARNING
        session.refresh(current)
        assert (current.state, current.stops_done, current.started_by_id) == (
            RoundState.IN_PROGRESS,
            1,
            workshop_engineer.id,
        )

    def test_a_retried_submit_is_neither_lost_nor_doubled(
        self,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        point: MeasurementPoint,
        workshop_engineer: User,
    ) -> None:
        first, _ = rounds.record_entry(session, current, stops[0], value=3.1, actor=workshop_engineer, now=NOW)
        retry, created = rounds.record_entry(
            session, current, stops[0], value=3.1, actor=workshop_engineer, now=NOW + timedelta(seconds=40)
        )
        assert not created
        assert retry.id == first.id
        assert session.scalar(select(func.count()).where(col(Reading.point_id) == point.id)) == 1
        session.refresh(current)
        assert current.stops_done == 1

    def test_an_alarm_value_raises_one_cbm_order_linked_to_the_entry(
        self,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        point: MeasurementPoint,
        workshop_engineer: User,
    ) -> None:
        entry, _ = rounds.record_entry(session, current, stops[0], value=9.3, actor=workshop_engineer, now=NOW)
        assert entry.state == ConditionState.ALARM
        alert = session.scalar(select(ConditionAlert).where(col(ConditionAlert.point_id) == point.id))
        assert alert is not None
        assert entry.order_id == alert.order_id
        order = session.get(WorkOrder, entry.order_id)
        assert order is not None
        assert order.order_type == OrderType.CBM
        assert alert.trigger_taken_at == entry.taken_at

    def test_a_value_outside_the_physical_range_is_refused_and_nothing_is_written(
        self, session: Session, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        with pytest.raises(ValidationFailed) as error:
            rounds.record_entry(session, current, stops[0], value=-3.0, actor=workshop_engineer, now=NOW)
        assert error.value.errors[0].field == "value"
        assert session.scalar(select(func.count()).select_from(RoundEntry)) == 0
        session.refresh(current)
        assert current.stops_done == 0

    def test_a_failed_check_needs_a_note_and_raises_a_corrective_order(
        self, session: Session, current: InspectionRound, stops: list[RouteStop], asset: Asset, workshop_engineer: User
    ) -> None:
        with pytest.raises(ValidationFailed) as error:
            rounds.record_entry(
                session, current, stops[1], result=ChecklistResult.NOT_OK, actor=workshop_engineer, now=NOW
            )
        assert error.value.errors[0].field == "note"
        entry, _ = rounds.record_entry(
            session,
            current,
            stops[1],
            result=ChecklistResult.NOT_OK,
            note="机封滴漏 5 滴/分",
            actor=workshop_engineer,
            now=NOW,
        )
        order = session.get(WorkOrder, entry.order_id)
        assert order is not None
        assert (order.order_type, order.asset_id, order.description) == (OrderType.CM, asset.id, "机封滴漏 5 滴/分")
        assert "机封无泄漏" in order.title

    def test_no_entries_after_the_period_and_its_grace(
        self, session: Session, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        late = current.period_end + GRACE
        with pytest.raises(Conflict, match=r"missed|漏检"):
            rounds.record_entry(
                session, current, stops[1], result=ChecklistResult.OK, actor=workshop_engineer, now=late
            )
        assert rounds.is_missed(current, late)
        assert not rounds.is_missed(current, late - timedelta(minutes=1))

    def test_auditors_and_other_workshops_cannot_enter(
        self, session: Session, current: InspectionRound, stops: list[RouteStop]
    ) -> None:
        for user in (factories.UserFactory(role=Role.AUDITOR), factories.UserFactory(role=Role.ENGINEER)):
            with pytest.raises(PermissionDenied):
                rounds.record_entry(session, current, stops[1], result=ChecklistResult.OK, actor=user, now=NOW)

    def test_every_entry_is_in_the_change_log(
        self, session: Session, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        entry, _ = rounds.record_entry(
            session, current, stops[1], result=ChecklistResult.OK, actor=workshop_engineer, now=NOW
        )
        logged = session.scalars(
            select(ObjectChange).where(
                col(ObjectChange.object_type) == "round_entry", col(ObjectChange.object_id) == str(entry.id)
            )
        ).all()
        assert [change.action for change in logged] == ["create"]


class TestFinishing:
    def test_finishing_lists_the_stops_not_walked(
        self, session: Session, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        rounds.record_entry(session, current, stops[0], value=2.0, actor=workshop_engineer, now=NOW)
        missed = rounds.finish_round(session, current, actor=workshop_engineer, now=NOW)
        assert [stop.id for stop in missed] == [stops[1].id]
        assert current.state == RoundState.COMPLETED
        assert current.finished_by_id == workshop_engineer.id
        # A second tap changes nothing; nothing more can be entered.
        assert rounds.finish_round(session, current, actor=workshop_engineer, now=NOW) == missed
        with pytest.raises(Conflict):
            rounds.record_entry(session, current, stops[1], result=ChecklistResult.OK, actor=workshop_engineer, now=NOW)

    def test_an_empty_round_cannot_be_finished(
        self, session: Session, current: InspectionRound, workshop_engineer: User
    ) -> None:
        with pytest.raises(ValidationFailed):
            rounds.finish_round(session, current, actor=workshop_engineer, now=NOW)


class TestCompletion:
    def test_periods_nobody_started_count_as_due(
        self, session: Session, route: InspectionRoute, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        """A daily route over three ended days: day 1 finished with both stops, day 2 finished
        with one, day 3 never started. Rounds 2/3; stops (2 + 1 + 0) / (2 + 2 + 2) = 1/2."""
        route.frequency = RouteFrequency.DAY
        route.created_at = plant(2026, 3, 1)
        session.flush()
        now = plant(2026, 3, 4, 3)  # day 3 (3 March) ended at midnight, grace over at 02:00
        for day, walked in ((1, stops), (2, stops[:1])):
            found = rounds.ensure_round(session, route, actor=SYSTEM, now=plant(2026, 3, day, 9))
            for stop in walked:
                value = {"value": 2.0} if stop.point_id else {"result": ChecklistResult.OK}
                rounds.record_entry(session, found, stop, actor=workshop_engineer, now=plant(2026, 3, day, 9), **value)  # type: ignore[arg-type]
            rounds.finish_round(session, found, actor=workshop_engineer, now=plant(2026, 3, day, 10))
        completion = rounds.completion_by_route(session, [route], days=3, now=now)[route.id]  # type: ignore[index]
        assert (completion.rounds_due, completion.rounds_completed) == (3, 2)
        assert (completion.stops_due, completion.stops_done) == (6, 3)
        assert completion.round_rate == pytest.approx(2 / 3)
        assert completion.stop_rate == pytest.approx(0.5)
