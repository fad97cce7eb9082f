"""The asset list and the asset API page by keyset (cursor) so that a page costs the same at any
depth and however large the registry: each sort reads (column, tag, id) from its own index.

The plant here has ties on every sort value, missing commission dates and one tag used in two
sites, and pages of five: walking the pages forwards or backwards must give every asset exactly
once, in the order the database and this file agree on.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from maintenance import web
from maintenance.assets import service
from maintenance.assets.choices import AssetStatus
from maintenance.assets.filters import AssetFilters
from maintenance.assets.models import Asset
from maintenance.config import get_settings
from maintenance.db import plant_today
from maintenance.i18n import LOCALE_COOKIE
from maintenance.org.models import Role, User
from tests import factories
from tests.assets.conftest import MakeAsset
from tests.assets.test_api import token_for
from tests.conftest import login
from tests.query_plans import statements_of

PAGE = 5
VALUES = [Decimal("100.00"), Decimal("100.00"), Decimal("250.00"), Decimal("50.00")]
DATES = [None, date(2020, 5, 1), date(2020, 5, 1), date(2018, 1, 9), None, date(2024, 2, 29)]
STATUSES = [AssetStatus.IN_SERVICE, AssetStatus.STANDBY, AssetStatus.IN_SERVICE, AssetStatus.RETIRED]
SORTS = ["tag", "-tag", "value", "-value", "commissioned", "-commissioned", "status", "-status", "name"]


@pytest.fixture(autouse=True)
def pages_of_five(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "page_size", PAGE)


@pytest.fixture
def plant(make_asset: MakeAsset) -> list[Asset]:
    """18 assets: values, dates, statuses and names repeat; P-DUP exists in two sites."""
    other_site = factories.WorkshopFactory()
    assets = [
        make_asset(
            tag=f"T-{(n * 7) % 17:02d}",
            name=f"泵{n % 3}",
            original_value_cny=VALUES[n % len(VALUES)],
            commission_date=DATES[n % len(DATES)],
            status=STATUSES[n % len(STATUSES)],
            **(
                {"retired_date": date(2025, 1, 1), "retire_reason": "报废"}
                if STATUSES[n % len(STATUSES)] == AssetStatus.RETIRED
                else {}
            ),
        )
        for n in range(16)
    ]
    assets.append(make_asset(tag="P-DUP", original_value_cny=Decimal("100.00")))
    assets.append(make_asset(tag="P-DUP", workshop_id=other_site.id, original_value_cny=Decimal("100.00")))
    return assets


def expected_ids(assets: list[Asset], sort: str, keep: Callable[[Asset], bool] = lambda _: True) -> list[int]:
    """The list's order computed here: the sort value (no commission date = 0001-01-01), then tag,
    then id, all in the sort's direction."""
    value: dict[str, Callable[[Asset], Any]] = {
        "tag": lambda a: (),
        "name": lambda a: (a.name,),
        "value": lambda a: (a.original_value_cny,),
        "commissioned": lambda a: (a.commission_date or date.min,),
        "status": lambda a: (a.status.value,),
    }
    key = value[sort.lstrip("-")]
    chosen = [a for a in assets if keep(a)]
    ordered = sorted(chosen, key=lambda a: (*key(a), a.tag, a.id), reverse=sort.startswith("-"))
    return [a.id for a in ordered if a.id is not None]


def row_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr>\s*<td><a href="/assets/(\d+)">', page)]


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'data-page="{rel}" href="([^"]+)"', page)
    return html.unescape(found[1]) if found else None


def fragment(client: TestClient, url: str, **params: Any) -> str:
    # httpx would drop the URL's own query for any ``params``, even empty ones.
    response = client.get(url, params=params or None, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    return response.text


def walk(client: TestClient, start: str, rel: str) -> list[list[int]]:
    """The pages met following ``rel`` links from ``start``, in the order met."""
    pages, url = [], start
    for _ in range(20):
        page = fragment(client, url)
        pages.append(row_ids(page))
        next_url = link(page, rel)
        if next_url is None:
            return pages
        url = next_url
    raise AssertionError("the pages never end")


def cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


# --- The page -----------------------------------------------------------------------------


@pytest.mark.parametrize("sort", SORTS)
def test_next_links_visit_every_asset_once_in_order(
    client: TestClient, engineer: User, plant: list[Asset], sort: str
) -> None:
    login(client, engineer)
    expected = expected_ids(plant, sort)

    pages = walk(client, f"/assets?sort={sort}", "next")

    assert [len(page) for page in pages] == [5, 5, 5, 3]
    assert [asset_id for page in pages for asset_id in page] == expected


@pytest.mark.parametrize("sort", SORTS)
def test_previous_links_from_the_last_page_walk_back_to_the_first(
    client: TestClient, engineer: User, plant: list[Asset], sort: str
) -> None:
    login(client, engineer)
    expected = expected_ids(plant, sort)
    first = fragment(client, "/assets", sort=sort)
    last_url = link(first, "last")
    assert last_url is not None
    assert "last=true" in last_url

    pages = walk(client, last_url, "previous")

    # Read from the end, the last page is full and the first holds what is left over.
    assert [len(page) for page in pages] == [5, 5, 5, 3]
    assert [asset_id for page in reversed(pages) for asset_id in page] == expected
    last_page = fragment(client, last_url)
    assert link(last_page, "next") is None
    assert link(last_page, "last") is None
    assert link(first, "previous") is None
    assert link(first, "first") is None


def test_previous_from_a_middle_page_gives_the_page_before_it(
    client: TestClient, engineer: User, plant: list[Asset]
) -> None:
    login(client, engineer)
    expected = expected_ids(plant, "-value")
    first = fragment(client, "/assets", sort="-value")
    second = fragment(client, link(first, "next") or "")
    third = fragment(client, link(second, "next") or "")
    assert row_ids(third) == expected[10:15]

    back = fragment(client, link(third, "previous") or "")

    assert row_ids(back) == row_ids(second) == expected[5:10]
    assert row_ids(fragment(client, link(back, "previous") or "")) == expected[:5]
    assert row_ids(fragment(client, link(third, "first") or "")) == expected[:5]


def test_a_filter_and_a_sort_page_together(client: TestClient, engineer: User, plant: list[Asset]) -> None:
    login(client, engineer)
    in_service = expected_ids(plant, "-commissioned", lambda a: a.status == AssetStatus.IN_SERVICE)
    assert len(in_service) > PAGE

    pages = walk(client, "/assets?status=in_service&sort=-commissioned", "next")

    assert [asset_id for page in pages for asset_id in page] == in_service
    next_url = link(fragment(client, "/assets?status=in_service&sort=-commissioned"), "next") or ""
    assert "status=in_service" in next_url
    assert "sort=-commissioned" in next_url


def test_the_registry_as_of_a_date_pages_the_same_way(client: TestClient, engineer: User, plant: list[Asset]) -> None:
    """As of a date the rows are asset versions (their own ids break ties); links go to the assets."""
    login(client, engineer)

    pages = walk(client, f"/assets?as_of={plant_today().isoformat()}&sort=-commissioned", "next")

    assert [asset_id for page in pages for asset_id in page] == expected_ids(plant, "-commissioned")


def test_sorting_again_starts_from_the_first_page(client: TestClient, engineer: User, plant: list[Asset]) -> None:
    login(client, engineer)
    second = fragment(client, link(fragment(client, "/assets", sort="value"), "next") or "")
    sort_link = re.search(r'<a class="sort" href="([^"]*sort=-value[^"]*)"', second)
    assert sort_link is not None
    assert "after=" not in sort_link[1]
    assert "before=" not in sort_link[1]


@pytest.mark.parametrize(
    "params",
    [
        {"after": "not a cursor!"},
        {"after": "%%%"},
        {"before": cursor({"s": "value", "v": ["abc", "T-01", 1]})},
        {"after": cursor({"s": "value", "v": ["100.00", "T-01"]})},
        {"after": cursor(["value"])},
        {"after": cursor({"s": "name", "v": ["泵1", "T-01", 1]})},
        {"after": "x" * 3000},
        {"after": base64.urlsafe_b64encode(b"[" * 1400).decode()},
        {"after": cursor({"s": "value", "v": ["NaN", "T-01", 1]})},
        {"after": cursor({"s": "value", "v": ["100.00", "T-\u0000", 1]})},
        {"after": cursor({"s": "value", "v": ["100.00", "T-01", 10**30]})},
    ],
)
def test_a_damaged_cursor_shows_the_first_page_and_says_why(
    client: TestClient, engineer: User, plant: list[Asset], params: dict[str, str]
) -> None:
    login(client, engineer)
    client.cookies.set(LOCALE_COOKIE, "en")

    response = client.get("/assets", params={"sort": "value", **params})

    assert response.status_code == 200
    assert row_ids(response.text) == expected_ids(plant, "value")[:PAGE]
    assert "This page link is damaged or was made for another sort order" in response.text


def test_a_bookmarked_page_number_still_opens_that_page_up_to_page_ten(
    client: TestClient, engineer: User, plant: list[Asset]
) -> None:
    login(client, engineer)
    client.cookies.set(LOCALE_COOKIE, "en")
    expected = expected_ids(plant, "tag")

    second = fragment(client, "/assets", page=2)
    beyond = client.get("/assets", params={"page": 11})

    assert row_ids(second) == expected[5:10]
    assert row_ids(fragment(client, link(second, "next") or "")) == expected[10:15]
    assert row_ids(fragment(client, link(second, "previous") or "")) == expected[:5]
    assert beyond.status_code == 200
    assert row_ids(beyond.text) == expected[:5]
    assert "Page numbers beyond 10 are not kept" in beyond.text


def test_the_count_is_exact_up_to_the_cap_then_says_more(
    client: TestClient, engineer: User, plant: list[Asset], monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, engineer)
    client.cookies.set(LOCALE_COOKIE, "en")
    count = re.compile(r'data-testid="asset-count">([^<]*)<')

    exact = count.search(fragment(client, "/assets"))
    monkeypatch.setattr(web, "COUNT_CAP", 10)
    capped = count.search(fragment(client, "/assets"))
    narrow = count.search(fragment(client, "/assets", status="retired"))

    assert exact is not None
    assert exact[1] == "18 assets"
    assert capped is not None
    assert capped[1] == "10+ assets"
    assert narrow is not None
    assert narrow[1] == "4 assets"


def test_every_page_runs_the_same_number_of_queries(
    client: TestClient, engineer: User, plant: list[Asset], count_queries: list[str]
) -> None:
    login(client, engineer)
    first = fragment(client, "/assets", sort="-value")
    urls = ["/assets?sort=-value", link(first, "next"), link(first, "last"), "/assets?sort=-value&page=2"]
    middle = fragment(client, link(first, "next") or "")
    urls.append(link(middle, "previous"))

    counts = []
    for url in urls:
        assert url is not None
        count_queries.clear()
        fragment(client, url)
        counts.append(len(count_queries))

    assert len(set(counts)) == 1, counts


# --- The API ------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["tag", "-value", "commissioned"])
def test_the_api_pages_by_cursor(client: TestClient, session: Session, plant: list[Asset], sort: str) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.AUDITOR), "assets:read")
    seen: list[int] = []
    params: dict[str, Any] = {"sort": sort, "size": 4}
    for _ in range(10):
        body = client.get("/api/v1/assets", params=params, headers=headers).json()
        assert (body["count"], body["count_capped"], body["page"]) == (18, False, 1)
        seen += [item["id"] for item in body["data"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]

    assert seen == expected_ids(plant, sort)
    assert math.ceil(len(seen) / 4) == 5


def test_the_api_offers_a_cursor_on_a_numbered_page_too(
    client: TestClient, session: Session, plant: list[Asset]
) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.AUDITOR), "assets:read")
    expected = expected_ids(plant, "value")

    numbered = client.get("/api/v1/assets", params={"sort": "value", "page": 2, "size": 4}, headers=headers).json()
    after = client.get(
        "/api/v1/assets", params={"sort": "value", "size": 4, "cursor": numbered["next_cursor"]}, headers=headers
    ).json()

    assert [item["id"] for item in numbered["data"]] == expected[4:8]
    assert [item["id"] for item in after["data"]] == expected[8:12]


@pytest.mark.parametrize(
    "cursor_text",
    [
        "garbage",
        cursor({"s": "-tag", "v": ["T-01", 1]}),
        cursor({"s": "tag", "v": [["x"], 1]}),
        cursor({"s": "tag", "v": ["T-\u0000", 1]}),
        cursor({"s": "tag", "v": ["T-01", -(2**70)]}),
    ],
)
def test_the_api_refuses_a_damaged_cursor_with_a_422(
    client: TestClient, session: Session, plant: list[Asset], cursor_text: str
) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.AUDITOR), "assets:read")

    response = client.get("/api/v1/assets", params={"sort": "tag", "cursor": cursor_text}, headers=headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["cursor"]


def test_the_api_count_stops_at_the_cap(
    client: TestClient, session: Session, plant: list[Asset], monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = token_for(session, factories.UserFactory(role=Role.AUDITOR), "assets:read")
    monkeypatch.setattr(web, "COUNT_CAP", 10)

    body = client.get("/api/v1/assets", headers=headers).json()

    assert (body["count"], body["count_capped"]) == (10, True)


# --- Query plans --------------------------------------------------------------------------

INDEX_OF_SORT = {
    "tag": "ix_asset_sort_tag",
    "name": "ix_asset_sort_name",
    "class": "ix_asset_sort_class",
    "status": "ix_asset_sort_status",
    "criticality": "ix_asset_sort_criticality",
    "workshop": "ix_asset_workshop_tag",
    "commissioned": "ix_asset_sort_commissioned",
    "value": "ix_asset_sort_value",
    "fixed_asset": "ix_asset_sort_fixed_asset",
}


def page_statements(session: Session, filters: AssetFilters, **seek: Any) -> str:
    """The statement that reads a page's rows (the last one the page sends)."""
    stmt = service.list_assets(filters)
    caught = statements_of(session, lambda: web.seek_paginate(session, stmt, Asset, filters.order, size=PAGE, **seek))
    sql, parameters = caught[-1]
    assert sql.lstrip().startswith("SELECT asset.")
    return plan_of(session, sql, parameters)


def plan_of(session: Session, sql: str, parameters: Any) -> str:
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if connection.dialect.name == "postgresql":
            cursor.execute("EXPLAIN " + sql, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, parameters)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())
    finally:
        cursor.close()


@pytest.mark.parametrize("key", list(INDEX_OF_SORT))
@pytest.mark.parametrize("direction", ["", "-"])
def test_each_sort_reads_its_index_without_sorting(
    session: Session, plant: list[Asset], key: str, direction: str
) -> None:
    """First page, a page after a cursor, a page before one, and the last page: each a walk of
    the sort's index (SQLite: no temporary B-tree; PostgreSQL: no Sort node, with sorting and
    sequential scans priced out since a few test rows would make a scan cheapest anyway)."""
    postgres = session.connection().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_sort = off"))
        # An index on the first sort column plus an incremental sort of the rest is the
        # planner's other cheap way on a few rows; the sort's own index must serve alone.
        session.execute(text("SET LOCAL enable_incremental_sort = off"))
    filters = AssetFilters(sort=direction + key)
    middle = filters.order.encode(plant[7])
    for seek in ({}, {"after": middle}, {"before": middle}, {"last": True}):
        plan = page_statements(session, filters, **seek)
        assert INDEX_OF_SORT[key] in plan, (seek, plan)
        if postgres:
            assert "Sort" not in plan, (seek, plan)
            assert "Seq Scan" not in plan, (seek, plan)
        else:
            assert "TEMP B-TREE" not in plan, (seek, plan)
        if seek.get("after") or seek.get("before"):
            # A seek, not a walk from the start of the index.
            assert ("SEARCH asset" in plan) or ("Index Cond" in plan), (seek, plan)
