"""The daily e-mail digest, sent to a local SMTP sink on 10 March 2026 (plant time): who gets
what, once a plant day, nothing without unread items or an address, a refused mail releases its
claim, the reader's language, the per-topic limit; the ``notify digest`` command and when the
scheduler sends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session, col
from typer.testing import CliRunner

from maintenance import cli
from maintenance.config import get_settings
from maintenance.exceptions import MailNotSent
from maintenance.org.models import User
from maintenance.scorecard.notifications import digest, service
from maintenance.scorecard.notifications.choices import Topic
from maintenance.scorecard.notifications.models import NotificationDigest
from tests.mail_sink import Sink, free_port
from tests.scorecard.notifications.conftest import NOW, Plant, plant

BASE = "https://maintenance.plant.example"


def wants_digest(
    world: Plant, user: User, *topics: Topic, email: str | None = None, language: str | None = None
) -> None:
    """``user`` (addressed ``<username>@plant.example`` unless given) hears about every topic
    their role allows and gets ``topics`` by e-mail too."""
    user.email = email or f"{user.username}@plant.example"
    user.language = language
    world.session.flush()
    service.save_preferences(world.session, user, service.allowed_topics(user), NOW, topics)


def savepoints(session: Session) -> digest.Transaction:
    """The digest's transactions as savepoints of the test's."""

    @contextmanager
    def transaction() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    return transaction


def run(session: Session, now: datetime = NOW) -> digest.DigestReport:
    """One run as the command makes it, every user in the test's transaction (a refusal noted)."""
    report = digest.DigestReport(day=digest.plant_day(now))
    for user_id in digest.recipient_ids(session):
        try:
            digest.send_digest(savepoints(session), user_id, now, report)
        except MailNotSent:
            continue
    return report


def claims(session: Session) -> list[tuple[int, date, bool, int]]:
    rows = session.scalars(select(NotificationDigest).order_by(col(NotificationDigest.user_id)))
    return [(row.user_id, row.day, row.sent_at is not None, row.item_count) for row in rows]


def test_each_user_gets_the_unread_items_of_their_digest_topics_in_their_workshops(
    world: Plant, smtp_sink: Sink
) -> None:
    alarm_a = world.alert(world.pump_a, "P-101-V", plant(3, 5))
    alarm_b = world.alert(world.pump_b, "P-201-V", plant(3, 6))
    order = world.order(world.pump_a, assignee_id=world.engineer_a.id)  # a topic without a digest
    wants_digest(world, world.engineer_a, Topic.ALARM, language="en")
    wants_digest(world, world.engineer_b, Topic.ALARM, Topic.ASSIGNED, language="en")

    report = run(world.session)

    assert sorted(report.sent) == ["eng_a", "eng_b"]
    assert report.skipped == report.failed == []
    (mail_a,) = smtp_sink.to("eng_a@plant.example")
    text = Sink.body(mail_a)
    assert "P-101-V" in text
    assert "P-201-V" not in text
    assert order.number not in text  # assigned to eng_a, who has no digest for it
    assert f"{BASE}/monitoring/points/{alarm_a.point_id}" in text  # absolute links
    html = Sink.body(mail_a, "html")
    assert f'href="{BASE}/monitoring/points/{alarm_a.point_id}"' in html
    assert mail_a["From"] == "maintenance@plant.example"
    assert "1 unread" in mail_a["Subject"]
    (mail_b,) = smtp_sink.to("eng_b@plant.example")
    assert "P-201-V" in Sink.body(mail_b)
    assert "P-101-V" not in Sink.body(mail_b)
    assert f"{BASE}/monitoring/points/{alarm_b.point_id}" in Sink.body(mail_b)
    assert claims(world.session) == [
        (world.engineer_a.id, date(2026, 3, 10), True, 1),
        (world.engineer_b.id, date(2026, 3, 10), True, 1),
    ]


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_sends_again(world: Plant, smtp_sink: Sink) -> None:
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    wants_digest(world, world.engineer_a, Topic.ALARM)

    assert run(world.session).sent == ["eng_a"]
    again = run(world.session, NOW + timedelta(hours=10))  # 19:00 the same plant day
    assert again.sent == []
    assert again.skipped == ["eng_a"]
    assert len(smtp_sink.messages) == 1

    # 16:30 UTC on 10 March is 00:30 on 11 March at the plant: a new plant day.
    assert run(world.session, NOW + timedelta(hours=15, minutes=30)).sent == ["eng_a"]
    assert len(smtp_sink.messages) == 2
    assert [day for _user, day, _sent, _count in claims(world.session)] == [date(2026, 3, 10), date(2026, 3, 11)]


def test_no_mail_without_unread_items_or_without_an_address(world: Plant, smtp_sink: Sink) -> None:
    alert = world.alert(world.pump_a, "P-101-V", plant(3, 5))
    wants_digest(world, world.engineer_a, Topic.ALARM)
    service.mark_read(world.session, world.engineer_a, f"alarm:{alert.id}", NOW)
    wants_digest(world, world.engineer_b, Topic.ALARM)  # nothing in workshop B
    wants_digest(world, world.manager, Topic.ALARM)
    world.manager.email = None  # a digest chosen, but no address
    world.session.flush()

    assert digest.recipient_ids(world.session) == [world.engineer_a.id, world.engineer_b.id]
    report = run(world.session)
    assert report.sent == []
    assert sorted(report.skipped) == ["eng_a", "eng_b"]
    assert smtp_sink.messages == []
    assert claims(world.session) == []
    # A topic switched off in the centre is off in the digest too; an inactive user gets none.
    service.save_preferences(world.session, world.engineer_b, [], NOW, [Topic.ALARM])
    world.engineer_a.is_active = False
    world.session.flush()
    assert digest.recipient_ids(world.session) == []


def test_a_refused_or_unreachable_server_releases_the_claim_and_says_why(
    world: Plant, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    wants_digest(world, world.engineer_a, Topic.ALARM)
    settings = get_settings()
    port = settings.smtp_port
    monkeypatch.setattr(settings, "language", "en")  # the failures are worded in the plant's language

    monkeypatch.setattr(settings, "smtp_port", free_port())
    report = run(world.session)
    assert report.sent == []
    assert [user for user, _reason in report.failed] == ["eng_a"]
    assert "cannot be reached" in report.failed[0][1]
    assert claims(world.session) == []  # released: the next run tries again

    monkeypatch.setattr(settings, "smtp_port", port)
    smtp_sink.refuse = True
    report = run(world.session)
    assert "refused the address eng_a@plant.example: 550" in report.failed[0][1]
    assert claims(world.session) == []

    smtp_sink.refuse = False
    assert run(world.session).sent == ["eng_a"]
    assert len(smtp_sink.messages) == 1
    assert len(claims(world.session)) == 1


def test_a_claim_never_marked_sent_is_retried_after_an_hour_and_not_before(world: Plant, smtp_sink: Sink) -> None:
    """A run that died while sending left its claim: within the hour another run may still be
    sending it (skipped); after, the next run sends it and marks the claim sent."""
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    wants_digest(world, world.engineer_a, Topic.ALARM)
    assert world.engineer_a.id is not None
    world.session.add(
        NotificationDigest(
            user_id=world.engineer_a.id, day=date(2026, 3, 10), claimed_at=NOW - timedelta(minutes=50), item_count=0
        )
    )
    world.session.flush()

    assert run(world.session).skipped == ["eng_a"]
    assert smtp_sink.messages == []

    assert run(world.session, NOW + timedelta(minutes=11)).sent == ["eng_a"]
    assert len(smtp_sink.messages) == 1
    assert claims(world.session) == [(world.engineer_a.id, date(2026, 3, 10), True, 1)]
    assert run(world.session, NOW + timedelta(hours=3)).skipped == ["eng_a"]  # sent: never again that day
    assert len(smtp_sink.messages) == 1


def test_send_digest_raises_the_refusal_to_its_caller(world: Plant, smtp_down: None) -> None:
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    wants_digest(world, world.engineer_a, Topic.ALARM)
    report = digest.DigestReport(day=digest.plant_day(NOW))
    assert world.engineer_a.id is not None
    with pytest.raises(MailNotSent):
        digest.send_digest(savepoints(world.session), world.engineer_a.id, NOW, report)
    assert claims(world.session) == []
    assert len(report.failed) == 1


def test_the_digest_is_in_the_readers_language_or_the_plants(world: Plant, smtp_sink: Sink) -> None:
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    world.alert(world.pump_b, "P-201-V", plant(3, 5))
    wants_digest(world, world.engineer_a, Topic.ALARM, language="en")
    wants_digest(world, world.engineer_b, Topic.ALARM)  # no language: the plant's (zh_CN)

    run(world.session)

    english = Sink.body(smtp_sink.to("eng_a@plant.example")[0])
    chinese = Sink.body(smtp_sink.to("eng_b@plant.example")[0])
    assert "Condition alarms" in english
    assert "测点报警" not in english
    assert "测点报警" in chinese
    assert "Condition alarms" not in chinese
    assert "Point P-101-V: Alarm" in english  # the items' own wording follows too
    assert "测点 P-201-V：报警" in chinese


def test_each_topic_lists_the_newest_items_up_to_the_limit_and_counts_the_rest(
    world: Plant, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "digest_max_items", 2)
    for day in (1, 2, 3):
        world.alert(world.pump_a, f"P-101-V{day}", plant(3, day))
    world.order(world.pump_a, assignee_id=world.engineer_a.id)
    wants_digest(world, world.engineer_a, Topic.ALARM, Topic.ASSIGNED, language="en")

    run(world.session)

    text = Sink.body(smtp_sink.messages[0])
    assert "P-101-V3" in text
    assert "P-101-V2" in text
    assert "P-101-V1" not in text
    assert f"… and 1 more: {BASE}/notifications?topic=alarm" in text
    assert text.index("Condition alarms") < text.index("Orders assigned to me")  # the topics' order
    assert "4 unread" in smtp_sink.messages[0]["Subject"]
    assert claims(world.session)[0][3] == 4  # three alarms and the order


def test_the_command_sends_reports_and_is_idempotent(
    world: Plant, smtp_sink: Sink, cli_in_test_session: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("maintenance.db.utcnow", lambda: NOW)
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    wants_digest(world, world.engineer_a, Topic.ALARM)
    wants_digest(world, world.engineer_b, Topic.ALARM)

    dry = cli_in_test_session.invoke(cli.app, ["notify", "digest", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "digest for 2026-03-10: 1 would be sent, 1 skipped, 0 failed" in dry.output
    assert "to: eng_a" in dry.output
    assert smtp_sink.messages == []
    assert claims(world.session) == []

    result = cli_in_test_session.invoke(cli.app, ["notify", "digest"])
    assert result.exit_code == 0, result.output
    assert "digest for 2026-03-10: 1 sent, 1 skipped, 0 failed" in result.output
    again = cli_in_test_session.invoke(cli.app, ["notify", "digest"])
    assert "0 sent, 2 skipped, 0 failed" in again.output
    assert len(smtp_sink.messages) == 1


def test_the_command_reports_failures_and_exits_1(
    world: Plant, smtp_down: None, cli_in_test_session: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("maintenance.db.utcnow", lambda: NOW)
    monkeypatch.setattr(get_settings(), "language", "en")  # the failures are worded in the plant's language
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    wants_digest(world, world.engineer_a, Topic.ALARM)

    result = cli_in_test_session.invoke(cli.app, ["notify", "digest"])
    assert result.exit_code == 1
    assert "0 sent, 0 skipped, 1 failed" in result.output
    assert "failed: eng_a: " in result.output
    assert "cannot be reached" in result.output
    assert claims(world.session) == []


def test_the_command_refuses_when_email_is_off(cli_in_test_session: CliRunner) -> None:
    assert not get_settings().mail_enabled
    result = cli_in_test_session.invoke(cli.app, ["notify", "digest"])
    assert result.exit_code == 1
    assert "e-mail is off" in result.output


def test_the_scheduler_sends_once_a_plant_day_after_the_digest_hour(
    smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "digest_hour", 7)
    seven = plant(3, 10, 7)
    assert cli._digest_due(seven - timedelta(minutes=1), None) is None  # 06:59 at the plant
    assert cli._digest_due(seven, None) == date(2026, 3, 10)
    assert cli._digest_due(plant(3, 10, 23), date(2026, 3, 10)) is None  # done today
    assert cli._digest_due(plant(3, 11, 8), date(2026, 3, 10)) == date(2026, 3, 11)
    monkeypatch.setattr(get_settings(), "smtp_host", None)
    assert cli._digest_due(seven, None) is None  # e-mail off


def test_the_scheduler_loop_retries_a_day_with_failures_at_its_next_pass(
    world: Plant, smtp_sink: Sink, cli_in_test_session: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    monkeypatch.setattr("maintenance.db.utcnow", lambda: NOW)  # 09:00 at the plant, after the hour
    world.alert(world.pump_a, "P-101-V", plant(3, 5))
    wants_digest(world, world.engineer_a, Topic.ALARM)
    logger = logging.getLogger("test-scheduler")
    settings = get_settings()
    port = settings.smtp_port

    monkeypatch.setattr(settings, "smtp_port", free_port())
    assert cli._scheduled_digest(logger, None) is None  # failed: not done for the day
    assert claims(world.session) == []

    monkeypatch.setattr(settings, "smtp_port", port)
    assert cli._scheduled_digest(logger, None) == date(2026, 3, 10)
    assert cli._scheduled_digest(logger, date(2026, 3, 10)) == date(2026, 3, 10)  # not run again
    assert len(smtp_sink.messages) == 1


def test_the_mail_settings_are_checked_when_read() -> None:
    from pydantic import ValidationError

    from maintenance.config import Settings

    key = "x" * 40
    assert not Settings(secret_key=key).mail_enabled  # no host: e-mail off
    with pytest.raises(ValidationError, match="needs MAINTENANCE_SMTP_FROM"):
        Settings(secret_key=key, smtp_host="mail.plant.example")
    with pytest.raises(ValidationError, match="must be an e-mail address"):
        Settings(secret_key=key, smtp_host="mail.plant.example", smtp_from="maintenance")
    with pytest.raises(ValidationError, match="must start with http"):
        Settings(secret_key=key, base_url="maintenance.plant.example")
    settings = Settings(
        secret_key=key,
        smtp_host="mail.plant.example",
        smtp_from="maintenance@plant.example",
        base_url="https://maintenance.plant.example/",
    )
    assert settings.mail_enabled
    assert (settings.smtp_port, settings.digest_hour, settings.base_url) == (25, 7, BASE)
