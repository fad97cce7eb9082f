"""The demo plant's asset registry: ~300 assets of 华东化工 with a few years of history."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import pairwise

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from maintenance.assets import service
from maintenance.assets.choices import AssetStatus, SpecialCategory
from maintenance.assets.filters import AssetFilters
from maintenance.assets.models import Asset, AssetVersion
from maintenance.audit.service import verify_chain
from maintenance.config import get_settings
from maintenance.db import utcnow
from maintenance.demo import assets as assets_demo
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.org.models import Unit, User, Workshop

SEED_DIR = get_settings().seed_dir
YEAR_END_2024 = date(2024, 12, 31)


@pytest.fixture(scope="module")
def demo_plant(engine: Engine) -> Iterator[Session]:
    """The demo plant's org and registry (not the later domains' parts: their own tests load them),
    loaded once for the module into a transaction rolled back at the end, like conftest's
    ``session``. Tests that change it do so in a savepoint of their own."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    for name, part in PARTS:
        if name in ("org", "assets"):
            part.load(session, SEED_DIR, SEED_ACTOR, utcnow())
    yield session
    session.close()
    outer.rollback()
    connection.close()


def _assets(session: Session, filters: AssetFilters) -> list[Asset]:
    return list(session.scalars(service.list_assets(filters)))


def test_the_registry_part_knows_it_is_loaded(demo_plant: Session) -> None:
    assert assets_demo.is_loaded(demo_plant, SEED_DIR)


def test_about_300_assets_a_third_special_equipment(demo_plant: Session) -> None:
    assets = _assets(demo_plant, AssetFilters())
    assert 280 <= len(assets) <= 350
    special = [asset for asset in assets if asset.special_category != SpecialCategory.NONE]
    assert 0.25 <= len(special) / len(assets) <= 0.45
    categories = Counter(asset.special_category for asset in special)
    for category in SpecialCategory:
        if category not in (SpecialCategory.NONE, SpecialCategory.GAS_CYLINDER):
            assert categories[category] > 0, category
    registered = [a for a in special if a.special_category != SpecialCategory.SAFETY_VALVE]
    assert all(asset.registration_number for asset in registered)


def test_every_workshop_has_assets_and_components_hang_on_their_parents(demo_plant: Session) -> None:
    assets = _assets(demo_plant, AssetFilters())
    workshops = demo_plant.scalars(select(Workshop)).all()
    per_workshop: Counter[int | None] = Counter(asset.workshop_id for asset in assets)
    assert {workshop.code for workshop in workshops} == {"SYN", "DIS", "UTL", "PWR", "TNK", "PKG"}
    assert all(per_workshop[workshop.id] >= 20 for workshop in workshops)
    units = {unit.id: unit for unit in demo_plant.scalars(select(Unit))}
    assert all(units[asset.unit_id].workshop_id == asset.workshop_id for asset in assets if asset.unit_id)

    pump = service.get_asset_by_tag(demo_plant, "P-1101A")
    assert pump is not None
    assert [motor.tag for motor in service.components_of(demo_plant, pump)] == ["PM-1101A"]
    vessel = service.get_asset_by_tag(demo_plant, "V-1105")
    assert vessel is not None
    valves = service.components_of(demo_plant, vessel)
    assert [valve.special_category for valve in valves] == [SpecialCategory.SAFETY_VALVE]
    assert sum(asset.parent_id is not None for asset in assets) >= 60


def test_statuses_include_standby_pumps_repairs_and_retirements(demo_plant: Session) -> None:
    statuses = Counter(asset.status for asset in _assets(demo_plant, AssetFilters()))
    assert statuses[AssetStatus.IN_SERVICE] > statuses[AssetStatus.STANDBY] > 20
    assert statuses[AssetStatus.UNDER_REPAIR] >= 1
    assert statuses[AssetStatus.IDLE] >= 1
    assert 2 <= statuses[AssetStatus.RETIRED] <= 5
    retired = _assets(demo_plant, AssetFilters(status=AssetStatus.RETIRED))
    assert all(asset.retired_date and asset.retire_reason for asset in retired)


def test_the_change_log_chain_verifies(demo_plant: Session) -> None:
    report = verify_chain(demo_plant)
    assert report.ok, report.problems()
    assert report.checked > 300


def test_history_is_in_order_and_starts_at_commissioning(demo_plant: Session) -> None:
    ordered = select(AssetVersion).order_by(col(AssetVersion.asset_id), col(AssetVersion.valid_from))
    versions = demo_plant.scalars(ordered).all()
    by_asset: dict[int, list[AssetVersion]] = {}
    for version in versions:
        by_asset.setdefault(version.asset_id, []).append(version)
    for chain in by_asset.values():
        assert chain[-1].valid_to is None
        assert all(older.valid_to == newer.valid_from for older, newer in pairwise(chain))
    assert sum(len(chain) > 1 for chain in by_asset.values()) >= 15


def test_year_end_2024_shows_the_plant_as_it_was(demo_plant: Session) -> None:
    today = _assets(demo_plant, AssetFilters())
    then = _assets(demo_plant, AssetFilters(as_of=YEAR_END_2024))
    assert 0 < len(then) < len(today)
    assert all(version.commission_date <= YEAR_END_2024 for version in then if version.commission_date)

    units = {unit.code: unit.id for unit in demo_plant.scalars(select(Unit))}
    then_by_tag = {version.tag: version for version in then}
    moves = [change for change in assets_demo.read_history(SEED_DIR) if change.field == "unit"]
    assert any(change.on.year == 2025 for change in moves)
    for change in moves:
        if change.on > YEAR_END_2024:
            assert then_by_tag[change.tag].unit_id == units[change.old], change.tag
            asset = service.get_asset_by_tag(demo_plant, change.tag)
            assert asset is not None
            assert asset.unit_id == units[change.new]

    # Retired in 2025 → still there, in its earlier status, at the end of 2024.
    pump = then_by_tag["P-2104B"]
    assert pump.status == AssetStatus.STANDBY
    assert pump.retired_date is None


def test_the_seed_file_is_consistent() -> None:
    with (SEED_DIR / "assets" / "assets.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (SEED_DIR / "org" / "units.csv").open(encoding="utf-8", newline="") as handle:
        workshop_of = {row["code"]: row["workshop"] for row in csv.DictReader(handle)}
    tags = [row["tag"] for row in rows]
    assert len(tags) == len(set(tags))
    assert all(not row["parent_tag"] or row["parent_tag"] in tags for row in rows)
    assert all(workshop_of[row["unit"]] == row["workshop"] for row in rows)
    assert all(row["install_date"] <= row["commission_date"] <= "2026-11-23" for row in rows)
    numbers = [row["fixed_asset_number"] for row in rows if row["fixed_asset_number"]]
    assert len(numbers) == len(set(numbers))


def test_a_dated_change_cannot_precede_the_current_version(demo_plant: Session) -> None:
    savepoint = demo_plant.begin_nested()
    try:
        pump = service.get_asset_by_tag(demo_plant, "P-2104C")  # commissioned in 2025
        assert pump is not None
        before = datetime(2024, 1, 1, tzinfo=UTC)
        with pytest.raises(ValueError, match="precede"):
            service.set_status(demo_plant, pump, AssetStatus.IDLE, actor=SEED_ACTOR, cascade=False, at=before)

        later = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
        service.set_status(demo_plant, pump, AssetStatus.IDLE, actor=SEED_ACTOR, cascade=False, at=later)
        assert pump.updated_at == later
        assert service.versions_of(demo_plant, pump)[0].valid_from == later
    finally:
        savepoint.rollback()
        demo_plant.expire_all()


def test_every_demo_user_but_the_auditor_has_an_e_mail_address(demo_plant: Session) -> None:
    # The notification preferences show "my e-mail" filled in; the digest needs an address.
    addresses = dict(demo_plant.exec(select(User.username, User.email)).all())
    assert addresses == {
        "admin": "admin@hdchem.example",
        "wangzr": "wangzr@hdchem.example",
        "zhanggong": "zhanggong@hdchem.example",
        "ligong": "ligong@hdchem.example",
        "zhaogong": "zhaogong@hdchem.example",
        "chensj": None,
    }
