"""The one clock (design.md §2): every "now" and "today" comes from ``maintenance.db``, and
``MAINTENANCE_CLOCK_START`` starts it on a chosen instant, so the demo and the suite can be run
on a year end or a leap day. CI runs the suite again at such instants (``make test-dates``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from maintenance.config import Settings, get_settings
from maintenance.db import plant_now, plant_today, utcnow


@pytest.fixture
def clock_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The clock started at the first minute of 29 Feb 2028 at the plant (UTC+8)."""
    monkeypatch.setenv("MAINTENANCE_CLOCK_START", "2028-02-29T00:00:00+08:00")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("MAINTENANCE_CLOCK_START")
    get_settings.cache_clear()


def test_a_started_clock_gives_its_day_at_the_plant_and_runs_on(clock_at: None) -> None:
    start = datetime(2028, 2, 28, 16, 0, tzinfo=UTC)  # midnight of 29 Feb at the plant
    first = utcnow()
    assert start <= first < start + timedelta(hours=12)  # plus however long this process has run
    assert plant_today() == date(2028, 2, 29)  # not 28 Feb, as the UTC date would say
    assert plant_now().utcoffset() == timedelta(hours=8)
    assert utcnow() >= first


def test_without_a_start_the_clock_is_the_real_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAINTENANCE_CLOCK_START", raising=False)  # CI runs the suite with one too
    get_settings.cache_clear()
    try:
        before = datetime.now(UTC)
        assert before <= utcnow() <= datetime.now(UTC)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_clock_start_needs_an_offset_and_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="offset"):
        Settings(clock_start=datetime(2027, 1, 1), secret_key="x" * 40)  # noqa: DTZ001 (the mistake under test)
    with pytest.raises(ValidationError, match="refused in prod"):
        Settings(clock_start=datetime(2027, 1, 1, tzinfo=UTC), environment="prod", secret_key="x" * 40)
