"""The monthly workshop assessment (车间考核): every workshop of the plant, every indicator's
figure for it as of the month's last day (the monthly report's month, :func:`report.report_month`),
judged against the year's target, with the points, the score and the rank of
:mod:`maintenance.scorecard.assessment_rules`; and its spreadsheet, one row per workshop.

Queries: a fixed number whatever the workshops and the rows they read (orders, cost lines,
entries): the targets once, the workshops once, then each indicator's grouped source
(:data:`~maintenance.scorecard.sources.WORKSHOP_SOURCES`) once for every workshop together. The
turnaround, the plant's, is not read at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from maintenance import exports as core
from maintenance.exports import ExportColumn
from maintenance.i18n import NP_, translate
from maintenance.i18n import gettext as _
from maintenance.org.models import Workshop
from maintenance.org.service import list_workshops
from maintenance.scorecard import assessment_rules as rules
from maintenance.scorecard.display import shown
from maintenance.scorecard.figures import Figure, FigureSource, ScorecardScope, per_workshop
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.report import ReportMonth
from maintenance.scorecard.service import GROUPS, NOT_BUILT_TEXT
from maintenance.scorecard.sources import SOURCES, WORKSHOP_SOURCES
from maintenance.scorecard.states import JUDGED, RULES, Kind, State, judge
from maintenance.scorecard.targets import targets_of_year

# The indicators in the scorecard's order (its groups).
INDICATORS: tuple[Indicator, ...] = tuple(indicator for group in GROUPS for indicator in group.indicators)


@dataclass(frozen=True)
class Cell:
    """One workshop's indicator: its figure (None when not computed per workshop), its state,
    the points earned (None: not assessed) and, when not assessed, why."""

    indicator: Indicator
    figure: Figure | None
    state: State | None  # None: plant-wide, not judged per workshop
    points: Decimal | None
    reason: str = ""  # a msgid (not assessed per workshop) or the figure's own detail

    @property
    def weight(self) -> int:
        return rules.WEIGHTS.get(self.indicator, 0)

    @property
    def kind(self) -> Kind:
        return RULES[self.indicator].kind

    @property
    def assessed(self) -> bool:
        return self.points is not None

    def value_text(self) -> str:
        return "–" if self.figure is None else shown(self.figure.value, self.kind)

    def target_text(self) -> str:
        return "–" if self.figure is None or self.figure.target is None else shown(self.figure.target, self.kind)


@dataclass(frozen=True)
class WorkshopRow:
    workshop: Workshop
    cells: list[Cell]
    rank: int = 0

    @property
    def earned(self) -> Decimal:
        return sum((cell.points for cell in self.cells if cell.points is not None), Decimal(0))

    @property
    def assessed_weight(self) -> int:
        return sum(cell.weight for cell in self.cells if cell.assessed)

    @property
    def score(self) -> Decimal | None:
        return rules.score(self.earned, self.assessed_weight)

    @property
    def not_assessed(self) -> int:
        return sum(1 for cell in self.cells if not cell.assessed)


@dataclass(frozen=True)
class Assessment:
    period: ReportMonth
    rows: list[WorkshopRow]  # in ranking order


def cell_of(indicator: Indicator, figure: Figure | None) -> Cell:
    """A workshop's cell from its figure (None: the indicator's part is not built)."""
    if indicator in rules.PLANT_WIDE:
        return Cell(indicator, None, None, None, rules.PLANT_WIDE[indicator])
    if figure is None:
        return Cell(indicator, None, State.NOT_BUILT, None, NOT_BUILT_TEXT)
    state = judge(figure)
    if indicator in rules.PLANT_TARGET:
        return Cell(indicator, figure, state, None, rules.PLANT_TARGET[indicator])
    if state not in JUDGED:
        return Cell(indicator, figure, state, None, figure.detail)
    return Cell(indicator, figure, state, rules.points(state, rules.WEIGHTS[indicator]))


def assess(
    session: Session, period: ReportMonth, sources: Mapping[Indicator, FigureSource] | None = None
) -> Assessment:
    """Every workshop's row, in ranking order (see the module's docstring for the queries), from
    ``sources`` (the scorecard's :data:`~maintenance.scorecard.sources.SOURCES` unless given; a
    source without a grouped form is asked once per workshop)."""
    sources = SOURCES if sources is None else sources
    targets = targets_of_year(session, period.year)
    workshops = list_workshops(session)
    workshop_ids = [workshop.id for workshop in workshops if workshop.id is not None]
    scope = ScorecardScope(period.year, period.as_of)
    figures = {
        indicator: WORKSHOP_SOURCES.get(source, per_workshop(source))(session, scope, workshop_ids, targets)
        for indicator, source in sources.items()
        if indicator not in rules.PLANT_WIDE
    }
    rows = []
    for workshop in workshops:
        assert workshop.id is not None
        cells = [cell_of(i, figures[i][workshop.id] if i in figures else None) for i in INDICATORS]
        rows.append(WorkshopRow(workshop, cells))
    by_code = {row.workshop.code: row for row in rows}
    ranked = rules.ranks([(row.workshop.code, row.score) for row in rows])
    return Assessment(
        period,
        [WorkshopRow(by_code[code].workshop, by_code[code].cells, rank) for code, rank in ranked],
    )


# --- The spreadsheet ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorColumn(ExportColumn):
    """A column of one indicator: its header is the indicator's label and what the column holds."""

    indicator: Indicator = Indicator.REPAIR_COST

    def header(self, locale: str) -> str:
        name = self.indicator.zh if locale.startswith("zh") else self.indicator.en
        return f"{name} · {translate(locale, self.label)}"


FIGURE = NP_("scorecard assessment", "Figure")
STATE = NP_("scorecard assessment", "State")

COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("rank", NP_("scorecard assessment", "Rank"), kind="int", width=6),
    ExportColumn("workshop", NP_("scorecard assessment", "Workshop"), width=20),
    ExportColumn("score", NP_("scorecard assessment", "Score"), width=8),
    ExportColumn("not_assessed", NP_("scorecard assessment", "Indicators not assessed"), kind="int", width=10),
    *(
        column
        for indicator in INDICATORS
        for column in (
            IndicatorColumn(f"{indicator.value}_figure", FIGURE, width=14, indicator=indicator),
            IndicatorColumn(f"{indicator.value}_state", STATE, width=12, indicator=indicator),
        )
    ),
)


@dataclass(kw_only=True)
class AssessmentExport(core.ComputedExport):
    """One row per workshop in ranking order: rank, workshop, score, then each indicator's figure
    as the page shows it and its state ("not assessed" with the reason when it is not)."""

    columns = COLUMNS
    title = NP_("scorecard assessment", "Monthly workshop assessment")
    sheet_name = NP_("scorecard assessment", "Assessment")
    file_stem = NP_("scorecard assessment", "workshop-assessment")
    temp_prefix = "scorecard-assessment-"

    assessment: Assessment

    def state_text(self, cell: Cell) -> str:
        if cell.state is None:
            return self.text(NP_("scorecard assessment", "Plant-wide"))
        label = cell.state.zh if self.zh else cell.state.en
        if cell.assessed:
            return label
        return f"{label} ({self.text(NP_('scorecard assessment', 'not assessed'))})"

    def __post_init__(self) -> None:
        rows: list[tuple[Any, ...]] = []
        for row in self.assessment.rows:
            score = row.score
            cells: list[str] = []
            for cell in row.cells:
                cells += [cell.value_text(), self.state_text(cell)]
            rows.append(
                (
                    row.rank,
                    f"{row.workshop.code} {row.workshop.name}",
                    "–" if score is None else f"{score:.1f}",
                    row.not_assessed,
                    *cells,
                )
            )
        self.computed = rows

    def filter_text(self) -> str:
        return self.text(NP_("scorecard assessment", "Every workshop"))

    def scope_entries(self) -> list[tuple[str, Any]]:
        period = self.assessment.period
        return [
            (self.text(NP_("scorecard assessment", "Month")), f"{period.year}-{period.month:02}"),
            (self.text(NP_("scorecard assessment", "As of")), period.as_of),
            *super().scope_entries(),
        ]

    def file_scope(self) -> str:
        period = self.assessment.period
        return f"_{period.year}-{period.month:02}"

    @property
    def file_day(self) -> date:
        return self.assessment.period.as_of


def reason_text(cell: Cell) -> str:
    """Why a cell is not assessed, in the page's language (a msgid of the rules, or the figure's
    own detail already translated)."""
    if cell.indicator in rules.PLANT_WIDE or cell.indicator in rules.PLANT_TARGET or cell.state is State.NOT_BUILT:
        return _(cell.reason)
    return cell.reason
