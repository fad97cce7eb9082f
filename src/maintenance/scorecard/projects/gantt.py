"""The key projects' schedules for the Gantt chart (static/gantt.js, the turnaround's chart, fed
rows with their own labels, tooltips and milestone marks): the year's projects on the list
page, a project's milestones on its page. Dates are ISO strings; a bar's last day is in it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from maintenance.i18n import gettext as _
from maintenance.scorecard.projects import rules
from maintenance.scorecard.projects.models import Milestone
from maintenance.scorecard.projects.service import ProjectRow


def _labels() -> dict[str, str]:
    return {"today": _("Today"), "window": _("Year")}


def _marks(milestones: Sequence[Milestone], today: date) -> list[dict[str, Any]]:
    return [{"date": rules.milestone_forecast(m, today).isoformat(), "done": m.done_on is not None} for m in milestones]


def _project_item(row: ProjectRow, today: date, *, marks: bool) -> dict[str, Any]:
    project, standing = row.project, row.standing
    started = today >= project.start_date or standing.done > 0
    lines = [
        f"{project.code} {project.name}",
        f"{standing.state.label} · "
        + _("%(done)s of %(total)s milestones", done=standing.done, total=standing.milestones),
        _("Planned %(start)s – %(due)s", start=project.start_date.isoformat(), due=project.due_date.isoformat()),
        _("Forecast end %(day)s", day=standing.forecast_end.isoformat()),
    ]
    if standing.slippage_days:
        lines.append(_("Slipping %(n)s days", n=standing.slippage_days))
    return {
        "label": f"{project.code} {project.name}",
        "lines": lines,
        "colour": standing.state.colour,
        "planned_start": project.start_date.isoformat(),
        "planned_finish": project.due_date.isoformat(),
        "actual_start": project.start_date.isoformat() if started else None,
        "actual_finish": max(standing.forecast_end, project.start_date).isoformat() if started else None,
        "actual_open": standing.state != rules.ProjectState.DONE,
        "marks": _marks(row.milestones, today) if marks else [],
        "url": f"/scorecard/projects/{project.id}",
    }


def year_chart(rows: Sequence[ProjectRow], year: int, today: date) -> dict[str, Any]:
    """One bar per project (cancelled ones left out): planned start → due, and start → forecast
    end (solid once done), its milestones marked."""
    shown = [row for row in rows if row.standing.state != rules.ProjectState.CANCELLED]
    items = [_project_item(row, today, marks=True) for row in shown]
    return {
        "rows": items,
        "start": date(year, 1, 1).isoformat(),
        "end": date(year, 12, 31).isoformat(),
        "today": today.isoformat(),
        "labels": _labels(),
    }


def project_chart(row: ProjectRow, today: date) -> dict[str, Any]:
    """The project's bar, then one per milestone: planned from its start (else the previous
    milestone's due date, else the project's start) to its due date; actual to its done date,
    or to its forecast end while it is open and begun."""
    project = row.project
    items = [_project_item(row, today, marks=False)]
    previous = project.start_date
    for milestone in row.milestones:
        start = milestone.start_date or min(previous, milestone.due_date)
        previous = milestone.due_date
        state = rules.milestone_state(milestone, today)
        end = rules.milestone_forecast(milestone, today)
        begun = milestone.done_on is not None or today >= start
        lines = [milestone.name, state.label, _("Due %(day)s", day=milestone.due_date.isoformat())]
        if milestone.done_on is not None:
            lines.append(_("Done %(day)s", day=milestone.done_on.isoformat()))
        slippage = rules.milestone_slippage(milestone, today)
        if slippage:
            lines.append(_("Slipping %(n)s days", n=slippage))
        if milestone.owner:
            lines.append(milestone.owner)
        items.append(
            {
                "label": "  " + milestone.name,
                "lines": lines,
                "colour": state.colour,
                "planned_start": start.isoformat(),
                "planned_finish": milestone.due_date.isoformat(),
                "actual_start": start.isoformat() if begun else None,
                "actual_finish": max(end, start).isoformat() if begun else None,
                "actual_open": milestone.done_on is None,
                "marks": [{"date": end.isoformat(), "done": milestone.done_on is not None}],
                "url": None,
            }
        )
    return {
        "rows": items,
        "start": project.start_date.isoformat(),
        "end": project.due_date.isoformat(),  # the shaded window: a bar past it is late
        "today": today.isoformat(),
        "labels": {"today": _("Today"), "window": _("Project")},
    }
