"""The register of regulator findings and shutdown orders: the indicator, the list, the forms'
validation, who may write, stale edits and the evidence upload, through the served app."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.org.models import Role, User, Workshop
from maintenance.special import findings
from maintenance.special.choices import FindingKind, FindingStatus
from maintenance.special.models import Finding, FindingCreate, FindingUpdate
from tests import factories
from tests.conftest import login
from tests.special.conftest import SYSTEM, MakeItem

LIST = "/special-equipment/findings"


@pytest.fixture
def add_finding(session: Session, workshop: Workshop) -> Any:
    """A finding of ``workshop`` recorded through the service (an open rectification notice)."""

    def add(**fields: Any) -> Finding:
        values: dict[str, Any] = {
            "kind": FindingKind.RECTIFICATION,
            "workshop_id": workshop.id,
            "issued_date": date(2026, 3, 10),
            "issued_by": "市特检院",
            "description": "安全阀校验过期",
        } | fields
        return findings.create_finding(session, FindingCreate(**values), actor=SYSTEM)

    return add


def _form(workshop: Workshop, **fields: str) -> dict[str, str]:
    return {
        "kind": "rectification",
        "workshop_id": str(workshop.id),
        "issued_date": "2026-03-10",
        "issued_by": "市特检院",
        "description": "压力表未检",
        "status": "open",
    } | fields


def _changes(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ObjectChange)) or 0


# --- The indicator ----------------------------------------------------------------------------


def test_indicator_counts_only_shutdown_orders_of_that_year(
    client: TestClient, manager: User, add_finding: Any
) -> None:
    add_finding(kind=FindingKind.SHUTDOWN, issued_date=date(2025, 12, 31))
    add_finding(kind=FindingKind.RECTIFICATION, issued_date=date(2026, 1, 5))
    login(client, manager)

    in_2026 = client.get(f"{LIST}/indicator?year=2026")
    in_2025 = client.get(f"{LIST}/indicator?year=2025")

    assert 'data-shutdown-count="0"' in in_2026.text
    assert "alert-success" in in_2026.text
    assert 'data-shutdown-count="1"' in in_2025.text
    assert "alert-danger" in in_2025.text


def test_indicator_counts_every_shutdown_order_of_the_year(session: Session, add_finding: Any) -> None:
    add_finding(kind=FindingKind.SHUTDOWN, issued_date=date(2026, 1, 1))
    add_finding(kind=FindingKind.SHUTDOWN, issued_date=date(2026, 12, 31), status=FindingStatus.CLOSED,
                closed_date=date(2026, 12, 31))  # fmt: skip
    add_finding(kind=FindingKind.SHUTDOWN, issued_date=date(2027, 1, 1))

    assert findings.shutdown_orders_in(session, 2026) == 2


# --- The list ---------------------------------------------------------------------------------


def test_list_highlights_overdue_rectifications_on_the_as_of_date(
    client: TestClient, manager: User, add_finding: Any
) -> None:
    late = add_finding(deadline_date=date(2026, 4, 9))
    due_today = add_finding(deadline_date=date(2026, 4, 10))
    closed = add_finding(deadline_date=date(2026, 4, 1), status=FindingStatus.CLOSED, closed_date=date(2026, 4, 2))
    login(client, manager)

    page = client.get(f"{LIST}?as_of=2026-04-10").text

    overdue = set(re.findall(r'data-finding-id="(\d+)" class="table-danger" data-overdue="true"', page))
    assert overdue == {str(late.id)}
    assert f'data-finding-id="{due_today.id}">' in page
    assert f'data-finding-id="{closed.id}">' in page


def test_list_filters_by_year_and_kind_latest_first(client: TestClient, manager: User, add_finding: Any) -> None:
    old = add_finding(issued_date=date(2025, 6, 1))
    early = add_finding(issued_date=date(2026, 2, 1))
    late = add_finding(issued_date=date(2026, 9, 1))
    shutdown = add_finding(issued_date=date(2026, 5, 1), kind=FindingKind.SHUTDOWN)
    login(client, manager)

    rows = re.findall(r'data-finding-id="(\d+)"', client.get(f"{LIST}?year=2026&kind=rectification").text)

    assert rows == [str(late.id), str(early.id)]
    assert str(old.id) not in rows
    assert str(shutdown.id) not in rows


def test_list_exports_the_filtered_rows_as_csv(client: TestClient, manager: User, add_finding: Any) -> None:
    add_finding(reference="特检整改〔2026〕7号", deadline_date=date(2026, 4, 1))
    add_finding(reference="特检整改〔2025〕3号", issued_date=date(2025, 3, 1))
    login(client, manager)

    response = client.get(f"{LIST}?year=2026&as_of=2026-05-01&export=csv")

    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "特检整改〔2026〕7号" in text
    assert "特检整改〔2025〕3号" not in text
    assert len(text.strip().splitlines()) == 2  # the header and one finding
    assert client.get(f"{LIST}?year=2026&export=xlsx").content[:2] == b"PK"  # a workbook (a zip)


def test_the_list_runs_a_fixed_number_of_queries(
    client: TestClient, manager: User, add_finding: Any, make_item: MakeItem, count_queries: list[str]
) -> None:
    def add(count: int) -> None:
        for _ in range(count):
            add_finding(asset_id=make_item().id)

    def queries() -> int:
        count_queries.clear()
        assert client.get(LIST).status_code == 200
        return len(count_queries)

    login(client, manager)
    add(2)
    few = queries()
    add(4)
    many = queries()

    assert many == few


# --- The forms: validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"status": "closed"}, "closed_date", "Enter the date the finding was closed."),
        ({"closed_date": "2026-03-20"}, "closed_date", "Only a closed finding has a closed date"),
        ({"status": "closed", "closed_date": "2026-03-09"}, "closed_date", "cannot be closed before it was issued"),
        ({"deadline_date": "2026-03-01"}, "deadline_date", "The deadline cannot be before the date issued."),
        ({"asset_tag": "NO-SUCH-TAG"}, "asset_tag", "No asset has the tag NO-SUCH-TAG."),
        ({"description": ""}, "description", "This field is required."),
    ],
)
def test_a_refused_finding_shows_why_on_a_422_page(
    client: TestClient,
    session: Session,
    manager: User,
    workshop: Workshop,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")
    before = _changes(session)

    response = client.post(f"{LIST}/new", data=_form(workshop, **fields) | {"csrf_token": token})

    assert response.status_code == 422
    assert message in response.text
    assert f'id="f-{field}"' in response.text
    assert _changes(session) == before


def test_an_asset_of_another_workshop_is_refused(client: TestClient, manager: User, workshop: Workshop) -> None:
    elsewhere = factories.AssetFactory(tag="V-900")
    token = login(client, manager)
    client.cookies.set("lang", "en")

    response = client.post(f"{LIST}/new", data=_form(workshop, asset_tag=elsewhere.tag) | {"csrf_token": token})

    assert response.status_code == 422
    assert "Asset V-900 belongs to another workshop." in response.text


def test_a_manager_records_a_closed_finding_with_its_evidence(
    client: TestClient, session: Session, manager: User, workshop: Workshop, make_item: MakeItem
) -> None:
    asset = make_item(tag="V-101")
    token = login(client, manager)
    fields = _form(workshop, asset_tag="V-101", status="closed", closed_date="2026-03-30", deadline_date="2026-04-10")

    response = client.post(
        f"{LIST}/new",
        data=fields | {"csrf_token": token},
        files={"evidence": ("整改照片.pdf", io.BytesIO(b"%PDF-1.4 evidence"), "application/pdf")},
    )

    assert response.status_code == 303
    finding = session.scalars(select(Finding)).one()
    assert finding.asset_id == asset.id
    assert (finding.status, finding.closed_date) == (FindingStatus.CLOSED, date(2026, 3, 30))
    download = client.get(f"{LIST}/{finding.id}/evidence")
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 evidence"
    assert (
        session.scalar(
            select(func.count()).select_from(ObjectChange).where(ObjectChange.object_type == "special_finding")
        )
        == 1
    )


# --- Who may write ----------------------------------------------------------------------------


def test_the_workshops_engineer_reports_the_rectification(
    client: TestClient, session: Session, workshop_engineer: User, workshop: Workshop, add_finding: Any
) -> None:
    finding = add_finding()
    token = login(client, workshop_engineer)
    fields = _form(workshop, status="rectifying", rectification="已更换压力表", version=str(finding.version))

    response = client.post(f"{LIST}/{finding.id}", data=fields | {"csrf_token": token})

    assert response.status_code == 303
    session.refresh(finding)
    assert (finding.status, finding.rectification, finding.version) == (FindingStatus.RECTIFYING, "已更换压力表", 2)


@pytest.mark.parametrize("role", ["other_engineer", "auditor"])
def test_an_engineer_of_another_workshop_or_an_auditor_may_not_edit(
    client: TestClient, session: Session, workshop: Workshop, add_finding: Any, role: str
) -> None:
    finding = add_finding()
    user = factories.UserFactory(role=Role.ENGINEER if role == "other_engineer" else Role.AUDITOR)
    token = login(client, user)
    before = _changes(session)

    response = client.post(
        f"{LIST}/{finding.id}", data=_form(workshop, version=str(finding.version)) | {"csrf_token": token}
    )

    assert response.status_code == 403
    assert _changes(session) == before


def test_an_engineer_may_not_record_a_finding(client: TestClient, workshop_engineer: User, workshop: Workshop) -> None:
    token = login(client, workshop_engineer)

    assert client.get(f"{LIST}/new").status_code == 403
    assert client.post(f"{LIST}/new", data=_form(workshop) | {"csrf_token": token}).status_code == 403


def test_a_stale_edit_is_refused_with_409(
    client: TestClient, session: Session, manager: User, workshop: Workshop, add_finding: Any
) -> None:
    finding = add_finding()
    findings.update_finding(
        session,
        finding,
        FindingUpdate(**(finding.model_dump() | {"owner": "张工", "version": 1})),
        actor=SYSTEM,
    )
    token = login(client, manager)

    stale_form = _form(workshop, owner="李工", version="1")

    response = client.post(f"{LIST}/{finding.id}", data=stale_form | {"csrf_token": token})

    assert response.status_code == 409
    session.refresh(finding)
    assert (finding.owner, finding.version) == ("张工", 2)


def test_a_missing_finding_is_404(client: TestClient, manager: User) -> None:
    login(client, manager)

    assert client.get(f"{LIST}/999999").status_code == 404
