"""The operating log's figures for the scorecard: 完好率 as of the scope's day, 连运率 and 负荷率
over the months of the scope's year reported up to and including the day's month, each against
the year's target (the group benchmark), for the plant or one workshop."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.i18n import gettext as _
from maintenance.scorecard.figures import Figure, ScorecardScope
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.operating import rules, service
from maintenance.scorecard.operating.rules import MonthEntry


def page_link(scope: ScorecardScope) -> str:
    link = f"/scorecard/operating?year={scope.year}&as_of={scope.as_of.isoformat()}"
    return link if scope.workshop_id is None else f"{link}&workshop_id={scope.workshop_id}"


def intactness(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    """完好率 at the end of ``scope.as_of`` (with the registry's current statuses)."""
    counts = service.plant_intactness(service.intactness_by_workshop(session, scope.as_of, scope.workshop_id))
    value = rules.intactness_rate(counts.intact, counts.in_service)
    if value is None:
        detail = _("No asset in service.")
    else:
        detail = _(
            "%(intact)s of %(total)s assets in service intact on %(day)s.",
            intact=counts.intact,
            total=counts.in_service,
            day=scope.as_of.isoformat(),
        )
    return Figure(Indicator.INTACTNESS, value, targets.get(Indicator.INTACTNESS), page_link(scope), detail)


def _reported(session: Session, scope: ScorecardScope) -> list[MonthEntry]:
    if scope.as_of < date(scope.year, 1, 1):
        return []
    last_month = 12 if scope.as_of.year > scope.year else scope.as_of.month
    unit_ids = None
    if scope.workshop_id is not None:
        unit_ids = [unit.id for unit in service.log_units(session, scope.workshop_id)]
    rows = service.year_entries(session, scope.year, unit_ids, last_month=last_month)
    return [service.entry_of(row) for row in rows.values()]


def _log_figure(
    session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal], indicator: Indicator
) -> Figure:
    entries = _reported(session, scope)
    link, target = page_link(scope), targets.get(indicator)
    if not entries:
        return Figure(indicator, None, target, link, _("No operating log for %(year)s yet.", year=scope.year))
    if indicator is Indicator.CONTINUOUS_RUN:
        value = rules.continuous_run_rate(entries)
        empty = _("No running hours planned in the months reported.")
    else:
        value = rules.load_rate(entries)
        empty = _("No unit ran in the months reported.")
    detail = _("%(n)s unit-months reported.", n=len(entries)) if value is not None else empty
    return Figure(indicator, value, target, link, detail)


def continuous_run(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    """连运率 over the unit-months of ``scope.year`` reported up to ``scope.as_of``'s month."""
    return _log_figure(session, scope, targets, Indicator.CONTINUOUS_RUN)


def load_rate(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    """负荷率 over the unit-months of ``scope.year`` reported up to ``scope.as_of``'s month."""
    return _log_figure(session, scope, targets, Indicator.LOAD)
