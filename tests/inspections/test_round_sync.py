"""Rounds without signal: the phone's outbox synced to POST /rounds/sync. Each entry is answered by
its client id (synced / already synced / refused with the reason), a replay writes nothing, the
phone's time becomes the entry's and the reading's time when it lies in the round's period and not
in the future, an entry of a round in another workshop is refused on its own, malformed JSON (ids
out of range, a time outside 2000-2099 too) is a 422 that names the entry and the field. Also the
service worker and the web app manifest that keep the round pages on the phone.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.audit.models import ObjectChange
from maintenance.config import PACKAGE_ROOT, get_settings
from maintenance.db import utcnow
from maintenance.inspections import rounds
from maintenance.inspections.choices import RouteFrequency
from maintenance.inspections.models import (
    InspectionRound,
    InspectionRoute,
    RoundEntry,
    RouteCreate,
    RouteStop,
    StopFields,
)
from maintenance.inspections.round_periods import GRACE
from maintenance.monitoring.models import MeasurementPoint, Reading
from maintenance.orders.models import WorkOrder
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.conftest import login
from tests.monitoring.conftest import SYSTEM, engineer_of

HTMX = {"HX-Request": "true"}


@pytest.fixture
def route(session: Session, workshop: Workshop) -> InspectionRoute:
    return rounds.create_route(
        session,
        RouteCreate(code="RT-OFF", name="机泵日常点检", workshop_id=workshop.id, frequency=RouteFrequency.DAY),  # type: ignore[arg-type]
        actor=SYSTEM,
    )


@pytest.fixture
def current(session: Session, route: InspectionRoute, stops: list[RouteStop]) -> InspectionRound:
    return rounds.ensure_round(session, route, actor=SYSTEM)


def taken_in(found: InspectionRound) -> datetime:
    """A moment of the round's period that has passed (whatever the time of day the test runs)."""
    now = utcnow()
    return (found.period_start + (now - found.period_start) / 2).replace(microsecond=0)


def entry(found: InspectionRound, stop: RouteStop, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "round_id": found.id,
        "stop_id": stop.id,
        "taken_at": taken_in(found).isoformat(),
    }
    if stop.point_id is not None:
        data["value"] = 2.1
    else:
        data["result"] = "ok"
    return data | fields


def post_sync(client: TestClient, token: str, entries: list[dict[str, Any]]) -> Any:
    return client.post(
        "/rounds/sync",
        content=json.dumps({"entries": entries}),
        headers={"Content-Type": "application/json", "X-CSRF-Token": token},
    )


def outcomes(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [result["outcome"] for result in response.json()["results"]]


def counts(session: Session) -> tuple[int, int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(RoundEntry)) or 0,
        session.scalar(select(func.count()).select_from(Reading)) or 0,
        session.scalar(select(func.count()).select_from(WorkOrder)) or 0,
        session.scalar(select(func.count()).select_from(ObjectChange)) or 0,
    )


class TestSync:
    def test_entries_are_recorded_at_the_phones_time_and_an_alarm_raises_its_order(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        point: MeasurementPoint,
        workshop_engineer: User,
    ) -> None:
        token = login(client, workshop_engineer)
        alarm = entry(current, stops[0], value=9.2)
        check = entry(current, stops[1], result="not_ok", note="机封滴油")

        response = post_sync(client, token, [alarm, check])

        assert outcomes(response) == ["synced", "synced"]
        assert [r["client_id"] for r in response.json()["results"]] == [alarm["client_id"], check["client_id"]]
        stored = {
            e.client_id: e for e in session.scalars(select(RoundEntry).where(col(RoundEntry.round_id) == current.id))
        }
        taken_at = datetime.fromisoformat(alarm["taken_at"])
        assert stored[alarm["client_id"]].entered_at == taken_at
        assert stored[alarm["client_id"]].taken_at == taken_at
        assert session.get(Reading, (point.id, taken_at)) is not None  # the trend has it at the phone's time
        assert stored[alarm["client_id"]].order_id is not None  # the CBM order of the alarm
        assert stored[check["client_id"]].order_id is not None  # the corrective order of the failed check
        session.refresh(current)
        assert current.stops_done == 2

    def test_a_replayed_outbox_writes_nothing_new(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        token = login(client, workshop_engineer)
        outbox = [entry(current, stops[0], value=9.2), entry(current, stops[1])]
        assert outcomes(post_sync(client, token, outbox)) == ["synced", "synced"]
        before = counts(session)

        again = post_sync(client, token, outbox)

        assert outcomes(again) == ["already_synced", "already_synced"]
        assert counts(session) == before

    def test_a_replay_is_known_by_its_id_after_a_colleague_entered_the_stop_too(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        """The first sync's answer was lost; the phone sends its entry again: known by its id."""
        token = login(client, workshop_engineer)
        mine = entry(current, stops[1])
        assert outcomes(post_sync(client, token, [mine])) == ["synced"]
        assert outcomes(post_sync(client, token, [mine])) == ["already_synced"]

    def test_a_stop_a_colleague_entered_first_is_refused_naming_them(
        self, client: TestClient, session: Session, current: InspectionRound, stops: list[RouteStop], workshop: Workshop
    ) -> None:
        colleague = engineer_of(session, workshop)
        rounds.record_entry(session, current, stops[0], value=3.0, actor=colleague)
        me = engineer_of(session, workshop)
        token = login(client, me)
        before = counts(session)

        response = post_sync(client, token, [entry(current, stops[0], value=9.2)])

        assert outcomes(response) == ["refused"]
        assert colleague.display_name in response.json()["results"][0]["message"]
        assert counts(session) == before

    def test_each_entry_is_answered_on_its_own_with_the_reason(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        token = login(client, workshop_engineer)
        future = (utcnow() + timedelta(hours=1)).isoformat()
        before_period = (current.period_start - timedelta(minutes=1)).isoformat()
        batch = [
            entry(current, stops[0], taken_at=future),
            entry(current, stops[1], taken_at=before_period),
            entry(current, stops[1], result="not_ok"),  # no note: the check's own rule
            entry(current, stops[1]),
        ]

        response = post_sync(client, token, batch)

        assert outcomes(response) == ["refused", "refused", "refused", "synced"]
        future_reason, period_reason, note_reason, _ok = (r["message"] for r in response.json()["results"])
        assert "手机" in future_reason or "phone" in future_reason
        assert "周期" in period_reason or "period" in period_reason
        assert "说明" in note_reason or "note" in note_reason
        assert session.scalar(select(func.count()).where(col(RoundEntry.round_id) == current.id)) == 1

    def test_a_clock_a_little_ahead_is_tolerated(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        token = login(client, workshop_engineer)
        ahead = (utcnow() + timedelta(minutes=2)).isoformat()
        assert outcomes(post_sync(client, token, [entry(current, stops[1], taken_at=ahead)])) == ["synced"]

    def test_a_round_whose_period_closed_while_offline_is_refused_with_that_reason(
        self,
        client: TestClient,
        session: Session,
        route: InspectionRoute,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        past = rounds.ensure_round(session, route, actor=SYSTEM, now=utcnow() - timedelta(days=2))
        assert past.period_end + GRACE < utcnow()
        token = login(client, workshop_engineer)
        inside = (past.period_start + timedelta(hours=3)).isoformat()

        response = post_sync(client, token, [entry(past, stops[0], taken_at=inside)])

        assert outcomes(response) == ["refused"]
        assert "结束" in response.json()["results"][0]["message"] or "ended" in response.json()["results"][0]["message"]
        assert session.scalar(select(func.count()).where(col(RoundEntry.round_id) == past.id)) == 0

    def test_an_unknown_round_or_stop_is_refused_per_entry(
        self, client: TestClient, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        token = login(client, workshop_engineer)
        response = post_sync(
            client, token, [entry(current, stops[0], round_id=999_999), entry(current, stops[0], stop_id=999_999)]
        )
        assert outcomes(response) == ["refused", "refused"]

    def test_an_entry_posted_by_htmx_with_its_client_id_is_known_to_a_later_sync(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        """The form's post arrived but its answer did not: the outbox still holds the entry."""
        token = login(client, workshop_engineer)
        kept = entry(current, stops[0])
        posted = client.post(
            f"/rounds/{current.id}/stops/{stops[0].id}",
            data={"value": "2.1", "client_id": kept["client_id"], "csrf_token": token},
            headers=HTMX,
        )
        assert posted.status_code == 200
        assert 'value="' + kept["client_id"] not in posted.text
        before = counts(session)

        assert outcomes(post_sync(client, token, [kept])) == ["already_synced"]
        assert counts(session) == before


class TestAnsweredEntry:
    """static/rounds.js lets a stop leave the phone's outbox only on an answer naming its id."""

    def test_a_saved_or_refused_stop_is_answered_with_its_client_id(
        self, client: TestClient, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        token = login(client, workshop_engineer)
        saved_id, refused_id = str(uuid.uuid4()), str(uuid.uuid4())
        url = f"/rounds/{current.id}/stops/{stops[0].id}"

        saved = client.post(url, data={"value": "2.1", "client_id": saved_id, "csrf_token": token}, headers=HTMX)
        refused = client.post(url, data={"value": "abc", "client_id": refused_id, "csrf_token": token}, headers=HTMX)

        assert (saved.status_code, saved.headers["X-Client-Id"]) == (200, saved_id)
        assert (refused.status_code, refused.headers["X-Client-Id"]) == (422, refused_id)

    def test_an_expired_session_is_not_an_answer_for_the_entry(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        url = f"/rounds/{current.id}/stops/{stops[0].id}"
        sent = {"value": "2.1", "client_id": str(uuid.uuid4())}
        logged_out = client.post(url, data=sent, headers=HTMX)  # no session, no CSRF token
        login(client, workshop_engineer)
        no_token = client.post(url, data=sent, headers=HTMX)  # the session changed: the page's token is stale

        for response in (logged_out, no_token):
            assert response.status_code in {200, 401, 403}
            assert "X-Client-Id" not in response.headers
        assert session.scalar(select(func.count()).select_from(RoundEntry)) == 0


class TestRefusedBatches:
    def test_a_round_of_another_workshop_is_refused_on_its_own_and_nothing_of_it_is_written(
        self, client: TestClient, session: Session, current: InspectionRound, stops: list[RouteStop]
    ) -> None:
        """Say the engineer moved to another workshop with entries of the old one still in the
        outbox: those are refused with the reason, and the others of the batch still go through."""
        elsewhere = factories.WorkshopFactory()
        stranger = engineer_of(session, elsewhere)
        own_route = rounds.create_route(
            session,
            RouteCreate(code="RT-OWN", name="自己的路线", workshop_id=elsewhere.id, frequency=RouteFrequency.DAY),  # type: ignore[arg-type]
            actor=SYSTEM,
        )
        own_asset = factories.AssetFactory(workshop_id=elsewhere.id)
        own_stop = rounds.add_stop(
            session, own_route, StopFields(asset_id=own_asset.id, check_text="无泄漏"), actor=SYSTEM
        )
        own = rounds.ensure_round(session, own_route, actor=SYSTEM)
        token = login(client, stranger)

        response = post_sync(client, token, [entry(current, stops[1]), entry(own, own_stop)])

        assert outcomes(response) == ["refused", "synced"]
        refused = response.json()["results"][0]["message"]
        assert "your own workshops" in refused or "所属车间" in refused
        assert session.scalar(select(func.count()).where(col(RoundEntry.round_id) == current.id)) == 0
        assert session.scalar(select(func.count()).where(col(RoundEntry.round_id) == own.id)) == 1

    def test_an_auditor_is_forbidden(
        self, client: TestClient, session: Session, current: InspectionRound, stops: list[RouteStop]
    ) -> None:
        token = login(client, factories.UserFactory(role=Role.AUDITOR))
        assert post_sync(client, token, [entry(current, stops[1])]).status_code == 403

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"value": "abc"}, "value"),
            ({"taken_at": "2026-12-06T08:00:00"}, "taken_at"),  # no offset: whose 08:00?
            ({"result": "maybe"}, "result"),
            ({"client_id": "x"}, "client_id"),
            ({"note": "a\x00b"}, "note"),
            ({"round_id": 2**70}, "round_id"),
            ({"stop_id": 2**70}, "stop_id"),
            ({"stop_id": 0}, "stop_id"),
            ({"taken_at": "9999-12-31T23:59:59-12:00"}, "taken_at"),
            ({"taken_at": "0001-01-01T00:00:00+14:00"}, "taken_at"),
            ({"taken_at": "1999-12-31T23:00:00+00:00"}, "taken_at"),
            ({"taken_at": "2100-01-01T00:00:00+00:00"}, "taken_at"),
        ],
    )
    def test_malformed_json_is_a_422_that_names_the_entry_and_field(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        workshop_engineer: User,
        change: dict[str, Any],
        field: str,
    ) -> None:
        token = login(client, workshop_engineer)
        before = counts(session)

        response = post_sync(client, token, [entry(current, stops[1]), entry(current, stops[0]) | change])

        assert response.status_code == 422
        [error] = response.json()["errors"]
        assert (error["entry"], error["field"]) == (2, field)
        assert error["message"].startswith(("第 2 条", "Entry 2"))
        assert counts(session) == before

    @pytest.mark.parametrize("body", [b"", b"not json", b"{}", b'{"entries": []}', b'{"entries": {"a": 1}}'])
    def test_a_body_that_is_no_outbox_is_a_422(self, client: TestClient, workshop_engineer: User, body: bytes) -> None:
        token = login(client, workshop_engineer)
        response = client.post(
            "/rounds/sync", content=body, headers={"Content-Type": "application/json", "X-CSRF-Token": token}
        )
        assert response.status_code == 422
        assert response.json()["errors"]

    @pytest.mark.parametrize("headers", [{}, {"X-CSRF-Token": "forged"}])
    def test_without_the_sessions_csrf_token_it_is_forbidden(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        workshop_engineer: User,
        headers: dict[str, str],
    ) -> None:
        login(client, workshop_engineer)
        before = counts(session)
        response = client.post(
            "/rounds/sync",
            content=json.dumps({"entries": [entry(current, stops[1])]}),
            headers={"Content-Type": "application/json", **headers},
        )
        assert response.status_code == 403
        assert counts(session) == before


class TestInstallable:
    def test_the_service_worker_may_control_the_whole_site_and_is_always_revalidated(self, client: TestClient) -> None:
        response = client.get("/rounds/sw.js")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.headers["service-worker-allowed"] == "/"
        assert response.headers["cache-control"] == "no-cache"
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert 'addEventListener("fetch"' in response.text

    def test_the_manifest_starts_at_the_rounds_and_its_icons_exist(self, client: TestClient) -> None:
        manifest = json.loads((PACKAGE_ROOT / "static" / "manifest.webmanifest").read_text(encoding="utf-8"))
        assert manifest["start_url"] == "/rounds"
        assert manifest["display"] == "standalone"
        assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}
        for icon in manifest["icons"]:
            assert client.get(icon["src"]).status_code == 200

    def test_the_layout_links_the_manifest_and_names_the_user_for_the_outbox(
        self, client: TestClient, current: InspectionRound, workshop_engineer: User
    ) -> None:
        assert 'data-user-id="' not in client.get("/login").text  # logged out: app.js drops the offline copies
        login(client, workshop_engineer)
        page = client.get(f"/rounds/{current.id}").text
        assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
        assert f'data-user-id="{workshop_engineer.id}"' in page
        # When the session renewed by this page runs out: the service worker shows no copy after it.
        until = int(re.search(r'data-session-until="(\d+)"', page).group(1))  # type: ignore[union-attr]
        expected = (time.time() + get_settings().session_max_age_hours * 3600) * 1000
        assert expected - 60_000 < until <= expected
        assert f'data-round="{current.id}"' in page
        assert 'data-testid="sync-panel"' in page
        assert 'data-testid="stop-pending"' in page
