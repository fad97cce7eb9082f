"""The key projects' figure on the scorecard."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlmodel import Session

from maintenance.i18n import gettext as _
from maintenance.scorecard.figures import Figure, ScorecardScope, grouped_source
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.projects import service
from maintenance.scorecard.projects.rules import ProjectState

# Shares are given to four places (0.6667), as the other figures' fractions.
SHARE = Decimal("0.0001")


def key_projects(session: Session, scope: ScorecardScope, targets: Mapping[Indicator, Decimal]) -> Figure:
    """The share of the year's projects (cancelled ones left out) not slipping as of
    ``scope.as_of``: done, on track or not started yet. None when the year has no project;
    ``detail`` names the slipping ones with their slippage ("2#主变扩容 滞后 12 天")."""
    return _figure(
        scope, targets, service.project_rows(session, scope.year, scope.as_of, workshop_id=scope.workshop_id)
    )


def _figure(scope: ScorecardScope, targets: Mapping[Indicator, Decimal], rows: list[service.ProjectRow]) -> Figure:
    counted = [row for row in rows if row.standing.state != ProjectState.CANCELLED]
    link = f"/scorecard/projects?year={scope.year}"
    target = targets.get(Indicator.PROJECTS)
    if not counted:
        detail = _("no key projects entered for %(year)s", year=scope.year)
        return Figure(Indicator.PROJECTS, None, target, link, detail)
    slipping = [row for row in counted if row.standing.state == ProjectState.SLIPPING]
    value = (Decimal(len(counted) - len(slipping)) / Decimal(len(counted))).quantize(SHARE)
    if slipping:
        detail = " · ".join(
            _("%(name)s slipping %(n)s days", name=row.project.name, n=row.standing.slippage_days) for row in slipping
        )
    else:
        detail = _("%(n)s key projects, none slipping", n=len(counted))
    return Figure(Indicator.PROJECTS, value, target, link, detail)


# Each workshop's :func:`key_projects`, from one reading of the year's projects.
key_projects_by_workshop = grouped_source(
    lambda session, scope, workshop_ids: service.project_rows_by_workshop(
        session, scope.year, scope.as_of, workshop_ids
    ),
    _figure,
)
