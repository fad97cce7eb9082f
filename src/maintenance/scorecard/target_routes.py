"""The year's targets (/scorecard/targets?year=): every indicator with its target for the year,
set or default, shown as suits it (% or 万元). Everyone reads them; managers and admins set them,
all rows at once (an empty field is the default). The repair cost's target is the budget's and
the turnaround's its own budget: the page links there."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from maintenance.budget.allocations import parse_wan_cny
from maintenance.budget.period import BudgetViewDep
from maintenance.db import SessionDep, utcnow
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.auth import CurrentUser, ManagerUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can
from maintenance.scorecard import targets
from maintenance.scorecard.display import shown
from maintenance.scorecard.indicators import DEFAULT_TARGETS, Indicator
from maintenance.scorecard.models import ScorecardTarget
from maintenance.scorecard.states import RULES, Kind
from maintenance.web import FormDep, add_toast, field_errors, redirect, render

router = APIRouter(include_in_schema=False)

WAN = Decimal(10000)
HUNDRED = Decimal(100)
MAX_TARGET_CNY = Decimal(10) ** 12  # Numeric(16, 4): twelve digits before the point
NOTE_LENGTH = 200
_PERCENT_TEXT = re.compile(r"^[+-]?\d{1,3}(?:\.\d{1,2})?$")


def _url(year: int) -> str:
    return f"/scorecard/targets?year={year}"


def value_field(indicator: Indicator) -> str:
    return f"value_{indicator.value}"


def note_field(indicator: Indicator) -> str:
    return f"note_{indicator.value}"


def stamp_field(indicator: Indicator) -> str:
    return f"stamp_{indicator.value}"


def input_text(value: Decimal, kind: Kind) -> str:
    """A stored target as its field shows it: 万元 for money, % for shares and the change."""
    shown_value = value / WAN if kind is Kind.MONEY else value * HUNDRED
    return format(shown_value.normalize(), "f")


@dataclass(frozen=True)
class TargetRow:
    indicator: Indicator
    kind: Kind
    default: Decimal | None
    stored: ScorecardTarget | None
    elsewhere: str | None  # the page the target is kept on, when it is not set here


def _elsewhere(indicator: Indicator, year: int) -> str | None:
    page = targets.KEPT_ELSEWHERE.get(indicator)
    return None if page is None else page.format(year=year)


def _rows(session: Session, year: int) -> list[TargetRow]:
    stored = targets.stored_targets(session, year)
    return [
        TargetRow(
            indicator=indicator,
            kind=RULES[indicator].kind,
            default=DEFAULT_TARGETS.get(indicator),
            stored=stored.get(indicator),
            elsewhere=targets.KEPT_ELSEWHERE[indicator].format(year=year)
            if indicator in targets.KEPT_ELSEWHERE
            else None,
        )
        for indicator in Indicator
    ]


def _stored_values(rows: list[TargetRow]) -> dict[str, str]:
    values = {}
    for row in rows:
        values[stamp_field(row.indicator)] = targets.stamp_of(row.stored)
        if row.stored is not None:
            values[value_field(row.indicator)] = input_text(row.stored.value, row.kind)
            values[note_field(row.indicator)] = row.stored.note
    return values


def _page(
    request: Request,
    session: Session,
    user: User,
    year: int,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rows = _rows(session, year)
    return render(
        request,
        "scorecard/targets.html",
        {
            "year": year,
            "rows": rows,
            "values": values if values is not None else _stored_values(rows),
            "errors": errors or {},
            "may_edit": can(user, Capability.MANAGE),
            "shown": shown,
            "Kind": Kind,
            "value_field": value_field,
            "note_field": note_field,
            "stamp_field": stamp_field,
        },
        status_code=status_code,
    )


@router.get("/scorecard/targets")
def targets_page(request: Request, session: SessionDep, user: CurrentUser, view: BudgetViewDep) -> Response:
    return _page(request, session, user, view.year)


def parse_target(text: str, kind: Kind, label: str) -> Decimal | None:
    """A target typed as the field shows it (万元, or % for shares and the change) as stored;
    None when empty. Refused with a message naming the indicator."""
    typed = text.strip()
    if not typed:
        return None
    if kind is Kind.MONEY:
        try:
            amount = parse_wan_cny(typed, "value")
        except ValidationFailed as error:
            raise ValueError(f"{label}: {error.message}") from None
        if amount is not None and amount >= MAX_TARGET_CNY:
            raise ValueError(_("%(indicator)s: %(value)s is too large.", indicator=label, value=typed))
        return amount
    if not _PERCENT_TEXT.match(typed):
        raise ValueError(
            _(
                "%(indicator)s: %(value)s is not a percentage: enter a number such as 90 or 92.5 "
                "(at most two decimals).",
                indicator=label,
                value=typed,
            )
        )
    percent = Decimal(typed)
    low = Decimal(-100) if kind is Kind.CHANGE else Decimal(0)
    if not low <= percent <= HUNDRED:
        raise ValueError(
            _("%(indicator)s: enter a percentage from %(low)s to 100.", indicator=label, low=format(low, "f"))
        )
    return percent / HUNDRED


def _changes(values: dict[str, str]) -> tuple[list[targets.TargetChange], dict[str, str]]:
    changes, errors = [], {}
    for indicator in targets.EDITABLE:
        kind = RULES[indicator].kind
        try:
            value = parse_target(values.get(value_field(indicator), ""), kind, indicator.label)
        except ValueError as error:
            errors[value_field(indicator)] = str(error)
            continue
        note = values.get(note_field(indicator), "").strip()
        if len(note) > NOTE_LENGTH:
            errors[note_field(indicator)] = _(
                "%(indicator)s: the note has more than %(max)s characters.", indicator=indicator.label, max=NOTE_LENGTH
            )
            continue
        changes.append(targets.TargetChange(indicator, value, note, values.get(stamp_field(indicator), "").strip()))
    return changes, errors


@router.post("/scorecard/targets")
def save_targets(
    request: Request, session: SessionDep, user: ManagerUser, view: BudgetViewDep, form: FormDep
) -> Response:
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    changes, errors = _changes(values)
    if errors:
        return _page(request, session, user, view.year, values, errors, status_code=422)
    try:
        changed = targets.save_targets(session, view.year, changes, actor=user, now=utcnow())
    except Conflict as conflict:
        rows = _rows(session, view.year)
        return _page(
            request,
            session,
            user,
            view.year,
            _stored_values(rows),
            {**field_errors(conflict.errors), "__all__": conflict.message},
            409,
        )
    if changed:
        add_toast(request, _("The %(year)s targets are saved.", year=view.year))
    else:
        add_toast(request, _("Nothing changed."), "info")
    return redirect(request, _url(view.year))
