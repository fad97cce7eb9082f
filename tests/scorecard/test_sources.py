"""The figures the scorecard reads from the domains already built, on a small plant on
31 March 2026 (90 days of the year gone, 275 left), each worked out by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from maintenance.assets.choices import SpecialCategory
from maintenance.assets.models import Asset
from maintenance.leakfree import rules as leakfree_rules
from maintenance.leakfree.choices import CertificationState
from maintenance.leakfree.models import Certification
from maintenance.orders import service as orders
from maintenance.orders.choices import CostCategory, CostKind, OrderType
from maintenance.orders.models import CostLineCreate, TurnaroundCreate
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.org.models import Workshop
from maintenance.scorecard import assessment_rules, sources
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.indicators import DEFAULT_TARGETS, Indicator
from maintenance.scorecard.states import State, judge
from tests import factories
from tests.budget.conftest import SYSTEM, MakeOrder, plant
from tests.special.conftest import apply, inspection_type, make_item, report  # noqa: F401
from tests.special.lists_plant import Plant, plant_fixture  # noqa: F401

END_OF_MARCH = ScorecardScope(2026, date(2026, 3, 31))
TARGETS = DEFAULT_TARGETS
# A material line issued beyond its plan: 5 gaskets where 4 were planned.
OVER_ISSUED = {
    "kind": CostKind.MATERIAL,
    "description": "垫片",
    "planned_quantity": Decimal(4),
    "planned_unit_price_cny": Decimal(10),
    "quantity": Decimal(5),
    "unit_price_cny": Decimal(10),
}


def test_repair_cost_is_the_budget_forecast_against_the_year_target(
    session: Session, pump: Asset, workshop: Workshop, make_order: MakeOrder, allocate: Callable[..., object]
) -> None:
    allocate(workshop, CostCategory.MATERIALS, 3, "10000.00")
    make_order(pump, lines=[(CostKind.MATERIAL, "8000", "9000.00")], finished=plant(2026, 3, 10))
    make_order(
        pump, lines=[(CostKind.LABOUR, "800", "0")], approved=plant(2026, 3, 5), planned_finish_date=date(2026, 4, 15)
    )

    figure = sources.repair_cost(session, END_OF_MARCH, TARGETS)

    # 9,000.00 actual + 800.00 committed + 9,000.00 ÷ 90 days × 275 days left (27,500.00)
    assert figure.value == Decimal("37300.00")
    assert figure.target == Decimal("15600000.00")
    assert figure.link == "/budget?year=2026&as_of=2026-03-31"
    assert judge(figure) is State.GREEN


def test_repair_cost_of_a_workshop_is_judged_against_its_year_plan(
    session: Session, pump: Asset, workshop: Workshop, make_order: MakeOrder, allocate: Callable[..., object]
) -> None:
    allocate(workshop, CostCategory.MATERIALS, 3, "30000.00")
    make_order(pump, lines=[(CostKind.MATERIAL, "8000", "9000.00")], finished=plant(2026, 3, 10))

    figure = sources.repair_cost(session, ScorecardScope(2026, date(2026, 3, 31), workshop.id), TARGETS)

    # 9,000.00 + 27,500.00 = 36,500.00 against the workshop's 30,000.00: 21.7 % over, red.
    assert (figure.value, figure.target) == (Decimal("36500.00"), Decimal("30000.00"))
    assert judge(figure) is State.RED


def test_condition_based_share_counts_the_orders_raised_in_the_year_to_date(
    session: Session, pump: Asset, other_pump: Asset, make_order: MakeOrder
) -> None:
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 2, 1))
    for day in (3, 10, 20):
        make_order(other_pump, lines=[], order_type=OrderType.PM, raised=plant(2026, 3, day))
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 4, 2))  # after the day asked
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2025, 12, 30))  # last year

    figure = sources.cbm_share(session, END_OF_MARCH, TARGETS)

    assert figure.value == Decimal("0.25")  # 1 of 4
    assert figure.target == Decimal("0.30")
    assert judge(figure) is State.AMBER  # 5 points under: the band's edge


def test_condition_based_share_without_orders_is_no_data_not_zero(session: Session) -> None:
    figure = sources.cbm_share(session, END_OF_MARCH, TARGETS)
    assert figure.value is None
    assert judge(figure) is State.NO_DATA


def test_pm_compliance_counts_pm_orders_due_in_the_year_to_date(
    session: Session, pump: Asset, make_order: MakeOrder
) -> None:
    make_order(pump, lines=[], due_date=date(2026, 3, 10), finished=plant(2026, 3, 9))  # on time
    make_order(pump, lines=[], due_date=date(2026, 3, 20), finished=plant(2026, 3, 25))  # late
    make_order(pump, lines=[], due_date=date(2026, 3, 28))  # open past its due date
    make_order(pump, lines=[], due_date=date(2026, 3, 1), finished=plant(2026, 3, 1))  # on the day
    make_order(pump, lines=[], due_date=date(2026, 4, 10))  # not due yet

    figure = sources.pm_compliance(session, END_OF_MARCH, TARGETS)

    assert figure.value == Decimal("0.5")  # 2 of 4
    assert judge(figure) is State.RED


def test_material_match_counts_lines_issued_as_planned(session: Session, pump: Asset, make_order: MakeOrder) -> None:
    order = make_order(pump, lines=[(CostKind.MATERIAL, "100", "100"), (CostKind.MATERIAL, "50", "50")])
    orders.add_cost_line(session, order, CostLineCreate.model_validate(OVER_ISSUED), actor=SYSTEM)
    orders.perform(session, order, "approve", actor=SYSTEM, at=plant(2026, 3, 2))
    orders.perform(session, order, "start", actor=SYSTEM, at=plant(2026, 3, 2))
    orders.perform(session, order, "complete", actor=SYSTEM, at=plant(2026, 3, 3))

    figure = sources.material_match(session, END_OF_MARCH, TARGETS)

    assert figure.value == Decimal(2) / Decimal(3)  # 2 of 3 lines issued as planned
    assert judge(figure) is State.RED  # 66.7 % against 90 %


def test_turnaround_is_its_actual_cost_against_its_budget_with_progress(
    session: Session, pump: Asset, workshop: Workshop, make_order: MakeOrder, english: None
) -> None:
    event = turnarounds.create_turnaround(
        session,
        TurnaroundCreate(
            code="TA2026",
            name="2026年大修",
            start_date=date(2026, 4, 1),
            end_date=date(2026, 4, 30),
            budget_cny=Decimal("100000.00"),
            site_id=workshop.site_id,
        ),
        actor=SYSTEM,
    )
    done = make_order(pump, lines=[(CostKind.SERVICE, "60000", "60000.00")], finished=plant(2026, 3, 20))
    waiting = make_order(pump, lines=[(CostKind.SERVICE, "30000", "0")])
    for order in (done, waiting):
        turnarounds.add_to_scope(session, event, order, tie_in=False, actor=SYSTEM)

    figure = sources.turnaround(session, END_OF_MARCH, TARGETS)

    assert (figure.value, figure.target) == (Decimal("60000.00"), Decimal("100000.00"))
    assert figure.link == f"/turnarounds/{event.id}"
    assert "1 of 2 orders done (50.0 %)" in figure.detail
    assert judge(figure) is State.GREEN


def test_a_year_without_turnaround_says_so(session: Session, english: None) -> None:
    figure = sources.turnaround(session, END_OF_MARCH, TARGETS)
    assert figure.value is None
    assert figure.detail == "No turnaround this year."
    assert judge(figure) is State.NO_DATA


def certify(session: Session, workshop_id: int, certified: date) -> None:
    """A leak-free certificate of the workshop, granted on ``certified`` (valid a year)."""
    session.add(
        Certification(
            workshop_id=workshop_id,
            state=CertificationState.CERTIFIED,
            applied_date=date(2026, 2, 1),
            assessed_date=certified,
            certified_date=certified,
            valid_until=leakfree_rules.valid_until(certified),
        )
    )
    session.flush()


def test_leakfree_is_judged_against_half_the_workshops_through_june_then_all(session: Session) -> None:
    workshops = [factories.WorkshopFactory(code=f"LF{n}") for n in range(4)]
    certify(session, workshops[0].id, date(2026, 3, 1))  # type: ignore[arg-type]

    june = sources.leakfree_certified(session, ScorecardScope(2026, date(2026, 6, 30)), TARGETS)
    july = sources.leakfree_certified(session, ScorecardScope(2026, date(2026, 7, 1)), TARGETS)

    assert (june.value, june.target) == (Decimal("0.25"), Decimal("0.5"))  # 1 of 4 against 50 %
    assert (july.value, july.target) == (Decimal("0.25"), Decimal("1.0"))  # against 100 %
    assert judge(june) is State.RED  # 25 points short


def test_special_coverage_counts_items_in_service(session: Session, pump: Asset, english: None) -> None:
    factories.AssetFactory(workshop_id=pump.workshop_id, tag="V-101", special_category=SpecialCategory.PRESSURE_VESSEL)

    figure = sources.special_coverage(session, END_OF_MARCH, TARGETS)

    assert figure.value == Decimal(0)  # registered nowhere, inspected never: 0 of 1
    assert figure.target == Decimal("0.80")
    assert "0 of 1" in figure.detail
    assert judge(figure) is State.RED


def test_every_indicator_of_the_programme_has_its_source() -> None:
    assert set(sources.SOURCES) == set(Indicator)


# --- Every workshop at once (the monthly assessment) -------------------------------------------


def test_every_indicator_judged_per_workshop_has_its_grouped_source() -> None:
    per_workshop = {
        source for indicator, source in sources.SOURCES.items() if indicator not in assessment_rules.PLANT_WIDE
    }
    assert set(sources.WORKSHOP_SOURCES) == per_workshop


@pytest.fixture
def three(workshop: Workshop, other_workshop: Workshop) -> list[int]:
    """合成车间 (the pump's), 公用工程车间 (the other pump's) and a workshop without anything."""
    empty = factories.WorkshopFactory(code="ZZZ", name="空车间")
    return [workshop.id, other_workshop.id, empty.id]  # type: ignore[list-item]


def test_each_workshops_repair_cost_at_once(
    session: Session,
    pump: Asset,
    other_pump: Asset,
    workshop: Workshop,
    other_workshop: Workshop,
    three: list[int],
    make_order: MakeOrder,
    allocate: Callable[..., object],
) -> None:
    allocate(workshop, CostCategory.MATERIALS, 3, "10000.00")
    allocate(other_workshop, CostCategory.LABOUR, 4, "20000.00")
    make_order(pump, lines=[(CostKind.MATERIAL, "8000", "9000.00")], finished=plant(2026, 3, 10))
    make_order(
        other_pump,
        lines=[(CostKind.LABOUR, "800", "0")],
        approved=plant(2026, 3, 5),
        planned_finish_date=date(2026, 4, 15),
    )

    figures = sources.repair_cost_by_workshop(session, END_OF_MARCH, three, TARGETS)

    # 9,000.00 actual + 9,000.00 ÷ 90 days × 275 days left against its plan of 10,000.00;
    # 800.00 committed against 20,000.00; nothing spent and no plan.
    assert [(figures[w].value, figures[w].target) for w in three] == [
        (Decimal("36500.00"), Decimal("10000.00")),
        (Decimal("800.00"), Decimal("20000.00")),
        (Decimal("0.00"), None),
    ]


def test_each_workshops_condition_based_share_at_once(
    session: Session, pump: Asset, other_pump: Asset, three: list[int], make_order: MakeOrder
) -> None:
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 2, 1))
    make_order(pump, lines=[], order_type=OrderType.PM, raised=plant(2026, 3, 3))
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 4, 2))  # after the day asked
    for day in (3, 10, 20):
        make_order(other_pump, lines=[], order_type=OrderType.PM, raised=plant(2026, 3, day))
    make_order(other_pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 3, 21))

    figures = sources.cbm_share_by_workshop(session, END_OF_MARCH, three, TARGETS)

    # 1 of 2; 1 of 4; no orders
    assert [figures[w].value for w in three] == [Decimal("0.5"), Decimal("0.25"), None]
    assert figures[three[1]].link.endswith(f"&workshop_id={three[1]}")


def test_each_workshops_pm_compliance_at_once(
    session: Session, pump: Asset, other_pump: Asset, three: list[int], make_order: MakeOrder
) -> None:
    due_and_finished = [
        (pump, date(2026, 3, 10), plant(2026, 3, 9)),  # on time
        (pump, date(2026, 3, 28), None),  # open past its due date
        (other_pump, date(2026, 3, 20), plant(2026, 3, 25)),  # late
        (other_pump, date(2026, 2, 1), plant(2026, 2, 1)),  # on the day
        (other_pump, date(2026, 3, 31), plant(2026, 4, 1)),  # finished after the day asked: late
        (other_pump, date(2026, 4, 10), None),  # not due yet
    ]
    for asset, due, finished in due_and_finished:
        make_order(asset, lines=[], due_date=due, finished=finished)

    figures = sources.pm_compliance_by_workshop(session, END_OF_MARCH, three, TARGETS)

    # 1 of 2; 1 of 3; none due
    assert [figures[w].value for w in three] == [Decimal("0.5"), Decimal(1) / Decimal(3), None]


def test_each_workshops_material_match_at_once(
    session: Session, pump: Asset, other_pump: Asset, three: list[int], make_order: MakeOrder
) -> None:
    order = make_order(pump, lines=[(CostKind.MATERIAL, "100", "100")])
    orders.add_cost_line(session, order, CostLineCreate.model_validate(OVER_ISSUED), actor=SYSTEM)
    for action in ("approve", "start", "complete"):
        orders.perform(session, order, action, actor=SYSTEM, at=plant(2026, 3, 2))
    make_order(other_pump, lines=[(CostKind.MATERIAL, "50", "50")] * 3, finished=plant(2026, 3, 5))
    make_order(other_pump, lines=[(CostKind.MATERIAL, "50", "50")])  # not completed

    figures = sources.material_match_by_workshop(session, END_OF_MARCH, three, TARGETS)

    # 1 of 2 lines issued as planned; 3 of 3; no completed order
    assert [figures[w].value for w in three] == [Decimal("0.5"), Decimal(1), None]


def test_each_workshops_leakfree_certification_at_once(session: Session, three: list[int]) -> None:
    certify(session, three[0], date(2026, 3, 1))

    figures = sources.leakfree_certified_by_workshop(session, ScorecardScope(2026, date(2026, 6, 30)), three, TARGETS)

    # Each workshop is 1 of 1 or 0 of 1 certified, against half of the year's 100 % by 30 June.
    assert [(figures[w].value, figures[w].target) for w in three] == [
        (Decimal(1), Decimal("0.5")),
        (Decimal(0), Decimal("0.5")),
        (Decimal(0), Decimal("0.5")),
    ]


def test_each_workshops_special_coverage_at_once(session: Session, plant: Plant) -> None:
    empty = factories.WorkshopFactory(code="ZZZ")
    ids: list[int] = [plant.workshop_a.id, plant.workshop_b.id, empty.id]  # type: ignore[list-item]

    figures = sources.special_coverage_by_workshop(session, ScorecardScope(2026, date(2026, 3, 1)), ids, TARGETS)

    # SV-OK and SV-SOON in date: 2 of 2; SV-LATE overdue: 0 of 1; no special equipment
    assert [figures[w].value for w in ids] == [Decimal(1), Decimal(0), None]
