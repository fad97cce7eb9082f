"""The budget's read API (/api/v1/budget/{year}, scope ``budget:read``) on a hand-computed plant.

The plant on 31 March 2026 (a full quarter: 31 + 28 + 31 = 90 days elapsed, 275 left):

- plan: SYN materials 10,000.00 in March and 20,000.00 in April; UTL services 6,000.00 in March
  (36,000.00 in the year; March's 16,000.00 is the plan to date);
- actual: a SYN order finished on 10 March, materials 12,000.50; the journal books 3,000.00 of
  UTL services on 20 March (15,000.50 in all);
- committed: a SYN order approved on 5 March, planned to finish on 15 April, labour 800.00.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.orders.choices import CostCategory, CostKind
from maintenance.org import service as org_service
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories
from tests.budget.conftest import YEAR, MakeOrder, plant

ACTOR = SystemActor(username="test")
PATH = f"/api/v1/budget/{YEAR}"
END_OF_MARCH = {"as_of": "2026-03-31"}


def token_for(session: Session, user: User, *scopes: str) -> dict[str, str]:
    _token, plaintext = org_service.create_api_token(session, user, name="erp", scopes=list(scopes), actor=ACTOR)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def reader(session: Session) -> dict[str, str]:
    return token_for(session, factories.UserFactory(role=Role.AUDITOR), "budget:read")


@pytest.fixture
def quarter(
    pump: Asset,
    other_workshop: Workshop,
    workshop: Workshop,
    make_order: MakeOrder,
    book: Callable[..., object],
    allocate: Callable[..., object],
) -> None:
    allocate(workshop, CostCategory.MATERIALS, 3, "10000.00")
    allocate(workshop, CostCategory.MATERIALS, 4, "20000.00")
    allocate(other_workshop, CostCategory.SERVICES, 3, "6000.00")
    make_order(pump, lines=[(CostKind.MATERIAL, "9000", "12000.50")], finished=plant(YEAR, 3, 10))
    book(other_workshop, "2026-03-20", CostCategory.SERVICES, "3000.00", "PZ-2026-0320")
    make_order(
        pump, lines=[(CostKind.LABOUR, "800", "0")], approved=plant(YEAR, 3, 5), planned_finish_date=date(YEAR, 4, 15)
    )


def _cell(body: dict[str, Any], workshop: str, category: str, month: int) -> dict[str, Any]:
    [found] = [
        c for c in body["cells"] if (c["workshop_code"], c["category"], c["month"]) == (workshop, category, month)
    ]
    return found


def test_a_token_with_the_budget_read_scope_is_required(client: TestClient, session: Session, engineer: User) -> None:
    response = client.get(PATH, headers=token_for(session, engineer, "assets:read"))
    assert response.status_code == 403
    assert "budget:read" in response.json()["detail"]
    assert client.get(PATH).status_code == 401


@pytest.mark.parametrize("params", [{"as_of": "2026-02-30"}, {"as_of": "soon"}])
def test_a_bad_date_is_a_problem(client: TestClient, reader: dict[str, str], params: dict[str, str]) -> None:
    response = client.get(PATH, params=params, headers=reader)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("year", ["1999", "2101", "twenty"])
def test_a_year_outside_2000_to_2100_is_a_problem(client: TestClient, reader: dict[str, str], year: str) -> None:
    response = client.get(f"/api/v1/budget/{year}", headers=reader)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_year_s_target_baseline_and_totals(client: TestClient, reader: dict[str, str], quarter: None) -> None:
    body = client.get(PATH, params=END_OF_MARCH, headers=reader).json()

    assert {key: body[key] for key in ("year", "as_of", "target", "note", "baseline", "change_percent")} == {
        "year": 2026,
        "as_of": "2026-03-31",
        "target": "15600000.00",
        "note": "降本50%",
        "baseline": "31200000.00",  # (3000 + 3200 + 3160)万 ÷ 3
        "change_percent": "-50.00",
    }
    assert body["baseline_years"] == [
        {"year": 2023, "actual": "30000000.00"},
        {"year": 2024, "actual": "32000000.00"},
        {"year": 2025, "actual": "31600000.00"},
    ]
    assert body["unallocated"] == "15564000.00"
    assert body["totals"] == {
        "plan": "36000.00",
        "plan_to_date": "16000.00",
        "actual": "15000.50",
        "committed": "800.00",
        "variance": "-999.50",
        "variance_percent": "-6.25",  # −999.50 ÷ 16,000 = −6.246875 %
        "forecast": {
            # 15,000.50 ÷ 90 = 166.672…/day; × 275 days = 45,834.861… ; + 15,000.50 + 800
            "value": "61635.36",
            "actual": "15000.50",
            "committed": "800.00",
            "run_rate_per_day": "166.67",
            "run_rate_rest": "45834.86",
            "days_elapsed": 90,
            "days_left": 275,
        },
    }


def test_one_cell_per_workshop_category_and_month(client: TestClient, reader: dict[str, str], quarter: None) -> None:
    body = client.get(PATH, params=END_OF_MARCH, headers=reader).json()

    assert len(body["cells"]) == 2 * 5 * 12
    assert _cell(body, "SYN", "materials", 3) == {
        "workshop_code": "SYN",
        "category": "materials",
        "month": 3,
        "plan": "10000.00",
        "actual": "12000.50",
        "committed": "0.00",
        "variance": "2000.50",
    }
    assert _cell(body, "SYN", "labour", 4) == {
        "workshop_code": "SYN",
        "category": "labour",
        "month": 4,
        "plan": "0.00",
        "actual": "0.00",
        "committed": "800.00",
        "variance": None,  # April has not begun on 31 March: nothing of its plan has passed
    }
    assert _cell(body, "UTL", "services", 3)["variance"] == "-3000.00"
    assert _cell(body, "SYN", "materials", 4)["variance"] is None


def test_a_forecast_per_workshop_and_category(client: TestClient, reader: dict[str, str], quarter: None) -> None:
    body = client.get(PATH, params=END_OF_MARCH, headers=reader).json()

    assert len(body["forecasts"]) == 2 * 5
    [materials] = [f for f in body["forecasts"] if (f["workshop_code"], f["category"]) == ("SYN", "materials")]
    # 12,000.50 ÷ 90 × 275 = 36,668.194…
    assert materials["forecast"]["run_rate_rest"] == "36668.19"
    assert materials["forecast"]["value"] == "48668.69"


def test_the_reference_date_is_kept_inside_the_year(client: TestClient, reader: dict[str, str], quarter: None) -> None:
    body = client.get(PATH, params={"as_of": "2027-05-01"}, headers=reader).json()

    assert body["as_of"] == "2026-12-31"
    assert body["totals"]["plan_to_date"] == "36000.00"
    # The April order is still not done: its commitment falls in the one month left, December.
    assert _cell(body, "SYN", "labour", 12)["committed"] == "800.00"
    assert body["totals"]["forecast"]["days_left"] == 0


def test_a_year_without_a_budget_has_no_target(client: TestClient, reader: dict[str, str], quarter: None) -> None:
    body = client.get("/api/v1/budget/2030", params={"as_of": "2030-01-01"}, headers=reader).json()

    assert (body["target"], body["baseline"], body["change_percent"], body["unallocated"]) == (None, None, None, None)
    assert body["totals"]["plan"] == "0.00"
    assert body["totals"]["variance_percent"] is None


def test_an_engineer_s_token_sees_their_workshops_only(
    client: TestClient, session: Session, engineer: User, workshop: Workshop, quarter: None
) -> None:
    session.add(UserWorkshop(user_id=engineer.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()

    body = client.get(PATH, params=END_OF_MARCH, headers=token_for(session, engineer, "budget:read")).json()

    assert {cell["workshop_code"] for cell in body["cells"]} == {"SYN"}
    assert (body["totals"]["plan"], body["totals"]["actual"], body["totals"]["committed"]) == (
        "30000.00",
        "12000.50",
        "800.00",
    )
    assert body["target"] == "15600000.00"  # the plant's target, for context
    # Their workshops' allocation against the plant's target would be a meaningless remainder.
    assert body["unallocated"] is None


def test_the_api_runs_a_fixed_number_of_queries(
    client: TestClient,
    reader: dict[str, str],
    quarter: None,
    make_order: MakeOrder,
    book: Callable[..., object],
    count_queries: list[str],
) -> None:
    def queries() -> int:
        count_queries.clear()
        assert client.get(PATH, params=END_OF_MARCH, headers=reader).status_code == 200
        return len(count_queries)

    queries()  # the token's first use is recorded once
    before = queries()
    for day in range(1, 6):
        workshop = factories.WorkshopFactory(code=f"W{day}")
        asset = factories.AssetFactory(workshop_id=workshop.id)
        make_order(asset, lines=[(CostKind.SERVICE, "10", "20")] * 3, finished=plant(YEAR, 2, day))
        book(workshop, f"2026-03-0{day}", CostCategory.SPARES, "1.00", f"PZ-{day}")
    assert queries() == before
