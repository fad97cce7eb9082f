"""The certification board against 50% by 30 June and 100% by 31 December: every workshop's
standing on the reference date, the counts, the progress against both milestones, the certified
workshops at each month's end (chart), and the board as XLSX/CSV (``?export=xlsx``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from maintenance import exports as core
from maintenance.as_of import AsOfDep
from maintenance.db import SessionDep
from maintenance.leakfree import charts, overview, rules, service
from maintenance.leakfree.choices import BoardStanding
from maintenance.leakfree.exports import BoardExport
from maintenance.leakfree.routes import exported_by
from maintenance.org.auth import CurrentUser
from maintenance.web import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Milestone:
    """One of the year's milestones as it stands on the reference date."""

    day: date
    percent: int
    required: int
    certified: int
    current: bool  # the milestone the reference date counts towards

    @property
    def reached(self) -> bool:
        return self.certified >= self.required


def milestones_of(progress: service.Progress, by_month: Sequence[tuple[date, int]]) -> list[Milestone]:
    """A milestone already past on the reference date is judged on the workshops certified on its
    own day (30 June is a month end of ``by_month``), not on the reference date's count."""
    certified_on = dict(by_month)
    return [
        Milestone(
            day=day,
            percent=int(share * 100),
            required=rules.required_count(progress.workshops, share),
            certified=certified_on.get(day, progress.certified) if day < progress.as_of else progress.certified,
            current=day == progress.target_date,
        )
        for day, share in rules.milestones(progress.as_of.year)
    ]


def standing_counts(rows: Sequence[overview.WorkshopRow]) -> dict[BoardStanding, int]:
    counts = dict.fromkeys(BoardStanding, 0)
    for row in rows:
        counts[row.status.standing] += 1
    return counts


@router.get("/leakfree/board")
def board_page(request: Request, session: SessionDep, user: CurrentUser, as_of: AsOfDep) -> Response:
    rows = overview.workshop_rows(session, as_of)
    progress = overview.progress_of_rows(rows, as_of)
    export_format = request.query_params.get("export")
    if export_format:
        export = BoardExport(
            session=session, exported_by=exported_by(user), as_of=as_of, workshop_rows=rows, progress=progress
        )
        return export.response(core.check_format(export_format), request)
    by_month = service.certified_by_month(session, as_of.year, as_of)
    return render(
        request,
        "leakfree/overview/board.html",
        {
            "rows": rows,
            "as_of": as_of,
            "progress": progress,
            "counts": standing_counts(rows),
            "standings": BoardStanding,
            "milestones": milestones_of(progress, by_month),
            "chart_option": charts.certified_by_month_option(by_month, progress.workshops, as_of.year),
        },
        block="results",
    )
