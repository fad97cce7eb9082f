"""Assets are created through the service, as users create them: validated, versioned, logged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from sqlmodel import Session

from maintenance.assets import service
from maintenance.assets.choices import AssetClass
from maintenance.assets.models import Asset, AssetCreate
from maintenance.audit.service import SystemActor
from maintenance.org.models import Unit, Workshop
from tests import factories

ACTOR = SystemActor(username="test")
_tags = count(1)

MakeAsset = Callable[..., Asset]


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory()


@pytest.fixture
def unit(session: Session, workshop: Workshop) -> Unit:
    return factories.UnitFactory(workshop_id=workshop.id)


@pytest.fixture
def make_asset(session: Session, workshop: Workshop) -> MakeAsset:
    """``make_asset(name="循环水泵", at=datetime(...), ...)``: any AssetCreate field may be given."""

    def make(*, at: datetime | None = None, **fields: Any) -> Asset:
        data: dict[str, Any] = {
            "tag": f"P-{next(_tags):04d}",
            "name": "离心泵",
            "asset_class": AssetClass.PUMP,
            "workshop_id": workshop.id,
            "original_value_cny": Decimal("120000.00"),
        }
        data.update(fields)
        return service.create_asset(session, AssetCreate.model_validate(data), actor=ACTOR, at=at)

    return make
