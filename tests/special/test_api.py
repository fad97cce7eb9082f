"""The special-equipment read API: /api/v1/special-equipment (the register on a date, by workshop,
paged) and /api/v1/special-equipment/coverage, behind a token with the ``special:read`` scope.

The reference date throughout is 2025-05-01. V-1 (a pressure vessel of workshop WA commissioned
2022-06-15, registered) had its annual check on 2024-05-20 (next: 2025-05-20 by the 12-month rule,
19 days away, applied for on 2025-04-10: due soon) and its periodic inspection the same day with
grade 2 and a report stating 2030-05-19. V-2 was never inspected: its first annual check fell due
12 months after commissioning, 2023-06-15 (overdue: must not operate), its first periodic
inspection 36 months after, 2025-06-15; and it was never registered (commissioned > 30 days ago)."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets.choices import AssetClass, SpecialCategory
from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.org import service as org_service
from maintenance.org.models import Role, User, Workshop
from maintenance.special.choices import InspectionResult
from maintenance.special.models import Registration
from tests import factories
from tests.conftest import login
from tests.special.conftest import Apply, MakeItem, Report

AS_OF = "2025-05-01"
ACTOR = SystemActor(username="test")


def token_for(session: Session, user: User, *scopes: str) -> dict[str, str]:
    _token, plaintext = org_service.create_api_token(session, user, name="erp", scopes=list(scopes), actor=ACTOR)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def reader(session: Session) -> dict[str, str]:
    return token_for(session, factories.UserFactory(role=Role.AUDITOR), "special:read")


@pytest.fixture
def workshop_a(workshop: Workshop) -> Workshop:
    workshop.code = "WA"
    return workshop


@pytest.fixture
def v1(session: Session, workshop_a: Workshop, make_item: MakeItem, report: Report, apply: Apply) -> Asset:
    asset = make_item(tag="V-1", name="反应釜")
    session.add(
        Registration(
            asset_id=asset.id,
            sub_category="第Ⅱ类压力容器",
            certificate_number="容31GD0001",
            registration_date=date(2022, 7, 1),
            authority="市场监管局",
        )
    )
    report(asset, "PV-ANNUAL", date(2024, 5, 20), report_number="NJ-2024-001")
    report(
        asset,
        "PV-PERIODIC",
        date(2024, 5, 20),
        safety_grade=2,
        report_number="DJ-2024-007",
        report_next_due_date=date(2030, 5, 19),
    )
    apply(asset, "PV-ANNUAL", date(2025, 5, 20), date(2025, 4, 10))
    return asset


@pytest.fixture
def v2(workshop_a: Workshop, make_item: MakeItem) -> Asset:
    return make_item(tag="V-2", name="储罐")


# --- Authentication and scope -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/special-equipment", "/api/v1/special-equipment/coverage"])
def test_a_token_with_the_special_read_scope_is_required(
    client: TestClient, session: Session, engineer: User, path: str
) -> None:
    login(client, engineer)
    assert client.get(path).status_code == 401  # a browser session is not enough

    response = client.get(path, headers=token_for(session, engineer, "assets:read"))

    assert response.status_code == 403
    assert "special:read" in response.json()["detail"]


# --- The register -------------------------------------------------------------------------


def test_an_item_carries_its_registration_inspections_and_due_dates(
    client: TestClient, reader: dict[str, str], v1: Asset
) -> None:
    response = client.get("/api/v1/special-equipment", params={"as_of": AS_OF}, headers=reader)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["size"], body["as_of"]) == (1, 1, 50, AS_OF)
    [item] = body["data"]
    assert item == {
        "asset_id": v1.id,
        "tag": "V-1",
        "name": "反应釜",
        "workshop_code": "WA",
        "category": "pressure_vessel",
        "sub_category": "第Ⅱ类压力容器",
        "certificate_number": "容31GD0001",
        "registration_date": "2022-07-01",
        "in_service": True,
        "standing": "due_soon",
        "must_not_operate": False,
        "registration_missing": False,
        "inspections": [
            {
                "type_code": "PV-ANNUAL",
                "last_inspection": {
                    "inspected_date": "2024-05-20",
                    "result": "pass",
                    "safety_grade": None,
                    "report_number": "NJ-2024-001",
                    "agency": "市特检院",
                },
                "next_due_date": "2025-05-20",
                "due_source": "rules",
                "application_deadline": "2025-04-20",
                "application": {"applied_date": "2025-04-10", "agency": "市特检院", "reference": ""},
                "standing": "due_soon",
            },
            {
                "type_code": "PV-PERIODIC",
                "last_inspection": {
                    "inspected_date": "2024-05-20",
                    "result": "pass",
                    "safety_grade": 2,
                    "report_number": "DJ-2024-007",
                    "agency": "市特检院",
                },
                "next_due_date": "2030-05-19",
                "due_source": "report",
                "application_deadline": "2030-04-19",
                "application": None,
                "standing": "ok",
            },
        ],
        "next_due_date": "2025-05-20",
    }


def test_an_uninspected_unregistered_item_must_not_operate(
    client: TestClient, reader: dict[str, str], v2: Asset
) -> None:
    [item] = client.get("/api/v1/special-equipment", params={"as_of": AS_OF}, headers=reader).json()["data"]

    assert (item["standing"], item["must_not_operate"], item["registration_missing"]) == ("overdue", True, True)
    assert item["certificate_number"] is None
    assert [
        (i["type_code"], i["last_inspection"], i["next_due_date"], i["due_source"], i["standing"])
        for i in item["inspections"]
    ] == [
        ("PV-ANNUAL", None, "2023-06-15", "rules", "overdue"),
        ("PV-PERIODIC", None, "2025-06-15", "rules", "ok"),
    ]
    assert item["next_due_date"] == "2023-06-15"


def test_the_status_follows_the_reference_date(
    client: TestClient, session: Session, reader: dict[str, str], v1: Asset, report: Report
) -> None:
    report(v1, "PV-ANNUAL", date(2025, 5, 10), result=InspectionResult.FAIL)

    def standing(as_of: str) -> str:
        [item] = client.get("/api/v1/special-equipment", params={"as_of": as_of}, headers=reader).json()["data"]
        return str(item["standing"])

    assert standing("2025-05-01") == "due_soon"
    assert standing("2025-05-10") == "must_not_operate"


def test_the_workshop_filter_and_pages(
    client: TestClient, reader: dict[str, str], v1: Asset, v2: Asset, make_item: MakeItem
) -> None:
    other = factories.WorkshopFactory(code="WB")
    make_item(tag="V-3", workshop_id=other.id)

    def tags(**params: object) -> tuple[int, list[str]]:
        body = client.get("/api/v1/special-equipment", params={"as_of": AS_OF, **params}, headers=reader).json()
        return body["count"], [item["tag"] for item in body["data"]]

    assert tags() == (3, ["V-1", "V-2", "V-3"])
    assert tags(workshop="WA") == (2, ["V-1", "V-2"])
    assert tags(workshop="WA", size=1, page=2) == (2, ["V-2"])
    assert tags(workshop="WB") == (1, ["V-3"])
    assert tags(page=3, size=2) == (3, [])


def test_an_unknown_workshop_is_a_404_problem(client: TestClient, reader: dict[str, str]) -> None:
    response = client.get("/api/v1/special-equipment", params={"workshop": "NOPE"}, headers=reader)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/special-equipment", {"as_of": "2025-02-30"}),
        ("/api/v1/special-equipment", {"as_of": "yesterday"}),
        ("/api/v1/special-equipment", {"size": 501}),
        ("/api/v1/special-equipment/coverage", {"as_of": "2025-13-01"}),
    ],
)
def test_bad_parameters_are_422_problems(
    client: TestClient, reader: dict[str, str], path: str, params: dict[str, object]
) -> None:
    response = client.get(path, params=params, headers=reader)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_the_list_runs_a_fixed_number_of_queries(
    client: TestClient, reader: dict[str, str], make_item: MakeItem, report: Report, count_queries: list[str]
) -> None:
    def queries() -> int:
        count_queries.clear()
        response = client.get("/api/v1/special-equipment", params={"as_of": AS_OF}, headers=reader)
        assert response.status_code == 200
        return len(count_queries)

    for number in range(2):
        report(make_item(tag=f"V-{number}"), "PV-ANNUAL", date(2024, 5, 20))
    queries()  # the token's first use is recorded once
    few = queries()
    for number in range(2, 6):
        report(make_item(tag=f"V-{number}"), "PV-ANNUAL", date(2024, 5, 20))

    assert queries() == few


# --- Coverage -----------------------------------------------------------------------------


def test_coverage_overall_by_workshop_and_category(
    client: TestClient, reader: dict[str, str], v1: Asset, v2: Asset, make_item: MakeItem, report: Report
) -> None:
    v3 = make_item(tag="V-3")
    report(v3, "PV-ANNUAL", date(2025, 1, 10))
    report(v3, "PV-PERIODIC", date(2025, 1, 10), safety_grade=1)
    other = factories.WorkshopFactory(code="WB")
    valve = make_item(
        tag="PSV-1", asset_class=AssetClass.VALVE, special_category=SpecialCategory.SAFETY_VALVE, workshop_id=other.id
    )
    report(valve, "SV-CALIBRATION", date(2025, 1, 10))

    response = client.get("/api/v1/special-equipment/coverage", params={"as_of": AS_OF}, headers=reader)

    assert response.status_code == 200
    body = response.json()
    # WA: V-1 and V-3 in date, V-2 overdue (2 of 3); WB: the valve (1 of 1); overall 3 of 4.
    assert body["as_of"] == AS_OF
    assert body["target"] == "0.80"
    assert body["overall"] == {"covered": 3, "total": 4, "ratio": "0.7500", "percent": "75.00", "target_met": False}
    assert body["by_workshop"] == {
        "WA": {"covered": 2, "total": 3, "ratio": "0.6667", "percent": "66.67", "target_met": False},
        "WB": {"covered": 1, "total": 1, "ratio": "1.0000", "percent": "100.00", "target_met": True},
    }
    assert body["by_category"] == {
        "pressure_vessel": {"covered": 2, "total": 3, "ratio": "0.6667", "percent": "66.67", "target_met": False},
        "safety_valve": {"covered": 1, "total": 1, "ratio": "1.0000", "percent": "100.00", "target_met": True},
    }


def test_coverage_of_no_equipment_has_no_ratio(client: TestClient, reader: dict[str, str]) -> None:
    body = client.get("/api/v1/special-equipment/coverage", params={"as_of": AS_OF}, headers=reader).json()

    assert body["overall"] == {"covered": 0, "total": 0, "ratio": None, "percent": None, "target_met": False}
    assert (body["by_workshop"], body["by_category"]) == ({}, {})
