"""A small plant for the list pages' tests, hand-computed on 2026-03-01: three safety valves
(one yearly calibration each, SV-CALIBRATION) in two workshops.

- SV-OK (workshop A, registered 容SV0001): calibrated 2025-09-10 → due 2026-09-10, ok;
- SV-SOON (workshop A): calibrated 2025-03-21 → due 2026-03-21 (in 20 days), applied for on
  2026-02-10 → due soon;
- SV-LATE (workshop B): calibrated 2025-01-15 → due 2026-01-15 → overdue (must not operate).

Coverage: 2 of 3 (66.67%); workshop A 2 of 2 (100.00%), workshop B 0 of 1 (0.00%).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlmodel import Session

from maintenance.assets.choices import AssetClass, SpecialCategory
from maintenance.assets.models import Asset
from maintenance.org.models import Workshop
from maintenance.special.models import Registration
from tests import factories
from tests.special.conftest import Apply, MakeItem, Report

AS_OF = date(2026, 3, 1)


@dataclass
class Plant:
    workshop_a: Workshop
    workshop_b: Workshop
    ok: Asset
    soon: Asset
    late: Asset


@pytest.fixture(name="plant")
def plant_fixture(session: Session, workshop: Workshop, make_item: MakeItem, report: Report, apply: Apply) -> Plant:
    other = factories.WorkshopFactory(code="ZZ-B")  # sorts after workshop A ("W…")

    def valve(tag: str, **fields: object) -> Asset:
        return make_item(
            tag=tag,
            name=f"安全阀 {tag}",
            asset_class=AssetClass.VALVE,
            special_category=SpecialCategory.SAFETY_VALVE,
            **fields,
        )

    ok, soon, late = valve("SV-OK"), valve("SV-SOON"), valve("SV-LATE", workshop_id=other.id)
    report(ok, "SV-CALIBRATION", date(2025, 9, 10))
    report(soon, "SV-CALIBRATION", date(2025, 3, 21))
    apply(soon, "SV-CALIBRATION", date(2026, 3, 21), date(2026, 2, 10))
    report(late, "SV-CALIBRATION", date(2025, 1, 15))
    session.add(
        Registration(
            asset_id=ok.id,
            certificate_number="容SV0001",
            registration_date=date(2022, 7, 1),
            authority="市场监管局",
            sub_category="弹簧式",
        )
    )
    session.flush()
    return Plant(workshop, other, ok, soon, late)


def more_valves(make_item: MakeItem, report: Report, count: int) -> None:
    """``count`` more valves in date, for the fixed-query-count checks."""
    for number in range(count):
        asset = make_item(
            tag=f"SV-X{number}", asset_class=AssetClass.VALVE, special_category=SpecialCategory.SAFETY_VALVE
        )
        report(asset, "SV-CALIBRATION", date(2025, 10, 1))
