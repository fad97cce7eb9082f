"""Scale-out as production runs it, on the suite's database engine (PostgreSQL in CI's second run):
two ``maintenance scheduler --once`` processes at once on one database make every order and round
once; the app served by ``maintenance serve --workers 2`` takes one of several saves of the same
asset from the same version and answers each of the others with the 409 conflict page."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import date
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.db import build_engine
from maintenance.inspections import rounds
from maintenance.inspections.choices import RouteFrequency
from maintenance.inspections.models import RouteCreate, StopFields
from maintenance.monitoring.models import MeasurementPoint
from maintenance.orders.choices import IntervalUnit
from maintenance.orders.models import PmPlanCreate
from maintenance.orders.pm import service as pm
from tests.crash.conftest import SYSTEM, Plant
from tests.live_server import PROJECT_ROOT

PLANS = 12
CLIENTS = 4
SUMMARY = re.compile(r"│ (orders created|rounds created) +│ +(\d+) │")


def add_plans_and_routes(url: str) -> None:
    """:data:`PLANS` monthly plans on the plant's asset, each due once within 14 days of 1 March
    2026 (on 10 March, with three days' lead), and a route of each frequency over its points."""
    engine = build_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            points = session.scalars(select(MeasurementPoint).order_by(col(MeasurementPoint.id))).all()
            asset_id = points[0].asset_id
            for number in range(PLANS):
                plan = PmPlanCreate.model_validate(
                    {
                        "asset_id": asset_id,
                        "title": f"月度润滑 {number}",
                        "interval": 1,
                        "interval_unit": IntervalUnit.MONTH,
                        "lead_days": 3,
                        "start_date": date(2026, 3, 10),
                    }
                )
                pm.create_plan(session, plan, actor=SYSTEM)
            asset = session.get(Asset, asset_id)
            assert asset is not None
            for frequency in RouteFrequency:
                data = RouteCreate.model_validate(
                    {
                        "code": f"RT-{frequency.value}",
                        "name": "机泵点检",
                        "workshop_id": asset.workshop_id,
                        "frequency": frequency,
                    }
                )
                route = rounds.create_route(session, data, actor=SYSTEM)
                for point in points:
                    rounds.add_stop(session, route, StopFields(point_id=point.id), actor=SYSTEM)
            session.commit()
    finally:
        engine.dispose()


def test_two_schedulers_at_once_make_each_order_and_round_once(plant: Plant) -> None:
    add_plans_and_routes(plant.watch.url)
    command = [sys.executable, "-m", "maintenance.cli", "scheduler", "--once", "--today", "2026-03-01"]
    command += ["--horizon-days", "14"]
    env = plant.server.env | {"COLUMNS": "200", "MAINTENANCE_LANGUAGE": "en"}
    schedulers = [
        subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [scheduler.communicate(timeout=120) for scheduler in schedulers]

    assert [scheduler.returncode for scheduler in schedulers] == [0, 0], outputs
    created: dict[str, int] = {"orders created": 0, "rounds created": 0}
    for stdout, _stderr in outputs:
        for what, count in SUMMARY.findall(stdout):
            created[what] += int(count)
    watch = plant.watch
    assert watch.rows("SELECT count(*), count(DISTINCT pm_plan_id) FROM work_order WHERE order_type = 'PM'") == [
        (PLANS, PLANS)
    ]
    assert watch.rows("SELECT DISTINCT plan_due_date FROM work_order") in ([(date(2026, 3, 10),)], [("2026-03-10",)])
    assert watch.rows("SELECT count(*), count(DISTINCT number) FROM work_order") == [(PLANS, PLANS)]
    # Each route's round of the period running now (two periods if a shift ended in between).
    [(rounds_made, routes)] = watch.rows("SELECT count(*), count(DISTINCT route_id) FROM inspection_round")
    assert routes == len(RouteFrequency)
    assert rounds_made <= 2 * routes
    assert (
        watch.rows(
            "SELECT route_id, period_start FROM inspection_round GROUP BY route_id, period_start HAVING count(*) > 1"
        )
        == []
    )
    # Each was made by one of the two, and the other found it made.
    assert created == {"orders created": PLANS, "rounds created": rounds_made}
    assert watch.audit_chain_ok()


class FormFields(HTMLParser):
    """The values a browser submits for the first form with a ``version`` field."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        name = found.get("name", "")
        if tag == "input" and name and (found.get("type") not in ("checkbox", "radio") or "checked" in found):
            self.values.setdefault(name, found.get("value", ""))
        elif tag == "select":
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in found:
            self.values[self._select] = found.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values.setdefault(name, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def test_of_several_saves_of_one_version_on_two_workers_one_wins_and_the_others_get_409(plant: Plant) -> None:
    server, watch = plant.server, plant.watch
    server.workers = 2
    server.start()
    [(asset_id, version)] = watch.rows("SELECT id, version FROM asset WHERE tag = 'P-1101A'")
    changes_before = watch.scalar("SELECT count(*) FROM object_change WHERE object_type = 'asset'")
    forms = []
    for _ in range(CLIENTS):
        browser, _csrf = plant.sign_in()
        parser = FormFields()
        parser.feed(browser.get(f"/assets/{asset_id}/edit").text)
        assert parser.values["version"] == str(version)
        forms.append((browser, parser.values))
    start = threading.Barrier(CLIENTS)
    answers: dict[int, Any] = {}

    def save(number: int) -> None:
        browser, values = forms[number]
        start.wait(timeout=30)
        try:
            answers[number] = browser.post(f"/assets/{asset_id}/edit", data=values | {"name": f"客户{number}的泵"})
        except Exception as error:  # reported below
            answers[number] = error

    savers = [threading.Thread(target=save, args=(number,)) for number in range(CLIENTS)]
    for saver in savers:
        saver.start()
    for saver in savers:
        saver.join(timeout=60)

    statuses = {number: getattr(answer, "status_code", answer) for number, answer in answers.items()}
    winners = [number for number, status in statuses.items() if status == 303]
    assert len(winners) == 1, statuses
    assert sorted(statuses.values()) == [303] + [409] * (CLIENTS - 1)
    for number, answer in answers.items():
        if number not in winners:
            assert 'data-testid="conflict"' in answer.text
    assert watch.rows("SELECT name, version FROM asset WHERE id = :id", id=asset_id) == [
        (f"客户{winners[0]}的泵", version + 1)
    ]
    assert watch.scalar("SELECT count(*) FROM object_change WHERE object_type = 'asset'") == changes_before + 1
    # The supervisor started two worker processes.
    assert len(set(re.findall(r"Started server process \[(\d+)\]", "\n".join(server.output.lines)))) == 2
