"""The operating log's figures as the scorecard reads them: values, targets, links, and a plain
word when there is nothing to measure."""

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.assets.choices import AssetStatus
from maintenance.org.models import Unit, Workshop
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.models import ScorecardTarget
from maintenance.scorecard.operating.figures import (
    continuous_run,
    continuous_run_by_workshop,
    intactness,
    intactness_by_workshop,
    load_rate,
    load_rate_by_workshop,
)
from maintenance.scorecard.targets import targets_of_year
from tests import factories
from tests.scorecard.operating.conftest import LogRow, MakeAsset, MakeCm, plant

FEB_15 = ScorecardScope(2026, date(2026, 2, 15))


def test_continuous_run_and_load_over_the_months_reported_up_to_the_day(
    session: Session, unit: Unit, other_unit: Unit, log_row: LogRow
) -> None:
    log_row(unit, 1, "744", "744", "100")
    log_row(unit, 2, "336", "672", "80")
    log_row(other_unit, 2, "672", "672", "50")
    log_row(unit, 3, "0", "744", "0")  # March is after the day asked: not counted
    log_row(unit, 12, "0", "744", "0", year=2025)  # another year

    targets = targets_of_year(session, 2026)
    run = continuous_run(session, FEB_15, targets)
    load = load_rate(session, FEB_15, targets)

    # (744 + 336 + 672) / (744 + 672 + 672) = 1752 / 2088
    assert run.value == Decimal("0.8391")
    assert run.target == Decimal("0.95")
    assert run.indicator is Indicator.CONTINUOUS_RUN
    assert run.link == "/scorecard/operating?year=2026&as_of=2026-02-15"
    # (100 × 744 + 80 × 336 + 50 × 672) / 1752 / 100 = 134880 / 175200
    assert load.value == Decimal("0.7699")
    assert load.target == Decimal("0.90")


def test_one_workshops_figures_read_its_units_only(
    session: Session, unit: Unit, other_unit: Unit, other_workshop: Workshop, log_row: LogRow
) -> None:
    log_row(unit, 1, "744", "744", "100")
    log_row(other_unit, 1, "372", "744", "60")
    scope = ScorecardScope(2026, date(2026, 1, 31), workshop_id=other_workshop.id)

    figure = continuous_run(session, scope, targets_of_year(session, 2026))

    assert figure.value == Decimal("0.5000")
    assert figure.link.endswith(f"&workshop_id={other_workshop.id}")
    assert load_rate(session, scope, {}).value == Decimal("0.6000")


def test_no_log_yet_is_said_plainly_not_shown_as_zero(session: Session, unit: Unit, log_row: LogRow) -> None:
    log_row(unit, 3, "744", "744", "100")  # only March: nothing up to 15 February

    run = continuous_run(session, FEB_15, targets_of_year(session, 2026))
    load = load_rate(session, FEB_15, {})

    assert run.value is None
    assert load.value is None
    assert run.detail == load.detail
    assert "2026" in run.detail


def test_a_past_year_counts_all_its_months(session: Session, unit: Unit, log_row: LogRow) -> None:
    log_row(unit, 12, "372", "744", "100", year=2025)

    figure = continuous_run(session, ScorecardScope(2025, date(2026, 2, 1)), {})

    assert figure.value == Decimal("0.5000")
    assert figure.target is None


def test_intactness_against_the_target_a_manager_set(
    session: Session, workshop: Workshop, make_asset: MakeAsset, make_cm: MakeCm
) -> None:
    session.add(ScorecardTarget(year=2026, indicator=Indicator.INTACTNESS, value=Decimal("0.97")))
    for _ in range(3):
        make_asset(workshop)
    failed = make_asset(workshop, AssetStatus.UNDER_REPAIR)
    make_cm(failed, raised=plant(2026, 2, 10))

    figure = intactness(session, FEB_15, targets_of_year(session, 2026))

    assert figure.value == Decimal("0.7500")  # 3 intact of 4 in service
    assert figure.target == Decimal("0.97")
    assert "3" in figure.detail
    assert "4" in figure.detail


def test_intactness_without_assets_in_service_is_no_number(session: Session, workshop: Workshop) -> None:
    figure = intactness(session, ScorecardScope(2026, date(2026, 2, 15), workshop.id), {})

    assert figure.value is None
    assert figure.detail


# --- Every workshop at once (the monthly assessment) -------------------------------------------


def test_each_workshops_continuous_run_and_load_at_once(
    session: Session,
    unit: Unit,
    second_unit: Unit,
    other_unit: Unit,
    workshop: Workshop,
    other_workshop: Workshop,
    log_row: LogRow,
) -> None:
    empty = factories.WorkshopFactory(code="ZZZ")
    log_row(unit, 1, "744", "744", "100")
    log_row(second_unit, 2, "336", "672", "80")
    log_row(unit, 3, "0", "744", "0")  # after the day asked
    log_row(other_unit, 1, "372", "744", "60")
    ids: list[int] = [workshop.id, other_workshop.id, empty.id]  # type: ignore[list-item]

    run = continuous_run_by_workshop(session, FEB_15, ids, {})
    load = load_rate_by_workshop(session, FEB_15, ids, {})

    # The workshop's two units: (744 + 336) / (744 + 672) = 1080 / 1416 = 0.76271…;
    # load (100 × 744 + 80 × 336) / 1080 / 100 = 101280 / 108000 = 0.93777…
    # the other's one unit: 372 / 744; load 60 %; the empty workshop has no log.
    assert [run[w].value for w in ids] == [Decimal("0.7627"), Decimal("0.5000"), None]
    assert [load[w].value for w in ids] == [Decimal("0.9378"), Decimal("0.6000"), None]
    assert run[ids[1]].link.endswith(f"&workshop_id={other_workshop.id}")


def test_each_workshops_intactness_at_once(
    session: Session, workshop: Workshop, other_workshop: Workshop, make_asset: MakeAsset, make_cm: MakeCm
) -> None:
    empty = factories.WorkshopFactory(code="ZZZ")
    for _ in range(3):
        make_asset(workshop)
    failed = make_asset(workshop, AssetStatus.UNDER_REPAIR)
    make_cm(failed, raised=plant(2026, 2, 10))
    make_asset(other_workshop)
    make_asset(other_workshop, AssetStatus.IDLE)  # not in service
    ids: list[int] = [workshop.id, other_workshop.id, empty.id]  # type: ignore[list-item]

    figures = intactness_by_workshop(session, FEB_15, ids, {})

    # 3 intact of 4 in service; 1 of 1; none in service
    assert [figures[w].value for w in ids] == [Decimal("0.7500"), Decimal("1.0000"), None]
