"""The asset registry's read API: /api/v1/assets (the list's filters, as_of, pages) and
/api/v1/assets/{tag}, behind a bearer token with the ``assets:read`` scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets import service
from maintenance.assets.choices import AssetClass, AssetStatus
from maintenance.assets.models import AssetUpdate
from maintenance.db import plant_today
from maintenance.org import service as org_service
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.assets.conftest import ACTOR, MakeAsset
from tests.conftest import login

PLANT = ZoneInfo("Asia/Shanghai")


def bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


def token_for(session: Session, user: User, *scopes: str) -> dict[str, str]:
    _token, plaintext = org_service.create_api_token(session, user, name="erp", scopes=list(scopes), actor=ACTOR)
    return bearer(plaintext)


@pytest.fixture
def reader(session: Session) -> dict[str, str]:
    return token_for(session, factories.UserFactory(role=Role.AUDITOR), "assets:read")


# --- Authentication and scope -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/assets", "/api/v1/assets/P-1"])
def test_a_token_is_required(client: TestClient, make_asset: MakeAsset, path: str) -> None:
    make_asset(tag="P-1")

    response = client.get(path)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get(path, headers=bearer("not-a-token")).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/assets", "/api/v1/assets/P-1"])
def test_the_token_needs_the_assets_read_scope(
    client: TestClient, session: Session, engineer: User, make_asset: MakeAsset, path: str
) -> None:
    make_asset(tag="P-1")
    headers = token_for(session, engineer, "readings:write")

    response = client.get(path, headers=headers)

    assert response.status_code == 403
    assert "assets:read" in response.json()["detail"]


def test_a_browser_session_is_not_enough(client: TestClient, engineer: User) -> None:
    login(client, engineer)
    assert client.get("/api/v1/assets").status_code == 401


# --- The list -----------------------------------------------------------------------------


def test_items_carry_codes_and_money_as_decimal_strings(
    client: TestClient, session: Session, reader: dict[str, str], make_asset: MakeAsset, workshop: Workshop
) -> None:
    unit = factories.UnitFactory(workshop_id=workshop.id)
    pump = make_asset(
        tag="P-1",
        name="循环水泵",
        unit_id=unit.id,
        commission_date=date(2024, 3, 5),
        original_value_cny=Decimal("120000.00"),
    )
    make_asset(tag="P-1-M", name="电机", asset_class=AssetClass.ELECTRIC_MOTOR, parent_id=pump.id)

    response = client.get("/api/v1/assets", headers=reader)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["size"], body["as_of"]) == (2, 1, 50, None)
    item, component = body["data"]
    assert item["id"] == pump.id
    assert (item["tag"], item["asset_class"], item["status"]) == ("P-1", "PU", "in_service")
    assert (item["workshop_id"], item["workshop_code"]) == (workshop.id, workshop.code)
    assert item["unit_code"] == unit.code
    assert item["original_value_cny"] == "120000.00"
    assert isinstance(item["net_book_value_cny"], str)
    assert Decimal(item["net_book_value_cny"]) + Decimal(item["accumulated_depreciation_cny"]) == Decimal("120000.00")
    assert item["book_value_date"] == plant_today().isoformat()
    assert component["parent_tag"] == "P-1"
    assert component["parent_id"] == pump.id


def test_the_list_takes_the_same_filters_as_the_page(
    client: TestClient, session: Session, reader: dict[str, str], make_asset: MakeAsset, workshop: Workshop
) -> None:
    make_asset(tag="P-1", name="循环水泵")
    make_asset(tag="P-2", name="循环水泵", status=AssetStatus.STANDBY)
    make_asset(tag="E-1", name="换热器", asset_class=AssetClass.HEAT_EXCHANGER)
    make_asset(tag="P-9", name="循环水泵", workshop_id=factories.WorkshopFactory().id)

    def tags(**params: object) -> list[str]:
        response = client.get("/api/v1/assets", params=params, headers=reader)
        assert response.status_code == 200, response.text
        return [item["tag"] for item in response.json()["data"]]

    assert tags() == ["E-1", "P-1", "P-2", "P-9"]
    assert tags(workshop_id=workshop.id) == ["E-1", "P-1", "P-2"]
    assert tags(q="xhsb", workshop_id=workshop.id) == ["P-1", "P-2"]
    assert tags(status="standby") == ["P-2"]
    assert tags(asset_class="HE") == ["E-1"]
    assert tags(sort="-tag", workshop_id=workshop.id) == ["P-2", "P-1", "E-1"]


def test_pages_hold_at_most_size_items(client: TestClient, reader: dict[str, str], make_asset: MakeAsset) -> None:
    for number in range(7):
        make_asset(tag=f"P-{number}")

    def page(number: int, size: int) -> dict[str, object]:
        response = client.get("/api/v1/assets", params={"page": number, "size": size}, headers=reader)
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]

    second = page(2, 3)
    assert [item["tag"] for item in second["data"]] == ["P-3", "P-4", "P-5"]  # type: ignore[attr-defined]
    assert (second["count"], second["page"], second["size"]) == (7, 2, 3)
    assert [item["tag"] for item in page(3, 3)["data"]] == ["P-6"]  # type: ignore[attr-defined]
    beyond = page(4, 3)
    assert (beyond["data"], beyond["count"]) == ([], 7), "past the end: an empty page, not the last one again"


@pytest.mark.parametrize(
    "params",
    [
        {"size": 501},
        {"size": 0},
        {"page": 0},
        {"status": "broken"},
        {"as_of": "2025-13-01"},
        {"workshop_id": "abc"},
    ],
)
def test_invalid_parameters_are_422_problem_details(
    client: TestClient, reader: dict[str, str], params: dict[str, object]
) -> None:
    response = client.get("/api/v1/assets", params=params, headers=reader)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


def test_the_largest_page_is_500(client: TestClient, reader: dict[str, str]) -> None:
    response = client.get("/api/v1/assets", params={"size": 500}, headers=reader)
    assert response.status_code == 200
    assert response.json()["size"] == 500


# --- As of a date -------------------------------------------------------------------------


@pytest.fixture
def changed_pump(session: Session, make_asset: MakeAsset, monkeypatch: pytest.MonkeyPatch) -> None:
    """P-101: created March 2025 at 120,000; revalued to 150,000 and put on standby in January 2026."""
    pump = make_asset(
        tag="P-101",
        commission_date=date(2025, 3, 15),
        original_value_cny=Decimal("120000.00"),
        at=datetime(2025, 3, 1, 9, tzinfo=PLANT),
    )
    monkeypatch.setattr(service, "utcnow", lambda: datetime(2026, 1, 10, 9, tzinfo=PLANT).astimezone(UTC))
    changes = {"original_value_cny": Decimal("150000.00"), "status": AssetStatus.STANDBY}
    service.update_asset(session, pump, AssetUpdate.model_validate(pump.model_dump() | changes), actor=ACTOR)
    monkeypatch.undo()
    make_asset(tag="P-202")  # created now


def test_as_of_lists_the_registry_as_it_stood_then(
    client: TestClient, reader: dict[str, str], changed_pump: None
) -> None:
    then = client.get("/api/v1/assets", params={"as_of": "2025-12-31"}, headers=reader).json()
    now = client.get("/api/v1/assets", headers=reader).json()

    assert then["as_of"] == "2025-12-31"
    assert [item["tag"] for item in then["data"]] == ["P-101"], "P-202 did not exist yet"
    [pump] = then["data"]
    assert (pump["status"], pump["original_value_cny"], pump["version"]) == ("in_service", "120000.00", 1)
    # 950.00 a month, April to December 2025.
    assert (pump["accumulated_depreciation_cny"], pump["net_book_value_cny"]) == ("8550.00", "111450.00")
    assert pump["book_value_date"] == "2025-12-31"
    assert {item["tag"]: item["status"] for item in now["data"]} == {"P-101": "standby", "P-202": "in_service"}
    filtered = client.get("/api/v1/assets", params={"as_of": "2025-12-31", "status": "standby"}, headers=reader)
    assert filtered.json()["count"] == 0, "filters apply to the state as of the date"


def test_one_asset_by_tag_now_and_as_of_a_date(client: TestClient, reader: dict[str, str], changed_pump: None) -> None:
    now = client.get("/api/v1/assets/P-101", headers=reader)
    then = client.get("/api/v1/assets/P-101", params={"as_of": "2025-12-31"}, headers=reader)

    assert now.status_code == 200
    assert (now.json()["status"], now.json()["original_value_cny"]) == ("standby", "150000.00")
    assert then.status_code == 200
    assert (then.json()["status"], then.json()["original_value_cny"]) == ("in_service", "120000.00")
    assert then.json()["id"] == now.json()["id"]


def test_unknown_tag_is_a_404_problem(client: TestClient, reader: dict[str, str], changed_pump: None) -> None:
    response = client.get("/api/v1/assets/NOPE-1", headers=reader)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert "NOPE-1" in response.json()["detail"]


def test_a_tag_before_the_asset_existed_is_a_404(
    client: TestClient, reader: dict[str, str], changed_pump: None
) -> None:
    response = client.get("/api/v1/assets/P-101", params={"as_of": "2025-01-31"}, headers=reader)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "2025-01-31" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/assets", "/api/v1/assets/P-1"])
def test_as_of_in_the_future_is_refused(client: TestClient, reader: dict[str, str], path: str) -> None:
    tomorrow = (plant_today() + timedelta(days=1)).isoformat()

    response = client.get(path, params={"as_of": tomorrow}, headers=reader)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "as_of"


def test_tags_with_a_slash_are_found(client: TestClient, reader: dict[str, str], make_asset: MakeAsset) -> None:
    make_asset(tag="P-101/A")

    response = client.get("/api/v1/assets/P-101/A", headers=reader)

    assert response.status_code == 200
    assert response.json()["tag"] == "P-101/A"


# --- The schema ---------------------------------------------------------------------------


def test_openapi_documents_the_endpoints_and_their_responses(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    listing = schema["paths"]["/api/v1/assets"]["get"]
    detail = schema["paths"]["/api/v1/assets/{tag}"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AssetApiPage")
    assert detail["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AssetApiRead")
    assert {"q", "workshop_id", "status", "as_of", "page", "size"} <= {p["name"] for p in listing["parameters"]}
    size = next(p for p in listing["parameters"] if p["name"] == "size")
    assert size["schema"]["maximum"] == 500
    item = schema["components"]["schemas"]["AssetApiRead"]["properties"]
    assert item["net_book_value_cny"]["type"] == "string"
    assert "workshop_code" in item
