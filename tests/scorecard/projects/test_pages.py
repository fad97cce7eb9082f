"""The project's page and the writes, through the served app on 12 June 2026: managers create
and edit projects and milestones (each write in the change log), the engineers of the project's
workshop mark its milestones done, others are refused; bad input is a 422 naming the field
with nothing written, a stale form a 409, a missing record a 404."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.org.models import User, Workshop
from maintenance.scorecard.projects import service
from maintenance.scorecard.projects.models import Milestone, Project
from tests.conftest import login
from tests.scorecard.projects.conftest import MakeProject

LIST = "/scorecard/projects"


def changes(session: Session, object_type: str) -> list[tuple[ChangeAction, str]]:
    rows = session.execute(
        select(col(ObjectChange.action), col(ObjectChange.object_id))
        .where(col(ObjectChange.object_type) == object_type)
        .order_by(col(ObjectChange.id))
    ).all()
    return [(action, object_id) for action, object_id in rows]


def project_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Project)) or 0


@pytest.fixture
def transformer(make_project: MakeProject, workshop: Workshop) -> Project:
    """1#主变扩容 of 热电, due 31 July: 设计审查 done, 设备到货 due 20 June, 投运 due 31 July."""
    return make_project(
        "KP-2",
        date(2026, 7, 31),
        [("设计审查", date(2026, 3, 15), date(2026, 3, 14)), ("设备到货", date(2026, 6, 20), None),
         ("投运", date(2026, 7, 31), None)],
        name="1#主变扩容",
        workshop_id=workshop.id,
    )  # fmt: skip


def milestone(session: Session, project: Project, name: str) -> Milestone:
    return session.scalars(select(Milestone).where(Milestone.project_id == project.id, Milestone.name == name)).one()


def _fields(workshop: Workshop, **changes: str) -> dict[str, str]:
    return {
        "year": "2026",
        "code": "KP-1",
        "name": "余热发电并网",
        "owner": "张工",
        "workshop_id": str(workshop.id),
        "start_date": "2026-01-05",
        "due_date": "2026-05-31",
    } | changes


# --- Projects ---------------------------------------------------------------------------------


def test_a_manager_creates_a_project_in_the_change_log(
    client: TestClient, session: Session, manager: User, workshop: Workshop, today: date
) -> None:
    token = login(client, manager)

    response = client.post(f"{LIST}/new", data=_fields(workshop) | {"csrf_token": token})

    assert response.status_code == 303
    project = session.scalars(select(Project)).one()
    assert response.headers["location"] == f"{LIST}/{project.id}"
    assert (project.code, project.due_date, project.workshop_id) == ("KP-1", date(2026, 5, 31), workshop.id)
    assert changes(session, "project") == [(ChangeAction.CREATE, str(project.id))]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_date": "2025-12-31", "start_date": "2026-01-05"}, "due_date"),  # before the start
        ({"due_date": "2027-01-31"}, "due_date"),  # not in its year
        ({"aim_date": "2026-06-30"}, "aim_date"),  # after the due date
        ({"year": "1999"}, "year"),
        ({"code": ""}, "code"),
        ({"start_date": "31.05.2026"}, "start_date"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_with_nothing_written(
    client: TestClient,
    session: Session,
    manager: User,
    workshop: Workshop,
    today: date,
    change: dict[str, str],
    field: str,
) -> None:
    token = login(client, manager)

    response = client.post(f"{LIST}/new", data=_fields(workshop, **change) | {"csrf_token": token})

    assert response.status_code == 422
    assert f'id="f-{field}"' in response.text
    assert re.search(rf'class="form-control is-invalid" id="f-{field}"', response.text)
    assert project_count(session) == 0


def test_a_code_is_unique_in_its_year_also_when_two_requests_race(
    client: TestClient,
    session: Session,
    manager: User,
    workshop: Workshop,
    today: date,
    make_project: MakeProject,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_project("KP-1", date(2026, 5, 31))
    make_project("KP-7", date(2025, 5, 31), year=2025, start_date=date(2025, 1, 1))
    client.cookies.set("lang", "en")
    token = login(client, manager)

    taken = client.post(f"{LIST}/new", data=_fields(workshop) | {"csrf_token": token})
    other_year = client.post(f"{LIST}/new", data=_fields(workshop, code="KP-7") | {"csrf_token": token})
    # the other request saved KP-1 after this one checked: the unique constraint, same message
    monkeypatch.setattr(service, "_project_errors", lambda *args: [])
    raced = client.post(f"{LIST}/new", data=_fields(workshop) | {"csrf_token": token})

    assert taken.status_code == 422
    assert "Code KP-1 is taken by another project of 2026." in taken.text
    assert other_year.status_code == 303
    assert raced.status_code == 422
    assert "Code KP-1 is taken by another project of 2026." in raced.text
    assert project_count(session) == 3


def test_an_edit_from_a_stale_form_is_a_409_and_saves_nothing(
    client: TestClient, session: Session, manager: User, workshop: Workshop, transformer: Project, today: date
) -> None:
    token = login(client, manager)
    form = _fields(workshop, code="KP-2", name="1#主变扩容", due_date="2026-07-31")

    saved = client.post(f"{LIST}/{transformer.id}/edit", data=form | {"owner": "李工", "version": "1",
                        "csrf_token": token})  # fmt: skip
    stale = client.post(f"{LIST}/{transformer.id}/edit", data=form | {"owner": "赵工", "version": "1",
                        "csrf_token": token})  # fmt: skip

    assert saved.status_code == 303
    assert stale.status_code == 409
    session.refresh(transformer)
    assert (transformer.owner, transformer.version) == ("李工", 2)
    assert changes(session, "project") == [(ChangeAction.UPDATE, str(transformer.id))]


def test_engineers_and_auditors_cannot_create_or_edit_projects(
    client: TestClient, session: Session, engineer_a: User, auditor: User, workshop: Workshop, today: date
) -> None:
    for user in (engineer_a, auditor):
        client.cookies.clear()
        token = login(client, user)
        assert client.get(f"{LIST}/new").status_code == 403
        assert client.post(f"{LIST}/new", data=_fields(workshop) | {"csrf_token": token}).status_code == 403
    assert project_count(session) == 0


def test_a_missing_project_or_a_milestone_of_another_is_a_404(
    client: TestClient, session: Session, manager: User, transformer: Project, make_project: MakeProject, today: date
) -> None:
    other = make_project("KP-3", date(2026, 5, 31), [("碰头", date(2026, 5, 31), None)])
    foreign = milestone(session, other, "碰头")
    login(client, manager)

    assert client.get(f"{LIST}/999999").status_code == 404
    assert client.get(f"{LIST}/{transformer.id}/milestones/{foreign.id}/edit").status_code == 404
    assert client.get(f"{LIST}/99999999999").status_code == 422  # beyond the database's integer


# --- The project's page and its milestones ------------------------------------------------------


def test_the_project_page_shows_its_milestones_state_and_slippage(
    client: TestClient, auditor: User, make_project: MakeProject, today: date
) -> None:
    project = make_project("KP-3", date(2026, 5, 31), [("碰头", date(2026, 5, 31), None)], name="二期改造碰头")
    login(client, auditor)

    page = client.get(f"{LIST}/{project.id}")

    assert page.status_code == 200
    assert 'data-state="slipping"' in page.text
    assert 'data-slippage="12"' in page.text  # 12 June − 31 May
    assert '<tr data-milestone="碰头" data-state="late">' in page.text
    assert "/done" not in page.text  # auditors mark nothing done
    assert 'id="add-milestone"' not in page.text


def test_a_manager_adds_edits_and_deletes_a_milestone_in_the_change_log(
    client: TestClient, session: Session, manager: User, transformer: Project, today: date
) -> None:
    token = login(client, manager)
    base = f"{LIST}/{transformer.id}/milestones"

    added = client.post(base, data={"name": "保护调试", "due_date": "2026-07-20", "version": "1", "csrf_token": token})
    test_run = milestone(session, transformer, "保护调试")
    edited = client.post(
        f"{base}/{test_run.id}/edit",
        data={"name": "保护调试", "due_date": "2026-07-25", "owner": "刘工", "version": "2", "csrf_token": token},
    )
    deleted = client.post(f"{base}/{test_run.id}/delete", data={"version": "3", "csrf_token": token})

    assert [added.status_code, edited.status_code, deleted.status_code] == [303, 303, 303]
    assert session.get(Milestone, test_run.id) is None
    assert changes(session, "project_milestone") == [
        (ChangeAction.CREATE, str(test_run.id)),
        (ChangeAction.UPDATE, str(test_run.id)),
        (ChangeAction.DELETE, str(test_run.id)),
    ]
    session.refresh(transformer)
    assert transformer.version == 4  # each milestone write moves the project on


def test_a_milestone_s_bad_dates_are_422_naming_the_field(
    client: TestClient, session: Session, manager: User, transformer: Project, today: date
) -> None:
    token = login(client, manager)
    base = f"{LIST}/{transformer.id}/milestones"

    backwards = client.post(base, data={"name": "x", "start_date": "2026-07-01", "due_date": "2026-06-30",
                            "version": "1", "csrf_token": token})  # fmt: skip
    future = client.post(base, data={"name": "x", "due_date": "2026-06-30", "done_on": "2026-06-13",
                         "version": "1", "csrf_token": token})  # fmt: skip

    assert backwards.status_code == 422
    assert re.search(r'is-invalid" id="f-due_date"', backwards.text)
    assert future.status_code == 422
    assert re.search(r'is-invalid" id="f-done_on"', future.text)
    assert len(milestone_names(session, transformer)) == 3


def milestone_names(session: Session, project: Project) -> list[str]:
    return list(session.scalars(select(col(Milestone.name)).where(Milestone.project_id == project.id)))


def test_an_engineer_of_the_workshop_marks_a_milestone_done(
    client: TestClient, session: Session, engineer_a: User, transformer: Project, today: date
) -> None:
    delivery = milestone(session, transformer, "设备到货")
    token = login(client, engineer_a)

    page = client.get(f"{LIST}/{transformer.id}")
    response = client.post(
        f"{LIST}/{transformer.id}/milestones/{delivery.id}/done",
        data={"done_on": "2026-06-12", "version": "1", "csrf_token": token},
    )

    assert f"/milestones/{delivery.id}/done" in page.text
    assert f"/milestones/{delivery.id}/edit" not in page.text  # editing is the managers'
    assert response.status_code == 303
    session.refresh(delivery)
    assert delivery.done_on == date(2026, 6, 12)
    assert changes(session, "project_milestone") == [(ChangeAction.UPDATE, str(delivery.id))]


def test_a_done_date_in_the_future_is_a_422(
    client: TestClient, session: Session, engineer_a: User, transformer: Project, today: date
) -> None:
    delivery = milestone(session, transformer, "设备到货")
    token = login(client, engineer_a)

    response = client.post(
        f"{LIST}/{transformer.id}/milestones/{delivery.id}/done",
        data={"done_on": "2026-06-13", "version": "1", "csrf_token": token},
    )

    assert response.status_code == 422
    assert 'data-error="done_on"' in response.text
    session.refresh(delivery)
    assert delivery.done_on is None


def test_engineers_of_other_workshops_and_auditors_cannot_mark_it_done(
    client: TestClient, session: Session, engineer_b: User, auditor: User, transformer: Project, today: date
) -> None:
    delivery = milestone(session, transformer, "设备到货")
    for user in (engineer_b, auditor):
        client.cookies.clear()
        token = login(client, user)
        response = client.post(
            f"{LIST}/{transformer.id}/milestones/{delivery.id}/done",
            data={"done_on": "2026-06-12", "version": "1", "csrf_token": token},
        )
        assert response.status_code == 403
    session.refresh(delivery)
    assert delivery.done_on is None
    assert changes(session, "project_milestone") == []


def test_a_milestone_write_from_a_stale_page_is_a_409_and_writes_nothing(
    client: TestClient, session: Session, manager: User, engineer_a: User, transformer: Project, today: date
) -> None:
    delivery = milestone(session, transformer, "设备到货")
    commissioning = milestone(session, transformer, "投运")
    token = login(client, engineer_a)
    first = client.post(
        f"{LIST}/{transformer.id}/milestones/{delivery.id}/done",
        data={"done_on": "2026-06-11", "version": "1", "csrf_token": token},
    )
    client.cookies.clear()
    token = login(client, manager)

    # the manager's page was read at version 1, before the engineer's write
    stale_delete = client.post(
        f"{LIST}/{transformer.id}/milestones/{commissioning.id}/delete", data={"version": "1", "csrf_token": token}
    )

    assert first.status_code == 303
    assert stale_delete.status_code == 409
    assert session.get(Milestone, commissioning.id) is not None
    assert changes(session, "project_milestone") == [(ChangeAction.UPDATE, str(delivery.id))]


def test_the_project_s_gantt_has_its_bar_then_one_per_milestone(
    client: TestClient, auditor: User, transformer: Project, today: date
) -> None:
    login(client, auditor)

    page = client.get(f"{LIST}/{transformer.id}")
    match = re.search(r'<script type="application/json" id="project-gantt-data">(.*?)</script>', page.text, re.S)
    assert match
    chart = json.loads(match.group(1))

    assert (chart["start"], chart["end"], chart["today"]) == ("2026-01-01", "2026-07-31", "2026-06-12")
    assert [row["label"].strip() for row in chart["rows"]] == ["KP-2 1#主变扩容", "设计审查", "设备到货", "投运"]
    review, delivery, commissioning = chart["rows"][1:]
    # without a start of its own a milestone is planned from the one before (the first: the project's start)
    assert (review["planned_start"], review["planned_finish"], review["actual_finish"]) == (
        "2026-01-01",
        "2026-03-15",
        "2026-03-14",
    )
    assert review["marks"] == [{"date": "2026-03-14", "done": True}]
    assert (delivery["planned_start"], delivery["actual_finish"], delivery["actual_open"]) == (
        "2026-03-15",
        "2026-06-20",
        True,
    )
    assert commissioning["actual_start"] is None  # planned from 20 June: not begun on 12 June
