"""``maintenance scheduler --once`` as cron runs it: a separate process on a SQLite file of its
own, a summary on stdout, exit code 0, and the same orders however often it runs."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from maintenance.audit.service import SystemActor
from maintenance.db import build_engine
from maintenance.orders.choices import IntervalUnit, PlanBasis
from maintenance.orders.models import PmPlanCreate
from maintenance.orders.pm import service as pm
from maintenance.org.permissions import EVERY_CAPABILITY
from tests import factories
from tests.conftest import migrate

CLI = [sys.executable, "-m", "maintenance.cli"]


def one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Plant:
    path: Path
    var_dir: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        # The CLI gets its own settings, but runs on the suite's clock (MAINTENANCE_CLOCK_START).
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAINTENANCE_")}
        env.update({key: value for key, value in os.environ.items() if key == "MAINTENANCE_CLOCK_START"})
        env.update(
            MAINTENANCE_DATABASE_URL=f"sqlite:///{self.path}",
            MAINTENANCE_VAR_DIR=str(self.var_dir),
            MAINTENANCE_ENVIRONMENT="test",
            MAINTENANCE_SECRET_KEY=secrets.token_urlsafe(32),
            MAINTENANCE_LANGUAGE="en",
            COLUMNS="200",
        )
        return subprocess.run(
            [*CLI, *args], capture_output=True, text=True, env=env, cwd=self.var_dir.parent, timeout=120
        )

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.path)) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture
def plant(tmp_path: Path) -> Plant:
    """A migrated file with one asset and two plans: monthly fixed from 2026-03-10, and floating
    from 2026-03-05 (lead 3 days), committed as an operator's database would be."""
    path = tmp_path / "maintenance.db"
    engine = migrate(build_engine(f"sqlite:///{path}"))
    with Session(engine, expire_on_commit=False) as session:
        factories.bind(session)
        asset = factories.AssetFactory(tag="P-1101A")
        actor = SystemActor(username="test", capabilities=EVERY_CAPABILITY)
        common = {"asset_id": asset.id, "interval": 1, "interval_unit": IntervalUnit.MONTH, "lead_days": 3}
        pm.create_plan(
            session,
            PmPlanCreate.model_validate({**common, "title": "月度润滑", "start_date": date(2026, 3, 10)}),
            actor=actor,
        )
        pm.create_plan(
            session,
            PmPlanCreate.model_validate(
                {**common, "title": "密封冲洗", "basis": PlanBasis.FLOATING, "start_date": date(2026, 3, 5)}
            ),
            actor=actor,
        )
        session.commit()
    engine.dispose()
    return Plant(path, tmp_path / "var")


def test_scheduler_once_raises_the_due_orders_and_prints_a_summary(plant: Plant) -> None:
    result = plant.run("scheduler", "--once", "--today", "2026-03-01", "--horizon-days", "14")

    assert result.returncode == 0, result.stderr
    output = one_line(result.stdout)
    assert "PM scheduler: 2026-03-01, horizon 14 days" in output
    assert "│ plans checked │ 2 │" in output
    assert "│ orders created │ 2 │" in output
    assert "│ skipped as existing │ 0 │" in output
    assert sorted(plant.rows("SELECT plan_due_date, order_type, state FROM work_order")) == [
        ("2026-03-05", "PM", "approved"),
        ("2026-03-10", "PM", "approved"),
    ]
    [(number,)] = plant.rows("SELECT number FROM work_order WHERE plan_due_date = '2026-03-10'")
    assert number in output
    [(actor,)] = plant.rows("SELECT DISTINCT actor_name FROM object_change WHERE object_type = 'work_order'")
    assert actor == "cli:scheduler"


def test_scheduler_once_a_second_time_creates_nothing_more(plant: Plant) -> None:
    first = plant.run("scheduler", "--once", "--today", "2026-03-01", "--horizon-days", "14")
    assert first.returncode == 0, first.stderr
    orders = plant.rows("SELECT id, number, pm_plan_id, plan_due_date FROM work_order ORDER BY id")

    second = plant.run("scheduler", "--once", "--today", "2026-03-01", "--horizon-days", "14")

    assert second.returncode == 0, second.stderr
    assert plant.rows("SELECT id, number, pm_plan_id, plan_due_date FROM work_order ORDER BY id") == orders
    output = one_line(second.stdout)
    assert "│ orders created │ 0 │" in output
    assert "│ skipped as existing │ 1 │" in output  # the fixed plan's 10 March
    assert "│ waiting for an open order │ 1 │" in output  # the floating plan's 5 March is open


def test_scheduler_refuses_a_malformed_date_and_writes_nothing(plant: Plant) -> None:
    result = plant.run("scheduler", "--once", "--today", "1 March")

    assert result.returncode == 1
    assert "--today must be a date as YYYY-MM-DD" in one_line(result.stderr)
    assert plant.rows("SELECT count(*) FROM work_order") == [(0,)]
