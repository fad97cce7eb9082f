"""The wall-thickness pages: one location's API 570 assessment (an htmx fragment the point page
loads) and the register of every location, shortest remaining life first."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.db import plant_timezone, plant_today
from maintenance.monitoring.choices import ConditionState, Quantity, ReadingSource
from maintenance.monitoring.models import MeasurementPoint, Reading
from maintenance.org.models import User
from tests import factories
from tests.conftest import login

TODAY = plant_today()


@pytest.fixture
def pipe(session: Session) -> Asset:
    return factories.AssetFactory(tag="1101-PL-009", name="合成液管线", asset_class="PI")


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=plant_timezone()).astimezone(UTC)


def make_location(
    session: Session,
    asset: Asset,
    code: str,
    readings: list[tuple[date, float]],
    *,
    initial: str = "12.00",
    initial_date: date = date(2016, 5, 1),
    required: str = "8.00",
    quantity: Quantity = Quantity.WALL_THICKNESS,
) -> MeasurementPoint:
    point = MeasurementPoint(
        code=code,
        asset_id=asset.id,  # type: ignore[arg-type]
        workshop_id=asset.workshop_id,
        name="弯头外弧侧",
        quantity=quantity,
        unit="mm",
        initial_thickness_mm=Decimal(initial),
        initial_date=initial_date,
        required_thickness_mm=Decimal(required),
    )
    session.add(point)
    session.flush()
    for day, value in readings:
        session.add(
            Reading(
                point_id=point.id,  # type: ignore[arg-type]
                taken_at=at_noon(day),
                value=value,
                state=ConditionState.NORMAL,
                source=ReadingSource.FORM,
            )
        )
    session.flush()
    return point


def cell(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</td>', html, re.S)
    assert match, name
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_fragment_shows_rates_remaining_life_and_next_inspection(
    client: TestClient, engineer: User, session: Session, pipe: Asset
) -> None:
    point = make_location(
        session,
        pipe,
        "1101-PL-009-CML01",
        [(date(2016, 5, 1) + timedelta(days=365 * 3), 11.4), (date(2022, 5, 1), 10.4), (date(2026, 5, 1), 10.0)],
    )
    login(client, engineer)

    response = client.get(f"/monitoring/points/{point.id}/thickness", headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.text
    assert "<html" not in html  # a fragment, no base layout
    assert cell(html, "actual-thickness") == "10.00 mm"
    assert cell(html, "long-term-rate") == "0.200 mm/a"
    assert cell(html, "short-term-rate") == "0.100 mm/a"
    assert cell(html, "governing-rate").startswith("0.200 mm/a")
    assert cell(html, "remaining-life").startswith("10.0")
    assert "2031" in cell(html, "next-inspection")
    assert "API 570" in html
    assert 'data-testid="below-required"' not in html


def test_the_fragment_flags_a_location_below_required_thickness(
    client: TestClient, engineer: User, session: Session, pipe: Asset
) -> None:
    point = make_location(session, pipe, "1101-PL-009-CML02", [(date(2022, 5, 1), 8.6), (date(2026, 5, 1), 7.8)])
    login(client, engineer)

    html = client.get(f"/monitoring/points/{point.id}/thickness").text

    assert 'data-testid="below-required"' in html
    assert cell(html, "remaining-life").startswith("0.0")


def test_the_fragment_flags_a_location_at_the_required_thickness(
    client: TestClient, engineer: User, session: Session, pipe: Asset
) -> None:
    point = make_location(session, pipe, "1101-PL-009-CML03", [(date(2022, 5, 1), 8.6), (date(2026, 5, 1), 8.0)])
    login(client, engineer)

    html = client.get(f"/monitoring/points/{point.id}/thickness").text

    assert 'data-testid="at-required"' in html
    assert 'data-testid="below-required"' not in html
    assert cell(html, "remaining-life").startswith("0.0")
    assert re.search(r'<tr class="table-danger"><th scope="row">[^<]*</th><td[^>]*data-testid="actual-thickness"', html)


def test_the_fragment_is_only_for_wall_thickness_points(
    client: TestClient, engineer: User, session: Session, pipe: Asset
) -> None:
    pressure = make_location(session, pipe, "1101-PL-009-PI", [], quantity=Quantity.PRESSURE)
    login(client, engineer)

    assert client.get(f"/monitoring/points/{pressure.id}/thickness").status_code == 404
    assert client.get("/monitoring/points/999999/thickness").status_code == 404


def test_the_register_lists_shortest_remaining_life_first_and_flags_what_needs_action(
    client: TestClient, engineer: User, session: Session, pipe: Asset
) -> None:
    long_ago = TODAY - timedelta(days=12 * 365)
    make_location(session, pipe, "CML-SLOW", [(TODAY - timedelta(days=30), 11.5)], initial_date=long_ago)
    make_location(session, pipe, "CML-FAST", [(TODAY - timedelta(days=400), 9.6), (TODAY - timedelta(days=30), 9.0)])
    make_location(session, pipe, "CML-THIN", [(TODAY - timedelta(days=30), 7.9)])
    make_location(session, pipe, "CML-MIN", [(TODAY - timedelta(days=30), 8.0)])
    # 0.5 mm/y with 2.5 mm to spare five years ago: half the life (2.5 y) has passed → overdue.
    make_location(
        session,
        pipe,
        "CML-LATE",
        [(TODAY - timedelta(days=5 * 365), 10.5)],
        initial="12.00",
        initial_date=TODAY - timedelta(days=8 * 365),
    )
    make_location(session, pipe, "CML-NONE", [])
    login(client, engineer)

    response = client.get("/monitoring/thickness")

    assert response.status_code == 200
    order = re.findall(r'data-testid="thickness-row" data-point="([^"]+)"', response.text)
    assert order == ["CML-THIN", "CML-MIN", "CML-FAST", "CML-LATE", "CML-SLOW", "CML-NONE"]
    rows = dict(zip(order, response.text.split('data-testid="thickness-row"')[1:], strict=True))
    assert "table-danger" in rows["CML-THIN"]
    assert "table-danger" in rows["CML-MIN"]
    assert 'data-testid="at-required-badge"' in rows["CML-MIN"]
    assert 'data-testid="at-required-badge"' not in rows["CML-THIN"]
    assert 'data-testid="at-required-count"' in response.text
    assert "table-warning" in rows["CML-LATE"]
    assert 'data-testid="below-required-count"' in response.text
    assert 'data-testid="overdue-count"' in response.text


def test_the_register_filters_by_workshop_with_htmx(
    client: TestClient, engineer: User, session: Session, pipe: Asset
) -> None:
    other = factories.AssetFactory(tag="5101-PL-009", name="原料输送管线", asset_class="PI")
    make_location(session, pipe, "CML-HERE", [(TODAY, 10.0)])
    make_location(session, other, "CML-THERE", [(TODAY, 10.0)])
    login(client, engineer)

    response = client.get(
        "/monitoring/thickness", params={"workshop_id": pipe.workshop_id}, headers={"HX-Request": "true"}
    )

    assert "<html" not in response.text
    assert re.findall(r'data-point="([^"]+)"', response.text) == ["CML-HERE"]
    unfiltered = client.get("/monitoring/thickness", params={"workshop_id": "nonsense"})
    assert unfiltered.status_code == 200
    assert len(re.findall(r'data-testid="thickness-row"', unfiltered.text)) == 2


def test_the_register_runs_a_fixed_number_of_queries(
    client: TestClient, engineer: User, session: Session, pipe: Asset, count_queries: list[str]
) -> None:
    def add(start: int, count: int) -> None:
        for index in range(start, start + count):
            days = [TODAY - timedelta(days=365 * years + index) for years in (3, 2, 1)]
            make_location(session, pipe, f"CML-{index:02d}", [(day, 11.0 - 0.2 * n) for n, day in enumerate(days)])

    def queries() -> int:
        count_queries.clear()
        assert client.get("/monitoring/thickness").status_code == 200
        return len(count_queries)

    login(client, engineer)
    add(0, 2)
    few = queries()
    add(2, 28)
    many = queries()

    assert many == few
