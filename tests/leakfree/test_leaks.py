"""The leak register, failed seal checks of rounds turned into leaks, and a leak's order, repair
and re-check, through the served app. The plant's clock says 10 March 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit.models import ObjectChange
from maintenance.inspections.models import InspectionRound, InspectionRoute, RoundEntry, RouteStop
from maintenance.leakfree import leak_routes
from maintenance.leakfree.choices import LeakSeverity, LeakStatus, SealKind, SealType
from maintenance.leakfree.models import Leak
from maintenance.orders.choices import ChecklistResult, OrderType
from maintenance.orders.models import WorkOrder
from maintenance.org.models import User, Workshop
from tests import factories
from tests.conftest import login
from tests.leakfree.conftest import MakeSealPoint

TODAY = date(2026, 3, 10)
LIST = "/leakfree/leaks"


@pytest.fixture(autouse=True)
def plant_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leak_routes, "plant_today", lambda: TODAY)


@pytest.fixture
def asset(session: Session, workshop: Workshop) -> Asset:
    return factories.AssetFactory(workshop_id=workshop.id, tag="P-101A")


@pytest.fixture
def add_leak(session: Session, workshop: Workshop) -> Any:
    def add(found: date, **fields: Any) -> Leak:
        values: dict[str, Any] = {
            "workshop_id": workshop.id,
            "kind": SealKind.STATIC,
            "severity": LeakSeverity.SEEP,
            "found_date": found,
        } | fields
        leak = Leak(**values)
        session.add(leak)
        session.flush()
        return leak

    return add


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _changes(session: Session, object_type: str) -> int:
    return session.scalar(select(func.count()).where(col(ObjectChange.object_type) == object_type)) or 0


# --- The register ---------------------------------------------------------------------------------


def test_the_register_filters_and_shows_the_age_of_open_leaks(
    client: TestClient, session: Session, workshop: Workshop, auditor: User, add_leak: Any
) -> None:
    other = factories.WorkshopFactory()
    open_seep = add_leak(date(2026, 3, 1))  # open 9 days on 10 March
    open_pump = add_leak(date(2026, 2, 8), kind=SealKind.DYNAMIC, severity=LeakSeverity.SPRAY)  # 30 days
    repaired = add_leak(date(2026, 1, 5), status=LeakStatus.REPAIRED, repaired_date=date(2026, 1, 9))
    elsewhere = add_leak(date(2026, 3, 2), workshop_id=other.id, severity=LeakSeverity.DRIP)
    login(client, auditor)

    page = client.get(LIST).text
    assert page.count("data-leak-id=") == 4
    # The newest found first by default.
    order = [page.index(f'data-leak-id="{leak.id}"') for leak in (elsewhere, open_seep, open_pump, repaired)]
    assert order == sorted(order)

    def age_of(text: str, leak: Leak) -> str:
        row = text[text.index(f'data-leak-id="{leak.id}"') :]
        return row[row.index("data-age>") + len("data-age>") : row.index("</td>", row.index("data-age>"))]

    assert age_of(page, open_seep) == "9"
    assert age_of(page, open_pump) == "30"
    assert age_of(page, repaired) == ""

    def shown(query: str) -> set[int]:
        text = client.get(f"{LIST}?{query}", headers={"HX-Request": "true"}).text
        return {leak.id for leak in (open_seep, open_pump, repaired, elsewhere) if f'data-leak-id="{leak.id}"' in text}

    assert shown(f"workshop_id={workshop.id}") == {open_seep.id, open_pump.id, repaired.id}
    assert shown("status=open") == {open_seep.id, open_pump.id, elsewhere.id}
    assert shown("severity=spray") == {open_pump.id}
    assert shown("kind=dynamic") == {open_pump.id}
    assert shown("status=repaired&kind=static") == {repaired.id}

    by_severity = client.get(f"{LIST}?sort=-severity").text
    assert by_severity.index(f'data-leak-id="{open_pump.id}"') < by_severity.index(f'data-leak-id="{elsewhere.id}"')

    csv = client.get(f"{LIST}?status=open&export=csv").content.decode("utf-8-sig").strip().splitlines()
    assert len(csv) == 4
    assert [line.split(",")[7] for line in csv[1:]] == ["8", "9", "30"]  # the newest found first
    assert client.get(f"{LIST}?export=xlsx").content[:2] == b"PK"


def test_the_register_runs_a_fixed_number_of_queries(
    client: TestClient, auditor: User, add_leak: Any, make_seal_point: MakeSealPoint, count_queries: list[str]
) -> None:
    def queries() -> int:
        count_queries.clear()
        assert client.get(LIST).status_code == 200
        return len(count_queries)

    login(client, auditor)
    add_leak(date(2026, 3, 1), seal_point_id=make_seal_point().id)
    few = queries()
    for day in range(2, 8):
        add_leak(date(2026, 3, day), seal_point_id=make_seal_point().id)
    assert queries() == few


# --- Failed seal checks of rounds ---------------------------------------------------------------


@pytest.fixture
def failed_check(session: Session, workshop: Workshop, asset: Asset) -> Any:
    route = InspectionRoute(code="R-1", name="机泵日常点检", workshop_id=workshop.id)
    session.add(route)
    session.flush()
    made = iter(range(1, 1000))

    def make(check_text: str, result: ChecklistResult = ChecklistResult.NOT_OK) -> RoundEntry:
        position = next(made)
        stop = RouteStop(route_id=route.id, position=position, asset_id=asset.id, check_text=check_text)
        round_ = InspectionRound(
            route_id=route.id,
            workshop_id=workshop.id,
            period_start=datetime(2026, 3, 1, position, tzinfo=UTC),
            period_end=datetime(2026, 3, 2, position, tzinfo=UTC),
        )
        session.add_all([stop, round_])
        session.flush()
        # 20:00 UTC on 4 March is 5 March at the plant (UTC+8).
        entry = RoundEntry(
            round_id=round_.id,
            stop_id=stop.id,
            result=result,
            note="机封滴油",
            entered_at=datetime(2026, 3, 4, 20, tzinfo=UTC),
        )
        session.add(entry)
        session.flush()
        return entry

    return make


def test_failed_seal_checks_are_listed_until_turned_into_a_leak_once(
    client: TestClient, session: Session, workshop_engineer: User, asset: Asset, failed_check: Any
) -> None:
    seal = failed_check("机封无泄漏")
    english = failed_check("Flange seal OK")
    not_seal = failed_check("油位正常")
    passed = failed_check("法兰无渗漏", ChecklistResult.OK)
    token = login(client, workshop_engineer)

    page = client.get(LIST).text
    listed = {entry.id for entry in (seal, english, not_seal, passed) if f'data-entry-id="{entry.id}"' in page}
    assert listed == {seal.id, english.id}

    form = {"csrf_token": token, "kind": "dynamic", "severity": "drip"}
    first = client.post(f"{LIST}/from-round/{seal.id}", data=form)
    second = client.post(f"{LIST}/from-round/{seal.id}", data=form)

    assert first.status_code == second.status_code == 303
    leak = session.scalars(select(Leak)).one()
    assert first.headers["location"] == second.headers["location"] == f"{LIST}/{leak.id}"
    assert (leak.round_entry_id, leak.workshop_id, leak.asset_id) == (seal.id, asset.workshop_id, asset.id)
    assert (leak.kind, leak.severity, leak.found_date) == (SealKind.DYNAMIC, LeakSeverity.DRIP, date(2026, 3, 5))
    assert _changes(session, "leak") == 1
    assert f'data-entry-id="{seal.id}"' not in client.get(LIST).text

    refused = client.post(f"{LIST}/from-round/{not_seal.id}", data=form)
    assert refused.status_code == 409
    missing_kind = client.post(f"{LIST}/from-round/{english.id}", data={"csrf_token": token, "severity": "drip"})
    assert missing_kind.status_code == 422
    assert client.post(f"{LIST}/from-round/999999", data=form).status_code == 404
    assert _count(session, Leak) == 1


def test_a_race_on_the_same_check_answers_with_the_existing_leak(
    session: Session, workshop_engineer: User, failed_check: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second click's look-up misses the first's leak (made meanwhile): the unique
    round entry refuses the insert and the existing leak is the answer."""
    from maintenance.leakfree import leaks

    entry = failed_check("密封点检查")
    data = leaks.FromRoundInput(kind=SealKind.STATIC, severity=LeakSeverity.SEEP)
    made, created = leaks.leak_from_round(session, entry.id, data, actor=workshop_engineer)
    assert created
    real = leaks.leak_of_entry
    calls = iter([None])
    monkeypatch.setattr(leaks, "leak_of_entry", lambda s, i: next(calls, None) or real(s, i))
    again, created_again = leaks.leak_from_round(session, entry.id, data, actor=workshop_engineer)
    assert (again.id, created_again) == (made.id, False)
    assert _count(session, Leak) == 1


# --- A leak's way to closed ---------------------------------------------------------------------


def test_one_click_raises_one_corrective_order_on_the_points_asset(
    client: TestClient,
    session: Session,
    workshop_engineer: User,
    asset: Asset,
    add_leak: Any,
    make_seal_point: MakeSealPoint,
) -> None:
    point = make_seal_point(asset_id=asset.id, location="P-101A 出口法兰", seal_type=SealType.FLANGE)
    leak = add_leak(date(2026, 3, 1), seal_point_id=point.id, asset_id=asset.id, description="螺栓处渗油")
    token = login(client, workshop_engineer)

    first = client.post(f"{LIST}/{leak.id}/order", data={"csrf_token": token})
    second = client.post(f"{LIST}/{leak.id}/order", data={"csrf_token": token})

    order = session.scalars(select(WorkOrder)).one()
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == f"/orders/{order.id}"
    assert (order.order_type, order.asset_id, order.workshop_id) == (OrderType.CM, asset.id, asset.workshop_id)
    assert "P-101A 出口法兰" in order.title
    session.refresh(leak)
    assert leak.order_id == order.id
    assert order.number in client.get(f"{LIST}/{leak.id}").text


def test_a_leak_without_an_asset_cannot_raise_an_order(
    client: TestClient, session: Session, workshop_engineer: User, add_leak: Any
) -> None:
    leak = add_leak(date(2026, 3, 1))
    token = login(client, workshop_engineer)
    response = client.post(f"{LIST}/{leak.id}/order", data={"csrf_token": token})
    assert response.status_code == 422
    assert _count(session, WorkOrder) == 0


def test_repaired_then_rechecked_still_leaking_then_tight(
    client: TestClient, session: Session, workshop_engineer: User, add_leak: Any
) -> None:
    leak = add_leak(date(2026, 3, 1))
    token = login(client, workshop_engineer)

    def post(action: str, **fields: str) -> int:
        session.refresh(leak)
        data = {"csrf_token": token, "version": str(leak.version)} | fields
        return client.post(f"{LIST}/{leak.id}/{action}", data=data).status_code

    assert post("repaired", repaired_date="2026-02-28") == 422  # before found
    assert post("repaired", repaired_date="2026-03-11") == 422  # in the future
    assert post("recheck", rechecked_date="2026-03-05", result="tight") == 409  # not repaired yet
    assert post("repaired", repaired_date="2026-03-03") == 303
    session.refresh(leak)
    assert (leak.status, leak.repaired_date) == (LeakStatus.REPAIRED, date(2026, 3, 3))

    assert post("recheck", rechecked_date="2026-03-02", result="tight") == 422  # before the repair
    assert post("recheck", rechecked_date="2026-03-04", result="maybe") == 422
    assert post("recheck", rechecked_date="2026-03-04", result="leaking") == 303
    session.refresh(leak)
    assert (leak.status, leak.repaired_date, leak.rechecked_date) == (LeakStatus.OPEN, None, date(2026, 3, 4))

    assert post("repaired", repaired_date="2026-03-06") == 303
    assert post("recheck", rechecked_date="2026-03-10", result="tight") == 303
    session.refresh(leak)
    assert (leak.status, leak.rechecked_date, leak.rechecked_by_id) == (
        LeakStatus.CLOSED,
        date(2026, 3, 10),
        workshop_engineer.id,
    )
    assert _changes(session, "leak") == 4  # repaired, re-checked, repaired, re-checked


def test_a_stale_version_is_a_409_and_changes_nothing(
    client: TestClient, session: Session, workshop_engineer: User, add_leak: Any
) -> None:
    leak = add_leak(date(2026, 3, 1))
    token = login(client, workshop_engineer)
    response = client.post(
        f"{LIST}/{leak.id}/repaired", data={"csrf_token": token, "version": "0", "repaired_date": "2026-03-02"}
    )
    assert response.status_code == 409
    session.refresh(leak)
    assert leak.status == LeakStatus.OPEN


def test_a_photo_is_attached_and_served(
    client: TestClient, session: Session, workshop_engineer: User, add_leak: Any
) -> None:
    leak = add_leak(date(2026, 3, 1))
    token = login(client, workshop_engineer)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    response = client.post(
        f"{LIST}/{leak.id}/photo",
        data={"csrf_token": token, "version": str(leak.version)},
        files={"photo": ("leak.png", png, "image/png")},
    )
    assert response.status_code == 303
    served = client.get(f"{LIST}/{leak.id}/photo")
    assert served.status_code == 200
    assert served.content == png
    refused = client.post(
        f"{LIST}/{leak.id}/photo",
        data={"csrf_token": token, "version": str(leak.version + 1)},
        files={"photo": ("leak.pdf", b"%PDF-1.4\n", "application/pdf")},
    )
    assert refused.status_code == 422


def test_auditors_and_other_engineers_are_refused_and_unknown_leaks_are_404(
    client: TestClient, session: Session, auditor: User, add_leak: Any
) -> None:
    leak = add_leak(date(2026, 3, 1))
    token = login(client, auditor)
    assert client.get(f"{LIST}/{leak.id}").status_code == 200
    data = {"csrf_token": token, "version": "1", "repaired_date": "2026-03-02"}
    assert client.post(f"{LIST}/{leak.id}/repaired", data=data).status_code == 403
    client.cookies.clear()
    token = login(client, factories.UserFactory())
    data["csrf_token"] = token
    assert client.post(f"{LIST}/{leak.id}/repaired", data=data).status_code == 403
    assert client.post(f"{LIST}/{leak.id}/order", data={"csrf_token": token}).status_code == 403
    assert client.get(f"{LIST}/999999").status_code == 404
    session.refresh(leak)
    assert leak.status == LeakStatus.OPEN
