"""Two people saving the same record at once (issue 12): the later save is refused as a
conflict (the 409 page), never silently overwriting the first one (a lost update on PostgreSQL).

Every versioned record (points, routes, turnarounds, campaigns, orders, assets) compares the
version in the UPDATE itself (``db.VersionChecked``): two requests that both loaded version v both
pass the service's check of the form's version, but only the first UPDATE matches
``version = v``; the other is refused and the first writer's data stays. On SQLite a write
transaction holds the one write lock from its first statement, so two saves never overlap there;
the tests on any database write the other save past the session instead, and the ones marked
``postgres`` run two sessions at once on a database of their own, committing for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel

from maintenance import db
from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset, AssetUpdate
from maintenance.exceptions import Conflict
from maintenance.inspections import campaigns, rounds
from maintenance.inspections.choices import CampaignKind
from maintenance.inspections.models import (
    CampaignCreate,
    CampaignUpdate,
    InspectionCampaign,
    InspectionRoute,
    RouteCreate,
    RouteUpdate,
)
from maintenance.main import create_app
from maintenance.monitoring import service as point_service
from maintenance.monitoring.choices import Quantity
from maintenance.monitoring.models import MeasurementPoint, PointCreate, PointUpdate
from maintenance.orders import service as order_service
from maintenance.orders.choices import OrderType
from maintenance.orders.models import (
    Turnaround,
    TurnaroundCreate,
    TurnaroundUpdate,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderUpdate,
)
from maintenance.orders.turnarounds import service as turnarounds
from maintenance.org.models import Role, User
from tests import factories
from tests.conftest import login


@dataclass
class Plant:
    """What the records are created on, committed; two managers who may edit all of them."""

    asset: Asset
    alice: User
    bob: User


@dataclass(frozen=True)
class Editable:
    """One kind of versioned record: how to create it, edit its ``name``-like field through the
    service or the edit form, and read that field back."""

    model: type[SQLModel]
    field: str
    create: Callable[[Session, Plant], SQLModel]
    update: Callable[[Session, Any, dict[str, Any], User], object]
    update_model: type[SQLModel]
    # For the page test: the edit URL, the form (without field, version and token), and the
    # service module and function the route calls.
    url: str = ""
    form: Callable[[Any, Plant], dict[str, str]] | None = None
    route_calls: tuple[object, str] | None = None


def _point(session: Session, plant: Plant) -> MeasurementPoint:
    data = PointCreate(
        code="P-1101A-DE-V", asset_id=plant.asset.id, name="驱动端水平振动", quantity=Quantity.VIBRATION, alarm_high=7.1
    )  # type: ignore[call-arg]
    return point_service.create_point(session, data, actor=plant.alice)


def _route(session: Session, plant: Plant) -> InspectionRoute:
    data = RouteCreate(code="RT-1", name="一车间机泵日常点检", workshop_id=plant.asset.workshop_id)  # type: ignore[call-arg]
    return rounds.create_route(session, data, actor=plant.alice)


def _turnaround(session: Session, plant: Plant) -> Turnaround:
    data = TurnaroundCreate(
        code="TA2027",
        name="2027年大修",
        start_date=date(2027, 4, 1),
        end_date=date(2027, 4, 30),
        budget_cny=Decimal("100000"),
        site_id=plant.asset.site_id,
    )
    return turnarounds.create_turnaround(session, data, actor=plant.alice)


def _campaign(session: Session, plant: Plant) -> InspectionCampaign:
    data = CampaignCreate(
        name="2026年冬季防冻防凝专项检查",
        kind=CampaignKind.WINTERIZATION,
        starts_on=date(2026, 11, 1),
        deadline=date(2026, 11, 30),
    )  # type: ignore[call-arg]
    return campaigns.create_campaign(session, data, ["伴热线投用"], [plant.asset.workshop_id], actor=plant.alice)


def _order(session: Session, plant: Plant) -> WorkOrder:
    data = WorkOrderCreate(order_type=OrderType.CM, asset_id=plant.asset.id, title="泵体泄漏")  # type: ignore[call-arg]
    return order_service.create_order(session, data, actor=plant.alice)


def _asset(session: Session, plant: Plant) -> Asset:
    asset: Asset = factories.AssetFactory(workshop_id=plant.asset.workshop_id, name="原料泵")
    return asset


POINT = Editable(
    MeasurementPoint,
    "name",
    _point,
    lambda session, point, data, user: point_service.update_point(session, point, PointUpdate(**data), actor=user),
    PointUpdate,
    "/monitoring/points/{id}/edit",
    lambda point, plant: {
        "asset_tag": plant.asset.tag,
        "code": point.code,
        "quantity": "vibration",
        "unit": "mm/s",
        "preset": "none",
        "alarm_high": "7.1",
        "warnings_to_raise": "3",
        "is_active": "true",
    },
    (point_service, "update_point"),
)
ROUTE = Editable(
    InspectionRoute,
    "name",
    _route,
    lambda session, route, data, user: rounds.update_route(session, route, RouteUpdate(**data), actor=user),
    RouteUpdate,
    "/rounds/routes/{id}/edit",
    lambda route, plant: {
        "code": route.code,
        "workshop_id": str(route.workshop_id),
        "frequency": "day",
        "is_active": "on",
    },
    (rounds, "update_route"),
)
TURNAROUND = Editable(
    Turnaround,
    "name",
    _turnaround,
    lambda session, turnaround, data, user: turnarounds.update_turnaround(
        session, turnaround, TurnaroundUpdate(**data), actor=user
    ),
    TurnaroundUpdate,
    "/turnarounds/{id}/edit",
    lambda turnaround, plant: {
        "code": turnaround.code,
        "start_date": turnaround.start_date.isoformat(),
        "end_date": turnaround.end_date.isoformat(),
        "budget_cny": str(turnaround.budget_cny),
        "notes": "",
    },
    (turnarounds, "update_turnaround"),
)
CAMPAIGN = Editable(
    InspectionCampaign,
    "name",
    _campaign,
    lambda session, campaign, data, user: campaigns.update_campaign(
        session, campaign, CampaignUpdate(**data), actor=user
    ),
    CampaignUpdate,
    "/campaigns/{id}/edit",
    lambda campaign, plant: {
        "kind": campaign.kind.value,
        "starts_on": campaign.starts_on.isoformat(),
        "deadline": campaign.deadline.isoformat(),
        "instructions": "",
    },
    (campaigns, "update_campaign"),
)
ORDER = Editable(
    WorkOrder,
    "title",
    _order,
    lambda session, order, data, user: order_service.update_order(session, order, WorkOrderUpdate(**data), actor=user),
    WorkOrderUpdate,
)
ASSET = Editable(
    Asset,
    "name",
    _asset,
    lambda session, asset, data, user: asset_service.update_asset(session, asset, AssetUpdate(**data), actor=user),
    AssetUpdate,
)
EDITABLES = {
    "point": POINT,
    "route": ROUTE,
    "turnaround": TURNAROUND,
    "campaign": CAMPAIGN,
    "order": ORDER,
    "asset": ASSET,
}
WITH_PAGES = ["point", "route", "turnaround", "campaign"]


@pytest.fixture
def plant(committed_postgresql: Engine) -> Plant:
    with Session(committed_postgresql, expire_on_commit=False) as setup:
        factories.bind(setup)
        workshop = factories.WorkshopFactory()
        plant = Plant(
            asset=factories.AssetFactory(workshop_id=workshop.id, tag="P-1101A"),
            alice=factories.UserFactory(role=Role.MANAGER, username="alice"),
            bob=factories.UserFactory(role=Role.MANAGER, username="bob"),
        )
        setup.commit()
    return plant


def created(engine: Engine, editable: Editable, plant: Plant) -> int:
    with Session(engine, expire_on_commit=False) as setup:
        factories.bind(setup)
        record = editable.create(setup, plant)
        setup.commit()
    return record.id  # type: ignore[attr-defined,no-any-return]


def stored(engine: Engine, editable: Editable, record_id: int) -> tuple[str, int]:
    """The edited field and the version as committed."""
    with Session(engine) as check:
        record = check.get(editable.model, record_id)
        return getattr(record, editable.field), record.version  # type: ignore[union-attr]


def edit(session: Session, editable: Editable, record: Any, value: str, seen: int, user: User) -> None:
    """Save ``record`` with its field set to ``value``, as edited from version ``seen``."""
    fields = set(editable.update_model.model_fields)
    data = record.model_dump(include=fields) | {editable.field: value, "version": seen}
    editable.update(session, record, data, user)


# --- On any database: a row saved behind the session's back -------------------------------


def _saved_meanwhile(session: Session, editable: Editable, record: Any, value: str) -> None:
    """Someone else's save of ``record`` (version 2, ``value``), committed after this session
    loaded it: written past the session, which still holds version 1."""
    table = editable.model.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table).where(table.c.id == record.id).values({editable.field: value, "version": 2}),
        execution_options={"synchronize_session": False},
    )


@pytest.fixture
def plant_in_session(session: Session) -> Plant:
    workshop = factories.WorkshopFactory()
    return Plant(
        asset=factories.AssetFactory(workshop_id=workshop.id, tag="P-1101A"),
        alice=factories.UserFactory(role=Role.MANAGER),
        bob=factories.UserFactory(role=Role.MANAGER),
    )


@pytest.mark.parametrize("kind", list(EDITABLES))
def test_a_save_over_a_version_stored_meanwhile_is_a_conflict_and_the_stored_values_stay(
    session: Session, plant_in_session: Plant, kind: str
) -> None:
    editable = EDITABLES[kind]
    record = editable.create(session, plant_in_session)
    _saved_meanwhile(session, editable, record, "别人的修改")

    # The form and the loaded record agree on version 1: only the UPDATE can tell.
    with pytest.raises(Conflict) as refused:
        edit(session, editable, record, "我的修改", 1, plant_in_session.bob)

    assert [error.field for error in refused.value.errors] == ["version"]
    # The session goes on (the conflict page reads from it) and shows what is stored.
    assert (getattr(record, editable.field), record.version) == ("别人的修改", 2)
    version = editable.model.version  # type: ignore[attr-defined]
    assert session.scalar(select(version).where(editable.model.id == record.id)) == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", WITH_PAGES)
def test_a_form_saved_over_a_version_stored_meanwhile_gets_the_409_page_with_both_values(
    client: TestClient,
    session: Session,
    plant_in_session: Plant,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    editable = EDITABLES[kind]
    assert editable.form is not None
    assert editable.route_calls is not None
    record = editable.create(session, plant_in_session)
    module, name = editable.route_calls
    save = getattr(module, name)

    def saved_meanwhile_then_save(session: Session, stored: Any, *args: Any, **kwargs: Any) -> object:
        _saved_meanwhile(session, editable, stored, "别人的修改")
        return save(session, stored, *args, **kwargs)

    monkeypatch.setattr(module, name, saved_meanwhile_then_save)
    token = login(client, plant_in_session.bob)

    response = client.post(
        editable.url.format(id=record.id),
        data=editable.form(record, plant_in_session)
        | {editable.field: "我的修改", "version": "1", "csrf_token": token},
    )

    assert response.status_code == 409
    assert 'data-testid="conflict"' in response.text
    assert "别人的修改" in response.text  # stored now
    assert "我的修改" in response.text  # submitted
    session.expire_all()
    assert (getattr(record, editable.field), record.version) == ("别人的修改", 2)


def test_a_stale_version_met_outside_the_services_save_is_a_409_not_a_500(app: FastAPI) -> None:
    """Any UPDATE of a versioned row carries the version check: one that is not wrapped in
    db.versioned_write (none is today) answers a conflict too, as a page and on the API."""

    def stale() -> None:
        raise StaleDataError("UPDATE statement on table 'work_order' expected to update 1 row(s); 0 were matched.")

    app.add_api_route("/stale", stale)
    app.add_api_route("/api/v1/stale", stale)

    with TestClient(app, raise_server_exceptions=False, headers={"Accept-Language": "en"}) as client:
        page, problem = client.get("/stale"), client.get("/api/v1/stale")

    assert page.status_code == 409
    assert "Reload the page and try again." in page.text
    assert problem.status_code == 409
    assert problem.json()["detail"] == "Reload the page and try again."


# --- Two sessions at once on PostgreSQL, through the services -----------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(EDITABLES))
def test_of_two_saves_from_the_same_version_the_later_is_a_conflict_and_the_first_stays(
    committed_postgresql: Engine, plant: Plant, kind: str
) -> None:
    editable = EDITABLES[kind]
    record_id = created(committed_postgresql, editable, plant)
    with (
        Session(committed_postgresql, expire_on_commit=False) as first,
        Session(committed_postgresql, expire_on_commit=False) as second,
    ):
        # Both open the record at version 1 (the second without a row lock, as a form post does).
        mine = first.get(editable.model, record_id)
        theirs = second.get(editable.model, record_id)
        assert (mine.version, theirs.version) == (1, 1)  # type: ignore[union-attr]

        edit(first, editable, mine, "第一位的修改", 1, plant.alice)
        first.commit()
        with pytest.raises(Conflict) as refused:
            edit(second, editable, theirs, "第二位的修改", 1, plant.bob)
        second.rollback()

    assert [error.field for error in refused.value.errors] == ["version"]
    assert stored(committed_postgresql, editable, record_id) == ("第一位的修改", 2)


def _waiting_for_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        waiting = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(EDITABLES))
def test_a_save_waiting_on_the_first_writers_open_transaction_is_a_conflict_once_it_commits(
    committed_postgresql: Engine, plant: Plant, kind: str
) -> None:
    """The same moment: the second UPDATE waits for the first transaction's row lock, then finds
    the version moved on (PostgreSQL re-checks the WHERE clause on the committed row)."""
    editable = EDITABLES[kind]
    record_id = created(committed_postgresql, editable, plant)
    outcome: list[BaseException | None] = []
    loaded = threading.Event()
    first_flushed = threading.Event()

    def second_writer() -> None:
        try:
            with Session(committed_postgresql, expire_on_commit=False) as second:
                theirs = second.get(editable.model, record_id)
                loaded.set()
                assert first_flushed.wait(timeout=30)
                edit(second, editable, theirs, "第二位的修改", 1, plant.bob)
                second.commit()
                outcome.append(None)
        except BaseException as error:  # reported below
            outcome.append(error)

    thread = threading.Thread(target=second_writer)
    thread.start()
    try:
        assert loaded.wait(timeout=30)
        with Session(committed_postgresql, expire_on_commit=False) as first:
            mine = first.get(editable.model, record_id)
            edit(first, editable, mine, "第一位的修改", 1, plant.alice)
            first.flush()  # the row is locked until this transaction ends
            first_flushed.set()
            deadline = time.monotonic() + 10
            while not (waited := _waiting_for_a_lock(committed_postgresql)) and time.monotonic() < deadline:
                time.sleep(0.02)
            first.commit()
    finally:
        first_flushed.set()
        thread.join(timeout=60)

    assert waited, "the second UPDATE never waited for the first one's row lock"
    [error] = outcome
    assert isinstance(error, Conflict), error
    assert stored(committed_postgresql, editable, record_id) == ("第一位的修改", 2)


# --- Two people at once on PostgreSQL, through the edit pages -----------------------------


@pytest.fixture
def served(committed_postgresql: Engine, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The app as served: a session and transaction of its own per request."""
    monkeypatch.setattr(db, "get_engine", lambda: committed_postgresql)
    return create_app()


@pytest.fixture
def browsers(served: FastAPI, plant: Plant) -> Iterator[tuple[TestClient, str, TestClient, str]]:
    """Alice's and Bob's browsers, logged in: (client, CSRF token) of each."""
    with (
        TestClient(served, base_url="http://testserver", follow_redirects=False) as alice,
        TestClient(served, base_url="http://testserver", follow_redirects=False) as bob,
    ):
        yield alice, login(alice, plant.alice), bob, login(bob, plant.bob)


@pytest.mark.postgres
@pytest.mark.parametrize("kind", WITH_PAGES)
def test_two_people_saving_the_same_form_at_once_the_later_gets_the_409_page(
    committed_postgresql: Engine,
    plant: Plant,
    browsers: tuple[TestClient, str, TestClient, str],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """Bob's save has loaded the record (version 1) when Alice's save of the same version
    commits; then Bob's save goes on."""
    editable = EDITABLES[kind]
    assert editable.form is not None
    assert editable.route_calls is not None
    record_id = created(committed_postgresql, editable, plant)
    alice, alice_token, bob, bob_token = browsers
    with Session(committed_postgresql) as read:
        form = editable.form(read.get(editable.model, record_id), plant)
    url = editable.url.format(id=record_id)
    module, name = editable.route_calls
    save = getattr(module, name)
    bob_loaded, alice_saved = threading.Event(), threading.Event()

    def bob_waits_for_alice(*args: Any, actor: User, **kwargs: Any) -> object:
        if actor.username == plant.bob.username:
            bob_loaded.set()
            assert alice_saved.wait(timeout=30)
        return save(*args, actor=actor, **kwargs)

    monkeypatch.setattr(module, name, bob_waits_for_alice)
    answers: dict[str, Any] = {}

    def bob_saves() -> None:
        data = form | {editable.field: "鲍勃的修改", "version": "1", "csrf_token": bob_token}
        try:
            answers["bob"] = bob.post(url, data=data)
        except BaseException as error:  # reported below
            answers["bob"] = error

    thread = threading.Thread(target=bob_saves)
    thread.start()
    try:
        assert bob_loaded.wait(timeout=30)
        answers["alice"] = alice.post(
            url, data=form | {editable.field: "爱丽丝的修改", "version": "1", "csrf_token": alice_token}
        )
    finally:
        alice_saved.set()
        thread.join(timeout=60)

    assert answers["alice"].status_code == 303
    assert not isinstance(answers["bob"], BaseException), answers["bob"]
    assert answers["bob"].status_code == 409
    assert 'data-testid="conflict"' in answers["bob"].text
    assert "爱丽丝的修改" in answers["bob"].text  # stored now
    assert "鲍勃的修改" in answers["bob"].text  # what Bob submitted
    assert stored(committed_postgresql, editable, record_id) == ("爱丽丝的修改", 2)
    with Session(committed_postgresql) as check:
        assert check.scalar(select(func.count()).select_from(editable.model)) == 1
