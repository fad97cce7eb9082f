"""The savings ledgers' figures on the scorecard (:data:`maintenance.scorecard.figures.FigureSource`):
each ledger's savings from 1 January of the scope's year through its day, for the plant or one
workshop, judged against the share of the year's target due by that day
(:func:`rules.target_due`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.i18n import format_wan_cny
from maintenance.i18n import gettext as _
from maintenance.scorecard.figures import Figure, ScorecardScope, WorkshopFigureSource, grouped_source
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.savings.ledger import LedgerTotal, savings_totals, savings_totals_by_workshop
from maintenance.scorecard.savings.models import SavingsKind
from maintenance.scorecard.savings.rules import target_due

LIST = "/scorecard/savings"
INDICATOR_OF: dict[SavingsKind, Indicator] = {
    SavingsKind.REFURBISH: Indicator.REFURBISH_SAVINGS,
    SavingsKind.LOCALISATION: Indicator.LOCALISATION_SAVINGS,
    SavingsKind.TENDER: Indicator.TENDER_SAVINGS,
}


def ledger_link(kind: SavingsKind, year: int, workshop_id: int | None = None) -> str:
    link = f"{LIST}?kind={kind.value}&year={year}"
    return link if workshop_id is None else f"{link}&workshop_id={workshop_id}"


def year_target_text(year_target: Decimal | None) -> str:
    """The year's target as the scorecard names it: 全年目标 100.00 万元, or that there is none."""
    if year_target is None:
        return _("No target set")
    return _("Year target %(target)s", target=format_wan_cny(year_target))


def savings_figure(
    session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal], kind: SavingsKind
) -> Figure:
    """One ledger's figure (one query)."""
    start, end = _days(scope)
    return _figure(scope, targets, kind, savings_totals(session, start, end, scope.workshop_id)[kind])


def _days(scope: ScorecardScope) -> tuple[date, date]:
    """1 January of the scope's year through its day (or the year's end)."""
    return date(scope.year, 1, 1), min(scope.as_of, date(scope.year, 12, 31))


def _figure(
    scope: ScorecardScope, targets: Mapping[Indicator, Decimal], kind: SavingsKind, total: LedgerTotal
) -> Figure:
    indicator = INDICATOR_OF[kind]
    year_target = targets.get(indicator)
    return Figure(
        indicator=indicator,
        value=total.total_cny,
        target=None if year_target is None else target_due(year_target, scope.year, scope.as_of),
        link=ledger_link(kind, scope.year, scope.workshop_id),
        detail=year_target_text(year_target),
    )


def refurbish_savings(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    return savings_figure(session, scope, targets, SavingsKind.REFURBISH)


def localisation_savings(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    return savings_figure(session, scope, targets, SavingsKind.LOCALISATION)


def tender_savings(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    return savings_figure(session, scope, targets, SavingsKind.TENDER)


def _ledger_by_workshop(kind: SavingsKind) -> WorkshopFigureSource:
    """One ledger's figure of each workshop (one query for them all)."""

    def read(session: Session, scope: ScorecardScope, workshop_ids: Sequence[int]) -> dict[int, LedgerTotal]:
        start, end = _days(scope)
        return {w: totals[kind] for w, totals in savings_totals_by_workshop(session, start, end, workshop_ids).items()}

    return grouped_source(read, lambda scope, targets, total: _figure(scope, targets, kind, total))


refurbish_savings_by_workshop = _ledger_by_workshop(SavingsKind.REFURBISH)
localisation_savings_by_workshop = _ledger_by_workshop(SavingsKind.LOCALISATION)
tender_savings_by_workshop = _ledger_by_workshop(SavingsKind.TENDER)
