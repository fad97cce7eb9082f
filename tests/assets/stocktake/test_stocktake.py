"""Stocktake (清查): a count of one workshop's assets against a snapshot taken at the start,
counted line by line or by scanning QR labels on a phone, signed off into a read-only report."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.depreciation import book_value_of
from maintenance.assets.models import Asset
from maintenance.assets.stocktake import service as stocktake_service
from maintenance.assets.stocktake.models import CountResult, Stocktake, StocktakeLine, StocktakeState, StocktakeSurplus
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.db import plant_today
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories
from tests.conftest import login

HX = {"HX-Request": "true"}
HX_EN = {**HX, "Accept-Language": "en"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def plant(session: Session) -> dict[str, object]:
    """Workshop A (a unit, two assets in service, one retired), workshop B (one asset)."""
    a = factories.WorkshopFactory(name="聚合车间")
    b = factories.WorkshopFactory(site_id=a.site_id, name="公用工程车间")
    unit = factories.UnitFactory(workshop_id=a.id, name="一号装置")
    pump = factories.AssetFactory(
        tag="P-101",
        name="循环水泵",
        workshop_id=a.id,
        unit_id=unit.id,
        original_value_cny=Decimal("100000.00"),
        fixed_asset_number="FA-0001",
    )
    vessel = factories.AssetFactory(
        tag="V-201", name="缓冲罐", workshop_id=a.id, original_value_cny=Decimal("50000.50"), commission_date=None
    )
    retired = factories.AssetFactory(
        tag="P-999",
        name="旧泵",
        workshop_id=a.id,
        status=AssetStatus.RETIRED,
        retired_date=date(2024, 1, 1),
        retire_reason="腐蚀报废",
    )
    other = factories.AssetFactory(tag="T-301", name="储罐", workshop_id=b.id)
    return {"a": a, "b": b, "unit": unit, "pump": pump, "vessel": vessel, "retired": retired, "other": other}


def _user(session: Session, role: Role, *workshops: Workshop) -> User:
    user = factories.UserFactory(role=role)
    for workshop in workshops:
        session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))
    session.flush()
    return user


def start(client: TestClient, session: Session, token: str, workshop: Workshop) -> Stocktake:
    response = client.post(
        "/stocktakes/new", data={"workshop_id": str(workshop.id), "note": "年终盘点", "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/stocktakes/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    stocktake = session.get(Stocktake, int(match.group(1)))
    assert stocktake is not None
    return stocktake


def lines_of(session: Session, stocktake: Stocktake) -> dict[str, StocktakeLine]:
    rows = session.scalars(select(StocktakeLine).where(col(StocktakeLine.stocktake_id) == stocktake.id))
    return {line.tag: line for line in rows}


def changes(session: Session, object_type: str) -> list[ObjectChange]:
    return list(
        session.scalars(
            select(ObjectChange).where(col(ObjectChange.object_type) == object_type).order_by(col(ObjectChange.id))
        )
    )


def count(client: TestClient, token: str, stocktake: Stocktake, line: StocktakeLine, result: str, **extra: str) -> str:
    response = client.post(
        f"/stocktakes/{stocktake.id}/lines/{line.id}",
        data={"result": result, "csrf_token": token, **extra},
        headers=HX_EN,
    )
    assert response.status_code == 200, response.text
    return response.text


# --- Start --------------------------------------------------------------------------------


def test_start_snapshots_the_workshops_assets_that_are_not_retired(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    token = login(client, admin)
    stocktake = start(client, session, token, plant["a"])  # type: ignore[arg-type]

    lines = lines_of(session, stocktake)
    assert set(lines) == {"P-101", "V-201"}  # not the retired P-999, not workshop B's T-301
    pump = plant["pump"]
    assert isinstance(pump, Asset)
    assert lines["P-101"].name == "循环水泵"
    assert lines["P-101"].location == "聚合车间 / 一号装置"
    assert lines["V-201"].location == "聚合车间"
    assert lines["P-101"].fixed_asset_number == "FA-0001"
    assert lines["P-101"].original_value_cny == Decimal("100000.00")
    assert lines["P-101"].net_book_value_cny == book_value_of(pump, plant_today()).net_book_value_cny
    assert lines["P-101"].net_book_value_cny < Decimal("100000.00")  # commissioned in 2020: depreciated
    assert lines["V-201"].net_book_value_cny == Decimal("50000.50")  # not commissioned: not depreciated
    assert all(line.result == CountResult.UNCOUNTED for line in lines.values())
    assert stocktake.state == StocktakeState.OPEN
    assert stocktake.as_of_date == plant_today()
    assert stocktake.note == "年终盘点"

    [created] = changes(session, "stocktake")
    assert created.action == ChangeAction.CREATE
    assert created.actor_id == admin.id
    assert created.after is not None
    assert created.after["expected_assets"] == 2


def test_the_snapshot_keeps_what_the_registry_said_at_the_start(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    token = login(client, admin)
    stocktake = start(client, session, token, plant["a"])  # type: ignore[arg-type]
    pump = plant["pump"]
    assert isinstance(pump, Asset)
    pump.name = "改名后的泵"
    session.flush()
    assert lines_of(session, stocktake)["P-101"].name == "循环水泵"


def test_a_second_open_stocktake_of_the_same_workshop_is_refused(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    token = login(client, admin)
    first = start(client, session, token, plant["a"])  # type: ignore[arg-type]
    response = client.post("/stocktakes/new", data={"workshop_id": str(plant["a"].id), "csrf_token": token})  # type: ignore[attr-defined]
    assert response.status_code == 303
    assert response.headers["location"] == "/stocktakes"
    page = client.get("/stocktakes").text
    assert f"#{first.id}" in page
    assert session.scalars(select(Stocktake)).all() == [first]


# --- Counting -----------------------------------------------------------------------------


def test_found_missing_and_surplus_are_recorded_and_change_logged(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    token = login(client, admin)
    stocktake = start(client, session, token, plant["a"])  # type: ignore[arg-type]
    lines = lines_of(session, stocktake)

    fragment = count(client, token, stocktake, lines["P-101"], "found", condition="damaged", note="机封漏")
    assert f'id="line-{lines["P-101"].id}"' in fragment
    assert 'id="stocktake-progress" class="card card-body mb-3" hx-swap-oob="true"' in fragment
    assert "1 of 2 counted" in fragment
    count(client, token, stocktake, lines["V-201"], "missing")

    session.expire_all()
    lines = lines_of(session, stocktake)
    assert lines["P-101"].result == CountResult.FOUND
    assert lines["P-101"].condition is not None
    assert lines["P-101"].condition.value == "damaged"
    assert lines["P-101"].note == "机封漏"
    assert lines["P-101"].counted_by_id == admin.id
    assert lines["P-101"].found_by_scan is False
    assert lines["V-201"].result == CountResult.MISSING
    assert lines["V-201"].condition is None

    response = client.post(
        f"/stocktakes/{stocktake.id}/surplus",
        data={
            "description": "无铭牌备用泵",
            "location": "仓库",
            "estimated_value_cny": "8000",
            "condition": "idle",
            "csrf_token": token,
        },
        headers=HX,
    )
    assert response.status_code == 200, response.text
    assert "无铭牌备用泵" in response.text
    assert 'id="surplus"' in response.text
    [surplus] = session.scalars(select(StocktakeSurplus)).all()
    assert surplus.estimated_value_cny == Decimal("8000.00")

    line_changes = changes(session, "stocktake_line")
    assert [c.action for c in line_changes] == [ChangeAction.UPDATE, ChangeAction.UPDATE]
    assert line_changes[0].before is not None
    assert line_changes[0].after is not None
    assert line_changes[0].before["result"] == "uncounted"
    assert line_changes[0].after["result"] == "found"
    assert [c.action for c in changes(session, "stocktake_surplus")] == [ChangeAction.CREATE]

    progress = stocktake_service.progress_of(session, [stocktake.id])[stocktake.id]  # type: ignore[list-item,index]
    assert (progress.found.count, progress.missing.count, progress.uncounted, progress.surplus_count) == (1, 1, 0, 1)


def test_a_count_can_be_undone_while_open(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    token = login(client, admin)
    stocktake = start(client, session, token, plant["a"])  # type: ignore[arg-type]
    line = lines_of(session, stocktake)["P-101"]
    count(client, token, stocktake, line, "found")
    count(client, token, stocktake, line, "uncounted")
    session.refresh(line)
    assert line.result == CountResult.UNCOUNTED
    assert line.counted_at is None
    assert line.condition is None


def test_the_stocktake_page_lists_lines_filters_them_and_serves_the_fragment_to_htmx(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    token = login(client, admin)
    stocktake = start(client, session, token, plant["a"])  # type: ignore[arg-type]
    count(client, token, stocktake, lines_of(session, stocktake)["P-101"], "found")

    page = client.get(f"/stocktakes/{stocktake.id}")
    assert page.status_code == 200
    assert "P-101" in page.text
    assert "V-201" in page.text
    assert "<html" in page.text
    assert 'hx-post="/stocktakes/' in page.text  # open: controls shown

    fragment = client.get(f"/stocktakes/{stocktake.id}", params={"result": "uncounted"}, headers=HX)
    assert "<html" not in fragment.text
    assert "V-201" in fragment.text
    assert "P-101" not in fragment.text

    listing = client.get("/stocktakes", params={"state": "open"})
    assert f'href="/stocktakes/{stocktake.id}"' in listing.text
    assert f'href="/stocktakes/{stocktake.id}"' not in client.get("/stocktakes", params={"state": "closed"}).text


# --- Scanning a QR label --------------------------------------------------------------------


def test_scanning_a_label_offers_mark_found_and_records_it(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    counter = _user(session, Role.ENGINEER, plant["a"])  # type: ignore[arg-type]
    stocktake = stocktake_service.start_stocktake(session, workshop_id=plant["a"].id, actor=admin)  # type: ignore[attr-defined]
    pump = plant["pump"]
    assert isinstance(pump, Asset)
    token = login(client, counter)

    asset_page = client.get(f"/assets/{pump.id}")
    assert f'hx-get="/assets/{pump.id}/stocktake"' in asset_page.text  # the banner loads on the asset page
    banner = client.get(f"/assets/{pump.id}/stocktake", headers=HX)
    assert banner.status_code == 200
    assert f'hx-post="/stocktakes/{stocktake.id}/scan/{pump.id}"' in banner.text
    assert "btn-lg w-100" in banner.text  # one big button, thumb-sized on a phone

    response = client.post(
        f"/stocktakes/{stocktake.id}/scan/{pump.id}", data={"condition": "good", "csrf_token": token}, headers=HX
    )
    assert response.status_code == 200
    assert 'data-testid="scan-done"' in response.text
    line = lines_of(session, stocktake)["P-101"]
    session.refresh(line)
    assert line.result == CountResult.FOUND
    assert line.found_by_scan
    assert line.counted_by_id == counter.id


def test_scanning_an_asset_the_snapshot_does_not_list_records_surplus(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    stocktake = stocktake_service.start_stocktake(session, workshop_id=plant["a"].id, actor=admin)  # type: ignore[attr-defined]
    newcomer = factories.AssetFactory(tag="P-102", name="新泵", workshop_id=plant["a"].id)  # type: ignore[attr-defined]
    token = login(client, admin)
    banner = client.get(f"/assets/{newcomer.id}/stocktake", headers=HX_EN).text
    assert f"Record as surplus in stocktake #{stocktake.id}" in banner

    response = client.post(f"/stocktakes/{stocktake.id}/scan/{newcomer.id}", data={"csrf_token": token}, headers=HX)
    assert response.status_code == 200
    [surplus] = session.scalars(select(StocktakeSurplus)).all()
    assert surplus.asset_id == newcomer.id
    assert surplus.description == "P-102 新泵"
    again = client.post(f"/stocktakes/{stocktake.id}/scan/{newcomer.id}", data={"csrf_token": token}, headers=HX)
    assert again.status_code == 200
    assert len(session.scalars(select(StocktakeSurplus)).all()) == 1  # not twice


@pytest.mark.parametrize("who", ["auditor", "engineer of another workshop", "no stocktake open"])
def test_the_scan_banner_is_not_offered(
    client: TestClient, session: Session, admin: User, plant: dict[str, object], who: str
) -> None:
    if who != "no stocktake open":
        stocktake_service.start_stocktake(session, workshop_id=plant["a"].id, actor=admin)  # type: ignore[attr-defined]
    user = {
        "auditor": lambda: _user(session, Role.AUDITOR),
        "engineer of another workshop": lambda: _user(session, Role.ENGINEER, plant["b"]),  # type: ignore[arg-type]
        "no stocktake open": lambda: admin,
    }[who]()
    login(client, user)
    banner = client.get(f"/assets/{plant['pump'].id}/stocktake", headers=HX)  # type: ignore[attr-defined]
    assert banner.status_code == 200
    assert "scan-banner" not in banner.text


# --- Closing --------------------------------------------------------------------------------


def test_sign_off_needs_every_line_counted_and_a_statement_then_nothing_changes(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    token = login(client, admin)
    stocktake = start(client, session, token, plant["a"])  # type: ignore[arg-type]
    lines = lines_of(session, stocktake)
    count(client, token, stocktake, lines["P-101"], "found")

    refused = client.post(f"/stocktakes/{stocktake.id}/close", data={"statement": "盘点无误", "csrf_token": token})
    assert refused.status_code == 303
    session.refresh(stocktake)
    assert stocktake.state == StocktakeState.OPEN  # V-201 not counted yet

    marked = client.post(f"/stocktakes/{stocktake.id}/mark-missing", data={"csrf_token": token})
    assert marked.status_code == 303
    session.refresh(lines["V-201"])
    assert lines["V-201"].result == CountResult.MISSING

    client.post(f"/stocktakes/{stocktake.id}/close", data={"statement": "  ", "csrf_token": token})
    session.refresh(stocktake)
    assert stocktake.state == StocktakeState.OPEN  # no statement, no sign-off

    closed = client.post(
        f"/stocktakes/{stocktake.id}/close", data={"statement": "盘点无误，签字确认。", "csrf_token": token}
    )
    assert closed.status_code == 303
    session.refresh(stocktake)
    assert stocktake.state == StocktakeState.CLOSED
    assert stocktake.closed_by_id == admin.id
    assert stocktake.closed_at is not None
    assert stocktake.signed_by_name == admin.display_name
    assert stocktake.sign_off_statement == "盘点无误，签字确认。"
    state_changes = [c for c in changes(session, "stocktake") if c.action == ChangeAction.UPDATE]
    assert state_changes[-1].before["state"] == "open"
    assert state_changes[-1].after["state"] == "closed"
    assert state_changes[0].after["marked_missing"] == [{"line_id": lines["V-201"].id, "tag": "V-201"}]  # type: ignore[index]

    # Read-only from now on: counts, surplus, scans, a second sign-off and discarding are refused.
    before = len(session.scalars(select(ObjectChange)).all())
    for path, data in [
        (f"/stocktakes/{stocktake.id}/lines/{lines['P-101'].id}", {"result": "missing"}),
        (f"/stocktakes/{stocktake.id}/surplus", {"description": "迟到的盘盈"}),
        (f"/stocktakes/{stocktake.id}/scan/{plant['pump'].id}", {}),  # type: ignore[attr-defined]
        (f"/stocktakes/{stocktake.id}/mark-missing", {}),
        (f"/stocktakes/{stocktake.id}/discard", {}),
    ]:
        response = client.post(path, data={**data, "csrf_token": token}, headers=HX)
        assert response.status_code in (200, 409), (path, response.status_code)
    session.expire_all()
    assert lines_of(session, stocktake)["P-101"].result == CountResult.FOUND
    assert session.scalars(select(StocktakeSurplus)).all() == []
    assert len(session.scalars(select(ObjectChange)).all()) == before
    page = client.get(f"/stocktakes/{stocktake.id}").text
    assert f'hx-post="/stocktakes/{stocktake.id}/lines/' not in page  # no controls left
    assert "盘点无误，签字确认。" in page


def test_an_engineer_counts_but_cannot_sign_off(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    engineer = _user(session, Role.ENGINEER, plant["a"])  # type: ignore[arg-type]
    stocktake = stocktake_service.start_stocktake(session, workshop_id=plant["a"].id, actor=admin)  # type: ignore[attr-defined]
    stocktake_service.mark_uncounted_missing(session, stocktake, actor=admin)
    token = login(client, engineer)
    response = client.post(f"/stocktakes/{stocktake.id}/close", data={"statement": "确认", "csrf_token": token})
    assert response.status_code == 403
    session.refresh(stocktake)
    assert stocktake.state == StocktakeState.OPEN


# --- Report -------------------------------------------------------------------------------


def _counted_and_closed(session: Session, admin: User, plant: dict[str, object]) -> Stocktake:
    stocktake = stocktake_service.start_stocktake(session, workshop_id=plant["a"].id, actor=admin)  # type: ignore[attr-defined]
    lines = lines_of(session, stocktake)
    stocktake_service.record_count(session, stocktake, lines["P-101"], result=CountResult.FOUND, actor=admin)
    stocktake_service.record_count(
        session, stocktake, lines["V-201"], result=CountResult.MISSING, note="=1+1", actor=admin
    )
    stocktake_service.add_surplus(
        session,
        stocktake,
        stocktake_service.StocktakeSurplusCreate(description="无铭牌电机", estimated_value_cny=Decimal("1234.56")),
        actor=admin,
    )
    stocktake_service.close_stocktake(session, stocktake, statement="盘点无误", actor=admin)
    return stocktake


def test_the_xlsx_report_has_found_missing_surplus_and_totals(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    stocktake = _counted_and_closed(session, admin, plant)
    lines = lines_of(session, stocktake)
    auditor = _user(session, Role.AUDITOR)
    login(client, auditor)  # auditors read and export

    response = client.get(f"/stocktakes/{stocktake.id}/report.xlsx", headers=EN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    sheets = pd.read_excel(io.BytesIO(response.content), sheet_name=None, engine="calamine", header=None)
    summary, found, missing, surplus = (sheets[name] for name in list(sheets)[:4])
    assert len(sheets) == 4  # nothing left uncounted: no "not counted" sheet

    def row_of(frame: pd.DataFrame, label: str) -> list[object]:
        [row] = [list(r) for r in frame.itertuples(index=False) if r[0] == label]
        return row

    found_value = lines["P-101"].original_value_cny
    missing_value = lines["V-201"].original_value_cny
    expected_row = row_of(summary, "Expected (snapshot)")
    assert expected_row[1] == 2
    assert Decimal(str(expected_row[2])) == found_value + missing_value
    assert Decimal(str(row_of(summary, "Found")[2])) == found_value
    assert Decimal(str(row_of(summary, "Missing")[2])) == missing_value
    assert row_of(summary, "Surplus (estimated value)")[1:3] == [1, 1234.56]
    assert "盘点无误" in summary.to_string()

    assert list(found.iloc[1, :2]) == ["P-101", "循环水泵"]
    assert found.iloc[-1, 0].startswith("Total")
    assert Decimal(str(found.iloc[-1, 4])) == found_value
    assert Decimal(str(found.iloc[-1, 5])) == lines["P-101"].net_book_value_cny
    assert missing.iloc[1, 0] == "V-201"
    assert Decimal(str(missing.iloc[-1, 4])) == missing_value
    assert "=1+1" in list(missing.iloc[1])  # a note that looks like a formula stays text
    assert surplus.iloc[1, 0] == "无铭牌电机"
    assert surplus.iloc[-1, 2] == 1234.56


def test_the_printable_report_shows_the_sign_off_and_totals(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    stocktake = _counted_and_closed(session, admin, plant)
    login(client, admin)
    page = client.get(f"/stocktakes/{stocktake.id}/report", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "盘点无误" in page.text
    assert "P-101" in page.text
    assert "V-201" in page.text
    assert "无铭牌电机" in page.text
    assert "1,234.56" in page.text
    assert 'href="/static/print.css"' in page.text
    assert 'data-action="print"' in page.text
    assert "<script>" not in page.text
    assert " style=" not in page.text


# --- Permissions --------------------------------------------------------------------------


def test_auditors_read_but_write_nothing(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    stocktake = stocktake_service.start_stocktake(session, workshop_id=plant["a"].id, actor=admin)  # type: ignore[attr-defined]
    line = lines_of(session, stocktake)["P-101"]
    token = login(client, _user(session, Role.AUDITOR))
    before = len(session.scalars(select(ObjectChange)).all())

    assert client.get("/stocktakes").status_code == 200
    assert client.get(f"/stocktakes/{stocktake.id}").status_code == 200
    assert client.get(f"/stocktakes/{stocktake.id}/report").status_code == 200
    for path, data in [
        ("/stocktakes/new", {"workshop_id": str(plant["b"].id)}),  # type: ignore[attr-defined]
        (f"/stocktakes/{stocktake.id}/lines/{line.id}", {"result": "found"}),
        (f"/stocktakes/{stocktake.id}/surplus", {"description": "x"}),
        (f"/stocktakes/{stocktake.id}/scan/{plant['pump'].id}", {}),  # type: ignore[attr-defined]
        (f"/stocktakes/{stocktake.id}/mark-missing", {}),
        (f"/stocktakes/{stocktake.id}/close", {"statement": "x"}),
        (f"/stocktakes/{stocktake.id}/discard", {}),
    ]:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert len(session.scalars(select(ObjectChange)).all()) == before
    assert 'action="/stocktakes/new"' not in client.get("/stocktakes").text


def test_engineers_start_and_count_only_in_their_workshops(
    client: TestClient, session: Session, admin: User, plant: dict[str, object]
) -> None:
    engineer = _user(session, Role.ENGINEER, plant["a"])  # type: ignore[arg-type]
    other = stocktake_service.start_stocktake(session, workshop_id=plant["b"].id, actor=admin)  # type: ignore[attr-defined]
    other_line = lines_of(session, other)["T-301"]
    token = login(client, engineer)

    own = start(client, session, token, plant["a"])  # type: ignore[arg-type]
    count(client, token, own, lines_of(session, own)["P-101"], "found")

    refused = client.post("/stocktakes/new", data={"workshop_id": str(plant["b"].id), "csrf_token": token})  # type: ignore[attr-defined]
    assert refused.status_code == 403
    response = client.post(
        f"/stocktakes/{other.id}/lines/{other_line.id}", data={"result": "found", "csrf_token": token}, headers=HX
    )
    assert response.status_code == 403
    session.refresh(other_line)
    assert other_line.result == CountResult.UNCOUNTED
    page = client.get(f"/stocktakes/{other.id}").text
    assert f'hx-post="/stocktakes/{other.id}/lines/' not in page  # read-only for them
    start_form = client.get("/stocktakes").text
    assert f'<option value="{plant["a"].id}">' in start_form  # type: ignore[attr-defined]
    assert (
        f'<option value="{plant["b"].id}">'
        not in start_form.split('name="workshop_id" required')[1].split("</select>")[0]
    )  # type: ignore[attr-defined]


def test_a_manager_discards_an_open_stocktake_started_by_mistake(
    client: TestClient, session: Session, plant: dict[str, object]
) -> None:
    manager = _user(session, Role.MANAGER)
    stocktake = stocktake_service.start_stocktake(session, workshop_id=plant["a"].id, actor=manager)  # type: ignore[attr-defined]
    stocktake_id = stocktake.id
    token = login(client, manager)
    response = client.post(f"/stocktakes/{stocktake_id}/discard", data={"csrf_token": token})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Stocktake, stocktake_id) is None
    assert session.scalars(select(StocktakeLine).where(col(StocktakeLine.stocktake_id) == stocktake_id)).all() == []
    assert changes(session, "stocktake")[-1].action == ChangeAction.DELETE


def test_snapshot_of_a_unit_less_workshop_with_many_assets_is_one_insert(
    session: Session, admin: User, plant: dict[str, object], count_queries: list[str]
) -> None:
    for n in range(30):
        factories.AssetFactory(tag=f"X-{n:03d}", workshop_id=plant["b"].id)  # type: ignore[attr-defined]
    count_queries.clear()
    stocktake = stocktake_service.start_stocktake(session, workshop_id=plant["b"].id, actor=admin)  # type: ignore[attr-defined]
    inserts = [q for q in count_queries if q.lstrip().upper().startswith("INSERT INTO STOCKTAKE_LINE")]
    assert len(inserts) <= 2  # executemany, not one statement per asset
    assert len(lines_of(session, stocktake)) == 31
