"""The asset registry's rules: validation, versions for as-of reading, status cascade,
optimistic locking and the change log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlmodel import Session

from maintenance.assets import service
from maintenance.assets.choices import AssetStatus
from maintenance.assets.filters import AssetFilters
from maintenance.assets.models import AssetCreate, AssetUpdate, AssetVersion
from maintenance.audit.models import ObjectChange
from maintenance.db import plant_today
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.org.models import Unit, Workshop
from tests import factories
from tests.assets.conftest import ACTOR, MakeAsset


def _fields(error: ValidationFailed) -> set[str]:
    return {e.field for e in error.errors}


def _edit(asset, **changes) -> AssetUpdate:  # type: ignore[no-untyped-def]
    return AssetUpdate.model_validate(asset.model_dump() | changes)


def test_tag_is_unique_within_a_site(make_asset: MakeAsset) -> None:
    make_asset(tag="P-101")
    with pytest.raises(ValidationFailed) as refused:
        make_asset(tag="P-101")
    assert _fields(refused.value) == {"tag"}


def test_the_same_tag_may_exist_in_another_site(make_asset: MakeAsset, session: Session) -> None:
    here = make_asset(tag="P-101")
    other_site_workshop = factories.WorkshopFactory()
    assert other_site_workshop.site_id != here.site_id
    there = make_asset(tag="P-101", workshop_id=other_site_workshop.id)
    assert there.id != here.id
    assert there.site_id == other_site_workshop.site_id
    assert service.get_asset_by_tag(session, "P-101", site_id=here.site_id) == here
    assert service.get_asset_by_tag(session, "P-101", site_id=there.site_id) == there


def test_dates_cannot_be_in_the_future(make_asset: MakeAsset) -> None:
    with pytest.raises(ValidationFailed) as refused:
        make_asset(commission_date=plant_today() + timedelta(days=1))
    assert _fields(refused.value) == {"commission_date"}


def test_values_cannot_be_negative(workshop: Workshop) -> None:
    with pytest.raises(ValueError, match="original_value_cny"):
        AssetCreate(tag="X", name="x", asset_class="PU", workshop_id=workshop.id, original_value_cny=Decimal("-1"))


def test_a_useful_life_is_at_least_one_year(make_asset: MakeAsset, session: Session) -> None:
    with pytest.raises(ValidationFailed) as refused:
        make_asset(useful_life_years=0)
    assert _fields(refused.value) == {"useful_life_years"}
    pump = make_asset(useful_life_years=1)
    with pytest.raises(ValidationFailed) as refused:
        service.update_asset(session, pump, _edit(pump, useful_life_years=0), actor=ACTOR)
    assert _fields(refused.value) == {"useful_life_years"}


def test_unit_must_belong_to_the_workshop(make_asset: MakeAsset, session: Session) -> None:
    foreign_unit = factories.UnitFactory()
    with pytest.raises(ValidationFailed) as refused:
        make_asset(unit_id=foreign_unit.id)
    assert _fields(refused.value) == {"unit_id"}


def test_an_asset_cannot_become_a_component_of_its_own_component(make_asset: MakeAsset, session: Session) -> None:
    pump = make_asset(tag="P-1")
    motor = make_asset(tag="PM-1", parent_id=pump.id)
    with pytest.raises(ValidationFailed) as refused:
        service.update_asset(session, pump, _edit(pump, parent_id=motor.id), actor=ACTOR)
    assert _fields(refused.value) == {"parent_id"}


def test_creating_records_the_first_version_and_a_change_log_row(make_asset: MakeAsset, session: Session) -> None:
    asset = make_asset(name="循环水泵")
    versions = service.versions_of(session, asset)
    assert [(v.version, v.valid_to) for v in versions] == [(1, None)]
    log = session.scalars(select(ObjectChange).where(ObjectChange.object_type == "asset")).all()
    assert [c.action.value for c in log] == ["create"]
    assert asset.name_initials == "xhsb"


def test_each_edit_closes_the_open_version_and_opens_a_new_one(
    make_asset: MakeAsset, session: Session, unit: Unit
) -> None:
    asset = make_asset()
    service.update_asset(session, asset, _edit(asset, unit_id=unit.id), actor=ACTOR)
    versions = service.versions_of(session, asset)
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].valid_to is None
    assert versions[1].valid_to == versions[0].valid_from
    assert versions[0].unit_id == unit.id
    assert versions[1].unit_id is None


def test_saving_without_changes_writes_no_version(make_asset: MakeAsset, session: Session) -> None:
    asset = make_asset()
    service.update_asset(session, asset, _edit(asset), actor=ACTOR)
    assert asset.version == 1
    assert len(service.versions_of(session, asset)) == 1


def test_a_stale_edit_is_a_conflict_and_changes_nothing(make_asset: MakeAsset, session: Session) -> None:
    asset = make_asset(name="旧名")
    stale = _edit(asset, name="张工的改动")
    service.update_asset(session, asset, _edit(asset, name="李工的改动"), actor=ACTOR)
    with pytest.raises(Conflict):
        service.update_asset(session, asset, stale, actor=ACTOR)
    assert asset.name == "李工的改动"


def test_as_of_reads_the_registry_as_it_stood_at_the_end_of_that_day(
    make_asset: MakeAsset, session: Session, unit: Unit
) -> None:
    long_ago = datetime(2024, 6, 1, tzinfo=UTC)
    asset = make_asset(at=long_ago, status=AssetStatus.IN_SERVICE)
    make_asset(at=datetime(2025, 3, 1, tzinfo=UTC))  # did not exist at the end of 2024
    service.update_asset(session, asset, _edit(asset, unit_id=unit.id, status=AssetStatus.STANDBY), actor=ACTOR)

    year_end = session.scalars(service.list_assets(AssetFilters(as_of=date(2024, 12, 31)))).all()
    assert [(v.asset_id, v.status, v.unit_id) for v in year_end] == [(asset.id, AssetStatus.IN_SERVICE, None)]
    now = session.scalars(service.list_assets(AssetFilters())).all()
    assert len(now) == 2


def test_as_of_uses_the_plant_day(make_asset: MakeAsset, session: Session) -> None:
    # 2024-12-31 16:30 UTC is already 2025-01-01 00:30 in Shanghai: not part of 2024's registry.
    make_asset(at=datetime(2024, 12, 31, 16, 30, tzinfo=UTC))
    assert session.scalars(service.list_assets(AssetFilters(as_of=date(2024, 12, 31)))).all() == []
    assert len(session.scalars(service.list_assets(AssetFilters(as_of=date(2025, 1, 1)))).all()) == 1


def test_status_change_cascades_to_components_when_asked(make_asset: MakeAsset, session: Session) -> None:
    pump = make_asset(tag="P-1")
    motor = make_asset(tag="PM-1", parent_id=pump.id)
    coupling = make_asset(tag="PM-1-C", parent_id=motor.id)
    service.set_status(session, pump, AssetStatus.UNDER_REPAIR, actor=ACTOR, cascade=True)
    assert (motor.status, coupling.status) == (AssetStatus.UNDER_REPAIR, AssetStatus.UNDER_REPAIR)


def test_status_change_leaves_components_alone_when_not_asked(make_asset: MakeAsset, session: Session) -> None:
    pump = make_asset(tag="P-1")
    motor = make_asset(tag="PM-1", parent_id=pump.id)
    service.set_status(session, pump, AssetStatus.IDLE, actor=ACTOR, cascade=False)
    assert motor.status == AssetStatus.IN_SERVICE


def test_retiring_needs_a_reason_and_keeps_the_asset(make_asset: MakeAsset, session: Session) -> None:
    asset = make_asset()
    with pytest.raises(ValidationFailed):
        service.set_status(session, asset, AssetStatus.RETIRED, actor=ACTOR, cascade=False, retired_date=plant_today())
    service.set_status(
        session,
        asset,
        AssetStatus.RETIRED,
        actor=ACTOR,
        cascade=False,
        retired_date=plant_today(),
        retire_reason="腐蚀严重",
    )
    assert asset.status == AssetStatus.RETIRED
    assert (
        session.scalar(
            select(AssetVersion.retire_reason).where(AssetVersion.valid_to.is_(None), AssetVersion.asset_id == asset.id)
        )
        == "腐蚀严重"
    )  # type: ignore[union-attr]


@pytest.mark.parametrize("query", ["xhsb", "循环", "P-77", "GD-2020"])
def test_search_finds_tag_name_pinyin_initials_and_fixed_asset_number(
    make_asset: MakeAsset, session: Session, query: str
) -> None:
    make_asset(tag="P-7701", name="循环水泵", fixed_asset_number="GD-2020-001")
    make_asset(tag="E-1", name="换热器", fixed_asset_number="GD-2019-002")
    found = session.scalars(service.list_assets(AssetFilters(q=query))).all()
    assert [a.tag for a in found] == ["P-7701"]
