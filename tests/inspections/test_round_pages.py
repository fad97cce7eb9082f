"""The rounds pages: the board (now and history), starting a round, walking it stop by stop with
htmx (the card comes back with the progress out of band; a retry is a no-op; bad input is a 422
card naming the field), the plain-form fallback, finishing, photos, and the routes pages (list
with completion, create, 409 on a stale edit, stops added, moved and removed). Every page runs a
fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

import io
import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.db import utcnow
from maintenance.i18n import LOCALE_COOKIE
from maintenance.inspections import round_routes, rounds
from maintenance.inspections.choices import RoundState, RouteFrequency
from maintenance.inspections.models import InspectionRound, InspectionRoute, RouteCreate, RouteStop, StopFields
from maintenance.monitoring.models import MeasurementPoint, Reading
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.conftest import login
from tests.monitoring.conftest import SYSTEM, MakePoint

HTMX = {"HX-Request": "true"}
# The smallest valid PNG: what a phone camera sends, as far as the file checks go.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


@pytest.fixture
def route(session: Session, workshop: Workshop) -> InspectionRoute:
    return rounds.create_route(
        session,
        RouteCreate(code="RT-A", name="机泵日常点检", workshop_id=workshop.id, frequency=RouteFrequency.DAY),  # type: ignore[arg-type]
        actor=SYSTEM,
    )


@pytest.fixture
def current(session: Session, route: InspectionRoute, stops: list[RouteStop]) -> InspectionRound:
    return rounds.ensure_round(session, route, actor=SYSTEM)


_route_numbers = itertools.count(1)


def add_routes(session: Session, workshop: Workshop, asset: Asset, count: int) -> None:
    """``count`` routes, each with a check and a round finished two days ago."""
    for n in (next(_route_numbers) for _ in range(count)):
        extra = rounds.create_route(
            session,
            RouteCreate(code=f"RT-X{n}", name=f"路线{n}", workshop_id=workshop.id),  # type: ignore[arg-type]
            actor=SYSTEM,
        )
        rounds.add_stop(session, extra, StopFields(asset_id=asset.id, check_text="油位正常"), actor=SYSTEM)
        found = rounds.ensure_round(session, extra, actor=SYSTEM, now=utcnow() - timedelta(days=2))
        found.state = RoundState.COMPLETED
    session.flush()


class TestBoard:
    def test_the_board_offers_to_start_todays_round_and_lists_the_history(
        self,
        client: TestClient,
        session: Session,
        route: InspectionRoute,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        login(client, workshop_engineer)
        page = client.get("/rounds")
        assert page.status_code == 200
        assert 'data-route="RT-A"' in page.text
        assert 'action="/rounds/start"' in page.text

    def test_the_board_runs_a_fixed_number_of_queries(
        self,
        client: TestClient,
        session: Session,
        workshop: Workshop,
        asset: Asset,
        workshop_engineer: User,
        count_queries: list[str],
    ) -> None:
        login(client, workshop_engineer)
        add_routes(session, workshop, asset, 2)
        count_queries.clear()
        client.get("/rounds")
        few = len(count_queries)
        add_routes(session, workshop, asset, 8)
        count_queries.clear()
        client.get("/rounds")
        assert len(count_queries) == few

    def test_starting_twice_opens_the_same_round(
        self,
        client: TestClient,
        session: Session,
        route: InspectionRoute,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        token = login(client, workshop_engineer)
        first = client.post("/rounds/start", data={"route_id": route.id, "csrf_token": token})
        again = client.post("/rounds/start", data={"route_id": route.id, "csrf_token": token})
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        assert session.scalar(select(func.count()).select_from(InspectionRound)) == 1


# A daily round's period starts at the plant's midnight, which is 16:00 UTC the day before: shown
# as a UTC date it would head every round with yesterday. Instants and the texts users read:
PLANT_AFTERNOON = datetime(2026, 12, 3, 8, 37, tzinfo=UTC)  # 3 Dec 16:37 at the plant
AFTER_PLANT_MIDNIGHT = datetime(2026, 12, 3, 16, 37, tzinfo=UTC)  # 4 Dec 00:37 at the plant
PLANT_SMALL_HOURS = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # 3 Dec 01:00 at the plant
PERIOD = re.compile(r'data-testid="round-period">(.*?)</', re.DOTALL)


def shown_periods(html: str) -> list[str]:
    return [" ".join(text.split()) for text in PERIOD.findall(html)]


class TestPlantDates:
    @pytest.mark.parametrize(
        ("started", "zh", "en"),
        [
            (PLANT_AFTERNOON, "2026年12月3日", "Dec 3, 2026"),
            (AFTER_PLANT_MIDNIGHT, "2026年12月4日", "Dec 4, 2026"),
            (PLANT_SMALL_HOURS, "2026年12月3日", "Dec 3, 2026"),
        ],
        ids=["16:37", "00:37", "01:00"],
    )
    def test_a_daily_round_is_headed_with_its_plant_day(
        self,
        client: TestClient,
        route: InspectionRoute,
        stops: list[RouteStop],
        session: Session,
        workshop_engineer: User,
        started: datetime,
        zh: str,
        en: str,
    ) -> None:
        found = rounds.ensure_round(session, route, actor=SYSTEM, now=started)
        login(client, workshop_engineer)
        client.cookies.set(LOCALE_COOKIE, "zh_CN")
        assert shown_periods(client.get(f"/rounds/{found.id}").text) == [zh]
        client.cookies.set(LOCALE_COOKIE, "en")
        assert shown_periods(client.get(f"/rounds/{found.id}").text) == [en]

    def test_a_weekly_round_shows_monday_to_sunday_at_the_plant(
        self, client: TestClient, session: Session, workshop: Workshop, asset: Asset, workshop_engineer: User
    ) -> None:
        weekly = rounds.create_route(
            session,
            RouteCreate(code="RT-W", name="每周巡检", workshop_id=workshop.id, frequency=RouteFrequency.WEEK),  # type: ignore[arg-type]
            actor=SYSTEM,
        )
        rounds.add_stop(session, weekly, StopFields(asset_id=asset.id, check_text="地脚螺栓紧固"), actor=SYSTEM)
        # Thursday 3 Dec: the ISO week runs Monday 30 Nov to Sunday 6 Dec.
        found = rounds.ensure_round(session, weekly, actor=SYSTEM, now=PLANT_AFTERNOON)
        login(client, workshop_engineer)
        client.cookies.set(LOCALE_COOKIE, "zh_CN")
        assert shown_periods(client.get(f"/rounds/{found.id}").text) == ["2026年11月30日 – 2026年12月6日"]

    def test_the_round_history_lists_plant_days(
        self,
        client: TestClient,
        session: Session,
        route: InspectionRoute,
        stops: list[RouteStop],
        workshop_engineer: User,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        rounds.ensure_round(session, route, actor=SYSTEM, now=PLANT_SMALL_HOURS)
        rounds.ensure_round(session, route, actor=SYSTEM, now=AFTER_PLANT_MIDNIGHT)
        monkeypatch.setattr(round_routes, "utcnow", lambda: datetime(2026, 12, 4, 2, 0, tzinfo=UTC))
        login(client, workshop_engineer)
        client.cookies.set(LOCALE_COOKIE, "zh_CN")
        board = client.get("/rounds")
        assert shown_periods(board.text) == ["2026年12月4日", "2026年12月3日"]


class TestWalking:
    def test_a_value_posted_by_htmx_comes_back_as_its_card_with_the_progress(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        workshop_engineer: User,
    ) -> None:
        token = login(client, workshop_engineer)
        response = client.post(
            f"/rounds/{current.id}/stops/{stops[0].id}", data={"value": "9.2", "csrf_token": token}, headers=HTMX
        )
        assert response.status_code == 200
        assert f'id="stop-{stops[0].id}"' in response.text
        assert 'data-state="alarm"' in response.text
        assert re.search(r"WO-\d{4}-\d{6}", response.text)  # the CBM order it raised
        assert 'id="round-progress"' in response.text
        assert 'hx-swap-oob="true"' in response.text

    def test_a_retried_post_changes_nothing(
        self,
        client: TestClient,
        session: Session,
        current: InspectionRound,
        stops: list[RouteStop],
        point: MeasurementPoint,
        workshop_engineer: User,
    ) -> None:
        token = login(client, workshop_engineer)
        for _attempt in range(2):
            response = client.post(
                f"/rounds/{current.id}/stops/{stops[0].id}", data={"value": "2.1", "csrf_token": token}, headers=HTMX
            )
            assert response.status_code == 200
        assert session.scalar(select(func.count()).where(col(Reading.point_id) == point.id)) == 1
        session.refresh(current)
        assert current.stops_done == 1

    def test_bad_input_is_a_422_card_that_names_the_field(
        self, client: TestClient, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        token = login(client, workshop_engineer)
        not_a_number = client.post(
            f"/rounds/{current.id}/stops/{stops[0].id}", data={"value": "abc", "csrf_token": token}, headers=HTMX
        )
        assert not_a_number.status_code == 422
        assert "is-invalid" in not_a_number.text
        assert 'value="abc"' in not_a_number.text  # what was typed is kept
        no_note = client.post(
            f"/rounds/{current.id}/stops/{stops[1].id}", data={"result": "not_ok", "csrf_token": token}, headers=HTMX
        )
        assert no_note.status_code == 422
        assert "invalid-feedback" in no_note.text

    def test_an_entry_on_a_round_finished_meanwhile_says_why_it_was_not_saved(
        self, client: TestClient, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        token = login(client, workshop_engineer)
        client.post(f"/rounds/{current.id}/stops/{stops[1].id}", data={"result": "ok", "csrf_token": token})
        client.post(f"/rounds/{current.id}/finish", data={"csrf_token": token})
        late = client.post(
            f"/rounds/{current.id}/stops/{stops[0].id}", data={"value": "2.0", "csrf_token": token}, headers=HTMX
        )
        assert late.status_code == 422
        assert 'role="alert"' in late.text
        assert "stop-form" not in late.text

    def test_without_htmx_the_form_posts_and_returns_to_the_stop(
        self, client: TestClient, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        token = login(client, workshop_engineer)
        response = client.post(f"/rounds/{current.id}/stops/{stops[1].id}", data={"result": "ok", "csrf_token": token})
        assert response.status_code == 303
        assert response.headers["location"] == f"/rounds/{current.id}#stop-{stops[1].id}"
        refused = client.post(f"/rounds/{current.id}/stops/{stops[0].id}", data={"value": "", "csrf_token": token})
        assert refused.status_code == 422
        assert "<html" in refused.text

    def test_a_photo_is_stored_and_shown(
        self, client: TestClient, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        token = login(client, workshop_engineer)
        response = client.post(
            f"/rounds/{current.id}/stops/{stops[1].id}",
            data={"result": "not_ok", "note": "机封渗漏", "csrf_token": token},
            files={"photo": ("seal.png", io.BytesIO(PNG), "image/png")},
            headers=HTMX,
        )
        assert response.status_code == 200, response.text
        link = re.search(r'href="(/rounds/\d+/entries/\d+/photo)"', response.text)
        assert link
        photo = client.get(link.group(1))
        assert photo.status_code == 200
        assert photo.headers["content-type"] == "image/png"

    def test_finishing_lists_what_was_missed(
        self, client: TestClient, current: InspectionRound, stops: list[RouteStop], workshop_engineer: User
    ) -> None:
        token = login(client, workshop_engineer)
        client.post(f"/rounds/{current.id}/stops/{stops[1].id}", data={"result": "ok", "csrf_token": token})
        finished = client.post(f"/rounds/{current.id}/finish", data={"csrf_token": token})
        assert finished.status_code == 303
        page = client.get(f"/rounds/{current.id}")
        assert 'data-testid="missed-stops"' in page.text
        assert 'data-round-state="completed"' in page.text

    def test_auditors_read_rounds_but_cannot_enter(
        self, client: TestClient, session: Session, current: InspectionRound, stops: list[RouteStop]
    ) -> None:
        token = login(client, factories.UserFactory(role=Role.AUDITOR))
        assert client.get(f"/rounds/{current.id}").status_code == 200
        refused = client.post(f"/rounds/{current.id}/stops/{stops[1].id}", data={"result": "ok", "csrf_token": token})
        assert refused.status_code == 403

    def test_the_round_page_runs_a_fixed_number_of_queries(
        self,
        client: TestClient,
        session: Session,
        route: InspectionRoute,
        current: InspectionRound,
        make_point: MakePoint,
        workshop_engineer: User,
        count_queries: list[str],
    ) -> None:
        login(client, workshop_engineer)
        count_queries.clear()
        client.get(f"/rounds/{current.id}")
        few = len(count_queries)
        for n in range(6):
            rounds.add_stop(session, route, StopFields(point_id=make_point(code=f"P-Q{n}").id), actor=SYSTEM)
        count_queries.clear()
        client.get(f"/rounds/{current.id}")
        assert len(count_queries) == few


class TestRoutePages:
    def test_the_route_list_shows_completion_in_a_fixed_number_of_queries(
        self,
        client: TestClient,
        session: Session,
        workshop: Workshop,
        asset: Asset,
        workshop_engineer: User,
        count_queries: list[str],
    ) -> None:
        login(client, workshop_engineer)
        add_routes(session, workshop, asset, 2)
        count_queries.clear()
        page = client.get("/rounds/routes")
        few = len(count_queries)
        assert page.text.count('data-testid="route-row"') == 2
        add_routes(session, workshop, asset, 8)
        count_queries.clear()
        client.get("/rounds/routes")
        assert len(count_queries) == few

    def test_a_route_is_created_and_a_duplicate_code_named(
        self, client: TestClient, session: Session, workshop: Workshop, workshop_engineer: User
    ) -> None:
        token = login(client, workshop_engineer)
        form = {"code": "RT-NEW", "name": "新路线", "workshop_id": workshop.id, "frequency": "shift", "is_active": "on"}
        created = client.post("/rounds/routes/new", data={**form, "csrf_token": token})
        assert created.status_code == 303
        again = client.post("/rounds/routes/new", data={**form, "csrf_token": token})
        assert again.status_code == 422
        assert "RT-NEW" in again.text
        assert "is-invalid" in again.text

    def test_a_stale_edit_is_a_409_with_both_versions(
        self, client: TestClient, session: Session, route: InspectionRoute, workshop: Workshop, workshop_engineer: User
    ) -> None:
        token = login(client, workshop_engineer)
        form = {"code": "RT-A", "name": "改名", "workshop_id": workshop.id, "frequency": "day", "is_active": "on"}
        response = client.post(
            f"/rounds/routes/{route.id}/edit", data={**form, "version": route.version - 1, "csrf_token": token}
        )
        assert response.status_code == 409
        assert 'data-testid="conflict"' in response.text

    def test_stops_are_added_moved_and_removed(
        self,
        client: TestClient,
        session: Session,
        route: InspectionRoute,
        point: MeasurementPoint,
        asset: Asset,
        workshop_engineer: User,
    ) -> None:
        token = login(client, workshop_engineer)
        base = f"/rounds/routes/{route.id}/stops"
        assert client.post(base, data={"kind": "point", "point_id": point.id, "csrf_token": token}).status_code == 303
        check = {"kind": "check", "asset_tag": asset.tag, "check_text": "地脚螺栓无松动", "csrf_token": token}
        assert client.post(base, data=check).status_code == 303
        unknown = client.post(base, data={**check, "asset_tag": "NO-SUCH-TAG"})
        assert unknown.status_code == 422
        assert "NO-SUCH-TAG" in unknown.text
        first, second = rounds.stops_of(session, route)
        client.post(f"{base}/{second.id}/move", data={"direction": "up", "csrf_token": token})
        assert [stop.id for stop in rounds.stops_of(session, route)] == [second.id, first.id]
        client.post(f"{base}/{first.id}/delete", data={"csrf_token": token})
        assert [stop.id for stop in rounds.stops_of(session, route)] == [second.id]


class TestFragments:
    """An htmx request for a round or a route page (a link htmx follows without boosting) gets
    the page's content block; its macros were imported outside the block, so it was a 500."""

    @pytest.mark.parametrize("page", ["round", "route"])
    def test_htmx_gets_the_content_of_a_round_and_of_a_route(
        self,
        client: TestClient,
        route: InspectionRoute,
        current: InspectionRound,
        workshop_engineer: User,
        page: str,
    ) -> None:
        login(client, workshop_engineer)
        url = f"/rounds/{current.id}" if page == "round" else f"/rounds/routes/{route.id}"

        response = client.get(url, headers={"HX-Request": "true"})

        assert response.status_code == 200, response.text
        assert "<html" not in response.text
        assert route.name in response.text
        assert f'href="/rounds/{current.id}"' in response.text or 'data-testid="round-state"' in response.text
