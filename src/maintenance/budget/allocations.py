"""Writing a budget year's plan (managers): the target and the baseline years' actual cost (one
version-checked form), one cell of the allocation grid, and the whole allocation replaced by an
imported plan. Every write is in the change log.

Amounts reach the services in 元 (``Decimal``); managers type them in 万元 with up to six decimal
places (to the fen), read by :func:`parse_wan_cny` exactly (× 10000, never through a float).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.budget import service
from maintenance.budget.models import Allocation, BaselineYear, BudgetYear, BudgetYearFields
from maintenance.db import utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.orders.choices import CostCategory
from maintenance.orders.models import MAX_CNY
from maintenance.org.models import Workshop
from maintenance.org.permissions import Capability, require

WAN = Decimal(10000)
# Numeric(16, 2): fourteen digits before the point in 元, ten in 万元.
_WAN_TEXT = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")


def parse_wan_cny(text: str, field: str) -> Decimal | None:
    """An amount typed in 万元 ("1560", "1,560.5", "0.000001") as 元, exactly; None when empty.
    Refused, naming ``field``: not a number, negative, more than six decimals (finer than the
    fen), too large."""
    typed = text.strip()
    if not typed:
        return None

    def refuse(message: str) -> ValidationFailed:
        return ValidationFailed(message, [FieldError(field, message)])

    if typed.startswith("-") and _WAN_TEXT.match(typed[1:]):
        raise refuse(_("%(value)s is negative: enter 0 or more.", value=typed))
    match = _WAN_TEXT.match(typed)
    if match is None:
        raise refuse(_("%(value)s is not an amount in 10k CNY: enter a number such as 12.5.", value=typed))
    if match.group(1) and len(match.group(1)) > 6:
        raise refuse(_("%(value)s has more than six decimal places: 10k CNY go to the fen at 0.000001.", value=typed))
    amount = Decimal(typed.replace(",", "")) * WAN
    if amount > MAX_CNY:
        raise refuse(_("%(value)s is too large.", value=typed))
    return amount.quantize(Decimal("0.01"))


# --- The target and its baseline ------------------------------------------------------------


@dataclass(frozen=True)
class TargetInput:
    """The target form: the year's target and note, each baseline year's actual cost (None: not
    known, removed if it was stored) and the version of the year the form was loaded from (None
    for a year not set yet)."""

    fields: BudgetYearFields
    baselines: Mapping[int, Decimal | None]
    version: int | None


def _stale_target() -> Conflict:
    return Conflict(
        _("Someone else changed this budget year's target while you were editing it. Review and edit again."),
        [FieldError("version", _("stale"))],
    )


def set_target(session: Session, year: int, data: TargetInput, *, actor: Actor) -> BudgetYear:
    """Create or edit the budget year ``year`` and record its baseline years. An edit from a
    version other than the stored one is a :class:`Conflict` and nothing is written (a savepoint:
    the route answers the conflict and the request's transaction commits)."""
    require(actor, Capability.MANAGE)
    with session.begin_nested():
        budget = service.budget_year(session, year)
        if budget is None:
            budget = _create_year(session, year, data, actor=actor)
        else:
            _edit_year(session, budget, data, actor=actor)
        _record_baselines(session, data.baselines, actor=actor)
    return budget


def _create_year(session: Session, year: int, data: TargetInput, *, actor: Actor) -> BudgetYear:
    if data.version is not None:  # the form was of a stored year: it cannot have gone
        raise _stale_target()
    budget = BudgetYear(year=year, **data.fields.model_dump())
    try:
        with session.begin_nested():
            session.add(budget)
            session.flush()
    except IntegrityError:  # someone created the year at the same moment
        raise _stale_target() from None
    audit.record_create(session, actor, budget)
    return budget


def _edit_year(session: Session, budget: BudgetYear, data: TargetInput, *, actor: Actor) -> None:
    if data.version != budget.version:
        raise _stale_target()
    before = audit.snapshot(budget)
    with versioned_write(session, budget, _stale_target):
        budget.sqlmodel_update(data.fields.model_dump())
        changed = audit.snapshot(budget) != before
        if changed:
            budget.version += 1
            budget.updated_at = utcnow()
    if changed:
        audit.record_update(session, actor, budget, before)


def _record_baselines(session: Session, actuals: Mapping[int, Decimal | None], *, actor: Actor) -> None:
    stored = {b.year: b for b in session.exec(select(BaselineYear).where(col(BaselineYear.year).in_(list(actuals))))}
    for year, actual in actuals.items():
        baseline = stored.get(year)
        if baseline is None and actual is not None:
            baseline = BaselineYear(year=year, actual_cny=actual)
            try:
                with session.begin_nested():
                    session.add(baseline)
                    session.flush()
            except IntegrityError:  # someone recorded the year at the same moment
                raise _stale_target() from None
            audit.record_create(session, actor, baseline)
        elif baseline is not None and actual is None:
            audit.record_delete(session, actor, baseline)
            session.delete(baseline)
        elif baseline is not None and baseline.actual_cny != actual:
            before = audit.snapshot(baseline)
            baseline.actual_cny, baseline.updated_at = actual, utcnow()  # type: ignore[assignment]
            session.flush()
            audit.record_update(session, actor, baseline, before)
    session.flush()


# --- The allocation -------------------------------------------------------------------------


@dataclass(frozen=True)
class CellKey:
    """A cell of the grid: a workshop's category in a month (1–12)."""

    workshop_id: int
    category: CostCategory
    month: int


def _require_budget(budget: BudgetYear | None) -> BudgetYear:
    if budget is None:
        raise ValidationFailed(_("Set the year's target before allocating it."))
    return budget


def save_cell(session: Session, budget: BudgetYear | None, key: CellKey, amount_cny: Decimal, *, actor: Actor) -> None:
    """Plan ``amount_cny`` in one cell; 0 removes the cell's row (a cell without one plans nothing)."""
    require(actor, Capability.MANAGE)
    budget = _require_budget(budget)
    if session.get(Workshop, key.workshop_id) is None:
        raise ValidationFailed(_("No such workshop."), [FieldError("workshop_id", _("No such workshop."))])
    cell = session.exec(
        select(Allocation).where(
            col(Allocation.budget_year_id) == budget.id,
            col(Allocation.workshop_id) == key.workshop_id,
            col(Allocation.category) == key.category,
            col(Allocation.month) == key.month,
        )
    ).first()
    try:
        with session.begin_nested():
            _write_cell(session, budget, key, cell, amount_cny, actor=actor)
    except IntegrityError:  # someone saved the same new cell at the same moment
        raise Conflict(_("Someone else saved this cell at the same moment. Reload the grid.")) from None


def _write_cell(
    session: Session,
    budget: BudgetYear,
    key: CellKey,
    cell: Allocation | None,
    amount_cny: Decimal,
    *,
    actor: Actor,
) -> None:
    if cell is None:
        if amount_cny:
            cell = Allocation(
                budget_year_id=budget.id,  # type: ignore[arg-type]
                workshop_id=key.workshop_id,
                category=key.category,
                month=key.month,
                amount_cny=amount_cny,
            )
            session.add(cell)
            session.flush()
            audit.record_create(session, actor, cell)
    elif not amount_cny:
        audit.record_delete(session, actor, cell)
        session.delete(cell)
        session.flush()
    elif cell.amount_cny != amount_cny:
        before = audit.snapshot(cell)
        cell.amount_cny, cell.updated_at = amount_cny, utcnow()
        session.flush()
        audit.record_update(session, actor, cell, before)


@dataclass(frozen=True)
class PlanChanges:
    created: int
    updated: int
    deleted: int


def replace_allocation(
    session: Session, budget: BudgetYear | None, plan: Mapping[CellKey, Decimal], *, actor: Actor
) -> PlanChanges:
    """Make the year's allocation exactly ``plan`` (zero cells plan nothing): cells it does not
    name are removed, the others created or changed. Only what changes is written and logged."""
    require(actor, Capability.MANAGE)
    budget = _require_budget(budget)
    stored = {
        CellKey(c.workshop_id, c.category, c.month): c
        for c in session.exec(select(Allocation).where(col(Allocation.budget_year_id) == budget.id))
    }
    wanted = {key: amount for key, amount in plan.items() if amount}
    unchanged = sum(1 for key, cell in stored.items() if wanted.get(key) == cell.amount_cny)
    try:
        with session.begin_nested():
            for key, cell in stored.items():
                if key not in wanted:
                    _write_cell(session, budget, key, cell, Decimal(0), actor=actor)
            for key, amount in wanted.items():
                _write_cell(session, budget, key, stored.get(key), amount, actor=actor)
    except (IntegrityError, StaleDataError):  # a cell was saved or removed on the grid meanwhile
        raise Conflict(
            _("The allocation changed on the grid while the file was imported: nothing was written. Import it again.")
        ) from None
    return PlanChanges(
        created=len(wanted.keys() - stored.keys()),
        updated=len(wanted.keys() & stored.keys()) - unchanged,
        deleted=len(stored.keys() - wanted.keys()),
    )
