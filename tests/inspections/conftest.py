"""Rounds walk monitoring's measurement points and campaigns ask workshops about their assets: the
workshop, asset, people and point fixtures are monitoring's (tests/monitoring/conftest.py), taken by
name so both suites make them one way. Each round test module defines its own ``route`` (daily or
per shift); its stops are made here."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.inspections import rounds
from maintenance.inspections.models import InspectionRoute, RouteStop, StopFields
from maintenance.monitoring.models import MeasurementPoint
from tests.monitoring import conftest as monitoring
from tests.monitoring.conftest import SYSTEM, MakePoint

# Monitoring's fixtures, registered in this folder under their own names.
workshop = monitoring.workshop
asset = monitoring.asset
workshop_engineer = monitoring.workshop_engineer
manager = monitoring.manager
auditor = monitoring.auditor
make_point = monitoring.make_point


@pytest.fixture
def point(make_point: MakePoint) -> MeasurementPoint:
    """A vibration point on ``asset``: warning 4.5, alarm 7.1 mm/s."""
    return make_point(code="P-1-DE-V")


@pytest.fixture
def stops(session: Session, route: InspectionRoute, point: MeasurementPoint, asset: Asset) -> list[RouteStop]:
    """The module's ``route``: a reading of ``point``, then a seal check on the same pump."""
    return [
        rounds.add_stop(session, route, StopFields(point_id=point.id), actor=SYSTEM),
        rounds.add_stop(session, route, StopFields(asset_id=asset.id, check_text="机封无泄漏"), actor=SYSTEM),
    ]
