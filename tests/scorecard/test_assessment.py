"""The monthly workshop assessment (/scorecard/assessment?year=&month=): every workshop, every
indicator's figure for it judged against its target, points by weight, a score out of 100 over the
weight assessed, and a rank; its spreadsheet; who sees which cells.

Most tests feed the assessment figures of their own (``stub_sources``: one figure per workshop code
and indicator, "no data" for the rest) so that every state and every score is chosen by hand. The
weights used: repair cost 20, intactness 10, PM compliance 8, condition-based share 8, load 5.
The plant's today is 5 December 2026."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.budget.models import BudgetYear
from maintenance.orders.choices import CostCategory, CostKind, OrderType
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from maintenance.scorecard import assessment, routes
from maintenance.scorecard import assessment_rules as rules
from maintenance.scorecard.accidents.models import Accident, AccidentClass
from maintenance.scorecard.figures import Figure, FigureSource, ScorecardScope
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.operating.models import OperatingMonth
from maintenance.scorecard.projects.models import Milestone, Project
from maintenance.scorecard.report import report_month
from maintenance.scorecard.savings.models import SavingsEntry, SavingsKind
from maintenance.scorecard.states import State
from tests import factories
from tests.budget.conftest import MakeOrder, plant
from tests.conftest import login

DECEMBER_5 = date(2026, 12, 5)
NOVEMBER = report_month("2026", "11", DECEMBER_5)
PAGE = "/scorecard/assessment?year=2026&month=11"


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr(routes, "plant_today", lambda: DECEMBER_5)
    return DECEMBER_5


# Figures by the state they are chosen to have (see states.RULES: every share's band is between
# 2 and 25 points, the repair cost's 5 % of its target).
def green(indicator: Indicator) -> tuple[str, str | None]:
    return ("1000000", "1000000") if indicator is Indicator.REPAIR_COST else ("0.90", "0.90")


def amber(indicator: Indicator) -> tuple[str, str | None]:
    return ("1020000", "1000000") if indicator is Indicator.REPAIR_COST else ("0.89", "0.90")


def red(indicator: Indicator) -> tuple[str, str | None]:
    return ("1200000", "1000000") if indicator is Indicator.REPAIR_COST else ("0.50", "0.90")


Stub = dict[tuple[str, Indicator], Callable[[Indicator], tuple[str, str | None]]]


def stub_sources(session: Session, stub: Stub) -> Mapping[Indicator, FigureSource]:
    """A source per indicator giving the stubbed figure of the scope's workshop, or no data ("none
    recorded"). The turnaround's is never to be asked: it is plant-wide."""

    def source_of(indicator: Indicator) -> FigureSource:
        def source(_session: Session, scope: ScorecardScope, _targets: Mapping[Indicator, Decimal]) -> Figure:
            assert indicator is not Indicator.TURNAROUND, "the turnaround is not asked per workshop"
            workshop = session.get(Workshop, scope.workshop_id)
            assert workshop is not None
            made = stub.get((workshop.code, indicator))
            if made is None:
                return Figure(indicator, None, Decimal("0.90"), "/x", "none recorded")
            value, target = made(indicator)
            return Figure(indicator, Decimal(value), None if target is None else Decimal(target), "/x", "stub")

        return source

    return {indicator: source_of(indicator) for indicator in Indicator}


def no_target(indicator: Indicator) -> tuple[str, str | None]:
    return ("0.95", None)


# SYN: repair cost green (20 of 20), intactness amber (5 of 10), PM compliance red (0 of 8);
# the condition-based share has no data and special coverage no target (not assessed), and the
# refurbish savings are green but their target is the plant's (not assessed):
# 25 points of 38 assessed = 65.789… → 65.8. UTL: condition-based share and load green, 13 of 13
# → 100.0. ZZZ: nothing at all.
SMALL_CASE: Stub = {
    ("SYN", Indicator.REPAIR_COST): green,
    ("SYN", Indicator.INTACTNESS): amber,
    ("SYN", Indicator.PM_COMPLIANCE): red,
    ("SYN", Indicator.SPECIAL_COVERAGE): no_target,
    ("SYN", Indicator.REFURBISH_SAVINGS): green,
    ("UTL", Indicator.CBM_SHARE): green,
    ("UTL", Indicator.LOAD): green,
}


@pytest.fixture
def three_workshops(session: Session) -> tuple[Workshop, Workshop, Workshop]:
    return (
        factories.WorkshopFactory(code="SYN", name="合成车间"),
        factories.WorkshopFactory(code="UTL", name="公用工程车间"),
        factories.WorkshopFactory(code="ZZZ", name="空车间"),
    )


@pytest.fixture
def small_case(
    session: Session, monkeypatch: pytest.MonkeyPatch, three_workshops: tuple[Workshop, Workshop, Workshop]
) -> tuple[Workshop, Workshop, Workshop]:
    monkeypatch.setattr(assessment, "SOURCES", stub_sources(session, SMALL_CASE))
    return three_workshops


# --- The rules ----------------------------------------------------------------------------------


def test_the_weights_make_100_and_every_indicator_is_weighted_or_said_why_not() -> None:
    assert sum(rules.WEIGHTS.values()) == 100
    plant = set(rules.PLANT_WIDE) | set(rules.PLANT_TARGET)
    assert set(rules.WEIGHTS) | plant == set(Indicator)
    assert not set(rules.WEIGHTS) & plant
    assert set(rules.PLANT_WIDE) == {Indicator.TURNAROUND}


@pytest.mark.parametrize(
    ("state", "weight", "points"),
    [
        (State.GREEN, 8, Decimal(8)),
        (State.AMBER, 7, Decimal("3.5")),
        (State.RED, 20, Decimal(0)),
        (State.NO_DATA, 8, None),
        (State.NO_TARGET, 8, None),
        (State.NOT_BUILT, 8, None),
    ],
)
def test_green_earns_the_weight_amber_half_red_none(state: State, weight: int, points: Decimal | None) -> None:
    assert rules.points(state, weight) == points


def test_the_score_is_out_of_the_weight_assessed_to_one_decimal() -> None:
    assert rules.score(Decimal(25), 38) == Decimal("65.8")
    assert rules.score(Decimal("3.5"), 7) == Decimal("50.0")
    assert rules.score(Decimal(2), 3) == Decimal("66.7")
    assert rules.score(Decimal(0), 0) is None


def test_equal_scores_share_a_rank_then_go_by_code_and_the_unscored_come_last() -> None:
    ranked = rules.ranks(
        [
            ("B", Decimal("80.0")),
            ("E", None),
            ("A", Decimal("80.0")),
            ("C", Decimal("90.0")),
            ("D", None),
            ("F", Decimal("70.0")),
        ]
    )
    assert ranked == [("C", 1), ("A", 2), ("B", 2), ("F", 4), ("D", 5), ("E", 5)]


# --- The assessment ----------------------------------------------------------------------------


def test_a_small_case_scores_and_ranks_by_hand(session: Session, small_case: tuple[Workshop, ...]) -> None:
    result = assessment.assess(session, NOVEMBER)

    assert [(row.workshop.code, row.rank, row.score) for row in result.rows] == [
        ("UTL", 1, Decimal("100.0")),
        ("SYN", 2, Decimal("65.8")),
        ("ZZZ", 3, None),
    ]
    syn = result.rows[1]
    cells = {cell.indicator: cell for cell in syn.cells}
    assert (cells[Indicator.REPAIR_COST].state, cells[Indicator.REPAIR_COST].points) == (State.GREEN, Decimal(20))
    assert (cells[Indicator.INTACTNESS].state, cells[Indicator.INTACTNESS].points) == (State.AMBER, Decimal(5))
    assert (cells[Indicator.PM_COMPLIANCE].state, cells[Indicator.PM_COMPLIANCE].points) == (State.RED, Decimal(0))
    assert (cells[Indicator.CBM_SHARE].state, cells[Indicator.CBM_SHARE].points) == (State.NO_DATA, None)
    assert cells[Indicator.CBM_SHARE].reason == "none recorded"
    assert (cells[Indicator.SPECIAL_COVERAGE].state, cells[Indicator.SPECIAL_COVERAGE].points) == (
        State.NO_TARGET,
        None,
    )
    refurbish = cells[Indicator.REFURBISH_SAVINGS]
    assert (refurbish.state, refurbish.points) == (State.GREEN, None)
    assert cells[Indicator.TURNAROUND].figure is None
    assert (syn.earned, syn.assessed_weight) == (Decimal(25), 38)
    # 15 indicators, 3 assessed.
    assert syn.not_assessed == 12


def test_a_workshop_without_any_data_is_listed_unscored_and_last(
    session: Session, small_case: tuple[Workshop, ...]
) -> None:
    empty = assessment.assess(session, NOVEMBER).rows[-1]
    assert empty.workshop.code == "ZZZ"
    assert empty.score is None
    assert empty.not_assessed == 15
    assert all(not cell.assessed for cell in empty.cells)


def test_equal_scores_share_a_rank_on_the_page(
    in_english: TestClient, session: Session, manager: User, today: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    for code in ("B2", "A1", "C3"):
        factories.WorkshopFactory(code=code)
    stub: Stub = {
        ("B2", Indicator.LOAD): green,
        ("A1", Indicator.CBM_SHARE): green,
        ("C3", Indicator.LOAD): red,
    }
    monkeypatch.setattr(assessment, "SOURCES", stub_sources(session, stub))
    login(in_english, manager)

    page = in_english.get(PAGE).text

    def rank_and_score(code: str) -> tuple[str, str]:
        row = page.split(f'data-testid="workshop-{code}"')[1].split("</tr>")[0]
        rank = row.split('data-testid="rank">')[1].split("<")[0]
        score = row.split('data-testid="score">')[1].split("<")[0]
        return rank, score

    assert [rank_and_score(code) for code in ("A1", "B2", "C3")] == [("1", "100.0"), ("1", "100.0"), ("3", "0.0")]
    assert page.index('data-testid="workshop-A1"') < page.index('data-testid="workshop-B2"')


# --- The page ------------------------------------------------------------------------------------


def row_of(page: str, code: str) -> str:
    return page.split(f'data-testid="workshop-{code}"')[1].split("</tr>")[0]


def cell_of(row: str, indicator: Indicator) -> str:
    return row.split(f'data-testid="cell-{indicator.value}"')[1].split("</td>")[0]


def test_the_manager_sees_every_cell_with_its_state_in_words_and_why_one_is_not_assessed(
    in_english: TestClient, manager: User, today: date, small_case: tuple[Workshop, ...]
) -> None:
    login(in_english, manager)
    response = in_english.get(PAGE)
    assert response.status_code == 200
    page = response.text
    assert "Workshop assessment, November 2026" in page

    syn = row_of(page, "SYN")
    assert 'data-testid="rank">2<' in syn
    assert 'data-testid="score">65.8<' in syn
    assert 'data-testid="not-assessed">12<' in syn
    intactness = cell_of(syn, Indicator.INTACTNESS)
    assert 'data-state="amber"' in intactness
    assert "89.0 %" in intactness
    assert "Near target" in intactness
    assert "5 of 10 points" in intactness
    cbm = cell_of(syn, Indicator.CBM_SHARE)
    assert "No data yet" in cbm
    assert "Not assessed: none recorded" in cbm
    refurbish = cell_of(syn, Indicator.REFURBISH_SAVINGS)
    assert "the target is the plant&#39;s, not divided among the workshops" in refurbish
    turnaround = cell_of(syn, Indicator.TURNAROUND)
    assert "Plant-wide, not assessed per workshop" in turnaround

    zzz = row_of(page, "ZZZ")
    assert 'data-testid="rank">3<' in zzz
    assert 'data-testid="score">—<' in zzz
    assert 'data-testid="not-assessed">15<' in zzz


@pytest.fixture
def engineer_of_syn(session: Session, engineer: User, small_case: tuple[Workshop, ...]) -> User:
    session.add(UserWorkshop(user_id=engineer.id, workshop_id=small_case[0].id))  # type: ignore[arg-type]
    session.flush()
    return engineer


def test_an_engineer_sees_the_ranking_of_all_and_the_cells_of_their_own_workshop_only(
    in_english: TestClient, engineer_of_syn: User, today: date
) -> None:
    login(in_english, engineer_of_syn)
    response = in_english.get(PAGE)
    assert response.status_code == 200
    page = response.text

    syn, utl = row_of(page, "SYN"), row_of(page, "UTL")
    assert 'data-testid="score">65.8<' in syn
    assert "Near target" in cell_of(syn, Indicator.INTACTNESS)
    assert 'data-testid="rank">1<' in utl
    assert 'data-testid="score">100.0<' in utl
    assert cell_of(utl, Indicator.CBM_SHARE).endswith(">—")
    assert "On target" not in utl
    assert "export=xlsx" not in page


def test_an_engineer_may_not_export_every_workshops_figures(
    in_english: TestClient, engineer_of_syn: User, today: date
) -> None:
    login(in_english, engineer_of_syn)
    response = in_english.get(f"{PAGE}&export=xlsx")
    assert response.status_code == 403
    assert "managers, admins and auditors export it" in response.text


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_auditors_and_admins_see_every_cell(
    client: TestClient, today: date, small_case: tuple[Workshop, ...], role: Role
) -> None:
    login(client, factories.UserFactory(role=role))
    page = client.get(PAGE).text
    assert 'data-state="hidden"' not in page
    assert 'data-state="amber"' in row_of(page, "SYN")


def test_anonymous_visitors_are_sent_to_log_in(client: TestClient) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["location"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=2026&month=13", "Enter the month as a number from 1 to 12."),
        ("year=2026&month=x", "Enter the month as a number from 1 to 12."),
        ("year=2027&month=1", "The report for 2027-01 cannot be drawn yet: choose a month up to 2026-12."),
        ("year=2026&month=11&export=pdf", "csv or xlsx"),
    ],
)
def test_a_bad_month_or_format_is_a_422_naming_it(
    in_english: TestClient, manager: User, today: date, query: str, message: str
) -> None:
    login(in_english, manager)
    response = in_english.get(f"/scorecard/assessment?{query}")
    assert response.status_code == 422
    assert message in response.text


def test_the_scorecard_and_the_monthly_report_link_to_the_assessment(
    in_english: TestClient, manager: User, today: date, budget: BudgetYear
) -> None:
    login(in_english, manager)
    scorecard = in_english.get("/scorecard?year=2026&as_of=2026-11-30").text
    assert 'href="/scorecard/assessment?year=2026&month=11"' in scorecard.replace("&amp;", "&")
    report = in_english.get("/scorecard/report?year=2026&month=11").text
    assert 'href="/scorecard/assessment?year=2026&month=11"' in report.replace("&amp;", "&")


# --- The spreadsheet ---------------------------------------------------------------------------


HEADER_START = ["Rank", "Workshop", "Score", "Indicators not assessed", "Repair cost · Figure", "Repair cost · State"]


def test_the_spreadsheet_has_a_row_per_workshop_in_rank_order(
    in_english: TestClient, manager: User, today: date, small_case: tuple[Workshop, ...]
) -> None:
    login(in_english, manager)
    response = in_english.get(f"{PAGE}&export=xlsx")

    assert response.status_code == 200
    assert "workshop-assessment_2026-11_2026-11-30.xlsx" in response.headers["content-disposition"]
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    about = {row[0]: row[1] for row in workbook.get_sheet_by_index(0).to_python() if len(row) > 1 and row[0]}
    assert about["Month"] == "2026-11"
    rows = workbook.get_sheet_by_index(1).to_python()
    header = rows[0]
    assert header[:6] == HEADER_START
    # rank, workshop, score, not assessed, then a figure and a state per indicator
    assert len(header) == 4 + 2 * 15
    by_workshop = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert [row[1] for row in rows[1:]] == ["UTL 公用工程车间", "SYN 合成车间", "ZZZ 空车间"]
    syn = by_workshop["SYN 合成车间"]
    assert (int(syn["Rank"]), syn["Score"], int(syn["Indicators not assessed"])) == (2, "65.8", 12)
    assert (syn["Repair cost · Figure"], syn["Repair cost · State"]) == ("100.00 10k CNY", "On target")
    assert (syn["Equipment intactness · Figure"], syn["Equipment intactness · State"]) == ("89.0 %", "Near target")
    assert (syn["PM compliance · Figure"], syn["PM compliance · State"]) == ("50.0 %", "Off target")
    assert syn["Condition-based share of orders · State"] == "No data yet (not assessed)"
    assert syn["Refurbish-and-reuse savings · State"] == "On target (not assessed)"
    assert (syn["Turnaround progress · Figure"], syn["Turnaround progress · State"]) == ("–", "Plant-wide")
    zzz = by_workshop["ZZZ 空车间"]
    assert (int(zzz["Rank"]), zzz["Score"], int(zzz["Indicators not assessed"])) == (3, "–", 15)


def test_the_csv_has_the_same_rows(
    in_english: TestClient, manager: User, today: date, small_case: tuple[Workshop, ...]
) -> None:
    login(in_english, manager)
    response = in_english.get(f"{PAGE}&export=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:6] == HEADER_START
    assert [row[:3] for row in rows[1:]] == [
        ["1", "UTL 公用工程车间", "100.0"],
        ["2", "SYN 合成车间", "65.8"],
        ["3", "ZZZ 空车间", "–"],
    ]


# --- Queries ------------------------------------------------------------------------------------


def test_the_queries_are_as_many_for_five_workshops_as_for_two_whatever_the_rows(
    client: TestClient,
    session: Session,
    manager: User,
    today: date,
    budget: BudgetYear,
    make_order: MakeOrder,
    allocate: Callable[..., object],
    count_queries: list[str],
) -> None:
    """Each workshop has a year plan, orders (PM with material and labour lines, condition-based),
    an accident, a savings entry, a key project with a milestone and a unit with an operating log;
    the page and its spreadsheet run the same number of queries with two workshops as with five,
    and as many again when the workshops hold more orders."""
    login(client, manager)
    assets: list[Asset] = []

    def add_orders(asset: Asset, count: int) -> None:
        for n in range(count):
            make_order(
                asset,
                lines=[(CostKind.MATERIAL, "100", "100"), (CostKind.LABOUR, "50", "60")],
                due_date=date(2026, 3, 1),
                finished=plant(2026, 3, 2 + n),
            )
            make_order(asset, lines=[], order_type=OrderType.CBM, raised=plant(2026, 3, 5 + n))

    def add_workshop(code: str) -> None:
        workshop = factories.WorkshopFactory(code=code)
        asset = factories.AssetFactory(workshop_id=workshop.id)
        unit = factories.UnitFactory(workshop_id=workshop.id)
        allocate(workshop, CostCategory.MATERIALS, 3, "1000.00")
        add_orders(asset, 1)
        project = Project(year=2026, code=f"KP-{code}", name=f"项目{code}", start_date=date(2026, 1, 1),
                          due_date=date(2026, 6, 30), workshop_id=workshop.id)  # fmt: skip
        session.add(project)
        session.flush()
        session.add_all(
            [
                Milestone(project_id=project.id, name="投运", due_date=date(2026, 3, 20)),  # type: ignore[arg-type]
                Accident(
                    occurred_on=date(2026, 2, 1),
                    asset_id=asset.id,  # type: ignore[arg-type]
                    workshop_id=workshop.id,
                    accident_class=AccidentClass.GENERAL,
                    title="机封泄漏",
                    downtime_hours=Decimal(0),
                ),
                SavingsEntry(
                    kind=SavingsKind.TENDER,
                    recorded_on=date(2026, 2, 1),
                    workshop_id=workshop.id,
                    description="比价",
                    quantity=Decimal(1),
                    reference_price_cny=Decimal(200),
                    actual_price_cny=Decimal(150),
                    saving_cny=Decimal(50),
                ),
                OperatingMonth(
                    unit_id=unit.id,  # type: ignore[arg-type]
                    month=date(2026, 3, 1),
                    hours_run=Decimal(700),
                    planned_hours=Decimal(744),
                    load_pct=Decimal(90),
                ),
            ]
        )
        session.flush()
        assets.append(asset)

    def queries(export: str = "") -> int:
        count_queries.clear()
        response = client.get(f"/scorecard/assessment?year=2026&month=3{export}")
        assert response.status_code == 200
        return len(count_queries)

    for code in ("A", "B"):
        add_workshop(code)
    page_with_two, export_with_two = queries(), queries("&export=xlsx")
    for asset in assets:
        add_orders(asset, 6)
    session.flush()

    assert (queries(), queries("&export=xlsx")) == (page_with_two, export_with_two)

    for code in ("C", "D", "E"):
        add_workshop(code)

    assert (queries(), queries("&export=xlsx")) == (page_with_two, export_with_two)


def test_with_the_real_sources_a_workshop_with_nothing_recorded_is_judged_on_what_it_has(
    session: Session, workshop: Workshop
) -> None:
    """No accidents this year (nor last) meets the accident target: green, 12 of 12; no leak-free
    certificate is 0 % against the milestone: red, 0 of 8; the repair cost has no plan (no target)
    and the rest no data. 12 of 20 = 60.0, 13 indicators not assessed."""
    row = assessment.assess(session, NOVEMBER).rows[0]
    states = {cell.indicator: cell.state for cell in row.cells if cell.assessed}
    assert states == {Indicator.ACCIDENT_RATE: State.GREEN, Indicator.LEAKFREE: State.RED}
    assert (row.score, row.not_assessed) == (Decimal("60.0"), 13)
