"""The seal-point inventory through the served app: the list's filters, its totals by kind and
its exports, a fixed number of queries, the forms' validation, who may write, 404, stale edits
(409), retiring a line and returning it to service, each write in the change log."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.leakfree.choices import SealType
from maintenance.leakfree.models import SealPoint
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories
from tests.conftest import login
from tests.leakfree.conftest import MakeSealPoint

LIST = "/leakfree/seal-points"


def _codes(html: str) -> list[str]:
    return re.findall(r'data-seal-point="([^"]+)"', html)


def _totals(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-total="(\w+)">[^<]*?([\d,]+)</span>', html))


def _changes(session: Session, object_type: str = "seal_point") -> int:
    stmt = select(func.count()).select_from(ObjectChange).where(ObjectChange.object_type == object_type)
    return session.scalar(stmt) or 0


def _form(workshop: Workshop, **fields: str) -> dict[str, str]:
    return {"code": "W-F-001", "workshop_id": str(workshop.id), "seal_type": "flange", "location": "P-101A 出口法兰",
            "count": "24"} | fields  # fmt: skip


@pytest.fixture
def other_workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory()


@pytest.fixture
def other_engineer(session: Session, other_workshop: Workshop) -> User:
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=other_workshop.id))
    session.flush()
    return user


# --- The list ---------------------------------------------------------------------------------


def test_list_filters_by_kind_type_status_and_search_and_totals_the_filtered_points(
    client: TestClient, manager: User, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    make_seal_point(code="A-FL-1", seal_type=SealType.FLANGE, count=120, location="换热器E-201管程")
    make_seal_point(code="A-VP-1", seal_type=SealType.VALVE_PACKING, count=30, location="泵出口阀")
    make_seal_point(code="A-PS-1", seal_type=SealType.PUMP_SEAL, count=4, location="P-101A/B")
    make_seal_point(code="A-PS-2", seal_type=SealType.PUMP_SEAL, count=2, is_active=False)
    login(client, manager)

    everything = client.get(f"{LIST}?workshop_id=all").text
    dynamic = client.get(f"{LIST}?workshop_id=all&kind=dynamic").text
    retired = client.get(f"{LIST}?workshop_id=all&status=retired").text
    both = client.get(f"{LIST}?workshop_id=all&status=all&seal_type=pump_seal").text
    searched = client.get(f"{LIST}?workshop_id=all&q=e-201").text
    by_location = client.get(f"{LIST}?workshop_id=all&q=泵").text

    assert _codes(everything) == ["A-FL-1", "A-PS-1", "A-VP-1"]
    # 120 + 30 static, 4 dynamic (the retired line does not count)
    assert _totals(everything) == {"static": "150", "dynamic": "4"}
    assert _codes(dynamic) == ["A-PS-1"]
    assert _totals(dynamic) == {"static": "0", "dynamic": "4"}
    assert _codes(retired) == ["A-PS-2"]
    assert _codes(both) == ["A-PS-1", "A-PS-2"]
    assert _totals(both) == {"static": "0", "dynamic": "6"}
    assert _codes(searched) == ["A-FL-1"]
    assert _codes(by_location) == ["A-VP-1"]


def test_list_filters_by_unit_and_asset_tag(
    client: TestClient, manager: User, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    unit = factories.UnitFactory(workshop_id=workshop.id)
    pump = factories.AssetFactory(tag="P-301A", workshop_id=workshop.id)
    tower = factories.AssetFactory(tag="T-301", workshop_id=workshop.id)
    make_seal_point(code="U-1", unit_id=unit.id, asset_id=pump.id)
    make_seal_point(code="U-2", asset_id=tower.id)
    make_seal_point(code="U-3")
    login(client, manager)

    assert _codes(client.get(f"{LIST}?workshop_id=all&unit_id={unit.id}").text) == ["U-1"]
    assert _codes(client.get(f"{LIST}?workshop_id=all&asset=p-301").text) == ["U-1"]
    assert _codes(client.get(f"{LIST}?workshop_id=all&asset=T-3").text) == ["U-2"]


def test_an_engineer_sees_own_workshops_unless_choosing_all(
    client: TestClient,
    workshop_engineer: User,
    workshop: Workshop,
    other_workshop: Workshop,
    make_seal_point: MakeSealPoint,
) -> None:
    make_seal_point(code="MINE-1")
    make_seal_point(code="THEIRS-1", workshop_id=other_workshop.id)
    login(client, workshop_engineer)

    assert _codes(client.get(LIST).text) == ["MINE-1"]
    assert _codes(client.get(f"{LIST}?workshop_id=all").text) == ["MINE-1", "THEIRS-1"]
    assert _codes(client.get(f"{LIST}?workshop_id={other_workshop.id}").text) == ["THEIRS-1"]


def test_list_sorts_by_count_descending(client: TestClient, manager: User, make_seal_point: MakeSealPoint) -> None:
    make_seal_point(code="S-1", count=5)
    make_seal_point(code="S-2", count=50)
    make_seal_point(code="S-3", count=20)
    login(client, manager)

    assert _codes(client.get(f"{LIST}?workshop_id=all&sort=-count").text) == ["S-2", "S-3", "S-1"]
    assert _codes(client.get(f"{LIST}?workshop_id=all&sort=count").text) == ["S-1", "S-3", "S-2"]


def test_the_htmx_fragment_is_the_results_only(
    client: TestClient, manager: User, make_seal_point: MakeSealPoint
) -> None:
    make_seal_point(code="H-1")
    login(client, manager)

    fragment = client.get(f"{LIST}?workshop_id=all", headers={"HX-Request": "true"}).text

    assert _codes(fragment) == ["H-1"]
    assert 'id="seal-point-filters"' not in fragment


def test_the_list_runs_a_fixed_number_of_queries(
    client: TestClient,
    workshop_engineer: User,
    workshop: Workshop,
    make_seal_point: MakeSealPoint,
    count_queries: list[str],
) -> None:
    def add(count: int) -> None:
        for _ in range(count):
            unit = factories.UnitFactory(workshop_id=workshop.id)
            asset = factories.AssetFactory(workshop_id=workshop.id)
            make_seal_point(unit_id=unit.id, asset_id=asset.id)

    def queries() -> int:
        count_queries.clear()
        assert client.get(LIST).status_code == 200
        return len(count_queries)

    login(client, workshop_engineer)
    add(2)
    few = queries()
    add(5)
    many = queries()

    assert many == few


def test_csv_export_holds_the_filtered_lines(
    client: TestClient, manager: User, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    pump = factories.AssetFactory(tag="P-501", workshop_id=workshop.id)
    make_seal_point(code="E-1", seal_type=SealType.PUMP_SEAL, count=2, asset_id=pump.id, location="=机封")
    make_seal_point(code="E-2", seal_type=SealType.FLANGE, count=80)
    login(client, manager)
    client.cookies.set("lang", "en")

    response = client.get(f"{LIST}?workshop_id=all&kind=dynamic&export=csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:8] == [
        "Code",
        "Workshop",
        "Unit",
        "Asset tag",
        "Static / dynamic",
        "Seal type",
        "Location",
        "Count",
    ]
    assert len(rows) == 2
    assert rows[1][:9] == ["E-1", workshop.name, "", "P-501", "Dynamic", "Pump mechanical seal", "'=机封", "2", "yes"]


def test_xlsx_export_holds_the_same_lines_with_numbers_as_numbers(
    client: TestClient, manager: User, make_seal_point: MakeSealPoint
) -> None:
    make_seal_point(code="X-1", count=12)
    make_seal_point(code="X-2", count=7, is_active=False)
    login(client, manager)

    response = client.get(f"{LIST}?workshop_id=all&status=all&export=xlsx")

    assert response.status_code == 200
    assert response.headers["X-Export-Rows"] == "2"
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(1).to_python()
    assert [(row[0], row[7], row[8]) for row in rows[1:]] == [("X-1", 12, "是"), ("X-2", 7, "否")]


def test_an_unknown_export_format_is_refused(client: TestClient, manager: User) -> None:
    login(client, manager)
    assert client.get(f"{LIST}?export=pdf").status_code == 422


# --- Create -----------------------------------------------------------------------------------


def test_an_engineer_adds_a_line_of_their_workshop_logged_in_the_change_log(
    client: TestClient, session: Session, workshop_engineer: User, workshop: Workshop
) -> None:
    unit = factories.UnitFactory(workshop_id=workshop.id)
    factories.AssetFactory(tag="P-101A", workshop_id=workshop.id)
    token = login(client, workshop_engineer)

    form = _form(workshop, unit_id=str(unit.id), asset_tag="P-101A", seal_type="pump_seal", count="2")
    response = client.post(f"{LIST}/new", data=form | {"csrf_token": token})

    assert response.status_code == 303
    point = session.scalars(select(SealPoint).where(SealPoint.code == "W-F-001")).one()
    assert (point.workshop_id, point.unit_id, point.seal_type, point.count, point.is_active) == (
        workshop.id,
        unit.id,
        SealType.PUMP_SEAL,
        2,
        True,
    )
    assert _changes(session) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"code": ""}, "code", "This field is required."),
        ({"code": "has space"}, "code", "Use letters, digits"),
        ({"count": "0"}, "count", "Must be at least 1."),
        ({"count": "many"}, "count", "Enter a whole number."),
        ({"seal_type": "gasket"}, "seal_type", "Choose one of the listed options."),
        ({"workshop_id": ""}, "workshop_id", "This field is required."),
        ({"asset_tag": "NO-SUCH"}, "asset_tag", "No asset has the tag NO-SUCH."),
    ],
)
def test_a_refused_line_shows_why_on_a_422_page(
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

    response = client.post(f"{LIST}/new", data=_form(workshop, **fields) | {"csrf_token": token})

    assert response.status_code == 422
    assert message in response.text
    assert f'is-invalid" id="f-{field}"' in response.text
    assert _changes(session) == 0


def test_a_unit_or_asset_of_another_workshop_is_refused_naming_the_field(
    client: TestClient, session: Session, manager: User, workshop: Workshop, other_workshop: Workshop
) -> None:
    unit = factories.UnitFactory(code="U-OTHER", workshop_id=other_workshop.id)
    factories.AssetFactory(tag="V-900", workshop_id=other_workshop.id)
    token = login(client, manager)
    client.cookies.set("lang", "en")

    by_unit = client.post(f"{LIST}/new", data=_form(workshop, unit_id=str(unit.id)) | {"csrf_token": token})
    by_asset = client.post(f"{LIST}/new", data=_form(workshop, asset_tag="V-900") | {"csrf_token": token})

    assert by_unit.status_code == 422
    assert "Unit U-OTHER belongs to another workshop." in by_unit.text
    assert by_asset.status_code == 422
    assert "Asset V-900 belongs to another workshop." in by_asset.text
    assert 'is-invalid" id="f-asset_tag"' in by_asset.text
    assert _changes(session) == 0


def test_a_code_already_used_is_refused(
    client: TestClient, session: Session, manager: User, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    make_seal_point(code="DUP-1")
    token = login(client, manager)
    client.cookies.set("lang", "en")

    response = client.post(f"{LIST}/new", data=_form(workshop, code="DUP-1") | {"csrf_token": token})

    assert response.status_code == 422
    assert "Another seal-point line has the code DUP-1." in response.text
    assert session.scalar(select(func.count()).select_from(SealPoint)) == 1


def test_an_engineer_cannot_add_a_line_to_another_workshop(
    client: TestClient, session: Session, workshop_engineer: User, other_workshop: Workshop
) -> None:
    token = login(client, workshop_engineer)

    response = client.post(f"{LIST}/new", data=_form(other_workshop) | {"csrf_token": token})

    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(SealPoint)) == 0


def test_an_auditor_reads_but_cannot_write(
    client: TestClient, session: Session, auditor: User, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    point = make_seal_point(code="AUD-1")
    token = login(client, auditor)

    assert client.get(LIST + "?workshop_id=all").status_code == 200
    page = client.get(f"{LIST}/{point.id}")
    assert page.status_code == 200
    assert "<fieldset disabled>" in page.text
    assert 'id="retire-form"' not in page.text
    assert client.get(f"{LIST}/new").status_code == 403
    assert client.post(f"{LIST}/new", data=_form(workshop) | {"csrf_token": token}).status_code == 403
    edit = _form(workshop, code="AUD-1", version=str(point.version))
    assert client.post(f"{LIST}/{point.id}", data=edit | {"csrf_token": token}).status_code == 403
    retire = {"version": str(point.version), "confirm": "yes", "csrf_token": token}
    assert client.post(f"{LIST}/{point.id}/retire", data=retire).status_code == 403
    assert _changes(session) == 0


# --- Edit -------------------------------------------------------------------------------------


def test_editing_a_line_saves_and_logs_the_change(
    client: TestClient, session: Session, workshop_engineer: User, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    point = make_seal_point(code="ED-1", count=10)
    token = login(client, workshop_engineer)

    form = _form(workshop, code="ED-1", count="12", version=str(point.version))
    response = client.post(f"{LIST}/{point.id}", data=form | {"csrf_token": token})

    assert response.status_code == 303
    session.refresh(point)
    assert (point.count, point.location, point.version) == (12, "P-101A 出口法兰", 2)
    assert _changes(session) == 1


def test_another_workshop_s_engineer_cannot_edit_the_line(
    client: TestClient, session: Session, other_engineer: User, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    point = make_seal_point(code="ED-2", count=10)
    token = login(client, other_engineer)

    page = client.get(f"{LIST}/{point.id}")
    response = client.post(
        f"{LIST}/{point.id}", data=_form(workshop, code="ED-2", version=str(point.version)) | {"csrf_token": token}
    )

    assert "<fieldset disabled>" in page.text
    assert response.status_code == 403
    session.refresh(point)
    assert point.count == 10


def test_a_stale_edit_is_refused_with_the_conflict_page(
    client: TestClient, session: Session, manager: User, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    point = make_seal_point(code="ST-1", count=10)
    token = login(client, manager)
    first = _form(workshop, code="ST-1", count="11", version="1")
    second = _form(workshop, code="ST-1", count="15", version="1")

    assert client.post(f"{LIST}/{point.id}", data=first | {"csrf_token": token}).status_code == 303
    stale = client.post(f"{LIST}/{point.id}", data=second | {"csrf_token": token})

    assert stale.status_code == 409
    assert "ST-1" in stale.text
    session.refresh(point)
    assert (point.count, point.version) == (11, 2)


def test_a_line_that_does_not_exist_is_404(client: TestClient, manager: User) -> None:
    token = login(client, manager)
    assert client.get(f"{LIST}/999999").status_code == 404
    assert client.post(f"{LIST}/999999", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{LIST}/999999/retire", data={"csrf_token": token}).status_code == 404


# --- Retire -----------------------------------------------------------------------------------


def test_retiring_needs_the_confirmation_then_keeps_the_line_out_of_the_totals(
    client: TestClient, session: Session, workshop_engineer: User, make_seal_point: MakeSealPoint
) -> None:
    point = make_seal_point(code="RT-1", count=40)
    make_seal_point(code="RT-2", count=60)
    token = login(client, workshop_engineer)

    unconfirmed = client.post(f"{LIST}/{point.id}/retire", data={"version": "1", "csrf_token": token})
    assert unconfirmed.status_code == 422
    session.refresh(point)
    assert point.is_active is True

    confirmed = client.post(f"{LIST}/{point.id}/retire", data={"version": "1", "confirm": "yes", "csrf_token": token})

    assert confirmed.status_code == 303
    session.refresh(point)
    assert (point.is_active, point.version) == (False, 2)
    assert session.get(SealPoint, point.id) is not None  # kept, not deleted
    assert _totals(client.get(LIST).text) == {"static": "60", "dynamic": "0"}
    assert _changes(session) == 1

    back = client.post(f"{LIST}/{point.id}/reinstate", data={"version": "2", "csrf_token": token})
    assert back.status_code == 303
    session.refresh(point)
    assert point.is_active is True
    assert _totals(client.get(LIST).text) == {"static": "100", "dynamic": "0"}


def test_retiring_from_a_stale_page_is_a_conflict(
    client: TestClient, session: Session, manager: User, make_seal_point: MakeSealPoint
) -> None:
    point = make_seal_point(code="RT-3")
    token = login(client, manager)

    response = client.post(f"{LIST}/{point.id}/retire", data={"version": "7", "confirm": "yes", "csrf_token": token})

    assert response.status_code == 409
    session.refresh(point)
    assert point.is_active is True


def test_an_edit_does_not_bring_a_retired_line_back(
    client: TestClient, session: Session, manager: User, workshop: Workshop, make_seal_point: MakeSealPoint
) -> None:
    point = make_seal_point(code="RT-4", is_active=False)
    token = login(client, manager)

    form: dict[str, Any] = _form(workshop, code="RT-4", count="3", version="1", is_active="on")
    assert client.post(f"{LIST}/{point.id}", data=form | {"csrf_token": token}).status_code == 303

    session.refresh(point)
    assert (point.count, point.is_active) == (3, False)
