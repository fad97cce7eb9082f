"""The scorecard's figures read from the domains already built, and the list of every source.

Each function is a :data:`~maintenance.scorecard.figures.FigureSource`: it reads the owning
domain's service (the figure is defined there, never again here) for the year to the scope's day
and, where the domain can, for the scope's workshop. :data:`SOURCES` is the one list the scorecard
reads: an indicator missing from it shows a tile that says its part is not built yet. Adding a
part's source is one line there.

Each indicator the monthly assessment judges per workshop (all but the turnaround, which is the
plant's) also has a :data:`~maintenance.scorecard.figures.WorkshopFigureSource` in
:data:`WORKSHOP_SOURCES`: every workshop's figure from one reading of its domain, built by the same
function as the one-scope figure (a one-workshop scope reads the domain as a group of one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlmodel import Session, col, select

from maintenance.budget.service import BudgetReport, budget_report
from maintenance.i18n import format_number, format_wan_cny
from maintenance.i18n import gettext as _
from maintenance.leakfree import rules as leakfree_rules
from maintenance.leakfree import service as leakfree
from maintenance.orders.choices import OrderType
from maintenance.orders.kpis import service as kpis
from maintenance.orders.models import Turnaround
from maintenance.orders.periods import Period
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.scorecard.accidents import figures as accidents_figures
from maintenance.scorecard.figures import (
    Figure,
    FigureSource,
    ScorecardScope,
    WorkshopFigureSource,
    grouped_source,
    one_workshop,
)
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.operating import figures as operating_figures
from maintenance.scorecard.projects import figures as projects_figures
from maintenance.scorecard.savings import figures as savings_figures
from maintenance.special import rules as special_rules
from maintenance.special import service as special

Targets = Mapping[Indicator, Decimal]


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part`` ÷ ``whole`` exactly as a Decimal; None without a whole."""
    return Decimal(part) / Decimal(whole) if whole else None


def from_fraction(share: Fraction) -> Decimal:
    return Decimal(share.numerator) / Decimal(share.denominator)


def percent(share: Decimal | None) -> str:
    """0.8333… → "83.3 %" (one decimal, as the tiles show it)."""
    return "" if share is None else f"{format_number(share * 100, 1)} %"


def year_to_date(scope: ScorecardScope) -> Period:
    return Period(date(scope.year, 1, 1), scope.as_of)


def _kpi_link(scope: ScorecardScope) -> str:
    link = f"/orders/kpis?start_date={scope.year}-01-01&end_date={scope.as_of.isoformat()}"
    return link if scope.workshop_id is None else f"{link}&workshop_id={scope.workshop_id}"


# --- 1 key target: the repair cost -----------------------------------------------------------


def repair_cost(session: Session, scope: ScorecardScope, targets: Targets) -> Figure:
    """The budget's year-end forecast against the year's target (a workshop's: its year plan)."""
    if scope.workshop_id is not None:
        return one_workshop(repair_cost_by_workshop, session, scope, targets)
    report = budget_report(session, scope.year, scope.as_of)
    return _repair_cost_figure(scope, report, None, report.target)


def repair_cost_by_workshop(
    session: Session, scope: ScorecardScope, workshop_ids: Sequence[int], targets: Targets
) -> dict[int, Figure]:
    """Each workshop's forecast against its year plan, from one budget report of them all."""
    report = budget_report(session, scope.year, scope.as_of, workshop_ids=workshop_ids)
    return {w: _repair_cost_figure(scope, report, w, report.plan.sum(workshop_id=w) or None) for w in workshop_ids}


def _repair_cost_figure(
    scope: ScorecardScope, report: BudgetReport, workshop_id: int | None, target: Decimal | None
) -> Figure:
    variance = report.variance(workshop_id=workshop_id)
    return Figure(
        indicator=Indicator.REPAIR_COST,
        value=report.forecast(workshop_id=workshop_id).value,
        target=target,
        link=f"/budget?year={scope.year}&as_of={scope.as_of.isoformat()}",
        detail=_(
            "Year-end forecast. Actual to date %(actual)s of plan to date %(plan)s.",
            actual=format_wan_cny(variance.actual),
            plan=format_wan_cny(variance.plan),
        ),
    )


# --- 2 focuses: condition-based maintenance and the turnaround --------------------------------


def cbm_share(session: Session, scope: ScorecardScope, targets: Targets) -> Figure:
    """Condition-based orders ÷ all orders raised in the year to date (the KPI page's order mix)."""
    return _cbm_figure(scope, targets, kpis.order_mix(session, year_to_date(scope), scope.workshop_id))


def _cbm_figure(scope: ScorecardScope, targets: Targets, mix: kpis.OrderMix) -> Figure:
    cbm, total = mix.totals[OrderType.CBM], mix.total
    share = ratio(cbm.count, total.count)
    detail = (
        _(
            "%(cbm)s of %(total)s orders raised this year; %(cost)s of their cost.",
            cbm=cbm.count,
            total=total.count,
            cost=percent(ratio(cbm.cost_cny, total.cost_cny)) or "–",
        )
        if share is not None
        else _("No orders raised this year yet.")
    )
    return Figure(Indicator.CBM_SHARE, share, targets.get(Indicator.CBM_SHARE), _kpi_link(scope), detail)


def monthly_cbm_shares(session: Session, scope: ScorecardScope) -> list[tuple[str, Decimal | None]]:
    """The condition-based share of each month of the year to date (the tile's trend line)."""
    mix = kpis.order_mix(session, year_to_date(scope), scope.workshop_id)
    return [
        (month.label, ratio(month.by_type[OrderType.CBM].count, sum(c.count for c in month.by_type.values())))
        for month in mix.months
    ]


def turnaround(session: Session, scope: ScorecardScope, targets: Targets) -> Figure:
    """The year's turnaround(s): the scope's actual cost against the budget, progress beside it.
    The scope is the orders tagged to it as they stand (the turnaround keeps no history), and its
    budget is the plant's: a workshop is shown the plant's figure."""
    year_start, year_end = date(scope.year, 1, 1), date(scope.year, 12, 31)
    events = list(
        session.exec(
            select(Turnaround)
            .where(col(Turnaround.start_date) <= year_end, col(Turnaround.end_date) >= year_start)
            .order_by(col(Turnaround.start_date))
        )
    )
    if not events:
        return Figure(Indicator.TURNAROUND, None, None, "/turnarounds", _("No turnaround this year."))
    totals = turnarounds.scope_totals(session, [event.id for event in events if event.id is not None])
    orders = sum(totals[e.id].orders for e in events if e.id in totals)
    done = sum(totals[e.id].done for e in events if e.id in totals)
    actual = sum((totals[e.id].actual_cny for e in events if e.id in totals), Decimal("0.00"))
    budget = sum((e.budget_cny for e in events), Decimal("0.00"))
    link = f"/turnarounds/{events[0].id}" if len(events) == 1 else "/turnarounds"
    return Figure(
        indicator=Indicator.TURNAROUND,
        value=actual,
        target=budget or None,
        link=link,
        detail=_(
            "%(codes)s: %(done)s of %(orders)s orders done (%(progress)s); actual cost against the budget.",
            codes=", ".join(e.code for e in events),
            done=done,
            orders=orders,
            progress=percent(ratio(done, orders)) or "–",
        ),
    )


# --- 4 projects: the leak-free plant ---------------------------------------------------------


def leakfree_certified(session: Session, scope: ScorecardScope, targets: Targets) -> Figure:
    """Workshops with a certificate in force ÷ workshops, against the milestone in force: half the
    year's target through 30 June, the whole of it from 1 July (the plan's 50 % / 100 %)."""
    if scope.workshop_id is not None:
        return one_workshop(leakfree_certified_by_workshop, session, scope, targets)
    progress = leakfree.progress_of(leakfree.workshop_statuses(session, scope.as_of), scope.as_of)
    return _leakfree_figure(scope, targets, progress)


def _leakfree_progress_by_workshop(
    session: Session, scope: ScorecardScope, workshop_ids: Sequence[int]
) -> dict[int, leakfree.Progress]:
    """Each workshop's own progress (1 of 1 certified, or 0 of 1), from one reading of them all."""
    statuses = leakfree.workshop_statuses(session, scope.as_of, workshop_ids)
    return {w: leakfree.progress_of([s for s in statuses if s.workshop.id == w], scope.as_of) for w in workshop_ids}


def _leakfree_figure(scope: ScorecardScope, targets: Targets, progress: leakfree.Progress) -> Figure:
    year_target = targets.get(Indicator.LEAKFREE)
    in_force = leakfree_rules.target_share(scope.as_of) / leakfree_rules.YEAR_SHARE
    target = None if year_target is None else year_target * from_fraction(in_force)
    return Figure(
        indicator=Indicator.LEAKFREE,
        value=None if progress.share is None else from_fraction(progress.share),
        target=target,
        link=f"/leakfree/board?as_of={scope.as_of.isoformat()}",
        detail=_(
            "%(certified)s of %(workshops)s workshops certified; %(target)s due by %(due)s "
            "(the year's target: %(year)s).",
            certified=progress.certified,
            workshops=progress.workshops,
            target=percent(target),
            due=progress.target_date.isoformat(),
            year=percent(year_target),
        ),
    )


# --- 5 works: special equipment ----------------------------------------------------------------


def special_coverage(session: Session, scope: ScorecardScope, targets: Targets) -> Figure:
    """In-service special equipment inspected, in date and passed ÷ all of it, on the day."""
    if scope.workshop_id is not None:
        return one_workshop(special_coverage_by_workshop, session, scope, targets)
    items = special.register_items(session, scope.as_of)
    return _special_figure(scope, targets, special.coverage_report(items, scope.as_of).overall)


def _coverage_by_workshop(
    session: Session, scope: ScorecardScope, workshop_ids: Sequence[int]
) -> dict[int, special_rules.Coverage]:
    """Each workshop's coverage (none counted without special equipment), from one reading."""
    items = special.register_items(session, scope.as_of, workshop_ids=workshop_ids)
    by_workshop = special.coverage_report(items, scope.as_of).by_workshop
    return {w: by_workshop.get(w, special_rules.coverage_of([])) for w in workshop_ids}


def _special_figure(scope: ScorecardScope, targets: Targets, coverage: special_rules.Coverage) -> Figure:
    return Figure(
        indicator=Indicator.SPECIAL_COVERAGE,
        value=None if coverage.ratio is None else from_fraction(coverage.ratio),
        target=targets.get(Indicator.SPECIAL_COVERAGE),
        link=f"/special-equipment/coverage?as_of={scope.as_of.isoformat()}",
        detail=_(
            "%(covered)s of %(total)s items in service inspected and in date.",
            covered=coverage.covered,
            total=coverage.total,
        ),
    )


# --- Measures: PM compliance and 计划对口率 ----------------------------------------------------


def pm_compliance(session: Session, scope: ScorecardScope, targets: Targets) -> Figure:
    """PM orders due in the year to date finished by their due date ÷ PM orders due (SMRP)."""
    return _pm_figure(scope, targets, kpis.pm_compliance(session, year_to_date(scope), scope.workshop_id))


def _pm_figure(scope: ScorecardScope, targets: Targets, compliance: kpis.PmCompliance) -> Figure:
    share = ratio(compliance.on_time, compliance.due)
    detail = (
        _(
            "%(on_time)s of %(due)s PM orders due this year done on time.",
            on_time=compliance.on_time,
            due=compliance.due,
        )
        if share is not None
        else _("No PM orders due this year yet.")
    )
    return Figure(Indicator.PM_COMPLIANCE, share, targets.get(Indicator.PM_COMPLIANCE), _kpi_link(scope), detail)


def material_match(session: Session, scope: ScorecardScope, targets: Targets) -> Figure:
    """计划对口率: material lines issued as planned ÷ lines with a planned quantity, on the orders
    completed in the year to date."""
    return _material_figure(scope, targets, kpis.material_kpis(session, year_to_date(scope), scope.workshop_id))


def _material_figure(scope: ScorecardScope, targets: Targets, materials: kpis.MaterialKpis) -> Figure:
    share = ratio(materials.matching_lines, materials.planned_lines)
    detail = (
        _(
            "%(matching)s of %(planned)s planned material lines issued as planned.",
            matching=materials.matching_lines,
            planned=materials.planned_lines,
        )
        if share is not None
        else _("No completed order with planned materials this year yet.")
    )
    return Figure(Indicator.MATERIAL_MATCH, share, targets.get(Indicator.MATERIAL_MATCH), _kpi_link(scope), detail)


# Every indicator's source. A part of the programme adds its own here, one line each; an
# indicator without one shows "not built yet", never a zero.
SOURCES: dict[Indicator, FigureSource] = {
    Indicator.REPAIR_COST: repair_cost,
    Indicator.CBM_SHARE: cbm_share,
    Indicator.TURNAROUND: turnaround,
    Indicator.LEAKFREE: leakfree_certified,
    Indicator.SPECIAL_COVERAGE: special_coverage,
    Indicator.PM_COMPLIANCE: pm_compliance,
    Indicator.MATERIAL_MATCH: material_match,
    Indicator.REFURBISH_SAVINGS: savings_figures.refurbish_savings,
    Indicator.LOCALISATION_SAVINGS: savings_figures.localisation_savings,
    Indicator.TENDER_SAVINGS: savings_figures.tender_savings,
    Indicator.PROJECTS: projects_figures.key_projects,
    Indicator.ACCIDENT_RATE: accidents_figures.accident_rate,
    Indicator.INTACTNESS: operating_figures.intactness,
    Indicator.CONTINUOUS_RUN: operating_figures.continuous_run,
    Indicator.LOAD: operating_figures.load_rate,
}

# Every workshop's figure from one reading of its domain for all of them.
leakfree_certified_by_workshop = grouped_source(_leakfree_progress_by_workshop, _leakfree_figure)
special_coverage_by_workshop = grouped_source(_coverage_by_workshop, _special_figure)
cbm_share_by_workshop = grouped_source(
    lambda session, scope, workshop_ids: kpis.order_mix_by_workshop(session, year_to_date(scope), workshop_ids),
    _cbm_figure,
)
pm_compliance_by_workshop = grouped_source(
    lambda session, scope, workshop_ids: kpis.pm_compliance_by_workshop(session, year_to_date(scope), workshop_ids),
    _pm_figure,
)
material_match_by_workshop = grouped_source(
    lambda session, scope, workshop_ids: kpis.material_kpis_by_workshop(session, year_to_date(scope), workshop_ids),
    _material_figure,
)

# The grouped form of each source the monthly assessment asks per workshop, by the source it
# groups: a source given in its place (a test's) has none and is asked once per workshop.
WORKSHOP_SOURCES: dict[FigureSource, WorkshopFigureSource] = {
    repair_cost: repair_cost_by_workshop,
    cbm_share: cbm_share_by_workshop,
    leakfree_certified: leakfree_certified_by_workshop,
    special_coverage: special_coverage_by_workshop,
    pm_compliance: pm_compliance_by_workshop,
    material_match: material_match_by_workshop,
    savings_figures.refurbish_savings: savings_figures.refurbish_savings_by_workshop,
    savings_figures.localisation_savings: savings_figures.localisation_savings_by_workshop,
    savings_figures.tender_savings: savings_figures.tender_savings_by_workshop,
    projects_figures.key_projects: projects_figures.key_projects_by_workshop,
    accidents_figures.accident_rate: accidents_figures.accident_rate_by_workshop,
    operating_figures.intactness: operating_figures.intactness_by_workshop,
    operating_figures.continuous_run: operating_figures.continuous_run_by_workshop,
    operating_figures.load_rate: operating_figures.load_rate_by_workshop,
}
