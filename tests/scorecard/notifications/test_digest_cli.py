"""``maintenance notify digest`` and ``maintenance scheduler --once`` as an operator runs them: a
process of their own on a migrated database file (every user's digest committed for real), at
09:00 on 10 March 2026 plant time (MAINTENANCE_CLOCK_START), mailing a local SMTP sink."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from maintenance.db import build_engine
from maintenance.scorecard.notifications import service
from maintenance.scorecard.notifications.choices import Topic
from tests import factories
from tests.conftest import migrate
from tests.mail_sink import Sink, free_port, start_sink
from tests.scorecard.notifications.conftest import NOW, build_world, plant

CLI = [sys.executable, "-m", "maintenance.cli"]
SOURCE = Path(__file__).resolve().parents[3] / "src"


@dataclass
class Operator:
    path: Path
    var_dir: Path
    smtp_port: int

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAINTENANCE_")}
        env.update(
            PYTHONPATH=str(SOURCE),
            MAINTENANCE_DATABASE_URL=f"sqlite:///{self.path}",
            MAINTENANCE_VAR_DIR=str(self.var_dir),
            MAINTENANCE_ENVIRONMENT="test",
            MAINTENANCE_SECRET_KEY=secrets.token_urlsafe(32),
            MAINTENANCE_LANGUAGE="en",
            MAINTENANCE_CLOCK_START="2026-03-10T09:00:00+08:00",
            MAINTENANCE_SMTP_HOST="127.0.0.1",
            MAINTENANCE_SMTP_PORT=str(self.smtp_port),
            MAINTENANCE_SMTP_FROM="maintenance@plant.example",
            MAINTENANCE_BASE_URL="https://maintenance.plant.example",
            COLUMNS="200",
        )
        return subprocess.run(
            [*CLI, *args], capture_output=True, text=True, env=env, cwd=self.var_dir.parent, timeout=120
        )

    def digests(self) -> list[tuple[str, str, int]]:
        with closing(sqlite3.connect(self.path)) as connection:
            return connection.execute(
                "SELECT u.username, d.day, d.item_count FROM notification_digest d"
                " JOIN app_user u ON u.id = d.user_id WHERE d.sent_at IS NOT NULL ORDER BY u.username"
            ).fetchall()


@pytest.fixture
def sink() -> Iterator[Sink]:
    sink = Sink()
    controller = start_sink(sink)
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def operator(tmp_path: Path, sink: Sink) -> Operator:
    """A migrated file where engineer A (with an address) chose the alarm digest and a point of
    workshop A is in alarm; engineer B chose it too but workshop B has nothing."""
    path = tmp_path / "maintenance.db"
    engine = migrate(build_engine(f"sqlite:///{path}"))
    with Session(engine, expire_on_commit=False) as session:
        factories.bind(session)
        world = build_world(session)
        world.alert(world.pump_a, "P-101-V", plant(3, 5))
        for user in (world.engineer_a, world.engineer_b):
            user.email = f"{user.username}@plant.example"
            service.save_preferences(session, user, service.allowed_topics(user), NOW, [Topic.ALARM])
        session.commit()
    engine.dispose()
    return Operator(path, tmp_path / "var", sink.port)


def test_notify_digest_sends_once_a_day_and_commits_its_record(operator: Operator, sink: Sink) -> None:
    dry = operator.run("notify", "digest", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "digest for 2026-03-10: 1 would be sent, 1 skipped, 0 failed" in dry.stdout
    assert sink.messages == []
    assert operator.digests() == []

    first = operator.run("notify", "digest")
    assert first.returncode == 0, first.stderr
    assert "digest for 2026-03-10: 1 sent, 1 skipped, 0 failed" in first.stdout
    assert [message["To"] for message in sink.messages] == ["eng_a@plant.example"]
    assert "https://maintenance.plant.example/monitoring/points/" in Sink.body(sink.messages[0])
    assert operator.digests() == [("eng_a", "2026-03-10", 1)]

    # The scheduler's pass (from cron) finds the day's digest sent.
    scheduled = operator.run("scheduler", "--once")
    assert scheduled.returncode == 0, scheduled.stderr
    assert "digest for 2026-03-10: 0 sent, 2 skipped, 0 failed" in scheduled.stdout
    assert len(sink.messages) == 1


def test_notify_digest_with_the_server_down_fails_with_exit_1_and_keeps_no_claim(
    operator: Operator, sink: Sink
) -> None:
    operator.smtp_port = free_port()
    result = operator.run("notify", "digest")
    assert result.returncode == 1
    assert "0 sent, 1 skipped, 1 failed" in result.stdout
    assert f"failed: eng_a: The mail server 127.0.0.1:{operator.smtp_port} cannot be reached" in result.stderr
    assert operator.digests() == []


def test_the_mail_goes_with_the_claim_committed_and_no_transaction_open(operator: Operator, sink: Sink) -> None:
    """While the server takes eng_a's mail: the claim is committed, another process can write
    at once, and a second run at the same time (cron and the scheduler) sends nothing."""
    seen: dict[str, object] = {}

    def while_receiving() -> None:
        with closing(sqlite3.connect(operator.path, timeout=0.5, isolation_level=None)) as connection:
            seen["claims"] = connection.execute("SELECT user_id, sent_at FROM notification_digest").fetchall()
            try:
                connection.execute("BEGIN IMMEDIATE")  # the write lock, as a web request takes it
                connection.execute("ROLLBACK")
                seen["write"] = "free"
            except sqlite3.OperationalError as error:
                seen["write"] = str(error)
        seen["second"] = operator.run("notify", "digest")

    sink.while_receiving = while_receiving
    first = operator.run("notify", "digest")

    assert first.returncode == 0, first.stderr
    assert "digest for 2026-03-10: 1 sent, 1 skipped, 0 failed" in first.stdout
    assert [(sent_at is None) for _user, sent_at in seen["claims"]] == [True]  # type: ignore[attr-defined]
    assert seen["write"] == "free"
    second = seen["second"]
    assert isinstance(second, subprocess.CompletedProcess)
    assert second.returncode == 0, second.stderr
    assert "digest for 2026-03-10: 0 sent, 2 skipped, 0 failed" in second.stdout
    assert len(sink.messages) == 1
    assert operator.digests() == [("eng_a", "2026-03-10", 1)]
