"""E-mail on the pages: the digest column of the settings (or why there is none), my address and
language, an admin's test mail (a mail server that is down is a message, not a 500), the address
in the users' admin pages and on the command line."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col
from typer.testing import CliRunner

from maintenance import cli
from maintenance.audit.models import ObjectChange
from maintenance.org import service as org_service
from maintenance.org.models import User
from maintenance.scorecard.notifications import service
from maintenance.scorecard.notifications.choices import Topic
from tests.conftest import login
from tests.mail_sink import Sink
from tests.scorecard.notifications.conftest import NOW, Plant


def toasts(page: str) -> list[tuple[str, str]]:
    """(level, message) of each toast on a page."""
    return re.findall(r'text-bg-(\w+) border-0 show".*?<div class="toast-body">(.*?)</div>', page, re.S)


def test_without_a_mail_server_the_settings_say_email_is_off(client: TestClient, world: Plant) -> None:
    login(client, world.engineer_a)
    page = client.get("/notifications/preferences", headers={"Accept-Language": "en"}).text
    assert 'id="mail-off"' in page
    assert "E-mail is off on this server" in page
    assert 'name="digest"' not in page
    assert 'id="test-email-form"' not in page


def test_the_settings_offer_a_daily_digest_per_topic_and_save_it(
    client: TestClient, session: Session, world: Plant, smtp_sink: Sink
) -> None:
    token = login(client, world.engineer_a)
    page = client.get("/notifications/preferences").text
    assert re.findall(r'name="digest" value="(\w+)"', page) == ["alarm", "assigned", "special_due"]
    assert 'name="digest" value="alarm" id="digest-alarm" aria-label' in page
    assert "checked" not in page.split('id="digest-alarm"')[1].split(">")[0]

    response = client.post(
        "/notifications/preferences",
        data={"topic": ["alarm", "assigned"], "digest": ["alarm"], "csrf_token": token},
    )
    assert response.status_code == 303
    assert service.enabled_topics(session, world.engineer_a) == [Topic.ALARM, Topic.ASSIGNED]
    assert service.digest_topics(session, world.engineer_a) == [Topic.ALARM]
    page = client.get("/notifications/preferences").text
    assert re.search(r'id="digest-alarm"[^>]* checked', page)
    assert 'id="no-address"' in page  # a digest chosen without an address is pointed out
    changes = session.scalars(
        select(ObjectChange).where(col(ObjectChange.object_type) == "notification_preference")
    ).all()
    assert any((change.after or {}).get("digest") is True for change in changes)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"topic": ["assigned"], "digest": ["alarm"]}, "needs its topic in the notification centre"),
        ({"topic": ["alarm"], "digest": ["budget_over"]}, "budget_over is not a topic you can choose"),
        ({"topic": ["alarm"], "digest": ["nonsense"]}, "nonsense is not a topic you can choose"),
    ],
)
def test_a_digest_i_cannot_have_is_refused_with_422(
    client: TestClient, session: Session, world: Plant, smtp_sink: Sink, data: dict[str, object], reason: str
) -> None:
    token = login(client, world.engineer_a)
    response = client.post(
        "/notifications/preferences", data={**data, "csrf_token": token}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert reason in response.text
    assert service.digest_topics(session, world.engineer_a) == []


def test_a_digest_is_refused_while_email_is_off(client: TestClient, session: Session, world: Plant) -> None:
    token = login(client, world.engineer_a)
    response = client.post(
        "/notifications/preferences",
        data={"topic": ["alarm"], "digest": ["alarm"], "csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "E-mail is off on this server" in response.text


def test_saving_while_email_is_off_keeps_the_digest_chosen(client: TestClient, session: Session, world: Plant) -> None:
    """With e-mail off the page has no digest boxes: saving the topics leaves each digest as it
    was (of a topic that stays on), rather than switching every digest off."""
    assert world.engineer_a.id is not None
    service.save_preferences(
        session, world.engineer_a, [Topic.ALARM, Topic.ASSIGNED], NOW, [Topic.ALARM, Topic.ASSIGNED]
    )
    token = login(client, world.engineer_a)
    response = client.post(
        "/notifications/preferences",
        data={"topic": ["alarm", "special_due"], "csrf_token": token},
    )
    assert response.status_code == 303
    assert service.enabled_topics(session, world.engineer_a) == [Topic.ALARM, Topic.SPECIAL_DUE]
    assert service.digest_topics(session, world.engineer_a) == [Topic.ALARM]  # assigned went off with its topic


def test_i_set_my_address_and_language_and_the_change_is_logged(
    client: TestClient, session: Session, world: Plant
) -> None:
    token = login(client, world.engineer_a)
    response = client.post(
        "/notifications/preferences/email",
        data={"email": " li.gong@plant.example ", "language": "en", "csrf_token": token},
    )
    assert response.status_code == 303
    assert (world.engineer_a.email, world.engineer_a.language) == ("li.gong@plant.example", "en")
    change = session.scalars(
        select(ObjectChange)
        .where(col(ObjectChange.object_type) == "app_user", col(ObjectChange.object_id) == str(world.engineer_a.id))
        .order_by(col(ObjectChange.id).desc())
    ).first()
    assert change is not None
    assert change.actor_name == "eng_a"
    assert (change.before or {}).get("email") is None
    assert (change.after or {}).get("email") == "li.gong@plant.example"
    page = client.get("/notifications/preferences").text
    assert 'value="li.gong@plant.example"' in page
    assert '<option value="en" lang="en" selected>' in page

    # Emptied: no address, the plant's language.
    client.post("/notifications/preferences/email", data={"email": "", "language": "", "csrf_token": token})
    assert (world.engineer_a.email, world.engineer_a.language) == (None, None)


@pytest.mark.parametrize(
    ("data", "field"),
    [({"email": "li.gong at plant"}, "email"), ({"email": "a@b.cn", "language": "fr"}, "language")],
)
def test_a_bad_address_or_language_is_refused_with_422_at_its_field(
    client: TestClient, world: Plant, data: dict[str, str], field: str
) -> None:
    token = login(client, world.engineer_a)
    response = client.post(
        "/notifications/preferences/email", data={**data, "csrf_token": token}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert re.search(rf'id="f-{field}"|name="{field}"', response.text)
    assert "invalid-feedback" in response.text
    assert world.engineer_a.email is None


def test_an_admin_sends_a_test_mail(client: TestClient, session: Session, admin: User, smtp_sink: Sink) -> None:
    admin.email = "admin@plant.example"
    session.flush()
    token = login(client, admin)
    assert 'id="test-email-form"' in client.get("/notifications/preferences").text

    response = client.post(
        "/notifications/preferences/test-email", data={"csrf_token": token}, headers={"Accept-Language": "en"}
    )

    assert response.status_code == 303
    (mail,) = smtp_sink.to("admin@plant.example")
    assert "admin@plant.example" in Sink.body(mail)
    page = client.get("/notifications/preferences", headers={"Accept-Language": "en"}).text
    assert ("success", "Test mail sent to admin@plant.example.") in toasts(page)


def test_a_test_mail_to_a_server_that_is_down_is_a_message_not_a_500(
    client: TestClient, session: Session, admin: User, smtp_down: None
) -> None:
    admin.email = "admin@plant.example"
    session.flush()
    token = login(client, admin)

    response = client.post(
        "/notifications/preferences/test-email", data={"csrf_token": token}, headers={"Accept-Language": "en"}
    )

    assert response.status_code == 303
    page = client.get("/notifications/preferences", headers={"Accept-Language": "en"}).text
    ((level, message),) = toasts(page)
    assert level == "danger"
    assert message.startswith("The test mail was not sent. The mail server 127.0.0.1:")
    assert "cannot be reached" in message


def test_a_test_mail_refused_by_the_server_says_so(
    client: TestClient, session: Session, admin: User, smtp_sink: Sink
) -> None:
    smtp_sink.refuse = True
    admin.email = "admin@plant.example"
    session.flush()
    token = login(client, admin)
    client.post("/notifications/preferences/test-email", data={"csrf_token": token}, headers={"Accept-Language": "en"})
    page = client.get("/notifications/preferences", headers={"Accept-Language": "en"}).text
    ((level, message),) = toasts(page)
    assert level == "danger"
    assert "refused the address admin@plant.example: 550" in message


def test_a_test_mail_needs_my_address_and_an_admin(
    client: TestClient, admin: User, world: Plant, smtp_sink: Sink
) -> None:
    token = login(client, admin)
    client.post("/notifications/preferences/test-email", data={"csrf_token": token})
    page = client.get("/notifications/preferences", headers={"Accept-Language": "en"}).text
    assert [level for level, _message in toasts(page)] == ["warning"]
    assert smtp_sink.messages == []

    client.cookies.clear()
    token = login(client, world.manager)
    assert 'id="test-email-form"' not in client.get("/notifications/preferences").text
    response = client.post("/notifications/preferences/test-email", data={"csrf_token": token})
    assert response.status_code == 403
    assert smtp_sink.messages == []


def test_the_admin_sets_and_clears_a_users_address(
    client: TestClient, session: Session, admin: User, world: Plant
) -> None:
    token = login(client, admin)
    user = world.engineer_a
    form = {"full_name": "李工", "role": "engineer", "is_active": "on", "csrf_token": token}

    response = client.post(f"/admin/users/{user.id}", data={**form, "email": "li@plant.example", "language": "en"})
    assert response.status_code == 303
    assert (user.email, user.language) == ("li@plant.example", "en")
    assert 'value="li@plant.example"' in client.get(f"/admin/users/{user.id}").text

    bad = client.post(f"/admin/users/{user.id}", data={**form, "email": "li@", "language": "en"})
    assert bad.status_code == 422
    assert user.email == "li@plant.example"

    client.post(f"/admin/users/{user.id}", data={**form, "email": "", "language": ""})
    assert (user.email, user.language) == (None, None)


def test_user_create_takes_an_address(cli_in_test_session: CliRunner, session: Session) -> None:
    result = cli_in_test_session.invoke(
        cli.app,
        [
            "user",
            "create",
            "--username",
            "wang",
            "--role",
            "manager",
            "--email",
            "wang@plant.example",
            "--password-stdin",
        ],
        input="long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = org_service.get_user_by_username(session, "wang")
    assert user is not None
    assert user.email == "wang@plant.example"

    refused = cli_in_test_session.invoke(
        cli.app,
        ["user", "create", "--username", "zhao", "--role", "manager", "--email", "zhao", "--password-stdin"],
        input="long enough password\n",
    )
    assert refused.exit_code == 1
    assert "email" in refused.output
    assert org_service.get_user_by_username(session, "zhao") is None
