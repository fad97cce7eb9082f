"""The monitoring pages: the point list (filters, export, fixed queries), the point page (trend
chart with limits and zones, forecast, readings, the reading form that raises CBM orders), the
point forms (422, 409), the alarm board and the asset page's readings tab.

Fixtures ``workshop``, ``asset``, ``make_point`` and ``ingest`` come from tests/monitoring/conftest.py.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.db import plant_timezone, utcnow
from maintenance.i18n import LOCALE_COOKIE
from maintenance.monitoring.choices import AlertState, ConditionState, LimitPreset, Quantity, ReadingSource
from maintenance.monitoring.models import ConditionAlert, MeasurementPoint, Reading
from maintenance.orders import service as order_service
from maintenance.orders.choices import OrderType
from maintenance.orders.models import WorkOrder, WorkOrderCreate
from maintenance.org.models import User, Workshop
from tests import factories
from tests.conftest import login
from tests.monitoring.conftest import SYSTEM, Ingest, MakePoint, series

HTMX = {"HX-Request": "true"}


def recent(days_ago: float, values: list[float]) -> datetime:
    """A start time so that readings one day apart end ``days_ago`` days before now."""
    return utcnow().replace(microsecond=0) - timedelta(days=days_ago + len(values) - 1)


def daily(point: MeasurementPoint, values: list[float], *, days_ago: float = 0.5) -> list:  # type: ignore[type-arg]
    return series(point.code, values, start=recent(days_ago, values), step=timedelta(days=1))


def set_state(session: Session, point: MeasurementPoint, value: float, state: ConditionState, hours: int) -> None:
    """A point whose latest reading put it in ``state`` ``hours`` ago (without an order)."""
    point.latest_value = value
    point.latest_taken_at = utcnow() - timedelta(hours=hours)
    point.latest_state = state
    point.state_since = point.latest_taken_at
    session.flush()


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def chart_option(page: str) -> dict:  # type: ignore[type-arg]
    match = re.search(r'<template id="trend-chart" data-chart-option>(.*?)</template>', page, re.S)
    assert match, "the trend chart's option is in the page"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


# --- The point list -----------------------------------------------------------------------


def test_list_shows_latest_value_zone_state_limits_and_open_order(
    client: TestClient, session: Session, engineer: User, asset: Asset, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point(code="P-1101A-DE-V", preset=LimitPreset.G1_RIGID)  # B/C 4.5, C/D 7.1
    ingest(daily(point, [2.0, 7.5]))
    order = session.scalars(select(WorkOrder).where(col(WorkOrder.asset_id) == asset.id)).one()
    login(client, engineer)

    page = client.get("/monitoring").text

    row = page[page.index('data-point="P-1101A-DE-V"') :].split("</tr>")[0]
    assert f'href="/assets/{asset.id}"' in row
    assert asset.tag in row
    assert "7.5" in row
    assert "mm/s" in row
    assert 'data-zone="D"' in row
    assert 'data-state="alarm"' in row
    assert f'href="/orders/{order.id}"' in row
    assert order.number in row
    assert "4.5" in row
    assert "7.1" in row


def test_list_filters_by_state_quantity_and_asset_tag(
    client: TestClient, session: Session, engineer: User, make_point: MakePoint
) -> None:
    vib = make_point(code="VIB-1")
    temp = make_point(code="TMP-1", quantity=Quantity.BEARING_TEMPERATURE, warning_high=80, alarm_high=95)
    other_asset = factories.AssetFactory(tag="K-2001")
    make_point(code="VIB-K", asset_id=other_asset.id)
    set_state(session, vib, 5.0, ConditionState.WARNING, 3)
    set_state(session, temp, 60, ConditionState.NORMAL, 3)
    login(client, engineer)

    def codes(**params: str) -> set[str]:
        return set(re.findall(r'data-point="([^"]+)"', client.get("/monitoring", params=params).text))

    assert codes(state="warning") == {"VIB-1"}
    assert codes(quantity="bearing_temp") == {"TMP-1"}
    assert codes(q="K-2001") == {"VIB-K"}
    assert codes(state="no-such-state") == {"VIB-1", "TMP-1", "VIB-K"}  # a bad filter is ignored


def test_list_hides_inactive_points_unless_asked(client: TestClient, engineer: User, make_point: MakePoint) -> None:
    make_point(code="OLD-1", is_active=False)
    make_point(code="NEW-1")
    login(client, engineer)

    assert "OLD-1" not in client.get("/monitoring").text
    assert "OLD-1" in client.get("/monitoring", params={"active": "no"}).text
    assert "NEW-1" not in client.get("/monitoring", params={"active": "no"}).text


def test_list_filters_by_unit_of_the_asset(client: TestClient, engineer: User, make_point: MakePoint) -> None:
    unit = factories.UnitFactory()
    on_unit = factories.AssetFactory(workshop_id=unit.workshop_id, unit_id=unit.id)
    make_point(code="ON-UNIT", asset_id=on_unit.id)
    make_point(code="ELSEWHERE")
    login(client, engineer)

    page = client.get("/monitoring", params={"unit_id": unit.id}).text

    assert "ON-UNIT" in page
    assert "ELSEWHERE" not in page


def test_list_htmx_request_gets_the_results_fragment(client: TestClient, engineer: User, make_point: MakePoint) -> None:
    make_point(code="FRAG-1")
    login(client, engineer)

    response = client.get("/monitoring", headers=HTMX)

    assert "FRAG-1" in response.text
    assert "<html" not in response.text
    assert 'id="point-filters"' not in response.text


def test_list_sorts_by_state_most_severe_first(
    client: TestClient, session: Session, engineer: User, make_point: MakePoint
) -> None:
    for code, state in (("S-N", ConditionState.NORMAL), ("S-A", ConditionState.ALARM), ("S-W", ConditionState.WARNING)):
        set_state(session, make_point(code=code), 1.0, state, 1)
    login(client, engineer)

    page = client.get("/monitoring", params={"sort": "-state"}).text

    assert re.findall(r'data-point="(S-\w)"', page) == ["S-A", "S-W", "S-N"]


def test_csv_export_is_the_filtered_list(
    client: TestClient, session: Session, auditor: User, make_point: MakePoint
) -> None:
    warn = make_point(code="EXP-W", preset=LimitPreset.G2_RIGID)  # B/C 2.8, C/D 4.5
    make_point(code="EXP-N")
    set_state(session, warn, 3.0, ConditionState.WARNING, 2)
    login(client, auditor)

    response = client.get("/monitoring", params={"state": "warning", "export": "csv"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record.get("测点编号", record.get("Point code")) == "EXP-W"
    assert "C" in rows[1]  # the ISO 10816 zone of 3.0 mm/s in group 2, rigid


def test_xlsx_export_downloads(client: TestClient, auditor: User, make_point: MakePoint) -> None:
    make_point(code="X-1")
    login(client, auditor)

    response = client.get("/monitoring", params={"export": "xlsx"})

    assert response.status_code == 200
    assert response.headers["x-export-rows"] == "1"
    assert response.content[:2] == b"PK"


def test_export_headers_are_in_the_users_language(client: TestClient, auditor: User, make_point: MakePoint) -> None:
    make_point(code="H-1")
    login(client, auditor)

    def header_row() -> list[str]:
        response = client.get("/monitoring", params={"export": "csv"})
        return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert header_row() == [
        "测点编号", "测点名称", "设备位号", "设备名称", "车间", "测量参数", "单位", "最新值", "ISO 10816 区域",
        "测量时间", "状态", "状态起始", "高预警值", "高报警值", "低预警值", "低报警值", "限值依据", "启用",
        "未完成预知维修工单",
    ]  # fmt: skip
    client.cookies.set("lang", "en")
    assert header_row() == [
        "Point code", "Point name", "Asset tag", "Asset name", "Workshop", "Quantity", "Unit", "Latest value",
        "ISO 10816 zone", "Taken at", "State", "State since", "Warning high", "Alarm high", "Warning low",
        "Alarm low", "Limit preset", "Active", "Open CBM order",
    ]  # fmt: skip


def test_list_runs_a_fixed_number_of_queries(
    client: TestClient,
    session: Session,
    engineer: User,
    make_point: MakePoint,
    ingest: Ingest,
    count_queries: list[str],
) -> None:
    login(client, engineer)

    def queries_for(count: int) -> int:
        for _ in range(count):
            point = make_point(preset=LimitPreset.G1_RIGID)
            ingest(daily(point, [8.0]))  # alarm: each point gets its CBM order
        session.flush()
        count_queries.clear()
        response = client.get("/monitoring", params={"active": "all"})
        assert response.status_code == 200
        return len(count_queries)

    few = queries_for(2)
    many = queries_for(28)

    assert many == few


# --- The point page -----------------------------------------------------------------------


def test_point_page_chart_has_limit_lines_and_zone_bands_for_a_preset(
    client: TestClient, engineer: User, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point(preset=LimitPreset.G1_FLEXIBLE)  # 3.5 / 7.1 / 11.0
    ingest(daily(point, [2.0, 3.0, 4.0]))
    login(client, engineer)

    page = client.get(f"/monitoring/points/{point.id}").text

    option = chart_option(page)
    main = option["series"][0]
    assert [value for _, value in main["data"]] == [2.0, 3.0, 4.0]
    assert sorted(line["yAxis"] for line in main["markLine"]["data"]) == [7.1, 11.0]
    bands = main["markArea"]["data"]
    assert [(band[0]["yAxis"], band[1]["yAxis"]) for band in bands][:3] == [(0.0, 3.5), (3.5, 7.1), (7.1, 11.0)]
    assert "/static/vendor/echarts/echarts.min.js" in page
    assert "/static/charts.js" in page
    assert 'data-zone="B"' in page  # 4.0 mm/s is zone B beside the latest value


def test_point_page_without_preset_has_limit_lines_but_no_zones(
    client: TestClient, engineer: User, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point(quantity=Quantity.BEARING_TEMPERATURE, warning_high=80, alarm_high=95, alarm_low=5)
    ingest(daily(point, [60, 62]))
    login(client, engineer)

    option = chart_option(client.get(f"/monitoring/points/{point.id}").text)

    assert "markArea" not in option["series"][0]
    assert sorted(line["yAxis"] for line in option["series"][0]["markLine"]["data"]) == [5, 80, 95]


def test_point_page_window_follows_days(
    client: TestClient, engineer: User, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    ingest(daily(point, [1.0], days_ago=60))
    ingest(daily(point, [2.0], days_ago=10))
    login(client, engineer)

    def values(days: object) -> list[float]:
        page = client.get(f"/monitoring/points/{point.id}", params={"days": days}).text
        return [value for _, value in chart_option(page)["series"][0]["data"]]

    assert values(30) == [2.0]
    assert values(90) == [1.0, 2.0]
    assert values(7) == [1.0, 2.0]  # not offered: the default 90 days


def test_point_page_shows_the_forecast_of_a_rising_trend(
    client: TestClient, engineer: User, make_point: MakePoint, ingest: Ingest
) -> None:
    # 1, 2, 3, 4, 5 mm/s one day apart, the last one 12 hours ago; alarm at 10 → in about 4.5 days.
    point = make_point(warning_high=6, alarm_high=10)
    ingest(daily(point, [1.0, 2.0, 3.0, 4.0, 5.0]))
    login(client, engineer)

    page = client.get(f"/monitoring/points/{point.id}").text

    forecast = page[page.index('data-testid="forecast"') :].split("</p>")[0]
    assert "预计 4 天后报警" in forecast
    assert chart_option(page)["series"][1]["data"][1][1] == 10  # the trend line drawn up to the limit


def test_htmx_period_switch_gets_only_the_trend_block(
    client: TestClient, engineer: User, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    ingest(daily(point, [1.0, 2.0]))
    login(client, engineer)

    response = client.get(f"/monitoring/points/{point.id}", params={"days": 30}, headers=HTMX | {"HX-Target": "trend"})

    assert '<template id="trend-chart"' in response.text
    assert "reading-table" not in response.text
    assert "reading-form" not in response.text


def shown_times(fragment: str) -> list[str]:
    return re.findall(r'<tr data-state="[a-z]+"><td class="small text-nowrap">([^<]+)</td>', fragment)


def pager_link(fragment: str, rel: str) -> str | None:
    """The href of the readings pager's ``rel`` link (newest first: previous = newer, next = older)."""
    match = re.search(rf'data-page="{rel}" href="([^"]+)"', fragment)
    return html.unescape(match.group(1)) if match else None


def test_readings_are_listed_newest_first_and_paginated(
    client: TestClient, engineer: User, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    ingest(series(point.code, [float(i % 4) for i in range(30)], start=utcnow() - timedelta(hours=40)))
    login(client, engineer)

    fragment = client.get(f"/monitoring/points/{point.id}", headers=HTMX | {"HX-Target": "readings"}).text

    assert fragment.count("<tr data-state=") == 25
    assert pager_link(fragment, "previous") is None
    older = pager_link(fragment, "next")
    assert older is not None
    assert older.startswith(f"/monitoring/points/{point.id}?days=90&after=")
    second = client.get(older, headers=HTMX | {"HX-Target": "readings"}).text
    assert second.count("<tr data-state=") == 5
    assert pager_link(second, "next") is None
    bookmarked = client.get(f"/monitoring/points/{point.id}?page=2", headers=HTMX | {"HX-Target": "readings"})
    assert shown_times(bookmarked.text) == shown_times(second)


@pytest.mark.parametrize("taken_at", ["2026-01-01T00:00:00", "0001-01-01T00:00:00+05:00"])
def test_an_edited_readings_link_with_a_time_the_app_never_makes_is_a_damaged_link_not_a_500(
    client: TestClient, engineer: User, make_point: MakePoint, ingest: Ingest, taken_at: str
) -> None:
    point = make_point()
    ingest(series(point.code, [1.0, 2.0], start=utcnow() - timedelta(hours=2)))
    login(client, engineer)
    client.cookies.set(LOCALE_COOKIE, "en")
    edited = base64.urlsafe_b64encode(json.dumps({"s": "-taken_at", "v": [taken_at]}).encode()).decode()

    response = client.get(f"/monitoring/points/{point.id}", params={"after": edited})

    assert response.status_code == 200, "the point's page, its readings from the newest, saying why"
    assert "This page link is damaged or was made for another sort order" in response.text


def test_readings_tab_pages_by_keyset_at_a_fixed_cost_however_deep(
    client: TestClient,
    session: Session,
    engineer: User,
    make_point: MakePoint,
    ingest: Ingest,
    count_queries: list[str],
) -> None:
    """A point read every minute for a week: the tab counts up to 10,000 ("10,000+"), and the
    newest, a deep and the oldest page cost the same number of statements, the deep one seeking
    from the cursor."""
    point = make_point()
    start = utcnow().replace(second=0, microsecond=0) - timedelta(days=7)
    ingest(series(point.code, [1.0] * 10_080, start=start, step=timedelta(minutes=1)))
    session.flush()
    login(client, engineer)
    url = f"/monitoring/points/{point.id}"

    def fetch(link: str) -> tuple[str, list[str]]:
        count_queries.clear()
        response = client.get(link, headers=HTMX | {"HX-Target": "readings"})
        assert response.status_code == 200
        return response.text, list(count_queries)

    newest, newest_queries = fetch(url)
    assert 'data-testid="reading-count">10,000+<' in newest
    seen = shown_times(newest)
    page, queries = newest, newest_queries
    for _ in range(3):  # three pages older
        link = pager_link(page, "next")
        assert link is not None
        page, queries = fetch(link)
        seen += shown_times(page)
    deep_queries = queries
    newer, _ = fetch(pager_link(page, "previous") or "")
    assert shown_times(newer) == seen[50:75]
    oldest, oldest_queries = fetch(pager_link(newest, "last") or "")

    def shown(moment: datetime) -> str:  # plant time, as the Chinese page writes it
        local = moment.astimezone(plant_timezone())
        return f"{local.year}/{local.month}/{local.day} {local:%H:%M}"

    minutes = [start + timedelta(minutes=i) for i in range(10_080)]
    assert seen == [shown(m) for m in reversed(minutes[-100:])]
    assert shown_times(oldest) == [shown(m) for m in reversed(minutes[:25])]
    assert pager_link(oldest, "next") is None
    assert len(newest_queries) == len(deep_queries) == len(oldest_queries)
    # A deep page seeks below the previous page's last time: a range of the (point, taken_at) key.
    assert len([q for q in deep_queries if "(reading.taken_at) < (" in q]) == 1


def test_wall_thickness_point_page_loads_the_thickness_fragment(
    client: TestClient, engineer: User, make_point: MakePoint
) -> None:
    pipe = make_point(quantity=Quantity.WALL_THICKNESS, warning_high=None, alarm_high=None, alarm_low=6)
    vibration = make_point()
    login(client, engineer)

    assert f'hx-get="/monitoring/points/{pipe.id}/thickness"' in client.get(f"/monitoring/points/{pipe.id}").text
    assert f"/monitoring/points/{vibration.id}/thickness" not in client.get(f"/monitoring/points/{vibration.id}").text


def test_unknown_point_is_404(client: TestClient, engineer: User) -> None:
    login(client, engineer)

    assert client.get("/monitoring/points/999999").status_code == 404


# --- Entering a reading -------------------------------------------------------------------


def local_minute(moment: datetime) -> str:
    return moment.astimezone(plant_timezone()).strftime("%Y-%m-%dT%H:%M")


def test_alarm_reading_raises_a_cbm_order_shown_at_once(
    client: TestClient, session: Session, workshop_engineer: User, make_point: MakePoint
) -> None:
    point = make_point()
    token = login(client, workshop_engineer)
    taken = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=5)

    response = client.post(
        f"/monitoring/points/{point.id}/readings",
        data={"value": "8.2", "taken_at": local_minute(taken), "csrf_token": token},
        headers=HTMX,
    )

    assert response.status_code == 200
    order = session.scalars(select(WorkOrder).where(col(WorkOrder.order_type) == OrderType.CBM)).one()
    result = response.text[response.text.index('data-testid="entry-result"') :].split("</form>")[0]
    assert 'data-state="alarm"' in result
    assert f'href="/orders/{order.id}"' in result
    assert order.number in result
    reading = session.get(Reading, (point.id, taken))
    assert reading is not None
    assert reading.source == ReadingSource.FORM
    assert reading.entered_by_id == workshop_engineer.id
    assert point.latest_state == ConditionState.ALARM


def test_resubmitted_form_does_not_duplicate_the_reading(
    client: TestClient, session: Session, workshop_engineer: User, make_point: MakePoint
) -> None:
    point = make_point()
    token = login(client, workshop_engineer)
    data = {"value": "8.2", "taken_at": local_minute(utcnow() - timedelta(minutes=3)), "csrf_token": token}

    client.post(f"/monitoring/points/{point.id}/readings", data=data)
    again = client.post(f"/monitoring/points/{point.id}/readings", data=data)

    assert again.status_code == 200
    assert "已录入，未重复添加" in again.text
    count = session.scalar(select(func.count()).select_from(Reading).where(col(Reading.point_id) == point.id))
    assert count == 1
    assert session.scalar(select(func.count()).select_from(ConditionAlert)) == 1


def test_form_time_is_plant_time_and_defaults_to_now(
    client: TestClient, session: Session, workshop_engineer: User, make_point: MakePoint
) -> None:
    point = make_point()
    token = login(client, workshop_engineer)

    client.post(f"/monitoring/points/{point.id}/readings", data={"value": "1.5", "taken_at": "", "csrf_token": token})
    client.post(
        f"/monitoring/points/{point.id}/readings",
        data={"value": "1.2", "taken_at": "2026-01-05T08:30", "csrf_token": token},
    )

    times = session.scalars(select(Reading.taken_at).where(col(Reading.point_id) == point.id)).all()
    expected = datetime(2026, 1, 5, 8, 30, tzinfo=plant_timezone()).astimezone(UTC)
    assert expected in times
    [now_reading] = [t for t in times if t != expected]
    assert abs(now_reading - utcnow()) < timedelta(minutes=2)
    assert now_reading.second == 0


@pytest.mark.parametrize(
    ("value", "taken_at", "field", "message"),
    [
        ("", "", "value", "Enter the value read."),
        ("abc", "", "value", "Enter a number."),
        ("250", "", "value", "outside the possible range"),
        ("2.0", "next week", "taken_at", "Enter a date and time."),
        ("2.0", "2999-01-01T08:00", "taken_at", "cannot be in the future"),
    ],
)
def test_bad_reading_is_refused_with_the_reason_at_the_field(
    client: TestClient,
    session: Session,
    workshop_engineer: User,
    make_point: MakePoint,
    value: str,
    taken_at: str,
    field: str,
    message: str,
) -> None:
    point = make_point()
    token = login(client, workshop_engineer)

    response = client.post(
        f"/monitoring/points/{point.id}/readings",
        data={"value": value, "taken_at": taken_at, "csrf_token": token},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 422
    assert f'id="f-{field}"' in response.text
    assert "is-invalid" in response.text
    assert message in response.text
    assert session.scalar(select(func.count()).select_from(Reading)) == 0


@pytest.mark.parametrize("who", ["engineer", "auditor"], ids=["engineer of another workshop", "auditor"])
def test_only_writers_of_the_workshop_may_enter_readings(
    client: TestClient, session: Session, make_point: MakePoint, request: pytest.FixtureRequest, who: str
) -> None:
    point = make_point()
    token = login(client, request.getfixturevalue(who))

    page = client.get(f"/monitoring/points/{point.id}").text
    response = client.post(f"/monitoring/points/{point.id}/readings", data={"value": "1", "csrf_token": token})

    assert "reading-form" not in page
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(Reading)) == 0


def test_point_page_shows_the_open_alert_and_back_to_normal(
    client: TestClient, session: Session, engineer: User, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point()
    ingest(daily(point, [8.0, 1.0]))
    alert = session.scalars(select(ConditionAlert)).one()
    login(client, engineer)

    page = client.get(f"/monitoring/points/{point.id}").text

    assert alert.state == AlertState.BACK_TO_NORMAL
    box = page[page.index('id="point-alert"') :].split("</div>\n    </div>")[0]
    assert f'href="/orders/{alert.order_id}"' in box
    assert "Back to normal since" in box or "恢复正常" in box


# --- Create and edit points ---------------------------------------------------------------


def point_form(token: str, tag: str, **fields: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "asset_tag": tag,
        "code": "P-NEW-1",
        "name": "驱动端水平振动",
        "quantity": "vibration",
        "unit": "",
        "preset": "none",
        "warning_high": "4.5",
        "alarm_high": "7.1",
        "warnings_to_raise": "3",
        "is_active": "true",
    }
    return data | fields


def test_new_point_form_names_the_asset_by_tag(client: TestClient, workshop_engineer: User, asset: Asset) -> None:
    login(client, workshop_engineer)

    page = client.get("/monitoring/points/new", params={"asset_id": asset.id}).text

    assert f'value="{asset.tag}"' in page
    assert 'data-preset-limits="iso10816_g1_rigid"' in page
    assert "/static/monitoring.js" in page


def test_create_point_with_a_preset_takes_its_limits_and_the_quantity_unit(
    client: TestClient, session: Session, workshop_engineer: User, asset: Asset
) -> None:
    token = login(client, workshop_engineer)

    response = client.post(
        "/monitoring/points/new",
        data=point_form(token, asset.tag, preset="iso10816_g2_flexible", warning_high="", alarm_high=""),
    )

    assert response.status_code == 303
    point = session.scalars(select(MeasurementPoint).where(col(MeasurementPoint.code) == "P-NEW-1")).one()
    assert response.headers["location"] == f"/monitoring/points/{point.id}"
    assert (point.warning_high, point.alarm_high, point.unit) == (4.5, 7.1, "mm/s")
    assert point.asset_id == asset.id


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"asset_tag": "NO-SUCH-TAG"}, "asset_tag", "No asset has the tag NO-SUCH-TAG."),
        ({"quantity": "pressure", "preset": "iso10816_g1_rigid"}, "preset", "vibration velocity points only"),
        ({"warning_high": "9", "alarm_high": "7"}, "warning_high", "must be below the high alarm limit"),
        ({"code": "bad code!"}, "code", ""),
    ],
)
def test_bad_point_form_is_422_with_the_reason_at_the_field(
    client: TestClient, workshop_engineer: User, asset: Asset, fields: dict[str, str], field: str, message: str
) -> None:
    token = login(client, workshop_engineer)

    response = client.post(
        "/monitoring/points/new", data=point_form(token, asset.tag, **fields), headers={"Accept-Language": "en"}
    )

    assert response.status_code == 422
    assert re.search(rf'id="f-{field}"[^>]*>|class="[^"]*is-invalid[^"]*" id="f-{field}"', response.text)
    assert message in response.text


def test_engineer_cannot_create_a_point_outside_their_workshops(
    client: TestClient, engineer: User, asset: Asset
) -> None:
    token = login(client, engineer)

    assert client.get("/monitoring/points/new", params={"asset_id": asset.id}).status_code == 403
    response = client.post("/monitoring/points/new", data=point_form(token, asset.tag))
    assert response.status_code in (403, 422)


def test_edit_point_saves_and_stale_edit_is_a_409_with_the_differences(
    client: TestClient, session: Session, workshop_engineer: User, asset: Asset, make_point: MakePoint
) -> None:
    point = make_point(code="P-EDIT")
    token = login(client, workshop_engineer)
    form = client.get(f"/monitoring/points/{point.id}/edit").text
    assert 'name="version" value="1"' in form

    saved = client.post(
        f"/monitoring/points/{point.id}/edit",
        data=point_form(token, asset.tag, code="P-EDIT", alarm_high="8.0", version="1"),
    )
    stale = client.post(
        f"/monitoring/points/{point.id}/edit",
        data=point_form(token, asset.tag, code="P-EDIT", alarm_high="9.5", version="1"),
    )

    assert saved.status_code == 303
    assert stale.status_code == 409
    assert 'data-testid="conflict"' in stale.text
    assert "alarm_high" in stale.text
    assert "9.5" in stale.text
    assert "8.0" in stale.text
    assert point.alarm_high == 8.0
    assert point.version == 2


# --- The alarm board ----------------------------------------------------------------------


def test_alarm_board_groups_by_workshop_and_flags_alarms_without_an_order(
    client: TestClient, session: Session, manager: User, workshop: Workshop, make_point: MakePoint, ingest: Ingest
) -> None:
    with_order = make_point(code="A-ORDER")
    ingest(daily(with_order, [8.0]))
    orderless = make_point(code="A-NONE")
    set_state(session, orderless, 9.0, ConditionState.ALARM, 30)
    rising = make_point(code="W-RISE", warning_high=4, alarm_high=10)
    ingest(daily(rising, [4.0, 5.0, 6.0, 7.0, 8.0]))  # warnings; 5 in a row raise an order after 3
    normal = make_point(code="N-OK")
    set_state(session, normal, 1.0, ConditionState.NORMAL, 5)
    elsewhere = factories.AssetFactory()
    other = make_point(code="B-OTHER", asset_id=elsewhere.id)
    set_state(session, other, 5.0, ConditionState.WARNING, 2)
    login(client, manager)

    page = client.get("/monitoring/alarms").text

    assert set(re.findall(r'<tr data-point="([^"]+)"', page)) == {"A-ORDER", "A-NONE", "W-RISE", "B-OTHER"}
    assert page.count("<section") == 2
    assert workshop.name in page
    flagged = re.findall(r'<tr data-point="([^"]+)" class="table-danger" data-needs-order="true"', page)
    assert flagged == ["A-NONE"]
    assert 'data-testid="unattended"' in page
    rise_row = page[page.index('data-point="W-RISE"') :].split("</tr>")[0]
    assert "预计 1 天后报警" in rise_row  # 8 → 10 at 1/day, the last reading 12 h ago: 1.5 days
    assert 'hx-trigger="every 60s"' in page


def test_alarm_board_forecast_says_in_alarm_or_what_the_trend_of_a_warning_says(
    client: TestClient, manager: User, make_point: MakePoint, ingest: Ingest
) -> None:
    alarm = make_point(code="A-RISE", warning_high=4, alarm_high=10)
    ingest(daily(alarm, [4.0, 6.0, 8.0, 10.0, 12.0]))
    rising = make_point(code="W-RISE", warning_high=4, alarm_high=10)
    ingest(daily(rising, [4.0, 5.0, 6.0, 7.0, 8.0]))
    easing = make_point(code="W-EASE", warning_high=4, alarm_high=10)
    ingest(daily(easing, [9.0, 8.0, 7.0, 6.0, 5.0]))
    sparse = make_point(code="W-FEW", warning_high=4, alarm_high=10)
    ingest(daily(sparse, [5.0, 5.5]))
    login(client, manager)

    page = client.get("/monitoring/alarms").text

    def forecast_of(code: str) -> str:
        row = page[page.index(f'data-point="{code}"') :].split("</tr>")[0]
        cell = row[row.index('data-testid="board-forecast"') :].split("</td>")[0]
        return re.sub(r"<[^>]+>", "", cell.split(">", 1)[1]).strip()

    assert forecast_of("A-RISE") == "已报警"
    assert forecast_of("W-RISE") == "预计 1 天后报警"
    assert forecast_of("W-EASE") == "预计不会报警"
    assert forecast_of("W-FEW") == "读数过少"


def test_point_page_of_a_point_in_alarm_says_so_instead_of_a_forecast(
    client: TestClient, engineer: User, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point(warning_high=4, alarm_high=10)
    ingest(daily(point, [4.0, 6.0, 8.0, 10.0, 12.0]))
    login(client, engineer)

    page = client.get(f"/monitoring/points/{point.id}").text

    forecast = page[page.index('data-testid="forecast"') :].split("</p>")[0]
    assert "已报警" in forecast
    assert "预计不会报警" not in forecast
    assert "天后报警" not in forecast


def test_alarm_board_refresh_gets_the_results_block(client: TestClient, auditor: User) -> None:
    login(client, auditor)

    response = client.get("/monitoring/alarms", headers=HTMX)

    assert response.status_code == 200
    assert 'id="alarm-board"' in response.text
    assert "<html" not in response.text


def test_alarm_board_runs_a_fixed_number_of_queries(
    client: TestClient, session: Session, manager: User, make_point: MakePoint, ingest: Ingest, count_queries: list[str]
) -> None:
    login(client, manager)

    def queries_for(count: int) -> int:
        for index in range(count):
            point = make_point(warning_high=4, alarm_high=10)
            ingest(daily(point, [4.0, 4.5, 5.0, 5.5, 6.0] if index % 2 else [11.0]))
        session.flush()
        count_queries.clear()
        response = client.get("/monitoring/alarms")
        assert response.status_code == 200
        return len(count_queries)

    few = queries_for(2)
    many = queries_for(20)

    assert many == few


# --- The condition-based order's alert on the order page ----------------------------------


def test_a_cbm_order_shows_its_alert_in_the_readers_language_with_a_link_to_the_trend(
    client: TestClient, session: Session, engineer: User, asset: Asset, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point(code="P-101A-DE-V", name="驱动端轴承振动", warning_high=4.5, alarm_high=7.1)
    ingest(series(point.code, [2.0, 7.4], start=datetime(2026, 3, 5, 0, 0, tzinfo=UTC)))
    order = session.scalars(select(WorkOrder).where(col(WorkOrder.asset_id) == asset.id)).one()
    login(client, engineer)

    page_en = client.get(f"/orders/{order.id}", headers={"Accept-Language": "en"}).text
    alert_en = client.get(f"/orders/{order.id}/condition", headers=HTMX | {"Accept-Language": "en"}).text
    alert_zh = client.get(f"/orders/{order.id}/condition", headers=HTMX | {"Accept-Language": "zh-CN"}).text

    assert "P-101A-DE-V 驱动端轴承振动 7.4 mm/s ≥ 7.1" in page_en  # the title: codes, name, numbers
    assert f'hx-get="/orders/{order.id}/condition"' in page_en
    assert "趋势" not in page_en
    assert "/monitoring/points/" not in page_en  # no address as text; the link comes with the alert
    said = re.search(
        r"Raised by condition monitoring: point P-101A-DE-V \(驱动端轴承振动\) read 7.4 mm/s at (.+?), "
        r"which is Alarm\.",
        alert_en,
    )
    assert said
    assert "9:00" in said[1]  # 01:00 UTC on the plant's clock
    assert re.search(rf'<a href="/monitoring/points/{point.id}"[^>]*>.*Trend P-101A-DE-V</a>', alert_en)
    assert "趋势" not in alert_en
    assert "由状态监测生成" in alert_zh
    assert re.search(rf'<a href="/monitoring/points/{point.id}"[^>]*>.*趋势 P-101A-DE-V</a>', alert_zh)


def test_an_order_no_alert_raised_shows_no_condition_part(
    client: TestClient, session: Session, engineer: User, asset: Asset
) -> None:
    order = order_service.create_order(
        session,
        WorkOrderCreate(order_type=OrderType.CBM, asset_id=asset.id, title=f"{asset.tag} 振动趋势上升"),
        actor=SYSTEM,
    )
    cm = order_service.create_order(
        session, WorkOrderCreate(order_type=OrderType.CM, asset_id=asset.id, title=f"{asset.tag} 泄漏"), actor=SYSTEM
    )
    login(client, engineer)

    fragment = client.get(f"/orders/{order.id}/condition", headers=HTMX)

    assert fragment.status_code == 200
    assert fragment.text.strip() == ""
    assert "/condition" not in client.get(f"/orders/{cm.id}").text


# --- The asset page's readings tab --------------------------------------------------------


def test_asset_readings_tab_lists_points_with_latest_state(
    client: TestClient, session: Session, workshop_engineer: User, asset: Asset, make_point: MakePoint
) -> None:
    point = make_point(code="TAB-1")
    set_state(session, point, 5.0, ConditionState.WARNING, 1)
    login(client, workshop_engineer)

    detail = client.get(f"/assets/{asset.id}", params={"tab": "readings"}).text
    fragment = client.get(f"/assets/{asset.id}/readings", headers=HTMX).text

    assert f'hx-get="/assets/{asset.id}/readings"' in detail
    assert "TAB-1" in fragment
    assert 'data-state="warning"' in fragment
    assert f'href="/monitoring/points/new?asset_id={asset.id}"' in fragment


def test_asset_readings_tab_offers_no_add_point_to_auditors(
    client: TestClient, auditor: User, asset: Asset, make_point: MakePoint
) -> None:
    make_point(code="TAB-2")
    login(client, auditor)

    fragment = client.get(f"/assets/{asset.id}/readings", headers=HTMX).text

    assert "TAB-2" in fragment
    assert "add-point" not in fragment


def test_cancelled_order_no_longer_counts_as_open(
    client: TestClient, session: Session, manager: User, make_point: MakePoint, ingest: Ingest
) -> None:
    point = make_point(code="C-1")
    ingest(daily(point, [9.0]))
    order = session.scalars(select(WorkOrder)).one()
    order_service.perform(session, order, "cancel", actor=manager, note="sensor fault")
    login(client, manager)

    page = client.get("/monitoring/alarms").text

    assert re.findall(r'data-needs-order="true"', page) == ['data-needs-order="true"']


# --- Navigation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "current"),
    [
        ("/monitoring/alarms", "/monitoring/alarms"),
        ("/monitoring/thickness", "/monitoring/thickness"),
        ("/monitoring/points/{id}", "/monitoring"),  # a point's page belongs to the points list
        ("/rounds/routes", "/rounds/routes"),  # not also "Rounds"
    ],
)
def test_monitoring_menu_links_every_page_and_marks_the_current_one(
    client: TestClient, engineer: User, make_point: MakePoint, address: str, current: str
) -> None:
    point = make_point()
    login(client, engineer)

    page = client.get(address.format(id=point.id)).text

    menu = re.search(r'id="nav-monitoring".*?</ul>', page, re.S)
    assert menu
    links = re.findall(r'href="([^"]+)"', menu.group(0))
    assert links == [
        "/monitoring",
        "/monitoring",
        "/monitoring/alarms",
        "/monitoring/thickness",
        "/monitoring/import",
        "/rounds",
        "/rounds/routes",
        "/campaigns",
    ]
    assert re.findall(r'class="dropdown-item active" aria-current="page" href="([^"]+)"', menu.group(0)) == [current]
