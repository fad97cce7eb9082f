"""The specification of the special-equipment rules (special/rules.py) as the register applies
them (service.register_items): every category's interval, the boundaries of each standing, exact
calendar arithmetic and coverage. Every expected date and number below was worked out by hand
from design.md §6 and 特种设备安全法 art. 33/40."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlmodel import Session

from maintenance.assets.choices import AssetClass, AssetStatus, SpecialCategory
from maintenance.assets.models import Asset
from maintenance.org.models import Workshop
from maintenance.special import rules, service
from maintenance.special.choices import InspectionResult, Standing
from maintenance.special.models import InspectionType, Registration
from maintenance.special.rules import Coverage, TypeStanding
from tests import factories
from tests.special.conftest import Apply, MakeItem, Report

PASS = InspectionResult.PASS
FAIL = InspectionResult.FAIL
CONDITIONAL = InspectionResult.CONDITIONAL

OK = Standing.OK
DUE_SOON = Standing.DUE_SOON
APPLICATION_OVERDUE = Standing.APPLICATION_OVERDUE
OVERDUE = Standing.OVERDUE
MUST_NOT_OPERATE = Standing.MUST_NOT_OPERATE

CATEGORY_OF_TYPE = {
    "PV-ANNUAL": SpecialCategory.PRESSURE_VESSEL,
    "PV-PERIODIC": SpecialCategory.PRESSURE_VESSEL,
    "PP-PERIODIC": SpecialCategory.PRESSURE_PIPING,
    "BO-EXTERNAL": SpecialCategory.BOILER,
    "BO-INTERNAL": SpecialCategory.BOILER,
    "SV-CALIBRATION": SpecialCategory.SAFETY_VALVE,
    "LF-PERIODIC": SpecialCategory.LIFTING,
    "VH-PERIODIC": SpecialCategory.VEHICLE,
    "EL-PERIODIC": SpecialCategory.ELEVATOR,
}


def item_of(session: Session, asset: Asset, as_of: date) -> service.RegisterItem:
    items = service.register_items(session, as_of, asset_ids=[asset.id])  # type: ignore[list-item]
    assert len(items) == 1
    return items[0]


def required(session: Session, asset: Asset, as_of: date, code: str) -> TypeStanding:
    """The standing of ``asset``'s required inspection of type ``code`` on ``as_of``."""
    found = [t for t in item_of(session, asset, as_of).standing.types if t.rule.inspection_type.code == code]
    assert len(found) == 1, code
    return found[0]


def safety_valve(make_item: MakeItem, **fields: object) -> Asset:
    """An item with one required inspection (yearly calibration): its standing is that one's."""
    return make_item(
        name="安全阀", asset_class=AssetClass.VALVE, special_category=SpecialCategory.SAFETY_VALVE, **fields
    )


# --- Which inspections each category needs --------------------------------------------------


@pytest.mark.parametrize(
    ("category", "codes"),
    [
        (SpecialCategory.PRESSURE_VESSEL, {"PV-ANNUAL", "PV-PERIODIC"}),
        (SpecialCategory.PRESSURE_PIPING, {"PP-PERIODIC"}),
        (SpecialCategory.BOILER, {"BO-EXTERNAL", "BO-INTERNAL"}),
        (SpecialCategory.SAFETY_VALVE, {"SV-CALIBRATION"}),
        (SpecialCategory.LIFTING, {"LF-PERIODIC"}),
        (SpecialCategory.VEHICLE, {"VH-PERIODIC"}),
        (SpecialCategory.ELEVATOR, {"EL-PERIODIC"}),
    ],
)
def test_each_category_requires_its_statutory_inspections(
    session: Session, make_item: MakeItem, category: SpecialCategory, codes: set[str]
) -> None:
    asset = make_item(special_category=category)
    types = item_of(session, asset, date(2024, 1, 1)).standing.types
    assert {t.rule.inspection_type.code for t in types} == codes


def test_a_deactivated_inspection_type_is_no_longer_required(
    session: Session, make_item: MakeItem, inspection_type: Callable[[str], InspectionType]
) -> None:
    inspection_type("PV-ANNUAL").is_active = False
    session.flush()
    types = item_of(session, make_item(), date(2024, 1, 1)).standing.types
    assert [t.rule.inspection_type.code for t in types] == ["PV-PERIODIC"]


# --- Due dates by category rule ---------------------------------------------------------------

# (type, safety grade of the last report, its date, the due date the rules give; None: must not
# operate whatever the date).
DUE_AFTER_A_REPORT = [
    ("PV-ANNUAL", None, date(2024, 3, 10), date(2025, 3, 10)),  # TSG 21: annual check yearly
    ("PV-PERIODIC", 1, date(2024, 3, 10), date(2030, 3, 10)),  # grade 1–2: 6 years
    ("PV-PERIODIC", 2, date(2024, 3, 10), date(2030, 3, 10)),
    ("PV-PERIODIC", 3, date(2024, 3, 10), date(2027, 3, 10)),  # grade 3: 3 years
    ("PV-PERIODIC", 4, date(2024, 3, 10), date(2027, 3, 10)),  # grade 4: at most 3 years
    ("PV-PERIODIC", 5, date(2024, 3, 10), None),  # grade 5: not to be used
    ("PV-PERIODIC", None, date(2024, 3, 10), date(2027, 3, 10)),  # no grade stated: the type's 3 years
    ("PP-PERIODIC", 1, date(2024, 3, 10), date(2030, 3, 10)),  # TSG D7005 grade 1–2: 6 years
    ("PP-PERIODIC", 2, date(2024, 3, 10), date(2030, 3, 10)),
    ("PP-PERIODIC", 3, date(2024, 3, 10), date(2027, 3, 10)),  # grade 3: 3 years
    ("BO-EXTERNAL", None, date(2024, 3, 10), date(2025, 3, 10)),  # TSG 11: external yearly
    ("BO-INTERNAL", None, date(2024, 3, 10), date(2026, 3, 10)),  # internal every 2 years
    ("SV-CALIBRATION", None, date(2024, 3, 10), date(2025, 3, 10)),  # TSG ZF001: yearly
    ("LF-PERIODIC", None, date(2024, 3, 10), date(2026, 3, 10)),  # lifting: every 2 years
    ("VH-PERIODIC", None, date(2024, 3, 10), date(2026, 3, 10)),  # TSG 81 forklifts: every 2 years
    ("EL-PERIODIC", None, date(2024, 3, 10), date(2025, 3, 10)),  # elevators: yearly
]


@pytest.mark.parametrize(("code", "grade", "inspected", "due"), DUE_AFTER_A_REPORT)
def test_the_next_inspection_falls_due_by_the_category_rule(
    session: Session,
    make_item: MakeItem,
    report: Report,
    code: str,
    grade: int | None,
    inspected: date,
    due: date | None,
) -> None:
    asset = make_item(special_category=CATEGORY_OF_TYPE[code])
    report(asset, code, inspected, safety_grade=grade)
    standing = required(session, asset, date(2024, 6, 1), code)
    assert standing.due_date == due
    assert standing.standing == (MUST_NOT_OPERATE if due is None else OK)


# Never inspected: due after commissioning (2022-06-15): the first periodic inspection of a vessel
# or piping within 3 years, the other types after their interval.
DUE_AFTER_COMMISSIONING = [
    ("PV-ANNUAL", date(2023, 6, 15)),
    ("PV-PERIODIC", date(2025, 6, 15)),
    ("PP-PERIODIC", date(2025, 6, 15)),
    ("BO-EXTERNAL", date(2023, 6, 15)),
    ("BO-INTERNAL", date(2024, 6, 15)),
    ("SV-CALIBRATION", date(2023, 6, 15)),
    ("LF-PERIODIC", date(2024, 6, 15)),
    ("VH-PERIODIC", date(2024, 6, 15)),
    ("EL-PERIODIC", date(2023, 6, 15)),
]


@pytest.mark.parametrize(("code", "due"), DUE_AFTER_COMMISSIONING)
def test_a_never_inspected_item_falls_due_after_its_commissioning(
    session: Session, make_item: MakeItem, code: str, due: date
) -> None:
    asset = make_item(special_category=CATEGORY_OF_TYPE[code])
    assert required(session, asset, date(2022, 7, 1), code).due_date == due


def test_never_inspected_without_a_commissioning_date_counts_as_overdue(session: Session, make_item: MakeItem) -> None:
    item = item_of(session, safety_valve(make_item, commission_date=None), date(2024, 1, 1))
    assert item.standing.types[0].due_date is None
    assert item.standing.standing == OVERDUE
    assert item.standing.must_not_operate


def test_the_due_date_a_report_states_overrides_the_rules(
    session: Session, make_item: MakeItem, report: Report
) -> None:
    asset = make_item()
    report(asset, "PV-PERIODIC", date(2024, 3, 10), safety_grade=2, report_next_due_date=date(2027, 1, 31))
    assert required(session, asset, date(2024, 6, 1), "PV-PERIODIC").due_date == date(2027, 1, 31)


def test_the_last_report_counts_and_later_reports_are_not_known_yet(
    session: Session, make_item: MakeItem, report: Report
) -> None:
    asset = safety_valve(make_item)
    report(asset, "SV-CALIBRATION", date(2023, 3, 1))
    report(asset, "SV-CALIBRATION", date(2024, 2, 20))
    assert required(session, asset, date(2024, 2, 19), "SV-CALIBRATION").due_date == date(2024, 3, 1)
    assert required(session, asset, date(2024, 2, 20), "SV-CALIBRATION").due_date == date(2025, 2, 20)


def test_an_item_stands_as_its_worst_required_inspection(session: Session, make_item: MakeItem, report: Report) -> None:
    asset = make_item()  # commissioned 2022-06-15: first periodic due 2025-06-15
    report(asset, "PV-ANNUAL", date(2025, 5, 1))
    item = item_of(session, asset, date(2025, 6, 16))
    assert {t.rule.inspection_type.code: t.standing for t in item.standing.types} == {
        "PV-ANNUAL": OK,
        "PV-PERIODIC": OVERDUE,
    }
    assert item.standing.standing == OVERDUE
    assert item.standing.next_due is not None
    assert item.standing.next_due.due_date == date(2025, 6, 15)


# --- The standing around the due date ---------------------------------------------------------

# A safety valve calibrated on 2024-03-10 is due on 2025-03-10; the application deadline (one
# calendar month before, art. 40) is 2025-02-10. (reference date, application recorded on, standing)
AROUND_THE_DUE_DATE = [
    pytest.param(date(2025, 2, 7), None, OK, id="31 days left, the deadline ahead"),
    pytest.param(date(2025, 2, 8), None, DUE_SOON, id="30 days left"),
    pytest.param(date(2025, 2, 10), None, DUE_SOON, id="the deadline day itself: still time to apply"),
    pytest.param(date(2025, 2, 11), None, APPLICATION_OVERDUE, id="less than a month left, nothing applied"),
    pytest.param(date(2025, 2, 11), date(2025, 1, 20), DUE_SOON, id="applied in time"),
    pytest.param(date(2025, 2, 11), date(2025, 2, 11), DUE_SOON, id="applied late, but applied"),
    pytest.param(date(2025, 3, 10), None, APPLICATION_OVERDUE, id="due today: in date, not overdue"),
    pytest.param(date(2025, 3, 10), date(2025, 1, 20), DUE_SOON, id="due today, applied"),
    pytest.param(date(2025, 3, 11), None, OVERDUE, id="the day after: overdue"),
    pytest.param(date(2025, 3, 11), date(2025, 1, 20), OVERDUE, id="an application does not stop the clock"),
]


@pytest.mark.parametrize(("as_of", "applied", "expected"), AROUND_THE_DUE_DATE)
def test_the_standing_around_the_due_date(
    session: Session,
    make_item: MakeItem,
    report: Report,
    apply: Apply,
    as_of: date,
    applied: date | None,
    expected: Standing,
) -> None:
    asset = safety_valve(make_item)
    report(asset, "SV-CALIBRATION", date(2024, 3, 10))
    if applied is not None:
        apply(asset, "SV-CALIBRATION", date(2025, 3, 10), applied)
    item = item_of(session, asset, as_of)
    assert item.standing.standing == expected
    assert item.standing.must_not_operate == (expected == OVERDUE)
    assert item.standing.types[0].days_left == (date(2025, 3, 10) - as_of).days
    assert item.standing.types[0].application_deadline == date(2025, 2, 10)


def test_the_deadline_day_of_a_31_day_month_is_due_soon_although_31_days_are_left(
    session: Session, make_item: MakeItem, report: Report
) -> None:
    asset = safety_valve(make_item)
    report(asset, "SV-CALIBRATION", date(2024, 8, 10))  # due 2025-08-10, apply by 2025-07-10
    assert item_of(session, asset, date(2025, 7, 9)).standing.standing == OK  # 32 days left
    assert item_of(session, asset, date(2025, 7, 10)).standing.standing == DUE_SOON  # 31 days left


@pytest.mark.parametrize(
    ("applied", "as_of", "expected"),
    [
        (date(2024, 2, 1), date(2025, 2, 20), APPLICATION_OVERDUE),  # before the last inspection
        (date(2025, 2, 21), date(2025, 2, 20), APPLICATION_OVERDUE),  # after the reference date
        (date(2024, 3, 11), date(2025, 2, 20), DUE_SOON),  # the day after the last inspection
    ],
)
def test_only_an_application_since_the_last_inspection_counts(
    session: Session, make_item: MakeItem, report: Report, apply: Apply, applied: date, as_of: date, expected: Standing
) -> None:
    asset = safety_valve(make_item)
    report(asset, "SV-CALIBRATION", date(2024, 3, 10))
    apply(asset, "SV-CALIBRATION", date(2025, 3, 10), applied)
    assert item_of(session, asset, as_of).standing.standing == expected


# --- Failed and grade 5: must not operate until a later pass ---------------------------------


def test_a_failed_inspection_stops_operation_until_a_later_pass(
    session: Session, make_item: MakeItem, report: Report
) -> None:
    asset = safety_valve(make_item)
    report(asset, "SV-CALIBRATION", date(2024, 3, 1))  # an earlier pass does not count
    report(asset, "SV-CALIBRATION", date(2024, 3, 10), result=FAIL)
    report(asset, "SV-CALIBRATION", date(2024, 4, 15))  # the re-inspection passes
    assert item_of(session, asset, date(2024, 3, 9)).standing.standing == OK
    failed = item_of(session, asset, date(2024, 3, 10))
    assert failed.standing.standing == MUST_NOT_OPERATE
    assert failed.standing.must_not_operate
    assert item_of(session, asset, date(2024, 4, 14)).standing.standing == MUST_NOT_OPERATE
    restored = item_of(session, asset, date(2024, 4, 15))
    assert restored.standing.standing == OK
    assert restored.standing.types[0].due_date == date(2025, 4, 15)


def test_a_failed_inspection_stops_operation_even_before_its_due_date(
    session: Session, make_item: MakeItem, report: Report
) -> None:
    asset = make_item()
    report(asset, "PV-PERIODIC", date(2024, 3, 10), result=FAIL, safety_grade=2)
    assert required(session, asset, date(2024, 3, 11), "PV-PERIODIC").standing == MUST_NOT_OPERATE


def test_a_conditional_pass_allows_operation(session: Session, make_item: MakeItem, report: Report) -> None:
    asset = safety_valve(make_item)
    report(asset, "SV-CALIBRATION", date(2024, 3, 10), result=CONDITIONAL)
    assert item_of(session, asset, date(2024, 6, 1)).standing.standing == OK


def test_grade_5_stops_operation_until_a_better_grade(session: Session, make_item: MakeItem, report: Report) -> None:
    asset = make_item()
    report(asset, "PV-PERIODIC", date(2024, 3, 10), safety_grade=5)
    report(asset, "PV-PERIODIC", date(2024, 9, 1), safety_grade=3)  # after the repair
    assert required(session, asset, date(2024, 8, 31), "PV-PERIODIC").standing == MUST_NOT_OPERATE
    after = required(session, asset, date(2024, 9, 1), "PV-PERIODIC")
    assert (after.standing, after.due_date) == (OK, date(2027, 9, 1))


# --- Calendar arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # a leap day, a year on: the earlier date
        (date(2024, 2, 29), 36, date(2027, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),  # four years on: a leap day again
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2028, 2, 29), 72, date(2034, 2, 28)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # month ends clamp
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 8, 31), 1, date(2025, 9, 30)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2024, 12, 15), 2, date(2025, 2, 15)),  # across a year end
    ],
)
def test_add_months_is_calendar_months_clamped_to_the_month_end(day: date, months: int, expected: date) -> None:
    assert rules.add_months(day, months) == expected


@pytest.mark.parametrize(
    ("due", "deadline"),
    [
        (date(2025, 3, 31), date(2025, 2, 28)),  # 31 March: apply by the end of February
        (date(2024, 3, 31), date(2024, 2, 29)),  # … 29 February in a leap year
        (date(2025, 5, 31), date(2025, 4, 30)),
        (date(2025, 3, 10), date(2025, 2, 10)),
        (date(2025, 1, 15), date(2024, 12, 15)),
    ],
)
def test_the_application_deadline_is_one_calendar_month_before_the_due_date(due: date, deadline: date) -> None:
    assert rules.application_deadline(due) == deadline


@pytest.mark.parametrize(
    ("code", "inspected", "grade", "due"),
    [
        ("SV-CALIBRATION", date(2024, 2, 29), None, date(2025, 2, 28)),
        ("LF-PERIODIC", date(2028, 2, 29), None, date(2030, 2, 28)),
        ("PV-PERIODIC", date(2028, 2, 29), 4, date(2031, 2, 28)),
        ("PV-PERIODIC", date(2028, 2, 29), 2, date(2034, 2, 28)),
        ("EL-PERIODIC", date(2024, 1, 31), None, date(2025, 1, 31)),
    ],
)
def test_due_dates_from_a_leap_day(
    session: Session, make_item: MakeItem, report: Report, code: str, inspected: date, grade: int | None, due: date
) -> None:
    asset = make_item(special_category=CATEGORY_OF_TYPE[code])
    report(asset, code, inspected, safety_grade=grade)
    assert required(session, asset, inspected, code).due_date == due


def test_a_leap_day_inspection_is_overdue_on_1_march_of_the_next_year(
    session: Session, make_item: MakeItem, report: Report
) -> None:
    asset = safety_valve(make_item)
    report(asset, "SV-CALIBRATION", date(2024, 2, 29))  # due 2025-02-28
    assert item_of(session, asset, date(2025, 2, 28)).standing.standing == APPLICATION_OVERDUE
    assert item_of(session, asset, date(2025, 3, 1)).standing.standing == OVERDUE


def test_a_due_date_on_31_march_must_be_applied_for_by_the_end_of_february(
    session: Session, make_item: MakeItem, report: Report
) -> None:
    asset = safety_valve(make_item)
    report(asset, "SV-CALIBRATION", date(2024, 3, 31))  # due 2025-03-31, apply by 2025-02-28
    assert item_of(session, asset, date(2025, 2, 28)).standing.standing == DUE_SOON
    assert item_of(session, asset, date(2025, 3, 1)).standing.standing == APPLICATION_OVERDUE


@pytest.mark.parametrize(
    ("last", "count", "ends"),
    [
        (date(2025, 3, 15), 3, [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 15)]),
        (date(2024, 3, 31), 2, [date(2024, 2, 29), date(2024, 3, 31)]),
        (date(2025, 1, 10), 3, [date(2024, 11, 30), date(2024, 12, 31), date(2025, 1, 10)]),
        (date(2025, 1, 10), 1, [date(2025, 1, 10)]),
    ],
)
def test_month_ends_up_to_a_date(last: date, count: int, ends: list[date]) -> None:
    assert rules.month_ends(last, count) == ends


# --- Registration (art. 33: within 30 days of entering service) -----------------------------


@pytest.mark.parametrize(
    ("registered", "as_of", "missing"),
    [
        (None, date(2024, 1, 31), False),  # commissioned 2024-01-01: the 30th day
        (None, date(2024, 2, 1), True),  # the 31st day
        (date(2024, 1, 20), date(2024, 2, 1), False),
        (date(2024, 3, 1), date(2024, 2, 1), True),  # registered only later
        (date(2024, 3, 1), date(2024, 3, 1), False),
    ],
)
def test_registration_is_missing_after_30_days_in_service(
    session: Session, make_item: MakeItem, registered: date | None, as_of: date, missing: bool
) -> None:
    asset = safety_valve(make_item, commission_date=date(2024, 1, 1))
    if registered is not None:
        session.add(
            Registration(
                asset_id=asset.id,  # type: ignore[arg-type]
                certificate_number="容17苏E00001(24)",
                registration_date=registered,
                authority="市市场监督管理局",
            )
        )
        session.flush()
    assert item_of(session, asset, as_of).standing.registration_missing is missing


def test_an_item_without_a_commissioning_date_is_not_flagged_unregistered(
    session: Session, make_item: MakeItem
) -> None:
    item = item_of(session, safety_valve(make_item, commission_date=None), date(2024, 1, 1))
    assert not item.standing.registration_missing


# --- Coverage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("covered", "total", "percent"),
    [
        (2, 3, Decimal("66.67")),
        (5, 6, Decimal("83.33")),
        (1, 6, Decimal("16.67")),
        (1, 8, Decimal("12.50")),
        (1, 800, Decimal("0.13")),  # 0.125: half up, not to even
        (4, 5, Decimal("80.00")),
        (0, 3, Decimal("0.00")),
        (3, 3, Decimal("100.00")),
    ],
)
def test_coverage_percent_has_two_decimals_rounded_half_up(covered: int, total: int, percent: Decimal) -> None:
    assert Coverage(covered, total).percent == percent
    assert Coverage(covered, total).ratio == Fraction(covered, total)


def test_coverage_of_nothing_is_not_a_number() -> None:
    assert Coverage(0, 0).ratio is None
    assert Coverage(0, 0).percent is None
    assert not Coverage(0, 0).meets(rules.COVERAGE_TARGET)


def test_the_target_is_met_at_exactly_80_percent() -> None:
    assert Coverage(4, 5).meets(rules.COVERAGE_TARGET)
    assert not Coverage(79, 100).meets(rules.COVERAGE_TARGET)


def test_coverage_of_a_small_plant(
    session: Session, workshop: Workshop, make_item: MakeItem, report: Report, apply: Apply
) -> None:
    """Six in-service valves on 2025-02-20: five in date (one waiting for its application, one
    due soon) and one overdue; an idle one and a cancelled one do not count. Overall 5/6; per
    workshop 3/3 and 2/3; the calibrated vessel makes the first workshop 4/4 and overall 6/7."""
    as_of = date(2025, 2, 20)
    second = factories.WorkshopFactory()

    def valve(calibrated: date, workshop_id: int, **fields: object) -> Asset:
        asset = safety_valve(make_item, workshop_id=workshop_id, **fields)
        report(asset, "SV-CALIBRATION", calibrated)
        return asset

    valve(date(2024, 6, 1), workshop.id)  # ok
    valve(date(2024, 3, 10), workshop.id)  # due 2025-03-10, nothing applied: in date all the same
    applied = valve(date(2024, 3, 15), workshop.id)  # due 2025-03-15, applied: due soon
    apply(applied, "SV-CALIBRATION", date(2025, 3, 15), date(2025, 2, 1))
    valve(date(2024, 6, 1), second.id)  # ok
    valve(date(2024, 6, 1), second.id)  # ok
    valve(date(2024, 2, 1), second.id)  # due 2025-02-01: overdue
    valve(date(2023, 1, 1), second.id, status=AssetStatus.IDLE)  # overdue, but idle (停用)
    cancelled = valve(date(2023, 1, 1), second.id)  # overdue, but its registration is cancelled
    session.add(
        Registration(
            asset_id=cancelled.id,  # type: ignore[arg-type]
            certificate_number="阀苏E0001",
            registration_date=date(2022, 7, 1),
            authority="市市场监督管理局",
            cancelled_date=date(2025, 1, 10),
        )
    )
    vessel = make_item()
    report(vessel, "PV-ANNUAL", date(2024, 9, 1))
    report(vessel, "PV-PERIODIC", date(2024, 9, 1), safety_grade=2)

    coverage = service.coverage_report(service.register_items(session, as_of), as_of)

    assert coverage.overall == Coverage(6, 7)
    assert coverage.overall.percent == Decimal("85.71")
    assert coverage.by_workshop[workshop.id] == Coverage(4, 4)
    assert coverage.by_workshop[second.id] == Coverage(2, 3)
    assert coverage.by_workshop[second.id].percent == Decimal("66.67")
    assert coverage.by_category[SpecialCategory.SAFETY_VALVE] == Coverage(5, 6)
    assert coverage.by_category[SpecialCategory.SAFETY_VALVE].percent == Decimal("83.33")
    assert coverage.by_category[SpecialCategory.PRESSURE_VESSEL] == Coverage(1, 1)


def test_the_register_leaves_out_retired_and_ordinary_assets(session: Session, make_item: MakeItem) -> None:
    kept = safety_valve(make_item)
    safety_valve(make_item, status=AssetStatus.RETIRED, retired_date=date(2024, 1, 1), retire_reason="报废")
    make_item(special_category=SpecialCategory.NONE, asset_class=AssetClass.PUMP, name="泵")
    assert [item.asset.id for item in service.register_items(session, date(2024, 6, 1))] == [kept.id]


def test_the_register_filters_by_workshop_and_category(
    session: Session, workshop: Workshop, make_item: MakeItem
) -> None:
    vessel = make_item()
    valve = safety_valve(make_item)
    elsewhere = safety_valve(make_item, workshop_id=factories.WorkshopFactory().id)
    as_of = date(2024, 6, 1)

    def ids(**filters: object) -> set[int | None]:
        return {item.asset.id for item in service.register_items(session, as_of, **filters)}  # type: ignore[arg-type]

    assert ids(workshop_ids=[workshop.id]) == {vessel.id, valve.id}
    assert ids(category=SpecialCategory.SAFETY_VALVE) == {valve.id, elsewhere.id}
    assert ids(asset_ids=[elsewhere.id]) == {elsewhere.id}


def test_the_register_loads_in_a_fixed_number_of_queries(
    session: Session, make_item: MakeItem, report: Report, apply: Apply, count_queries: list[str]
) -> None:
    def queries_for_the_register() -> int:
        session.expunge_all()  # nothing cached: every item's facts come from the database
        count_queries.clear()
        service.register_items(session, date(2025, 2, 20))
        return len(count_queries)

    def add_items(count: int) -> None:
        for _ in range(count):
            asset = make_item()
            report(asset, "PV-ANNUAL", date(2024, 3, 10))
            report(asset, "PV-PERIODIC", date(2024, 3, 10), safety_grade=2)
            apply(asset, "PV-ANNUAL", date(2025, 3, 10), date(2025, 1, 20))

    add_items(2)
    with_two = queries_for_the_register()
    add_items(4)
    assert queries_for_the_register() == with_two == 6
