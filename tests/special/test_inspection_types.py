"""The administrators' inspection rules: the page, the forms' validation, the grade rules, stale
edits, and that an edited rule changes the due dates the register computes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.org.models import Role, User
from maintenance.special import inspection_types, service
from maintenance.special.models import InspectionType, InspectionTypeUpdate
from tests import factories
from tests.conftest import login
from tests.special.conftest import SYSTEM, MakeItem, Report

PAGE = "/admin/special-inspection-types"
FindType = Callable[[str], InspectionType]


@pytest.fixture
def admin(session: Session) -> User:
    return factories.UserFactory(role=Role.ADMIN)


def _form(inspection_type: InspectionType, **fields: str) -> dict[str, str]:
    """The edit form as the page fills it for ``inspection_type``, with ``fields`` changed."""
    values = {
        "code": inspection_type.code,
        "category": inspection_type.category.value,
        "name": inspection_type.name,
        "name_en": inspection_type.name_en,
        "interval_months": str(inspection_type.interval_months),
        "first_within_months": str(inspection_type.first_within_months or ""),
        "reminder_days": str(inspection_type.reminder_days),
        "is_active": "true",
        "version": str(inspection_type.version),
    }
    return values | fields


NEW = {
    "code": "GC-PERIODIC",
    "category": "gas_cylinder",
    "name": "气瓶定期检验",
    "name_en": "Gas cylinder periodic inspection",
    "interval_months": "36",
    "reminder_days": "60",
    "is_active": "true",
}


def _changes(session: Session, object_type: str) -> int:
    stmt = select(func.count()).select_from(ObjectChange).where(ObjectChange.object_type == object_type)
    return session.scalar(stmt) or 0


def _grade_cells(page: str, code: str) -> list[str]:
    """The grade rules the page shows in the row of ``code``, grades 1 to 5."""
    row = re.search(rf'<tr data-type-code="{code}">(.*?)</tr>', page, re.DOTALL)
    assert row, code
    return re.findall(r'data-grade="\d" data-rule="([^"]*)"', row[1])


def _pv_periodic_due(session: Session, asset_id: int) -> date | None:
    [item] = service.register_items(session, date(2026, 1, 1), asset_ids=[asset_id])
    [periodic] = [t for t in item.standing.types if t.rule.inspection_type.code == "PV-PERIODIC"]
    return periodic.due_date


def test_editing_a_grade_interval_changes_the_computed_due_date(
    client: TestClient, session: Session, admin: User, make_item: MakeItem, report: Report, inspection_type: FindType
) -> None:
    vessel = make_item()
    report(vessel, "PV-PERIODIC", date(2023, 5, 10), safety_grade=3)
    assert _pv_periodic_due(session, vessel.id) == date(2026, 5, 10)  # grade 3: three years
    pv = inspection_type("PV-PERIODIC")
    token = login(client, admin)
    grades = {"grade_1": "72", "grade_2": "72", "grade_3": "24", "grade_4": "36", "grade_5_stop": "true"}

    response = client.post(f"{PAGE}/{pv.id}", data=_form(pv, **grades) | {"csrf_token": token})

    assert response.status_code == 303
    assert _pv_periodic_due(session, vessel.id) == date(2025, 5, 10)  # grade 3 now two years
    assert _changes(session, "special_grade_interval") == 1
    session.refresh(pv)
    assert pv.version == 2


def test_an_empty_grade_falls_back_to_the_types_interval(
    client: TestClient, session: Session, admin: User, make_item: MakeItem, report: Report, inspection_type: FindType
) -> None:
    vessel = make_item()
    report(vessel, "PV-PERIODIC", date(2023, 5, 10), safety_grade=1)
    pv = inspection_type("PV-PERIODIC")
    token = login(client, admin)
    grades = {"grade_2": "72", "grade_3": "36", "grade_4": "36", "grade_5_stop": "true"}  # grade 1 emptied

    response = client.post(f"{PAGE}/{pv.id}", data=_form(pv, interval_months="48", **grades) | {"csrf_token": token})

    assert response.status_code == 303
    assert _pv_periodic_due(session, vessel.id) == date(2027, 5, 10)  # the type's 48 months
    assert inspection_types.grade_rules_by_type(session)[pv.id] == {2: 72, 3: 36, 4: 36, 5: None}


def test_the_page_lists_types_by_category_with_their_grade_rules(client: TestClient, admin: User) -> None:
    login(client, admin)

    page = client.get(PAGE).text

    assert 'data-category="pressure_vessel"' in page
    assert 'data-category="none"' not in page
    assert _grade_cells(page, "PV-PERIODIC") == ["72", "72", "36", "36", "stop"]
    assert _grade_cells(page, "PV-ANNUAL") == ["fallback"] * 5


def test_an_admin_creates_a_type_with_its_grade_rows_logged(client: TestClient, session: Session, admin: User) -> None:
    token = login(client, admin)

    response = client.post(f"{PAGE}/new", data=NEW | {"grade_3": "12", "csrf_token": token})

    assert response.status_code == 303
    created = session.scalars(select(InspectionType).where(InspectionType.code == "GC-PERIODIC")).one()
    assert inspection_types.grade_rules_by_type(session)[created.id] == {3: 12}
    assert _changes(session, "special_inspection_type") == 1
    assert _changes(session, "special_grade_interval") == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"code": "GC PERIODIC"}, "code", "Use letters, digits, '-' or '_' only."),
        ({"code": "pv-periodic"}, "code", "Another inspection type has the code pv-periodic."),
        ({"category": "none"}, "category", "Choose a special-equipment category."),
        ({"interval_months": "0"}, "interval_months", "Must be at least 1."),
        ({"interval_months": "241"}, "interval_months", "Must be at most 240."),
        ({"grade_2": "300"}, "grade_2", "Enter between 1 and 240 months."),
        ({"grade_2": "6.5"}, "grade_2", "Enter a whole number of months."),
    ],
)
def test_a_refused_type_shows_why_on_a_422_page(
    client: TestClient, session: Session, admin: User, fields: dict[str, str], field: str, message: str
) -> None:
    token = login(client, admin)
    client.cookies.set("lang", "en")

    response = client.post(f"{PAGE}/new", data=NEW | fields | {"csrf_token": token})

    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert f'id="f-{field}"' in response.text
    assert _changes(session, "special_inspection_type") == 0


def test_a_stale_edit_is_refused_with_409(
    client: TestClient, session: Session, admin: User, inspection_type: FindType
) -> None:
    pv = inspection_type("PV-PERIODIC")
    stale_form = _form(pv, reminder_days="30")
    rules = inspection_types.grade_rules_by_type(session)[pv.id]
    data = InspectionTypeUpdate(**(pv.model_dump() | {"reminder_days": 90}))
    inspection_types.update_type(session, pv, data, rules, actor=SYSTEM)
    token = login(client, admin)

    response = client.post(f"{PAGE}/{pv.id}", data=stale_form | {"csrf_token": token})

    assert response.status_code == 409
    session.refresh(pv)
    assert (pv.reminder_days, pv.version) == (90, 2)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ENGINEER, Role.AUDITOR])
def test_the_rules_are_for_admins_only(
    client: TestClient, session: Session, inspection_type: FindType, role: Role
) -> None:
    pv = inspection_type("PV-PERIODIC")
    token = login(client, factories.UserFactory(role=role))

    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}/{pv.id}", data=_form(pv) | {"csrf_token": token}).status_code == 403
    session.refresh(pv)
    assert pv.version == 1
