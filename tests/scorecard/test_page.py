"""The scorecard page (/scorecard) and its home card, through the served app."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets.choices import SpecialCategory
from maintenance.budget.models import BudgetYear
from maintenance.orders.choices import CostKind, OrderType
from maintenance.orders.models import TurnaroundCreate
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.org.models import Role, User
from maintenance.scorecard import sources
from maintenance.scorecard.indicators import Indicator
from tests import factories
from tests.budget.conftest import SYSTEM, MakeOrder, plant
from tests.conftest import login

PAGE = "/scorecard?year=2026&as_of=2026-03-31"


def home_cards(client: TestClient) -> list[str]:
    """Where the home page's cards lead, in order."""
    return re.findall(r'<a class="card h-100[^"]*" href="([^"]+)"', client.get("/").text)


def tile(page: str, code: str) -> str:
    match = re.search(rf'data-testid="tile-{code}" data-state="(\w+)">(.*?)</div>\s*</div>', page, re.S)
    assert match, f"no tile {code}"
    return f"{match[1]} {match[2]}"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN, Role.AUDITOR])
def test_managers_admins_and_auditors_read_the_scorecard(client: TestClient, session: Session, role: Role) -> None:
    login(client, factories.UserFactory(role=role))
    response = client.get(PAGE)
    assert response.status_code == 200
    assert 'data-testid="tile-repair_cost"' in response.text


def test_an_engineer_is_refused_with_the_reason(client: TestClient, engineer: User, in_english: TestClient) -> None:
    login(client, engineer)
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "monthly assessment" in response.text
    assert client.get("/scorecard/card").status_code == 403


def test_an_indicator_without_a_source_says_it_is_not_built_never_zero(
    client: TestClient, manager: User, in_english: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sources.SOURCES, Indicator.ACCIDENT_RATE)
    login(client, manager)
    page = client.get(PAGE).text
    accidents = tile(page, "accident_rate")
    assert accidents.startswith("not_built ")
    assert "Not built yet" in accidents
    assert "0.0 %" not in accidents
    assert 'data-testid="value"' not in accidents


def test_the_page_runs_the_same_number_of_queries_however_many_rows_it_reads(
    client: TestClient,
    session: Session,
    manager: User,
    budget: BudgetYear,
    make_order: MakeOrder,
    count_queries: list[str],
) -> None:
    login(client, manager)
    made = 0

    def add_rows(count: int) -> None:
        """Per row: a workshop with a pump and a pressure vessel, a PM order done with a material
        line, a CBM order raised, and a turnaround holding the PM order."""
        nonlocal made
        for _ in range(count):
            made += 1
            workshop = factories.WorkshopFactory(code=f"Q{made}")
            pump = factories.AssetFactory(workshop_id=workshop.id, tag=f"P-Q{made}")
            factories.AssetFactory(
                workshop_id=workshop.id, tag=f"V-Q{made}", special_category=SpecialCategory.PRESSURE_VESSEL
            )
            done = make_order(
                pump, lines=[(CostKind.MATERIAL, "100", "100")], due_date=date(2026, 3, 1), finished=plant(2026, 3, 2)
            )
            make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 3, 5))
            event = turnarounds.create_turnaround(
                session,
                TurnaroundCreate(
                    code=f"TAQ{made}",
                    name="大修",
                    start_date=date(2026, 4, 1),
                    end_date=date(2026, 4, 30),
                    budget_cny=Decimal("1000.00"),
                    site_id=workshop.site_id,
                ),
                actor=SYSTEM,
            )
            turnarounds.add_to_scope(session, event, done, tie_in=False, actor=SYSTEM)
        session.flush()

    def queries() -> int:
        count_queries.clear()
        response = client.get(PAGE)
        assert response.status_code == 200
        return len(count_queries)

    add_rows(1)
    with_one = queries()
    add_rows(6)
    with_seven = queries()

    assert with_seven == with_one


def test_the_home_page_leads_managers_to_the_scorecard_first(client: TestClient, manager: User) -> None:
    login(client, manager)
    assert home_cards(client)[0] == "/scorecard"
    card = client.get("/scorecard/card?year=2026&as_of=2026-03-31")
    assert card.status_code == 200
    assert 'data-state="green"' in card.text


def test_an_engineer_gets_no_scorecard_card(client: TestClient, engineer: User) -> None:
    login(client, engineer)
    cards = home_cards(client)
    assert "/scorecard" not in cards
    assert "/assets" in cards


def test_a_tile_shows_figure_target_state_in_words_and_links_to_its_page(
    in_english: TestClient, manager: User, budget: BudgetYear
) -> None:
    login(in_english, manager)
    cost = tile(in_english.get(PAGE).text, "repair_cost")
    assert cost.startswith("green ")
    assert 'href="/budget?year=2026&amp;as_of=2026-03-31"' in cost
    assert "On target" in cost
    assert '<p class="fs-4 mb-0" data-testid="value">0.00 10k CNY</p>' in cost
    assert '<span data-testid="target">1,560.00 10k CNY</span>' in cost


@pytest.mark.parametrize(
    ("query", "field"), [("year=26", "Enter the year as a number"), ("year=2026&as_of=2026-02-30", "reference date")]
)
def test_a_bad_year_or_day_is_a_422_naming_it(in_english: TestClient, manager: User, query: str, field: str) -> None:
    login(in_english, manager)
    response = in_english.get(f"/scorecard?{query}")
    assert response.status_code == 422
    assert field in response.text


def test_the_year_navigation_and_the_day_kept_inside_the_year(in_english: TestClient, manager: User) -> None:
    login(in_english, manager)
    page = in_english.get("/scorecard?year=2025&as_of=2026-03-31").text
    assert 'name="as_of" value="2025-12-31"' in page
    assert 'href="/scorecard?year=2024"' in page
    assert 'href="/scorecard?year=2026"' in page
