"""Recording a leak survey and the survey list, through the served app. The plant's clock says
10 March 2026."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.audit.models import ObjectChange
from maintenance.leakfree import survey_routes
from maintenance.leakfree.choices import LeakSeverity, SealKind, SealType
from maintenance.leakfree.models import Leak, LeakSurvey, SealPoint
from maintenance.org.models import User, Workshop
from tests import factories
from tests.conftest import login
from tests.leakfree.conftest import MakeSealPoint, MakeSurvey

TODAY = date(2026, 3, 10)
LIST = "/leakfree/surveys"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def plant_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(survey_routes, "plant_today", lambda: TODAY)


@pytest.fixture
def points(make_seal_point: MakeSealPoint) -> tuple[SealPoint, SealPoint]:
    """Inventory of the workshop: 1,990 static points (100 + 1,890 flanges; a retired line of 500
    does not count) and 400 dynamic ones (pump seals)."""
    flange = make_seal_point(code="FL-1", seal_type=SealType.FLANGE, count=100, location="P-101A 出口法兰")
    make_seal_point(code="FL-2", seal_type=SealType.FLANGE, count=1890)
    make_seal_point(code="FL-OLD", seal_type=SealType.FLANGE, count=500, is_active=False)
    pump = make_seal_point(code="PS-1", seal_type=SealType.PUMP_SEAL, count=400)
    return flange, pump


def _form(token: str, workshop: Workshop, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "workshop_id": str(workshop.id),
        "survey_date": "2026-03-09",
        "surveyed_by": "检测一组",
        "note": "",
    } | fields


def _surveys(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LeakSurvey)) or 0


def _leaks(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Leak)) or 0


# --- Recording ----------------------------------------------------------------------------------


def test_a_survey_with_two_leaks_keeps_the_totals_of_its_day_and_each_points_kind(
    client: TestClient,
    session: Session,
    workshop: Workshop,
    workshop_engineer: User,
    points: tuple[SealPoint, SealPoint],
) -> None:
    flange, pump = points
    token = login(client, workshop_engineer)
    form = _form(
        token,
        workshop,
        **{
            "leaks-1-seal_point_id": str(flange.id),
            "leaks-1-severity": "seep",
            "leaks-1-description": "东侧螺栓处渗油",
            "leaks-2-seal_point_id": str(pump.id),
            "leaks-2-severity": "drip",
        },
    )
    response = client.post(f"{LIST}/new", data=form, files={"leaks-2-photo": ("pump.png", PNG, "image/png")})

    assert response.status_code == 303, response.text
    survey = session.scalars(select(LeakSurvey)).one()
    assert response.headers["location"] == f"{LIST}/{survey.id}"
    assert (survey.static_points, survey.dynamic_points) == (1990, 400)
    assert survey.survey_date == date(2026, 3, 9)
    assert survey.recorded_by_id == workshop_engineer.id
    leaks = session.scalars(select(Leak).order_by(col(Leak.id))).all()
    assert [(leak.seal_point_id, leak.kind, leak.severity) for leak in leaks] == [
        (flange.id, SealKind.STATIC, LeakSeverity.SEEP),
        (pump.id, SealKind.DYNAMIC, LeakSeverity.DRIP),
    ]
    assert {leak.found_date for leak in leaks} == {date(2026, 3, 9)}
    assert leaks[0].photo_sha256 == ""
    assert leaks[1].photo_content_type == "image/png"
    logged = session.scalars(
        select(ObjectChange.object_type).where(col(ObjectChange.object_type).in_(["leak_survey", "leak"]))
    ).all()
    assert sorted(logged) == ["leak", "leak", "leak_survey"]

    # The inventory grows afterwards: the survey keeps its day's totals and its rates.
    pump.count = 1000
    session.flush()
    page = client.get(f"{LIST}/{survey.id}").text
    # 1 in 1,990 static = 0.5025‰ → 0.50 shown, over the 0.5‰ limit; 1 in 400 dynamic = 2.50‰.
    assert "data-static-rate>0.50<" in page
    assert "data-dynamic-rate>2.50<" in page
    assert 'data-meets="false"' in page


def test_a_survey_without_leaks_is_recorded(
    client: TestClient, session: Session, workshop: Workshop, workshop_engineer: User, points: object
) -> None:
    token = login(client, workshop_engineer)
    response = client.post(f"{LIST}/new", data=_form(token, workshop, **{"leaks-1-description": ""}))
    assert response.status_code == 303
    assert (_surveys(session), _leaks(session)) == (1, 0)


def test_a_refused_survey_names_the_leak_row_and_field_and_writes_nothing(
    client: TestClient,
    session: Session,
    workshop: Workshop,
    workshop_engineer: User,
    points: tuple[SealPoint, SealPoint],
) -> None:
    flange, _pump = points
    elsewhere = SealPoint(code="X-1", workshop_id=factories.WorkshopFactory().id, seal_type=SealType.FLANGE, count=5)
    session.add(elsewhere)
    session.flush()
    token = login(client, workshop_engineer)
    form = _form(
        token,
        workshop,
        **{
            "leaks-1-seal_point_id": str(flange.id),
            "leaks-1-severity": "seep",
            "leaks-2-seal_point_id": str(elsewhere.id),
            "leaks-2-severity": "leak",
            "leaks-3-seal_point_id": str(flange.id),
        },
    )
    response = client.post(f"{LIST}/new", data=form)

    assert response.status_code == 422
    assert 'name="leaks-2-seal_point_id"' in response.text
    assert "Leak row 3" in response.text or "第3行" in response.text  # the missing severity
    assert response.text.count("is-invalid") == 1 + 0  # only row 3 fails in the first pass
    assert (_surveys(session), _leaks(session)) == (0, 0)

    # Row 3 fixed: now the point of another workshop is refused, by row.
    form["leaks-3-severity"] = "drip"
    response = client.post(f"{LIST}/new", data=form)
    assert response.status_code == 422
    assert "Leak row 2" in response.text or "第2行" in response.text
    assert (_surveys(session), _leaks(session)) == (0, 0)


def test_a_future_date_and_a_missing_surveyor_are_refused(
    client: TestClient, session: Session, workshop: Workshop, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)
    response = client.post(f"{LIST}/new", data=_form(token, workshop, survey_date="2026-03-11"))
    assert response.status_code == 422
    assert 'id="f-survey_date"' in response.text
    assert "is-invalid" in response.text
    response = client.post(f"{LIST}/new", data=_form(token, workshop, surveyed_by=""))
    assert response.status_code == 422
    assert _surveys(session) == 0


def test_a_second_survey_of_the_day_is_refused_with_a_clear_422(
    client: TestClient, session: Session, workshop: Workshop, workshop_engineer: User, make_survey: MakeSurvey
) -> None:
    make_survey(date(2026, 3, 9), static_points=10, dynamic_points=0)
    token = login(client, workshop_engineer)
    response = client.post(f"{LIST}/new", data=_form(token, workshop))
    assert response.status_code == 422
    assert "2026-03-09" in response.text
    assert _surveys(session) == 1


def test_a_photo_that_is_not_an_image_is_refused_by_row(
    client: TestClient,
    session: Session,
    workshop: Workshop,
    workshop_engineer: User,
    points: tuple[SealPoint, SealPoint],
) -> None:
    token = login(client, workshop_engineer)
    form = _form(token, workshop, **{"leaks-1-seal_point_id": str(points[0].id), "leaks-1-severity": "seep"})
    response = client.post(f"{LIST}/new", data=form, files={"leaks-1-photo": ("notes.txt", b"hello", "text/plain")})
    assert response.status_code == 422
    assert "notes.txt" in response.text
    assert (_surveys(session), _leaks(session)) == (0, 0)


# --- Permissions ----------------------------------------------------------------------------------


def test_auditors_and_engineers_of_other_workshops_cannot_record(
    client: TestClient, session: Session, workshop: Workshop, auditor: User
) -> None:
    login(client, auditor)
    assert client.get(f"{LIST}/new").status_code == 403
    outsider = factories.UserFactory()
    client.cookies.clear()
    token = login(client, outsider)
    assert client.post(f"{LIST}/new", data=_form(token, workshop)).status_code == 403
    assert _surveys(session) == 0


def test_an_unknown_survey_is_404(client: TestClient, auditor: User) -> None:
    login(client, auditor)
    assert client.get(f"{LIST}/999999").status_code == 404


def test_the_row_fragment_offers_the_workshops_active_points(
    client: TestClient, workshop: Workshop, workshop_engineer: User, points: object
) -> None:
    login(client, workshop_engineer)
    response = client.get(f"{LIST}/new/row?workshop_id={workshop.id}&n=4", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'name="leaks-4-seal_point_id"' in response.text
    assert "FL-1" in response.text
    assert "FL-OLD" not in response.text
    assert "n=5" in response.text  # the add button moves on


# --- The list -------------------------------------------------------------------------------------


def test_the_list_filters_by_workshop_and_dates_and_shows_rates(
    client: TestClient, session: Session, workshop: Workshop, auditor: User, make_survey: MakeSurvey
) -> None:
    other = factories.WorkshopFactory()
    make_survey(date(2026, 2, 1), static_points=2000, dynamic_points=400, static_leaks=1, dynamic_leaks=1)
    make_survey(date(2026, 3, 1), static_points=2000, dynamic_points=400, static_leaks=2)
    make_survey(date(2026, 3, 1), static_points=100, dynamic_points=0, workshop_id=other.id)
    login(client, auditor)

    page = client.get(f"{LIST}?workshop_id={workshop.id}").text
    assert page.count("data-survey-id=") == 2
    # 1 in 2,000 = exactly 0.5‰ (meets); 1 in 400 = 2.50‰ (exceeds); 2 in 2,000 = 1.00‰ (exceeds).
    assert "data-static-rate>0.50<" in page
    assert "data-dynamic-rate>2.50<" in page
    assert "data-static-rate>1.00<" in page
    assert 'data-meets="true"' not in page

    page = client.get(f"{LIST}?date_from=2026-02-15&date_to=2026-03-31").text
    assert page.count("data-survey-id=") == 2  # both of 1 March
    fragment = client.get(f"{LIST}?date_to=2026-02-15", headers={"HX-Request": "true"})
    assert fragment.text.count("data-survey-id=") == 1
    assert "<html" not in fragment.text

    csv = client.get(f"{LIST}?workshop_id={workshop.id}&export=csv")
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 3
    assert "1.00" in lines[1]
    assert "0.50" in lines[2]
    assert "2.50" in lines[2]
    assert client.get(f"{LIST}?export=xlsx").content[:2] == b"PK"


def test_the_list_sorts_by_workshop(
    client: TestClient, session: Session, workshop: Workshop, auditor: User, make_survey: MakeSurvey
) -> None:
    """Newest first by default; by workshop (the fixture's workshop was made first) on request."""
    later = factories.WorkshopFactory()
    newer = make_survey(date(2026, 3, 1), static_points=10, dynamic_points=0, workshop_id=later.id)
    older = make_survey(date(2026, 2, 1), static_points=10, dynamic_points=0)
    login(client, auditor)

    def positions(query: str) -> tuple[int, int]:
        page = client.get(f"{LIST}{query}").text
        return page.index(f'data-survey-id="{older.id}"'), page.index(f'data-survey-id="{newer.id}"')

    by_date = positions("")
    assert by_date[1] < by_date[0]
    by_workshop = positions("?sort=workshop")
    assert by_workshop[0] < by_workshop[1]


def test_the_list_runs_a_fixed_number_of_queries(
    client: TestClient, auditor: User, make_survey: MakeSurvey, count_queries: list[str]
) -> None:
    def queries() -> int:
        count_queries.clear()
        assert client.get(LIST).status_code == 200
        return len(count_queries)

    login(client, auditor)
    make_survey(date(2026, 1, 1), static_points=100, dynamic_points=10, static_leaks=1)
    few = queries()
    for day in range(2, 8):
        make_survey(date(2026, 1, day), static_points=100, dynamic_points=10, static_leaks=1, dynamic_leaks=2)
    assert queries() == few


def test_an_id_beyond_any_record_is_refused_not_a_server_error(
    client: TestClient, session: Session, workshop: Workshop, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)
    huge = "99999999999999999999"
    for form in (
        _form(token, workshop) | {"workshop_id": huge},
        _form(token, workshop) | {"leaks-1-seal_point_id": huge},
    ):
        response = client.post(f"{LIST}/new", data=form)
        assert response.status_code == 422, form
    assert _surveys(session) == 0


def test_a_line_cannot_leak_at_more_points_than_it_counts(
    client: TestClient, session: Session, workshop: Workshop, workshop_engineer: User, make_seal_point: MakeSealPoint
) -> None:
    pump_seal = make_seal_point(seal_type=SealType.PUMP_SEAL, count=1)
    token = login(client, workshop_engineer)
    client.cookies.set("lang", "en")
    form = _form(token, workshop) | {
        "leaks-1-seal_point_id": str(pump_seal.id),
        "leaks-1-severity": "drip",
        "leaks-2-seal_point_id": str(pump_seal.id),
        "leaks-2-severity": "leak",
    }

    response = client.post(f"{LIST}/new", data=form)

    assert response.status_code == 422
    assert f"Leak row 2: {pump_seal.code} counts 1 seal points, and more rows than that name it." in response.text
    assert (_surveys(session), _leaks(session)) == (0, 0)
