"""The trend chart reads on the plant's wall clock whatever the viewer's browser clock is."""

from __future__ import annotations

from datetime import UTC, datetime

from maintenance.monitoring.charts import trend_option
from maintenance.monitoring.choices import Quantity
from maintenance.monitoring.models import MeasurementPoint
from maintenance.monitoring.rules import Limits

AFTER_PLANT_MIDNIGHT = datetime(2026, 12, 3, 16, 37, tzinfo=UTC)  # 2026-12-04 00:37 at the plant (UTC+8)


def test_reading_times_are_plant_wall_clock_times_drawn_as_utc() -> None:
    point = MeasurementPoint(code="P-1", name="驱动端振动", unit="mm/s", quantity=Quantity.VIBRATION, asset_id=1)

    option = trend_option(point, [(AFTER_PLANT_MIDNIGHT, 3.1)], Limits())

    # ECharts formats times in UTC (not the browser's zone), and the value is 00:37 on 4 Dec.
    assert option["useUTC"] is True
    [[x, y]] = option["series"][0]["data"]
    assert datetime.fromtimestamp(x / 1000, UTC) == datetime(2026, 12, 4, 0, 37, tzinfo=UTC)
    assert y == 3.1
