"""The work-order list (page, htmx fragment, queues, filters, sorting), the calendar, and the
orders tab of an asset page.

One view serves the page and its htmx fragment; each runs a fixed number of queries
whatever the number of orders shown.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.db import plant_today
from maintenance.orders.choices import OrderState, OrderType, Priority
from maintenance.orders.models import Turnaround, WorkOrder
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.conftest import login
from tests.orders.conftest import MakeOrder

PLANT = ZoneInfo("Asia/Shanghai")
TODAY = plant_today()
HTMX = {"HX-Request": "true"}
_ORDER_ROW = re.compile(r'<tr[^>]*data-order="(WO-\d{4}-\d{6})"')


def listed(response: Any) -> list[str]:
    """Order numbers in the table, top to bottom."""
    assert response.status_code == 200, response.text
    return _ORDER_ROW.findall(response.text)


def in_state(session: Session, order: WorkOrder, state: OrderState) -> WorkOrder:
    """Test setup: put an order in a state directly (the state machine has its own tests)."""
    order.state = state
    session.add(order)
    session.flush()
    return order


@pytest.fixture
def other_workshop(session: Session, workshop: Workshop) -> Workshop:
    return factories.WorkshopFactory(site_id=workshop.site_id)


@pytest.fixture
def other_asset(session: Session, other_workshop: Workshop) -> Asset:
    return factories.AssetFactory(tag="C-201", workshop_id=other_workshop.id)


# --- The page -----------------------------------------------------------------------------


def test_list_shows_each_order_with_its_asset_state_dates_and_costs(
    client: TestClient,
    session: Session,
    workshop_engineer: User,
    make_order: MakeOrder,
    asset: Asset,
    workshop: Workshop,
    turnaround: Turnaround,
) -> None:
    order = make_order(
        title="更换机械密封",
        priority=Priority.URGENT,
        planned_start_date=TODAY - timedelta(days=3),
        planned_finish_date=TODAY - timedelta(days=1),
        assignee_id=workshop_engineer.id,
        assignee_name="检修一班",
        turnaround_id=turnaround.id,
        is_revamp_tie_in=True,
    )
    order.planned_cost_cny, order.actual_cost_cny = Decimal("1200.00"), Decimal("1350.50")
    session.flush()
    login(client, workshop_engineer)

    response = client.get("/orders")

    assert listed(response) == [order.number]
    page = response.text
    assert f'href="/orders/{order.id}"' in page
    assert f'href="/assets/{asset.id}">{asset.tag}</a>' in page
    assert workshop.name in page
    assert "更换机械密封" in page
    assert "检修一班" in page
    assert workshop_engineer.display_name in page
    assert "1,200.00" in page
    assert "1,350.50" in page
    assert 'data-overdue="true"' in page, "the planned finish has passed: the row is highlighted"
    assert "TA2026" in page
    assert 'href="/orders/new"' in page, "engineers may raise orders"
    assert "export=xlsx" in page
    assert "export=csv" in page


def test_auditors_read_the_list_but_get_no_new_order_button(
    client: TestClient, auditor: User, make_order: MakeOrder
) -> None:
    order = make_order()
    login(client, auditor)

    response = client.get("/orders")

    assert listed(response) == [order.number]
    assert 'href="/orders/new"' not in response.text


def test_an_empty_list_says_so(client: TestClient, workshop_engineer: User) -> None:
    login(client, workshop_engineer)

    response = client.get("/orders", params={"q": "nothing like this"})

    assert listed(response) == []
    assert "没有符合条件的工单" in response.text  # "No work orders match the filter." in Chinese, the default


def test_htmx_gets_only_the_results_fragment(client: TestClient, engineer: User, make_order: MakeOrder) -> None:
    order = make_order()
    login(client, engineer)

    response = client.get("/orders", params={"order_type": "CM"}, headers=HTMX)

    assert listed(response) == [order.number]
    assert "<html" not in response.text
    assert 'id="order-filters"' not in response.text, "the filter bar stays as it is"
    assert 'id="order-queues"' in response.text, "queue counts follow the filter"
    assert "HX-Request" in response.headers["vary"]


def test_bad_filter_values_are_ignored_not_an_error(client: TestClient, engineer: User, make_order: MakeOrder) -> None:
    order = make_order()
    login(client, engineer)

    response = client.get(
        "/orders", params={"state": "bogus", "workshop_id": "x", "date_from": "2026-13-01", "sort": "hack"}
    )

    assert listed(response) == [order.number]


# --- Search and filters -------------------------------------------------------------------


def test_search_matches_order_number_title_and_asset_tag(
    client: TestClient, engineer: User, make_order: MakeOrder, other_asset: Asset
) -> None:
    seal = make_order(title="更换机械密封")
    bearing = make_order(title="轴承异响")
    compressor = make_order(title="例行检查", asset_id=other_asset.id)
    login(client, engineer)

    def search(q: str) -> list[str]:
        return listed(client.get("/orders", params={"q": q}))

    assert search("机械密封") == [seal.number]
    assert search(bearing.number) == [bearing.number]
    assert search(bearing.number[-4:]) == [bearing.number], "part of a number is enough"
    assert search("c-201") == [compressor.number], "asset tags match case-insensitively"


def test_filters_by_type_state_workshop_asset_and_turnaround(
    client: TestClient,
    session: Session,
    engineer: User,
    make_order: MakeOrder,
    other_asset: Asset,
    other_workshop: Workshop,
    turnaround: Turnaround,
) -> None:
    pm = make_order(order_type=OrderType.PM, title="月度保养")
    cm = in_state(session, make_order(order_type=OrderType.CM), OrderState.APPROVED)
    elsewhere = make_order(order_type=OrderType.CBM, asset_id=other_asset.id)
    overhaul = make_order(order_type=OrderType.TA, turnaround_id=turnaround.id)
    login(client, engineer)

    def filtered(**params: Any) -> set[str]:
        return set(listed(client.get("/orders", params=params)))

    assert filtered(order_type="PM") == {pm.number}
    assert filtered(state="approved") == {cm.number}
    assert filtered(workshop_id=other_workshop.id) == {elsewhere.number}
    assert filtered(asset_id=other_asset.id) == {elsewhere.number}
    assert filtered(turnaround_id=turnaround.id) == {overhaul.number}
    assert filtered(order_type="TA", turnaround_id=turnaround.id, workshop_id=other_workshop.id) == set()


def test_requested_date_range_uses_plant_days(
    client: TestClient, session: Session, engineer: User, make_order: MakeOrder
) -> None:
    late_evening = make_order(title="晚上报修")
    late_evening.requested_at = datetime(2026, 3, 10, 23, 30, tzinfo=PLANT)  # 15:30 UTC the same day
    early_morning = make_order(title="凌晨报修")
    early_morning.requested_at = datetime(2026, 3, 11, 0, 30, tzinfo=PLANT)  # 16:30 UTC on the 10th
    session.flush()
    login(client, engineer)

    def between(date_from: str = "", date_to: str = "") -> set[str]:
        return set(listed(client.get("/orders", params={"date_from": date_from, "date_to": date_to})))

    assert between("2026-03-10", "2026-03-10") == {late_evening.number}
    assert between("2026-03-11", "2026-03-11") == {early_morning.number}
    assert between(date_from="2026-03-11") == {early_morning.number}
    assert between(date_to="2026-03-10") == {late_evening.number}
    assert between("2026-03-01", "2026-03-31") == {late_evening.number, early_morning.number}


# --- Queues -------------------------------------------------------------------------------


def test_mine_is_what_i_am_assigned_or_raised_and_still_open(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    colleague = factories.UserFactory(role=Role.ENGINEER)
    assigned = make_order(assignee_id=workshop_engineer.id)
    raised = make_order(actor=workshop_engineer)
    done = in_state(session, make_order(assignee_id=workshop_engineer.id), OrderState.CLOSED)
    make_order(assignee_id=colleague.id)
    make_order()
    login(client, workshop_engineer)

    assert set(listed(client.get("/orders", params={"queue": "mine"}))) == {assigned.number, raised.number}
    closed = client.get("/orders", params={"queue": "mine", "state": "closed"})
    assert listed(closed) == [done.number], "an explicit state reaches my finished orders"


def test_my_workshops_is_the_open_work_of_the_workshops_i_belong_to(
    client: TestClient,
    session: Session,
    workshop_engineer: User,
    make_order: MakeOrder,
    other_asset: Asset,
    manager: User,
) -> None:
    ours = make_order()
    in_state(session, make_order(), OrderState.CANCELLED)
    make_order(asset_id=other_asset.id)
    login(client, workshop_engineer)

    assert listed(client.get("/orders", params={"queue": "my_workshops"})) == [ours.number]

    client.cookies.clear()
    login(client, manager)  # managers belong to no workshop: their queue is "all open"
    assert listed(client.get("/orders", params={"queue": "my_workshops"})) == []


def test_overdue_is_open_work_past_its_planned_finish_or_due_date(
    client: TestClient, session: Session, engineer: User, make_order: MakeOrder
) -> None:
    yesterday, tomorrow = TODAY - timedelta(days=1), TODAY + timedelta(days=1)
    late = make_order(planned_finish_date=yesterday)
    pm_due = make_order(order_type=OrderType.PM, due_date=yesterday)
    # The planned finish wins over the due date: rescheduled to tomorrow, not overdue.
    rescheduled = make_order(order_type=OrderType.PM, due_date=yesterday, planned_finish_date=tomorrow)
    finishing_today = make_order(planned_finish_date=TODAY)
    in_state(session, make_order(planned_finish_date=yesterday), OrderState.COMPLETED)
    make_order()  # no date at all
    login(client, engineer)

    overdue = set(listed(client.get("/orders", params={"queue": "overdue"})))

    assert overdue == {late.number, pm_due.number}
    assert rescheduled.number not in overdue
    assert finishing_today.number not in overdue


def test_queue_tabs_count_their_orders_under_the_other_filters(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder
) -> None:
    make_order(order_type=OrderType.PM, assignee_id=workshop_engineer.id, due_date=TODAY - timedelta(days=2))
    make_order(order_type=OrderType.CM)
    in_state(session, make_order(order_type=OrderType.CM), OrderState.CLOSED)
    login(client, workshop_engineer)

    def counts(**params: Any) -> dict[str, int]:
        page = client.get("/orders", params=params).text
        found = re.findall(r'data-queue="(\w+)">\s*[^<]*<span class="badge[^"]*">(\d+)</span>', page)
        return {queue: int(n) for queue, n in found}

    assert counts() == {"open": 2, "mine": 1, "my_workshops": 2, "overdue": 1}
    assert counts(order_type="CM") == {"open": 1, "mine": 0, "my_workshops": 1, "overdue": 0}
    assert len(listed(client.get("/orders"))) == 3, "without a queue the list holds every order"


# --- Sorting ------------------------------------------------------------------------------


def test_sorting_by_asset_cost_due_date_and_priority(
    client: TestClient, session: Session, engineer: User, make_order: MakeOrder, other_asset: Asset, asset: Asset
) -> None:
    assert other_asset.tag < asset.tag
    cheap = make_order(priority=Priority.LOW, due_date=TODAY + timedelta(days=5))
    dear = make_order(priority=Priority.URGENT, asset_id=other_asset.id)
    middling = make_order(priority=Priority.HIGH, planned_finish_date=TODAY + timedelta(days=1))
    cheap.actual_cost_cny, dear.actual_cost_cny, middling.actual_cost_cny = (
        Decimal("100.00"),
        Decimal("9000.00"),
        Decimal("950.00"),
    )
    session.flush()
    login(client, engineer)

    def sorted_by(sort: str) -> list[str]:
        return listed(client.get("/orders", params={"sort": sort}))

    assert sorted_by("-created") == [middling.number, dear.number, cheap.number], "newest first by default"
    assert listed(client.get("/orders")) == sorted_by("-created")
    assert sorted_by("-cost") == [dear.number, middling.number, cheap.number]
    assert sorted_by("cost") == [cheap.number, middling.number, dear.number]
    assert sorted_by("priority") == [dear.number, middling.number, cheap.number], "urgent first"
    assert sorted_by("due") == [middling.number, cheap.number, dear.number], "no date goes last"
    assert sorted_by("-due")[-1] == dear.number, "no date goes last either way"
    assert sorted_by("asset")[0] == dear.number
    assert sorted_by("-asset")[-1] == dear.number
    assert sorted_by("number") == sorted([cheap.number, dear.number, middling.number])


def test_sort_links_keep_the_filter(client: TestClient, engineer: User, make_order: MakeOrder) -> None:
    make_order()
    login(client, engineer)

    page = client.get("/orders", params={"queue": "open", "order_type": "CM"}).text

    assert re.search(r'href="/orders\?[^"]*queue=open[^"]*order_type=CM[^"]*sort=cost"', page)


# --- Fixed number of queries --------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_rows(
    client: TestClient,
    session: Session,
    engineer: User,
    make_order: MakeOrder,
    other_asset: Asset,
    turnaround: Turnaround,
    count_queries: list[str],
) -> None:
    users = [factories.UserFactory(role=Role.ENGINEER) for _ in range(3)]

    def add(count: int) -> None:
        for index in range(count):
            on_other_asset = {"asset_id": other_asset.id} if index % 2 else {}
            make_order(
                assignee_id=users[index % 3].id,
                turnaround_id=turnaround.id if index % 3 == 0 else None,
                due_date=TODAY - timedelta(days=index),
                **on_other_asset,
            )

    def queries(**params: Any) -> int:
        count_queries.clear()
        response = client.get("/orders", params=params)
        assert response.status_code == 200
        return len(count_queries)

    login(client, engineer)
    add(2)
    few = (queries(), queries(queue="overdue", sort="asset"))
    add(28)
    many = (queries(), queries(queue="overdue", sort="asset"))

    assert len(listed(client.get("/orders"))) == 30
    assert many == few


# --- The calendar -------------------------------------------------------------------------


def test_week_calendar_places_orders_on_their_planned_start_or_due_date(
    client: TestClient, session: Session, engineer: User, make_order: MakeOrder, asset: Asset
) -> None:
    wednesday = date(2026, 11, 25)
    started = make_order(title="周三开工", planned_start_date=wednesday, due_date=date(2026, 11, 27))
    due = make_order(order_type=OrderType.PM, title="周五到期", due_date=date(2026, 11, 27))
    make_order(title="下周的活", planned_start_date=date(2026, 12, 1))
    in_state(session, make_order(title="已取消", planned_start_date=wednesday), OrderState.CANCELLED)
    make_order(title="没有日期")
    login(client, engineer)

    page = client.get("/orders/calendar", params={"view": "week", "date": "2026-11-26"}).text

    days = re.findall(r'data-day="(\d{4}-\d\d-\d\d)"', page)
    assert days == [f"2026-11-{day}" for day in range(23, 30)], "Monday to Sunday"
    cell = {day: _cell(page, day) for day in days}
    assert started.number in cell["2026-11-25"]
    assert started.number not in cell["2026-11-27"]
    assert due.number in cell["2026-11-27"]
    assert f'href="/orders/{due.id}"' in cell["2026-11-27"]
    assert "text-bg-primary" in cell["2026-11-27"], "a PM order's chip has the PM colour"
    assert asset.tag in cell["2026-11-25"]
    assert "已取消" not in page
    assert "下周的活" not in page
    assert "没有日期" not in page
    assert "date=2026-11-16" in page, "previous week"
    assert "date=2026-11-30" in page, "next week"


def test_a_calendar_chip_shows_the_tag_once(
    client: TestClient, engineer: User, make_order: MakeOrder, asset: Asset
) -> None:
    wednesday = date(2026, 11, 25)
    tagged = make_order(title=f"{asset.tag} 管箱法兰泄漏", planned_start_date=wednesday)
    untagged = make_order(title="机封渗漏", planned_start_date=wednesday)
    login(client, engineer)

    page = client.get("/orders/calendar", params={"view": "week", "date": "2026-11-25"}).text

    chips = {
        number: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
        for number, text in re.findall(r'data-order="([^"]+)">(.*?)</a>', page, re.S)
    }
    assert chips[tagged.number] == f"{asset.tag} 管箱法兰泄漏"
    assert chips[untagged.number] == f"{asset.tag} 机封渗漏"  # a title without it gets the tag in front
    chip = re.search(rf'<a [^>]*data-order="{tagged.number}"', page, re.S)
    assert chip
    assert chip[0].count(asset.tag) == 1, "the tooltip names it once too"


def _cell(page: str, day: str) -> str:
    match = re.search(rf'data-day="{day}">(.*?)</td>', page, re.S)
    assert match, day
    return match.group(1)


def test_month_calendar_is_whole_weeks_and_filters_by_workshop_and_type(
    client: TestClient, engineer: User, make_order: MakeOrder, other_asset: Asset
) -> None:
    ours = make_order(order_type=OrderType.CM, planned_start_date=date(2026, 11, 2))
    theirs = make_order(order_type=OrderType.CM, asset_id=other_asset.id, planned_start_date=date(2026, 11, 30))
    pm = make_order(order_type=OrderType.PM, due_date=date(2026, 11, 30))
    login(client, engineer)

    page = client.get("/orders/calendar", params={"view": "month", "date": "2026-11-18"}).text
    days = re.findall(r'data-day="(\d{4}-\d\d-\d\d)"', page)
    assert (days[0], days[-1], len(days)) == ("2026-10-26", "2026-12-06", 42), "Monday 26 Oct to Sunday 6 Dec"
    assert {ours.number, theirs.number, pm.number} <= set(re.findall(r'data-order="([^"]+)"', page))
    assert "date=2026-10-01" in page
    assert "date=2026-12-01" in page

    only = client.get(
        "/orders/calendar",
        params={"view": "month", "date": "2026-11-18", "workshop_id": other_asset.workshop_id, "order_type": "CM"},
        headers=HTMX,
    )
    assert set(re.findall(r'data-order="([^"]+)"', only.text)) == {theirs.number}
    assert "<html" not in only.text


def test_calendar_queries_do_not_grow_with_the_orders(
    client: TestClient, engineer: User, make_order: MakeOrder, other_asset: Asset, count_queries: list[str]
) -> None:
    login(client, engineer)
    monday = TODAY - timedelta(days=TODAY.weekday())

    def queries() -> int:
        count_queries.clear()
        assert client.get("/orders/calendar", params={"view": "month"}).status_code == 200
        return len(count_queries)

    make_order(planned_start_date=monday)
    few = queries()
    for index in range(20):
        make_order(planned_start_date=monday + timedelta(days=index % 7), asset_id=other_asset.id)
    assert queries() == few


def test_calendar_with_a_bad_date_shows_this_week(client: TestClient, engineer: User) -> None:
    login(client, engineer)

    page = client.get("/orders/calendar", params={"date": "not-a-date"}).text

    assert f'data-day="{TODAY.isoformat()}"' in page


# --- The asset page's orders tab ----------------------------------------------------------


def test_asset_tab_lists_the_latest_twenty_orders_with_a_link_to_all(
    client: TestClient, session: Session, workshop_engineer: User, make_order: MakeOrder, asset: Asset,
    other_asset: Asset,
) -> None:  # fmt: skip
    orders = [make_order(title=f"第{index}次") for index in range(25)]
    for index, order in enumerate(orders):
        order.requested_at = datetime(2026, 1, 1, 8, tzinfo=PLANT) + timedelta(days=index)
    make_order(asset_id=other_asset.id, title="别的设备")
    session.flush()
    login(client, workshop_engineer)

    response = client.get(f"/assets/{asset.id}/orders", headers=HTMX)

    assert listed(response) == [order.number for order in reversed(orders)][:20], "newest first"
    assert "别的设备" not in response.text
    assert f'href="/orders?asset_id={asset.id}"' in response.text
    assert f'href="/orders/new?asset_id={asset.id}"' in response.text
    assert "<html" not in response.text


@pytest.mark.parametrize(
    ("who", "may_raise"),
    [("workshop_engineer", True), ("manager", True), ("admin", True), ("outsider", False), ("auditor", False)],
)
def test_raise_button_on_the_asset_page_and_tab_only_for_who_may_write_there(
    client: TestClient, request: pytest.FixtureRequest, session: Session, asset: Asset, who: str, may_raise: bool
) -> None:
    user = factories.UserFactory(role=Role.ENGINEER) if who == "outsider" else request.getfixturevalue(who)
    login(client, user)
    button = f'href="/orders/new?asset_id={asset.id}"'

    page = client.get(f"/assets/{asset.id}", params={"tab": "orders"}).text
    tab = client.get(f"/assets/{asset.id}/orders", headers=HTMX).text

    assert f'hx-get="/assets/{asset.id}/orders"' in page, "the tab pulls the fragment in"
    assert (button in page) is may_raise
    assert (button in tab) is may_raise
    assert "该设备暂无工单" in tab  # "No work orders for this asset yet."


def test_asset_tab_of_a_missing_asset_is_not_found(client: TestClient, engineer: User) -> None:
    login(client, engineer)
    assert client.get("/assets/999999/orders").status_code == 404


# --- Navigation ---------------------------------------------------------------------------


def test_work_orders_menu_links_every_order_page_and_marks_the_current_one(
    client: TestClient, engineer: User, session: Session
) -> None:
    login(client, engineer)

    page = client.get("/orders/calendar").text

    menu = re.search(r'id="nav-orders".*?</ul>', page, re.S)
    assert menu
    links = re.findall(r'href="([^"]+)"', menu.group(0))
    assert links == ["/orders", "/orders", "/orders/calendar", "/pm-plans", "/turnarounds", "/orders/kpis"]
    assert re.search(r'class="dropdown-item active" aria-current="page" href="/orders/calendar"', menu.group(0))
    assert 'class="dropdown-item active" aria-current="page" href="/orders"' not in menu.group(0)
