"""The certification workflow through the served app: applying (one open application, no second
while a certificate is in force except in its last 30 days), the self-assessment checklist
pre-filled from the records, the company's assessment, revoking, who may take each step, stale
forms and impossible moves, and the list of applications."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.leakfree import certification_routes
from maintenance.leakfree.choices import CertificationState, SealType
from maintenance.leakfree.models import Certification
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.conftest import login
from tests.leakfree.conftest import Certify, MakeSealPoint, MakeSurvey

LIST = "/leakfree/certifications"
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def plant_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(certification_routes, "plant_today", lambda: TODAY)


def _changes(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ObjectChange).where(ObjectChange.object_type == "leakfree_certification")
        )
        or 0
    )


def _in_state(certify: Certify, state: CertificationState, applied: date = date(2026, 6, 1)) -> Certification:
    cert = certify(applied)
    cert.state = state
    return cert


def _english(client: TestClient, user: User) -> str:
    token = login(client, user)
    client.cookies.set("lang", "en")
    return token


# --- Applying ---------------------------------------------------------------------------------


def test_the_workshops_engineer_applies(
    client: TestClient, session: Session, workshop: Workshop, workshop_engineer: User
) -> None:
    token = login(client, workshop_engineer)
    assert client.get(f"{LIST}/new?workshop_id={workshop.id}").status_code == 200

    response = client.post(
        f"{LIST}/new",
        data={
            "workshop_id": str(workshop.id),
            "applied_date": "2026-06-10",
            "application_note": "申请验收",
            "csrf_token": token,
        },
    )

    assert response.status_code == 303
    cert = session.scalars(select(Certification)).one()
    assert response.headers["location"] == f"{LIST}/{cert.id}"
    assert (cert.workshop_id, cert.state, cert.applied_date, cert.applied_by_id) == (
        workshop.id,
        CertificationState.APPLIED,
        date(2026, 6, 10),
        workshop_engineer.id,
    )
    assert _changes(session) == 1


def test_a_second_open_application_is_refused(
    client: TestClient, session: Session, workshop: Workshop, workshop_engineer: User, certify: Certify
) -> None:
    _in_state(certify, CertificationState.SELF_ASSESSED)
    token = _english(client, workshop_engineer)

    response = client.post(
        f"{LIST}/new", data={"workshop_id": str(workshop.id), "applied_date": "2026-06-10", "csrf_token": token}
    )

    assert response.status_code == 422
    assert "already has an application on its way" in response.text
    assert session.scalar(select(func.count()).select_from(Certification)) == 1


@pytest.mark.parametrize(
    ("today", "allowed"),
    [
        (date(2026, 5, 31), False),  # valid through 2026-06-30: renewal opens on 2026-06-01
        (date(2026, 6, 1), True),
        (date(2026, 6, 30), True),
    ],
)
def test_a_certificate_in_force_refuses_an_application_until_its_last_30_days(
    client: TestClient,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    workshop: Workshop,
    workshop_engineer: User,
    certify: Certify,
    today: date,
    allowed: bool,
) -> None:
    monkeypatch.setattr(certification_routes, "plant_today", lambda: today)
    certify(date(2025, 6, 1), certified=date(2025, 7, 1))
    token = _english(client, workshop_engineer)

    response = client.post(
        f"{LIST}/new", data={"workshop_id": str(workshop.id), "applied_date": today.isoformat(), "csrf_token": token}
    )

    if allowed:
        assert response.status_code == 303
        assert session.scalar(select(func.count()).select_from(Certification)) == 2
    else:
        assert response.status_code == 422
        assert "certificate is in force until 2026-06-30; it can be renewed from 2026-06-01" in response.text
        assert session.scalar(select(func.count()).select_from(Certification)) == 1


def test_a_revoked_certificate_does_not_stop_a_new_application(
    client: TestClient, workshop: Workshop, workshop_engineer: User, certify: Certify
) -> None:
    certify(date(2025, 12, 1), certified=date(2026, 1, 10), revoked=date(2026, 5, 1))
    token = login(client, workshop_engineer)

    response = client.post(
        f"{LIST}/new", data={"workshop_id": str(workshop.id), "applied_date": "2026-06-15", "csrf_token": token}
    )

    assert response.status_code == 303


def test_an_application_dated_in_the_future_is_refused(
    client: TestClient, session: Session, workshop: Workshop, workshop_engineer: User
) -> None:
    token = _english(client, workshop_engineer)

    response = client.post(
        f"{LIST}/new", data={"workshop_id": str(workshop.id), "applied_date": "2026-06-16", "csrf_token": token}
    )

    assert response.status_code == 422
    assert "The date cannot be in the future." in response.text
    assert session.scalar(select(func.count()).select_from(Certification)) == 0


@pytest.mark.parametrize("role", ["other_engineer", "auditor"])
def test_an_engineer_of_another_workshop_or_an_auditor_may_not_apply(
    client: TestClient, session: Session, workshop: Workshop, role: str
) -> None:
    user = factories.UserFactory(role=Role.ENGINEER if role == "other_engineer" else Role.AUDITOR)
    token = login(client, user)

    page = client.get(f"{LIST}/new?workshop_id={workshop.id}")
    response = client.post(
        f"{LIST}/new", data={"workshop_id": str(workshop.id), "applied_date": "2026-06-10", "csrf_token": token}
    )

    assert (page.status_code, response.status_code) == (403, 403)
    assert session.scalar(select(func.count()).select_from(Certification)) == 0


# --- The self-assessment ----------------------------------------------------------------------


def _checked(page: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*id="f-{name}"[^>]*>', page)
    assert tag is not None, name
    return " checked" in tag[0]


def test_the_checklist_is_ticked_from_the_records(
    client: TestClient,
    workshop_engineer: User,
    certify: Certify,
    make_seal_point: MakeSealPoint,
    make_survey: MakeSurvey,
) -> None:
    cert = certify(date(2026, 6, 1))
    make_seal_point(seal_type=SealType.FLANGE, count=2_000)
    # 31 days before 2026-06-15: still within the month; 1 leak in 2,000 static points is 0.5‰.
    make_survey(date(2026, 5, 15), static_points=2_000, dynamic_points=0, static_leaks=1)
    login(client, workshop_engineer)

    page = client.get(f"{LIST}/{cert.id}").text

    assert 'id="self-assessment-form"' in page
    assert [_checked(page, name) for name in ("inventory_complete", "survey_recent", "thresholds_met")] == [True] * 3
    assert not _checked(page, "documents_in_place")


def test_the_checklist_is_left_unticked_where_the_records_fall_short(
    client: TestClient, workshop_engineer: User, certify: Certify, make_survey: MakeSurvey
) -> None:
    cert = certify(date(2026, 6, 1))
    # 32 days before 2026-06-15, and 1 leak in 1,990 static points is over 0.5‰; no inventory.
    make_survey(date(2026, 5, 14), static_points=1_990, dynamic_points=0, static_leaks=1)
    login(client, workshop_engineer)

    page = client.get(f"{LIST}/{cert.id}").text

    checklist = ("inventory_complete", "survey_recent", "thresholds_met", "documents_in_place")
    assert [_checked(page, name) for name in checklist] == [False] * 4


def test_the_workshop_confirms_its_checklist(
    client: TestClient,
    session: Session,
    workshop_engineer: User,
    certify: Certify,
    make_seal_point: MakeSealPoint,
    make_survey: MakeSurvey,
) -> None:
    cert = certify(date(2026, 6, 1))
    make_seal_point(seal_type=SealType.FLANGE, count=2_000)
    make_survey(date(2026, 6, 5), static_points=2_000, dynamic_points=0)
    token = login(client, workshop_engineer)
    ticks = dict.fromkeys(("inventory_complete", "survey_recent", "thresholds_met", "documents_in_place"), "true")

    response = client.post(
        f"{LIST}/{cert.id}/self-assessment",
        data=ticks | {"self_assessed_date": "2026-06-12", "version": "1", "csrf_token": token},
    )

    assert response.status_code == 303
    session.refresh(cert)
    assert (cert.state, cert.self_assessed_date, cert.version) == (
        CertificationState.SELF_ASSESSED,
        date(2026, 6, 12),
        2,
    )
    assert (cert.inventory_complete, cert.survey_recent, cert.thresholds_met, cert.documents_in_place) == (True,) * 4
    assert _changes(session) == 1


def test_a_checklist_with_unticked_items_is_refused_naming_them(
    client: TestClient, session: Session, workshop_engineer: User, certify: Certify
) -> None:
    cert = certify(date(2026, 6, 1))
    token = _english(client, workshop_engineer)

    response = client.post(
        f"{LIST}/{cert.id}/self-assessment",
        data={
            "inventory_complete": "true",
            "survey_recent": "true",
            "self_assessed_date": "2026-06-12",
            "version": "1",
            "csrf_token": token,
        },
    )

    assert response.status_code == 422
    assert "Not ticked: Leak rates within the thresholds." in response.text
    assert "Not ticked: Documents in place." in response.text
    assert "Not ticked: Seal-point inventory complete." not in response.text
    session.refresh(cert)
    assert (cert.state, cert.version) == (CertificationState.APPLIED, 1)
    assert _changes(session) == 0


def test_ticks_the_records_contradict_are_refused(
    client: TestClient, session: Session, workshop_engineer: User, certify: Certify, make_survey: MakeSurvey
) -> None:
    cert = certify(date(2026, 6, 1))
    # No inventory; the latest survey is 33 days before 12 June and 1 leak in 1,990 is over 0.5‰.
    make_survey(date(2026, 5, 10), static_points=1_990, dynamic_points=0, static_leaks=1)
    token = _english(client, workshop_engineer)
    ticks = dict.fromkeys(("inventory_complete", "survey_recent", "thresholds_met", "documents_in_place"), "true")

    response = client.post(
        f"{LIST}/{cert.id}/self-assessment",
        data=ticks | {"self_assessed_date": "2026-06-12", "version": "1", "csrf_token": token},
    )

    assert response.status_code == 422
    for item in ("Seal-point inventory complete", "Leak rates within the thresholds"):
        assert f"The records say this is not met: {item}." in response.text
    assert response.text.count("The records say this is not met") == 3
    session.refresh(cert)
    assert (cert.state, cert.version) == (CertificationState.APPLIED, 1)
    assert _changes(session) == 0


# --- Sending on, the assessment, revoking ------------------------------------------------------


def test_a_manager_sends_the_application_to_the_company(
    client: TestClient, session: Session, manager: User, certify: Certify
) -> None:
    cert = _in_state(certify, CertificationState.SELF_ASSESSED)
    token = login(client, manager)

    response = client.post(f"{LIST}/{cert.id}/submit", data={"version": "1", "csrf_token": token})

    assert response.status_code == 303
    session.refresh(cert)
    assert cert.state == CertificationState.IN_ASSESSMENT


def test_the_company_certifies_for_one_year_from_the_assessment(
    client: TestClient, session: Session, manager: User, certify: Certify
) -> None:
    cert = _in_state(certify, CertificationState.IN_ASSESSMENT)
    token = login(client, manager)

    response = client.post(
        f"{LIST}/{cert.id}/assessment",
        data={"assessor": "机动部 王工", "assessed_date": "2026-06-15", "result": "certified", "version": "1",
              "csrf_token": token},
    )  # fmt: skip

    assert response.status_code == 303
    session.refresh(cert)
    assert (cert.state, cert.certified_date, cert.valid_until, cert.assessor) == (
        CertificationState.CERTIFIED,
        date(2026, 6, 15),
        date(2027, 6, 14),
        "机动部 王工",
    )


def test_the_company_rejects_with_its_reasons(
    client: TestClient, session: Session, manager: User, certify: Certify
) -> None:
    cert = _in_state(certify, CertificationState.IN_ASSESSMENT)
    token = login(client, manager)

    response = client.post(
        f"{LIST}/{cert.id}/assessment",
        data={"assessor": "王工", "assessed_date": "2026-06-14", "result": "rejected",
              "assessment_remarks": "动密封泄漏率超标", "version": "1", "csrf_token": token},
    )  # fmt: skip

    assert response.status_code == 303
    session.refresh(cert)
    assert (cert.state, cert.assessed_date, cert.certified_date, cert.valid_until) == (
        CertificationState.REJECTED,
        date(2026, 6, 14),
        None,
        None,
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"result": "rejected"}, "assessment_remarks", "Give the reasons for rejecting."),
        ({"assessed_date": "2026-06-16"}, "assessed_date", "The date cannot be in the future."),
        ({"assessed_date": "2026-05-31"}, "assessed_date", "The date cannot be before 2026-06-01."),
        ({"assessor": ""}, "assessor", "This field is required."),
        ({"result": "applied"}, "result", "Choose certified or rejected."),
    ],
)
def test_a_refused_assessment_names_the_field(
    client: TestClient,
    session: Session,
    manager: User,
    certify: Certify,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    cert = _in_state(certify, CertificationState.IN_ASSESSMENT)
    token = _english(client, manager)
    form = {"assessor": "王工", "assessed_date": "2026-06-15", "result": "certified", "version": "1"} | fields

    response = client.post(f"{LIST}/{cert.id}/assessment", data=form | {"csrf_token": token})

    assert response.status_code == 422
    assert message in response.text
    assert f'id="f-{field}' in response.text
    session.refresh(cert)
    assert cert.state == CertificationState.IN_ASSESSMENT
    assert _changes(session) == 0


def test_a_manager_revokes_a_certificate_with_a_reason(
    client: TestClient, session: Session, manager: User, certify: Certify
) -> None:
    cert = certify(date(2026, 3, 1), certified=date(2026, 4, 1))
    token = _english(client, manager)

    without_reason = client.post(
        f"{LIST}/{cert.id}/revoke", data={"revoked_date": "2026-06-10", "version": "1", "csrf_token": token}
    )
    with_reason = client.post(
        f"{LIST}/{cert.id}/revoke",
        data={
            "revoked_date": "2026-06-10",
            "revoke_reason": "复查静密封泄漏率超标",
            "version": "1",
            "csrf_token": token,
        },
    )

    assert without_reason.status_code == 422
    assert "This field is required." in without_reason.text
    assert with_reason.status_code == 303
    session.refresh(cert)
    assert (cert.state, cert.revoked_date, cert.revoke_reason) == (
        CertificationState.REVOKED,
        date(2026, 6, 10),
        "复查静密封泄漏率超标",
    )


# --- Refused moves and who may take them -------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "step", "form"),
    [
        (CertificationState.APPLIED, "submit", {}),
        (
            CertificationState.APPLIED,
            "assessment",
            {"assessor": "王工", "assessed_date": "2026-06-15", "result": "certified"},
        ),
        (CertificationState.IN_ASSESSMENT, "revoke", {"revoked_date": "2026-06-15", "revoke_reason": "x"}),
        (CertificationState.REJECTED, "submit", {}),
        (CertificationState.REVOKED, "revoke", {"revoked_date": "2026-06-15", "revoke_reason": "x"}),
    ],
)
def test_an_impossible_move_is_refused_with_409(
    client: TestClient,
    session: Session,
    manager: User,
    certify: Certify,
    state: CertificationState,
    step: str,
    form: dict[str, str],
) -> None:
    cert = _in_state(certify, state)
    token = _english(client, manager)

    response = client.post(f"{LIST}/{cert.id}/{step}", data=form | {"version": "1", "csrf_token": token})

    assert response.status_code == 409
    assert f"This application is {state.en}: it cannot become" in response.text
    session.refresh(cert)
    assert (cert.state, cert.version) == (state, 1)
    assert _changes(session) == 0


def test_a_self_assessment_on_a_certified_application_is_refused(
    client: TestClient, session: Session, workshop_engineer: User, certify: Certify
) -> None:
    cert = certify(date(2026, 3, 1), certified=date(2026, 4, 1))
    token = login(client, workshop_engineer)
    ticks = dict.fromkeys(("inventory_complete", "survey_recent", "thresholds_met", "documents_in_place"), "true")

    response = client.post(
        f"{LIST}/{cert.id}/self-assessment",
        data=ticks | {"self_assessed_date": "2026-06-12", "version": "1", "csrf_token": token},
    )

    assert response.status_code == 409
    session.refresh(cert)
    assert cert.state == CertificationState.CERTIFIED


def test_a_stale_form_is_refused_with_409(
    client: TestClient, session: Session, manager: User, certify: Certify
) -> None:
    cert = _in_state(certify, CertificationState.SELF_ASSESSED)
    cert.version = 2  # someone took a step since the form was filled in
    session.flush()
    token = _english(client, manager)

    response = client.post(f"{LIST}/{cert.id}/submit", data={"version": "1", "csrf_token": token})

    assert response.status_code == 409
    assert "Someone else changed this application" in response.text
    session.refresh(cert)
    assert (cert.state, cert.version) == (CertificationState.SELF_ASSESSED, 2)


@pytest.mark.parametrize(
    ("role", "step"),
    [
        ("workshop_engineer", "submit"),
        ("workshop_engineer", "assessment"),
        ("workshop_engineer", "revoke"),
        ("other_engineer", "self-assessment"),
        ("auditor", "self-assessment"),
        ("auditor", "assessment"),
    ],
)
def test_who_may_not_take_a_step_is_refused_with_403(
    client: TestClient,
    session: Session,
    workshop_engineer: User,
    auditor: User,
    certify: Certify,
    role: str,
    step: str,
) -> None:
    state = {
        "submit": CertificationState.SELF_ASSESSED,
        "assessment": CertificationState.IN_ASSESSMENT,
        "revoke": CertificationState.CERTIFIED,
        "self-assessment": CertificationState.APPLIED,
    }[step]
    cert = _in_state(certify, state)
    users = {"workshop_engineer": workshop_engineer, "auditor": auditor}
    user = users.get(role) or factories.UserFactory(role=Role.ENGINEER)
    token = login(client, user)
    form = {
        "version": "1",
        "assessor": "王工",
        "assessed_date": "2026-06-15",
        "result": "certified",
        "revoked_date": "2026-06-15",
        "revoke_reason": "x",
        "self_assessed_date": "2026-06-15",
        "inventory_complete": "true",
        "survey_recent": "true",
        "thresholds_met": "true",
        "documents_in_place": "true",
    }

    response = client.post(f"{LIST}/{cert.id}/{step}", data=form | {"csrf_token": token})

    assert response.status_code == 403
    session.refresh(cert)
    assert (cert.state, cert.version) == (state, 1)


def test_the_page_offers_each_user_only_the_step_they_may_take(
    client: TestClient, workshop_engineer: User, manager: User, certify: Certify
) -> None:
    cert = _in_state(certify, CertificationState.IN_ASSESSMENT)

    login(client, workshop_engineer)
    as_engineer = client.get(f"{LIST}/{cert.id}").text
    client.cookies.clear()
    login(client, manager)
    as_manager = client.get(f"{LIST}/{cert.id}").text

    assert 'id="assessment-form"' not in as_engineer
    assert 'id="assessment-form"' in as_manager


def test_a_missing_application_is_404(client: TestClient, manager: User) -> None:
    token = login(client, manager)

    assert client.get(f"{LIST}/999999").status_code == 404
    assert client.post(f"{LIST}/999999/submit", data={"version": "1", "csrf_token": token}).status_code == 404


# --- The page's figures and the at-risk flag --------------------------------------------------


def test_a_certificate_whose_later_survey_exceeds_a_threshold_is_flagged_at_risk(
    client: TestClient, manager: User, certify: Certify, make_seal_point: MakeSealPoint, make_survey: MakeSurvey
) -> None:
    make_seal_point(seal_type=SealType.PUMP_SEAL, count=400)
    cert = certify(date(2026, 3, 1), certified=date(2026, 4, 1))
    login(client, manager)
    before = client.get(f"{LIST}/{cert.id}").text
    # 1 leak in 400 dynamic points is 2.5‰, over 2‰.
    make_survey(date(2026, 5, 20), static_points=0, dynamic_points=400, dynamic_leaks=1)

    after = client.get(f"{LIST}/{cert.id}").text

    assert 'id="at-risk"' not in before
    assert 'id="at-risk"' in after
    assert "2.50‰" in after
    assert 'data-meets="False"' in after


# --- The list ---------------------------------------------------------------------------------


def test_the_list_filters_by_state_and_year_and_sorts(
    client: TestClient, session: Session, manager: User, workshop: Workshop, certify: Certify
) -> None:
    other = factories.WorkshopFactory()
    old = certify(date(2025, 5, 1), certified=date(2025, 6, 1))
    rejected = certify(date(2026, 2, 1), rejected=date(2026, 3, 1))
    mine = certify(date(2026, 4, 1), certified=date(2026, 5, 1))
    theirs = certify(date(2026, 3, 1), certified=date(2026, 4, 1), workshop_id=other.id)
    login(client, manager)

    def rows(query: str) -> list[str]:
        return re.findall(r'data-certification-id="(\d+)"', client.get(f"{LIST}?{query}").text)

    assert rows("state=certified&year=2026") == [str(mine.id), str(theirs.id)]
    assert rows("state=certified&year=2026&sort=applied") == [str(theirs.id), str(mine.id)]
    assert rows(f"workshop_id={workshop.id}") == [str(mine.id), str(rejected.id), str(old.id)]


def test_the_list_exports_the_filtered_rows(client: TestClient, manager: User, certify: Certify) -> None:
    certify(date(2026, 2, 1), rejected=date(2026, 3, 1))
    certify(date(2026, 4, 1), certified=date(2026, 5, 1))
    login(client, manager)

    response = client.get(f"{LIST}?state=certified&export=csv")

    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2  # the header and the certified one
    assert "2027-04-30" in lines[1]
    assert client.get(f"{LIST}?export=xlsx").content[:2] == b"PK"


def test_the_apply_button_is_for_those_who_may_apply(
    client: TestClient, workshop_engineer: User, auditor: User
) -> None:
    login(client, workshop_engineer)
    as_engineer = client.get(LIST).text
    client.cookies.clear()
    login(client, auditor)
    as_auditor = client.get(LIST).text

    assert f'href="{LIST}/new' in as_engineer
    assert f'href="{LIST}/new' not in as_auditor


def test_the_list_runs_a_fixed_number_of_queries(
    client: TestClient, manager: User, certify: Certify, count_queries: list[str]
) -> None:
    def add(count: int) -> None:
        for _ in range(count):
            certify(date(2026, 1, 1), rejected=date(2026, 2, 1), workshop_id=factories.WorkshopFactory().id)

    def queries() -> int:
        count_queries.clear()
        assert client.get(LIST).status_code == 200
        return len(count_queries)

    login(client, manager)
    add(2)
    few = queries()
    add(5)
    many = queries()

    assert many == few
