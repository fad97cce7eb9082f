"""A short load test: engineers walking rounds and managers reading their pages, all at once,
against a live server (``tests/live_server.py``) on the test engine (SQLite, or PostgreSQL when
``MAINTENANCE_TEST_DATABASE_URL`` names it).

It runs the benchmark's own load (``bench/bench_load.py``: the same plant, the same simulated
users and requests), smaller and shorter, and checks answers, never times: no request fails
(no 5xx, no transport error or timeout, no unexpected 4xx) and every round entry the server
acknowledged is stored exactly once, with what was sent, and nothing else was stored.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.bench_load import ENGINEER_PREFIX, Entry, Recorder, run_load
from tests.live_server import live_database, run_python, server_env, serving

ENGINEERS = 10
MANAGERS = 2
SECONDS = 8
STOPS = 12  # one route each: about what an engineer enters in the time


def _problems(*recorders: Recorder) -> list[str]:
    return [example for recorder in recorders for example in recorder.error_examples]


def _stored(database_url: str) -> tuple[list[Entry], list[tuple[int, float]]]:
    """The round entries of the simulated engineers' routes and the readings of their points
    (point id, value), as stored."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT e.round_id, e.stop_id, e.value, e.result FROM round_entry e"
                    " JOIN route_stop s ON s.id = e.stop_id JOIN inspection_route r ON r.id = s.route_id"
                    " WHERE r.code LIKE 'LOAD-%'"
                )
            ).all()
            readings = connection.execute(
                text(
                    "SELECT g.point_id, g.value FROM reading g JOIN measurement_point p ON p.id = g.point_id"
                    " WHERE p.code LIKE 'LOAD-%'"
                )
            ).all()
    finally:
        engine.dispose()
    return [Entry(*row) for row in rows], [(point_id, value) for point_id, value in readings]


def test_engineers_and_managers_at_once_meet_no_error_and_every_saved_entry_is_stored_once(tmp_path: Path) -> None:
    with live_database(tmp_path) as database_url:
        env = server_env(tmp_path, database_url)
        sizes = ["--engineers", str(ENGINEERS), "--managers", str(MANAGERS), "--routes", "1", "--stops", str(STOPS)]
        plant = json.loads(run_python(env, "bench.bench_load", "seed", *sizes).strip().splitlines()[-1])
        with serving(env, tmp_path) as url:
            loaded, logins = run_load(url, plant["engineers"], plant["managers"], SECONDS)
        stored, readings = _stored(database_url)

    assert sorted(plant["engineers"]) == [f"{ENGINEER_PREFIX}{n:03d}" for n in range(1, ENGINEERS + 1)]
    assert len(logins.times["POST /login"]) == ENGINEERS + MANAGERS
    assert not _problems(logins, loaded), "\n".join(_problems(logins, loaded))
    assert not loaded.errors
    assert loaded.times["POST stop"], "the engineers entered stops"
    assert loaded.times["GET /budget"], "the managers read their pages"
    assert len(set(loaded.acknowledged)) == len(loaded.acknowledged), "each stop was sent once"
    assert sorted(stored, key=_key) == sorted(loaded.acknowledged, key=_key)
    values = sorted(entry.value for entry in loaded.acknowledged if entry.value is not None)
    assert len({point_id for point_id, _value in readings}) == len(readings), "one reading per point"
    assert sorted(value for _point_id, value in readings) == values


def _key(entry: Entry) -> tuple[int, int]:
    return entry.round_id, entry.stop_id
