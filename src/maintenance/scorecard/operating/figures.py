"""The operating log's figures for the scorecard: 完好率 as of the scope's day, 连运率 and 负荷率
over the months of the scope's year reported up to and including the day's month, each against
the year's target (the group benchmark), for the plant or one workshop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.i18n import gettext as _
from maintenance.scorecard.figures import Figure, ScorecardScope, grouped_source
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.operating import rules, service
from maintenance.scorecard.operating.rules import MonthEntry
from maintenance.scorecard.operating.service import Intactness


def page_link(scope: ScorecardScope) -> str:
    link = f"/scorecard/operating?year={scope.year}&as_of={scope.as_of.isoformat()}"
    return link if scope.workshop_id is None else f"{link}&workshop_id={scope.workshop_id}"


def intactness(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    """完好率 at the end of ``scope.as_of`` (with the registry's current statuses)."""
    counts = service.plant_intactness(service.intactness_by_workshop(session, scope.as_of, scope.workshop_id))
    return _intactness_figure(scope, targets, counts)


def _intactness_counts(session: Session, scope: ScorecardScope, workshop_ids: Sequence[int]) -> dict[int, Intactness]:
    """Each workshop's counts, from the one grouped query (none in service when it has no asset)."""
    counts = service.intactness_by_workshop(session, scope.as_of)
    return {w: counts.get(w, Intactness()) for w in workshop_ids}


def _intactness_figure(scope: ScorecardScope, targets: Mapping[Indicator, Decimal], counts: Intactness) -> Figure:
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


def _last_month(scope: ScorecardScope) -> int | None:
    """The last month of the scope's year reported by its day (None: the year has not begun)."""
    if scope.as_of < date(scope.year, 1, 1):
        return None
    return 12 if scope.as_of.year > scope.year else scope.as_of.month


def _reported(session: Session, scope: ScorecardScope) -> list[MonthEntry]:
    if scope.workshop_id is not None:
        return _reported_by_workshop(session, scope, [scope.workshop_id])[scope.workshop_id]
    last_month = _last_month(scope)
    if last_month is None:
        return []
    rows = service.year_entries(session, scope.year, last_month=last_month)
    return [service.entry_of(row) for row in rows.values()]


def _reported_by_workshop(
    session: Session, scope: ScorecardScope, workshop_ids: Sequence[int]
) -> dict[int, list[MonthEntry]]:
    last_month = _last_month(scope)
    if last_month is None:
        return {w: [] for w in workshop_ids}
    rows = service.year_entries_by_workshop(session, scope.year, workshop_ids, last_month=last_month)
    return {w: [service.entry_of(row) for row in rows[w]] for w in workshop_ids}


def _log_figure(
    scope: ScorecardScope, targets: Mapping[Indicator, Decimal], indicator: Indicator, entries: list[MonthEntry]
) -> Figure:
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
    return _log_figure(scope, targets, Indicator.CONTINUOUS_RUN, _reported(session, scope))


def load_rate(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    """负荷率 over the unit-months of ``scope.year`` reported up to ``scope.as_of``'s month."""
    return _log_figure(scope, targets, Indicator.LOAD, _reported(session, scope))


# Each workshop's figures from one grouped query each.
intactness_by_workshop = grouped_source(_intactness_counts, _intactness_figure)
continuous_run_by_workshop = grouped_source(
    _reported_by_workshop,
    lambda scope, targets, entries: _log_figure(scope, targets, Indicator.CONTINUOUS_RUN, entries),
)
load_rate_by_workshop = grouped_source(
    _reported_by_workshop, lambda scope, targets, entries: _log_figure(scope, targets, Indicator.LOAD, entries)
)
