"""Where special equipment stands on a reference date: the one status function.

The list, the asset page's banner, coverage, the exports, the reminders and the API all call
:func:`standing_on`, so they can never disagree. Pure: the caller loads the facts (see
``service.register_items``) and passes the date in.

Due dates (design.md §6, 特种设备安全法 art. 40, TSG 21 / TSG D7005 / TSG 11 / TSG 81):

- A report that states its next due date (下次检验日期) is followed as written.
- Otherwise the next inspection is due ``interval`` calendar months after the last one, where a
  safety grade with a rule of its own (pressure vessels and piping: grade 1–2 six years, 3 and 4
  three years) overrides the type's interval, and a grade whose rule has no interval (grade 5)
  means the equipment must not operate.
- Never inspected: due ``first_within_months`` (else the interval) after commissioning; with no
  commissioning date nothing says when, so it counts as overdue (uninspected equipment must not
  be used).
- Months are calendar months clamped to the month's end: an inspection on 29 February 2024 with
  a yearly rule falls due on 28 February 2025 (the earlier date: the law allows no grace).

Standing of one required inspection on ``as_of`` (worst first):

- **must not operate**: the last report failed, or its grade has no interval (grade 5);
- **overdue**: ``as_of`` is after the due date (the due date itself is still in date);
- **application overdue**: less than one calendar month is left (``as_of`` after the application
  deadline, due − 1 month) and no application was recorded since the last inspection;
- **due soon**: at most 30 days left, or the application deadline has come;
- **ok**.

An item stands as its worst required inspection (ok when its category requires none). The
registration is checked apart: an item commissioned more than 30 days ago without a use
registration is flagged (art. 33).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TypeVar

from dateutil.relativedelta import relativedelta

from maintenance.special.choices import InspectionResult, Standing
from maintenance.special.models import InspectionApplication, InspectionType, Registration, SpecialInspection

DUE_SOON_DAYS = 30
REGISTRATION_DAYS = 30  # art. 33: register within 30 days of entering service
APPLICATION_MONTHS = 1  # art. 40: apply at least one month before the due date
COVERAGE_TARGET = Fraction(80, 100)  # the plant's goal this year

K = TypeVar("K", bound=Hashable)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the end of a shorter month."""
    moved: date = day + relativedelta(months=months)
    return moved


def application_deadline(due: date) -> date:
    """The last day to apply for the inspection due on ``due``: one calendar month before it."""
    return add_months(due, -APPLICATION_MONTHS)


@dataclass(frozen=True)
class TypeRule:
    """An inspection type with its grade rules, as the status function needs it."""

    inspection_type: InspectionType
    grade_months: Mapping[int, int | None] = field(default_factory=dict)

    @property
    def type_id(self) -> int:
        assert self.inspection_type.id is not None
        return self.inspection_type.id

    def stops_operation(self, grade: int | None) -> bool:
        return grade is not None and grade in self.grade_months and self.grade_months[grade] is None

    def months_after(self, grade: int | None) -> int:
        if grade is not None and self.grade_months.get(grade) is not None:
            return self.grade_months[grade]  # type: ignore[return-value]
        return self.inspection_type.interval_months

    def due_after(self, last: SpecialInspection | None, commission_date: date | None) -> date | None:
        """When the next inspection of this type falls due (None: no date to count from, or the
        equipment must not operate whatever the date)."""
        if last is None:
            if commission_date is None:
                return None
            first = self.inspection_type.first_within_months or self.inspection_type.interval_months
            return add_months(commission_date, first)
        if last.report_next_due_date is not None:
            return last.report_next_due_date
        if self.stops_operation(last.safety_grade):
            return None
        return add_months(last.inspected_date, self.months_after(last.safety_grade))


@dataclass(frozen=True)
class TypeStanding:
    """One required inspection of an item on the reference date."""

    rule: TypeRule
    last: SpecialInspection | None
    due_date: date | None
    application: InspectionApplication | None
    standing: Standing
    days_left: int | None  # days from the reference date to the due date (negative: overdue)

    @property
    def application_deadline(self) -> date | None:
        return application_deadline(self.due_date) if self.due_date else None


@dataclass(frozen=True)
class ItemStanding:
    """An item on the reference date: each required inspection, and the worst of them."""

    as_of: date
    types: tuple[TypeStanding, ...]
    registration_missing: bool

    @property
    def standing(self) -> Standing:
        return worst(t.standing for t in self.types)

    @property
    def must_not_operate(self) -> bool:
        return self.standing.must_not_operate

    @property
    def next_due(self) -> TypeStanding | None:
        """The required inspection due first (the one the due list and the API show)."""
        dated = [t for t in self.types if t.due_date is not None]
        return min(dated, key=lambda t: t.due_date) if dated else None  # type: ignore[arg-type, return-value]


def _type_standing(
    rule: TypeRule,
    reports: Sequence[SpecialInspection],
    applications: Sequence[InspectionApplication],
    commission_date: date | None,
    as_of: date,
) -> TypeStanding:
    done = [r for r in reports if r.inspection_type_id == rule.type_id and r.inspected_date <= as_of]
    last = max(done, key=lambda r: (r.inspected_date, r.id or 0), default=None)
    due = rule.due_after(last, commission_date)
    since = last.inspected_date if last else date.min
    applied = [a for a in applications if a.inspection_type_id == rule.type_id and since < a.applied_date <= as_of]
    application = max(applied, key=lambda a: a.applied_date, default=None)
    if last is not None and (last.result == InspectionResult.FAIL or rule.stops_operation(last.safety_grade)):
        standing = Standing.MUST_NOT_OPERATE
    elif due is None or as_of > due:
        standing = Standing.OVERDUE
    elif application is None and as_of > application_deadline(due):
        standing = Standing.APPLICATION_OVERDUE
    elif (due - as_of).days <= DUE_SOON_DAYS or as_of >= application_deadline(due):
        standing = Standing.DUE_SOON
    else:
        standing = Standing.OK
    days_left = (due - as_of).days if due else None
    return TypeStanding(rule, last, due, application, standing, days_left)


def standing_on(
    as_of: date,
    *,
    rules: Sequence[TypeRule],
    commission_date: date | None,
    registration: Registration | None,
    reports: Sequence[SpecialInspection],
    applications: Sequence[InspectionApplication],
) -> ItemStanding:
    """Where an item stands on ``as_of``: ``rules`` are its category's active inspection types,
    ``reports`` and ``applications`` its own (any dates; later ones are ignored)."""
    registered = registration is not None and registration.registration_date <= as_of
    missing = (
        not registered and commission_date is not None and as_of > commission_date + timedelta(days=REGISTRATION_DAYS)
    )
    return ItemStanding(
        as_of=as_of,
        types=tuple(_type_standing(rule, reports, applications, commission_date, as_of) for rule in rules),
        registration_missing=missing,
    )


def worst(standings: Iterable[Standing]) -> Standing:
    return max(standings, key=lambda s: s.rank, default=Standing.OK)


# --- Coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """In-service items whose every required inspection is in date and passed, of all of them."""

    covered: int
    total: int

    @property
    def ratio(self) -> Fraction | None:
        return Fraction(self.covered, self.total) if self.total else None

    @property
    def percent(self) -> Decimal | None:
        """The ratio in percent, two decimals, half up (83.33 for 5 of 6)."""
        if self.ratio is None:
            return None
        exact = Decimal(self.ratio.numerator * 100) / Decimal(self.ratio.denominator)
        return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def meets(self, target: Fraction) -> bool:
        return self.ratio is not None and self.ratio >= target


def coverage_of(standings: Iterable[ItemStanding]) -> Coverage:
    items = list(standings)
    return Coverage(covered=sum(1 for item in items if item.standing.in_date), total=len(items))


def coverage_by(items: Iterable[tuple[K, ItemStanding]]) -> dict[K, Coverage]:
    """Coverage per key (workshop, category, …), keys in first-seen order."""
    groups: dict[K, list[ItemStanding]] = {}
    for key, standing in items:
        groups.setdefault(key, []).append(standing)
    return {key: coverage_of(group) for key, group in groups.items()}


def month_ends(last: date, count: int) -> list[date]:
    """The ends of the ``count`` months up to the one holding ``last`` (that one ends on ``last``
    itself when it is not over yet), oldest first: the points of the monthly trend."""
    first_of_month = last.replace(day=1)
    ends = [min(last, add_months(first_of_month, 1 - k) - timedelta(days=1)) for k in range(count)]
    return sorted(ends)
