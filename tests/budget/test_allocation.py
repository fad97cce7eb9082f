"""The target form and the allocation grid, through the served app, on hand-computed cases: the
target and baselines typed in 万元 and stored in 元 exactly, the baseline average and the change
shown, a stale form refused; a saved cell answering with every total it changes, an invalid one
refused with nothing written, an emptied one removed; who may use them."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.budget.models import Allocation, BaselineYear, BudgetYear
from maintenance.db import plant_today
from maintenance.orders.choices import CostCategory
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.conftest import login

TARGET = "/budget/2026/target"
CELL = "/budget/2026/allocation/cell"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


def _changes(session: Session, object_type: str) -> list[ChangeAction]:
    stmt = (
        select(ObjectChange.action).where(col(ObjectChange.object_type) == object_type).order_by(col(ObjectChange.id))
    )
    return list(session.exec(stmt))


def _cells(session: Session) -> dict[tuple[str, CostCategory, int], Decimal]:
    rows = session.exec(
        select(Workshop.code, Allocation.category, Allocation.month, Allocation.amount_cny).join(Workshop)
    )
    return {(code, category, month): amount for code, category, month, amount in rows}


def _text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert match, f"no #{element_id} in {html[:2000]}"
    return match.group(1).strip()


# --- The target -------------------------------------------------------------------------------


def _target_form(token: str, **fields: str) -> dict[str, str]:
    form = {
        "target": "1560",
        "note": "降本50%",
        "baseline_2023": "3000",
        "baseline_2024": "3200",
        "baseline_2025": "3160",
    }
    return {"csrf_token": token, **form, **fields}


def test_a_manager_sets_the_target_and_sees_the_baseline_average_and_the_change(
    client: TestClient, session: Session, manager: User
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")

    response = client.post(TARGET, data=_target_form(token, baseline_2025="3160.000001"))

    assert response.status_code == 303
    budget = session.exec(select(BudgetYear).where(BudgetYear.year == 2026)).one()
    assert (budget.target_cny, budget.note, budget.version) == (Decimal("15600000.00"), "降本50%", 1)
    baselines = session.exec(select(BaselineYear.year, BaselineYear.actual_cny).order_by(col(BaselineYear.year)))
    assert list(baselines) == [
        (2023, Decimal("30000000.00")),
        (2024, Decimal("32000000.00")),
        (2025, Decimal("31600000.01")),
    ]
    assert _changes(session, "budget_year") == [ChangeAction.CREATE]
    assert _changes(session, "budget_baseline") == [ChangeAction.CREATE] * 3
    page = client.get(TARGET).text
    # (30000000 + 32000000 + 31600000.01) / 3 = 31200000.003… → 31200000.00 = 3,120.00 万元;
    # (15600000 − 31200000) / 31200000 = −50.0 %.
    assert "3,120.00" in _text_of(page, "baseline-value")
    assert _text_of(page, "change-value") == "-50.0 %"
    assert 'value="3160.000001"' in page  # the baseline shown as typed, to the fen


def test_editing_the_target_moves_its_version_on_and_removes_an_emptied_baseline(
    client: TestClient, session: Session, manager: User, budget: BudgetYear
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")

    response = client.post(
        TARGET, data=_target_form(token, target="1,500.123456", version="1", baseline_2023="", note="修订")
    )

    assert response.status_code == 303
    session.refresh(budget)
    assert (budget.target_cny, budget.note, budget.version) == (Decimal("15001234.56"), "修订", 2)
    assert session.exec(select(BaselineYear.year).order_by(col(BaselineYear.year))).all() == [2024, 2025]
    assert _changes(session, "budget_year") == [ChangeAction.UPDATE]
    assert _changes(session, "budget_baseline") == [ChangeAction.DELETE]
    page = client.get(TARGET).text
    assert _text_of(page, "change-value") == "—"  # no baseline without all three years


def test_a_stale_target_form_is_a_conflict_and_nothing_is_saved(
    client: TestClient, session: Session, manager: User, budget: BudgetYear
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")
    assert client.post(TARGET, data=_target_form(token, target="1600", version="1")).status_code == 303

    response = client.post(TARGET, data=_target_form(token, target="1400", version="1"))

    assert response.status_code == 409
    assert 'data-testid="conflict"' in response.text
    session.refresh(budget)
    assert (budget.target_cny, budget.version) == (Decimal("16000000.00"), 2)


@pytest.mark.parametrize(
    ("field", "typed", "reason"),
    [
        ("target", "-5", "negative"),
        ("target", "1.2345678", "six decimal places"),
        ("target", "abc", "not an amount"),
        ("target", "", "Enter the year"),
        ("baseline_2024", "1e5", "not an amount"),
    ],
)
def test_a_bad_amount_is_refused_naming_the_field_and_nothing_is_saved(
    client: TestClient, session: Session, manager: User, field: str, typed: str, reason: str
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")

    response = client.post(TARGET, data=_target_form(token, **{field: typed}))

    assert response.status_code == 422
    help_text = r'(<div class="form-text">[^<]*</div>\s*)?'
    marked = rf'id="f-{field}"[^>]*>\s*{help_text}<div class="invalid-feedback d-block">[^<]*{reason}'
    assert re.search(marked, response.text)
    assert session.exec(select(func.count()).select_from(BudgetYear)).one() == 0
    assert session.exec(select(func.count()).select_from(BaselineYear)).one() == 0


# --- The grid ---------------------------------------------------------------------------------


def test_allocation_without_a_year_goes_to_this_year(client: TestClient, manager: User) -> None:
    login(client, manager)
    response = client.get("/budget/allocation")
    assert (response.status_code, response.headers["location"]) == (303, f"/budget/{plant_today().year}/allocation")


def test_the_grid_of_a_year_without_a_target_says_so_and_links_to_the_target_form(
    client: TestClient, manager: User
) -> None:
    login(client, manager)
    page = client.get("/budget/2026/allocation").text
    assert 'data-testid="no-target"' in page
    assert 'href="/budget/2026/target"' in page
    assert "budget-cell" not in page


AllocateFn = Callable[..., Allocation]


def test_a_saved_cell_answers_with_every_total_it_changes(
    client: TestClient,
    session: Session,
    manager: User,
    workshop: Workshop,
    other_workshop: Workshop,
    allocate: AllocateFn,
) -> None:
    allocate(workshop, CostCategory.MATERIALS, 1, "1000000.00")  # 100万
    allocate(workshop, CostCategory.LABOUR, 2, "300000.00")  # 30万
    allocate(other_workshop, CostCategory.LABOUR, 1, "500000.00")  # 50万
    token = login(client, manager)
    client.cookies.set("lang", "en")

    form = {"csrf_token": token, "workshop_id": workshop.id, "category": "labour", "month": "1", "amount": " 25.5 "}
    response = client.post(CELL, data=form, headers=HTMX)

    assert response.status_code == 200, response.text
    assert _cells(session)[("SYN", CostCategory.LABOUR, 1)] == Decimal("255000.00")
    html = response.text
    assert re.search(rf'id="cell-{workshop.id}-labour-1".*?value="25.50"', html, re.S)
    # SYN labour: 25.5 + 30 = 55.50; SYN in January: 100 + 25.5 = 125.50; SYN's year: 155.50;
    # January: 100 + 25.5 + 50 = 175.50; the grid: 205.50; unallocated: 1560 − 205.5 = 1,354.50.
    assert _text_of(html, f"row-{workshop.id}-labour") == "55.50"
    assert _text_of(html, f"sub-{workshop.id}-1") == "125.50"
    assert _text_of(html, f"sub-{workshop.id}-year") == "155.50"
    assert _text_of(html, "month-1") == "175.50"
    assert _text_of(html, "grid-total") == "205.50"
    assert _text_of(html, "grid-unallocated") == "1,354.50"
    assert html.count('hx-swap-oob="true"') == 6
    assert _changes(session, "budget_allocation") == [ChangeAction.CREATE]


def test_a_cell_over_the_target_shows_the_unallocated_in_red(
    client: TestClient, session: Session, manager: User, workshop: Workshop, allocate: AllocateFn
) -> None:
    allocate(workshop, CostCategory.TURNAROUND, 9, "15000000.00")
    token = login(client, manager)
    client.cookies.set("lang", "en")

    form = {"csrf_token": token, "workshop_id": workshop.id, "category": "turnaround", "month": "9", "amount": "1600"}
    html = client.post(CELL, data=form, headers=HTMX).text

    assert _text_of(html, "grid-unallocated") == "-40.00"
    assert re.search(r'class="text-end text-danger" id="grid-unallocated"', html)
    assert _changes(session, "budget_allocation") == [ChangeAction.UPDATE]


@pytest.mark.parametrize("typed", ["12.3456789", "-3", "十万"])
def test_an_invalid_cell_is_marked_with_the_reason_and_nothing_is_written(
    client: TestClient, session: Session, manager: User, workshop: Workshop, allocate: AllocateFn, typed: str
) -> None:
    allocate(workshop, CostCategory.MATERIALS, 3, "100.00")
    token = login(client, manager)
    client.cookies.set("lang", "en")

    form = {"csrf_token": token, "workshop_id": workshop.id, "category": "materials", "month": "3", "amount": typed}
    response = client.post(CELL, data=form, headers=HTMX)

    assert response.status_code == 422
    assert "is-invalid" in response.text
    assert 'data-testid="cell-error"' in response.text
    assert f'value="{typed}"' in response.text  # what was typed stays, to be corrected
    assert "hx-swap-oob" not in response.text
    assert _cells(session) == {("SYN", CostCategory.MATERIALS, 3): Decimal("100.00")}
    assert _changes(session, "budget_allocation") == []


@pytest.mark.parametrize("typed", ["", "0", "0.00"])
def test_emptying_a_cell_removes_its_row(
    client: TestClient, session: Session, manager: User, workshop: Workshop, allocate: AllocateFn, typed: str
) -> None:
    allocate(workshop, CostCategory.SPARES, 4, "80000.00")
    token = login(client, manager)
    client.cookies.set("lang", "en")

    form = {"csrf_token": token, "workshop_id": workshop.id, "category": "spares", "month": "4", "amount": typed}
    response = client.post(CELL, data=form, headers=HTMX)

    assert response.status_code == 200
    assert _cells(session) == {}
    assert _changes(session, "budget_allocation") == [ChangeAction.DELETE]
    assert _text_of(response.text, "grid-total") == "0.00"
    assert re.search(rf'id="cell-{workshop.id}-spares-4".*?value=""', response.text, re.S)


def test_a_cell_of_a_year_without_a_target_is_refused(
    client: TestClient, session: Session, manager: User, workshop: Workshop
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")
    form = {"csrf_token": token, "workshop_id": workshop.id, "category": "spares", "month": "4", "amount": "1"}
    assert client.post(CELL, data=form, headers=HTMX).status_code == 422
    assert _cells(session) == {}


@pytest.mark.parametrize(
    "names",
    [
        {"month": "13"},
        {"category": "fuel"},
        {"workshop_id": "x"},
        {"workshop_id": "99999999999999999999"},
        {"workshop_id": "987654"},  # in range, but no workshop has it
        {"workshop_id": "²"},  # a digit to str.isdigit(), not to int(): it was a 500
        {"month": "²"},
    ],
)
def test_a_cell_naming_no_cell_of_the_grid_is_refused(
    client: TestClient, session: Session, manager: User, workshop: Workshop, budget: BudgetYear, names: dict[str, str]
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")
    form = {"csrf_token": token, "workshop_id": str(workshop.id), "category": "spares", "month": "4", "amount": "1"}
    assert client.post(CELL, data=form | names, headers=HTMX).status_code == 422
    assert _cells(session) == {}


def test_the_grid_runs_the_same_number_of_queries_for_few_or_many_workshops_and_cells(
    client: TestClient, manager: User, workshop: Workshop, allocate: AllocateFn, count_queries: list[str]
) -> None:
    login(client, manager)
    allocate(workshop, CostCategory.MATERIALS, 1, "1.00")
    count_queries.clear()
    assert client.get("/budget/2026/allocation").status_code == 200
    few = len(count_queries)
    for n in range(6):
        other = factories.WorkshopFactory(code=f"W{n}")
        for month in (1, 6, 12):
            allocate(other, CostCategory.SERVICES, month, "10.00")
    count_queries.clear()
    page = client.get("/budget/2026/allocation")
    assert len(count_queries) == few
    assert page.text.count("budget-cell") == 7 * 5 * 12


# --- Who may use them -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineers_and_auditors_are_refused_and_nothing_is_written(
    client: TestClient, session: Session, workshop: Workshop, budget: BudgetYear, role: Role
) -> None:
    token = login(client, factories.UserFactory(role=role))

    for path in (TARGET, "/budget/2026/allocation", "/budget/allocation", "/budget/2026/allocation/import"):
        assert client.get(path).status_code == 403, path
    assert client.post(TARGET, data=_target_form(token, version="1", target="1")).status_code == 403
    cell = {"csrf_token": token, "workshop_id": workshop.id, "category": "spares", "month": "4", "amount": "1"}
    assert client.post(CELL, data=cell, headers=HTMX).status_code == 403

    session.refresh(budget)
    assert budget.target_cny == Decimal("15600000.00")
    assert _cells(session) == {}
