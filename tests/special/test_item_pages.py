"""The item page, the asset page's 检验记录 tab, the must-not-operate banner and the recording
forms, through the served app. The plant's clock says 10 March 2026."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.assets.choices import SpecialCategory
from maintenance.assets.documents.models import AssetDocument
from maintenance.assets.models import Asset
from maintenance.org.models import User
from maintenance.special import item_routes
from maintenance.special.models import InspectionType, SpecialInspection
from tests import factories
from tests.conftest import login
from tests.special.conftest import MakeItem, Report

TODAY = date(2026, 3, 10)
PDF = b"%PDF-1.4\n% inspection report\n"


@pytest.fixture(autouse=True)
def plant_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(item_routes, "plant_today", lambda: TODAY)


@pytest.fixture
def vessel(make_item: MakeItem, report: Report) -> Asset:
    """In date on 2026-03-10: annual check due 2026-06-01, periodic inspection due 2031-05-20."""
    asset = make_item(tag="V-201")
    report(asset, "PV-ANNUAL", date(2025, 6, 1))
    report(asset, "PV-PERIODIC", date(2025, 5, 20), safety_grade=2)
    return asset


def _type_id(session: Session, code: str) -> int:
    found = session.scalar(select(InspectionType.id).where(InspectionType.code == code))
    assert found is not None
    return found


def _inspection_form(session: Session, token: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "inspection_type_id": str(_type_id(session, "PV-ANNUAL")),
        "inspected_date": "2026-03-02",
        "agency": "市特检院",
        "result": "pass",
    } | fields


# --- Reading ------------------------------------------------------------------------------------


def test_the_item_page_shows_each_required_inspection_with_its_due_date(
    client: TestClient, vessel: Asset, auditor: User
) -> None:
    login(client, auditor)

    page = client.get(f"/special-equipment/{vessel.id}")

    assert page.status_code == 200
    assert 'data-type="PV-ANNUAL" data-standing="ok"' in page.text
    assert 'data-due="2026-06-01"' in page.text
    assert 'data-due="2031-05-20"' in page.text
    assert 'data-form="inspection"' not in page.text  # auditors record nothing


def test_an_item_in_service_for_over_30_days_without_registration_is_flagged(
    client: TestClient, vessel: Asset, manager: User
) -> None:
    login(client, manager)

    page = client.get(f"/special-equipment/{vessel.id}/records", headers={"HX-Request": "true"})

    assert page.status_code == 200
    assert 'data-testid="registration-missing"' in page.text


def test_the_asset_page_of_special_equipment_has_the_tab_and_the_banner_slot(
    client: TestClient, vessel: Asset, make_item: MakeItem, manager: User
) -> None:
    login(client, manager)
    pump = make_item(special_category=SpecialCategory.NONE)

    special = client.get(f"/assets/{vessel.id}?tab=inspections").text
    plain = client.get(f"/assets/{pump.id}?tab=inspections").text

    assert f'hx-get="/special-equipment/{vessel.id}/records"' in special
    assert f'hx-get="/special-equipment/{vessel.id}/banner"' in special
    assert f'"/special-equipment/{pump.id}/' not in plain
    assert "?tab=inspections" not in plain


def test_unknown_asset_is_404_and_an_asset_that_is_not_special_equipment_too(
    client: TestClient, make_item: MakeItem, manager: User
) -> None:
    pump = make_item(special_category=SpecialCategory.NONE)
    login(client, manager)  # commits the pump: a refused request rolls back what it did not

    assert client.get("/special-equipment/999999").status_code == 404
    assert client.get(f"/special-equipment/{pump.id}").status_code == 404
    banner = client.get(f"/special-equipment/{pump.id}/banner")
    assert banner.status_code == 200, banner.text[-3000:]
    assert banner.text.strip() == ""


@pytest.mark.parametrize("path", ["", "/records"], ids=["page", "tab"])
def test_the_item_page_runs_a_fixed_number_of_queries(
    client: TestClient, vessel: Asset, report: Report, manager: User, count_queries: list[str], path: str
) -> None:
    login(client, manager)

    def queries() -> int:
        count_queries.clear()
        assert client.get(f"/special-equipment/{vessel.id}{path}").status_code == 200
        return len(count_queries)

    with_two = queries()
    for year in (2022, 2023, 2024):
        report(vessel, "PV-ANNUAL", date(year, 6, 1))
    assert queries() == with_two


# --- The banner ---------------------------------------------------------------------------------


def test_a_failed_inspection_raises_the_banner_until_a_pass_is_recorded(
    client: TestClient, session: Session, vessel: Asset, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)
    banner = f"/special-equipment/{vessel.id}/banner"
    assert client.get(banner).text.strip() == ""

    failed = client.post(
        f"/special-equipment/{vessel.id}/inspections", data=_inspection_form(session, token, result="fail")
    )
    assert failed.status_code == 303
    shown = client.get(banner, headers={"HX-Request": "true"})
    assert 'data-testid="must-not-operate"' in shown.text
    assert "检验不合格" in shown.text  # "failed the inspection of …"

    passed = client.post(
        f"/special-equipment/{vessel.id}/inspections",
        data=_inspection_form(session, token, inspected_date="2026-03-09"),
    )
    assert passed.status_code == 303
    assert client.get(banner).text.strip() == ""


def test_an_overdue_item_shows_the_banner_with_its_due_date(
    client: TestClient, make_item: MakeItem, report: Report, manager: User
) -> None:
    login(client, manager)
    asset = make_item()
    report(asset, "PV-ANNUAL", date(2025, 3, 9))  # due 2026-03-09: overdue on the 10th
    report(asset, "PV-PERIODIC", date(2025, 5, 20), safety_grade=2)

    shown = client.get(f"/special-equipment/{asset.id}/banner").text

    assert 'data-testid="must-not-operate"' in shown
    assert "起超期未检" in shown  # "overdue since"
    assert 'data-type="PV-ANNUAL"' in shown
    assert 'data-type="PV-PERIODIC"' not in shown


# --- Recording through the app ------------------------------------------------------------------


def test_an_inspection_with_its_pdf_is_recorded_and_linked_in_the_history(
    client: TestClient, session: Session, vessel: Asset, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)

    response = client.post(
        f"/special-equipment/{vessel.id}/inspections",
        data=_inspection_form(session, token, report_number="RQ-88"),
        files={"report_file": ("年度检查报告.pdf", PDF, "application/pdf")},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    stored = session.scalars(select(SpecialInspection).where(SpecialInspection.report_number == "RQ-88")).one()
    document = session.get(AssetDocument, stored.document_id)
    assert document is not None
    assert document.asset_id == vessel.id
    assert f'href="/assets/{vessel.id}/documents/{document.id}"' in response.text
    # The page's must-not-operate banner is told to ask again.
    assert response.headers["HX-Trigger"] == "special-records-changed"


def test_a_bad_form_is_answered_422_with_the_field_reason(
    client: TestClient, session: Session, vessel: Asset, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)

    future = client.post(
        f"/special-equipment/{vessel.id}/inspections",
        data=_inspection_form(session, token, inspected_date="2026-03-11"),
    )
    no_agency = client.post(
        f"/special-equipment/{vessel.id}/inspections", data=_inspection_form(session, token, agency="")
    )

    assert future.status_code == 422
    assert "不能晚于今天。" in future.text  # "Must be today or earlier."
    assert no_agency.status_code == 422
    assert "此项为必填项。" in no_agency.text  # "This field is required." (pages are Chinese first)
    assert session.scalar(select(func.count()).select_from(SpecialInspection)) == 2  # the fixture's two


def test_a_second_application_for_the_same_due_date_is_refused_with_the_first_named(
    client: TestClient, session: Session, vessel: Asset, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)
    form = {
        "csrf_token": token,
        "inspection_type_id": str(_type_id(session, "PV-ANNUAL")),
        "applied_date": "2026-03-01",
        "agency": "市特检院",
    }
    url = f"/special-equipment/{vessel.id}/applications"

    assert client.post(url, data=form).status_code == 303
    again = client.post(url, data=form | {"applied_date": "2026-03-05"})

    assert again.status_code == 422
    assert "已于 2026-03-01 报检" in again.text  # "already applied for on 2026-03-01"


@pytest.mark.parametrize("who", ["auditor", "other engineer"])
def test_those_who_may_not_write_here_are_refused_403(
    client: TestClient, session: Session, vessel: Asset, auditor: User, who: str
) -> None:
    user = auditor if who == "auditor" else factories.UserFactory(role="engineer")
    token = login(client, user)

    response = client.post(f"/special-equipment/{vessel.id}/inspections", data=_inspection_form(session, token))

    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(SpecialInspection)) == 2


def test_registering_through_the_app_clears_the_warning(
    client: TestClient, vessel: Asset, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)

    saved = client.post(
        f"/special-equipment/{vessel.id}/registration",
        data={
            "csrf_token": token,
            "certificate_number": "容1PA苏E00123(22)",
            "registration_date": "2022-07-01",
            "authority": "市市场监督管理局",
        },
        headers={"HX-Request": "true"},
    )

    assert saved.status_code == 200
    assert "容1PA苏E00123(22)" in saved.text
    assert 'data-testid="registration-missing"' not in saved.text
