"""The asset part of the demo plant: about 300 assets of 华东化工 with some years of history.

``seed/assets/assets.csv`` is the registry as it stands today. ``history.csv`` lists what
changed since commissioning (``date, tag, field, old, new``; field ``unit`` or ``status``).
Each asset is created as it was first commissioned (the ``old`` value of its first change of
each field) at 08:00 plant time on its commission date; the changes are then replayed in date
order at 09:00 plant time and retired assets are retired on their ``retired_date``. The
registry therefore has real history: an as-of view of a past year end shows fewer assets, the
moved ones at their old units and the retired ones still in use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlmodel import Session

from maintenance.assets import service
from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset, AssetCreate, AssetUpdate
from maintenance.audit.service import Actor
from maintenance.db import plant_timezone
from maintenance.demo.seed_files import read_csv
from maintenance.org import service as org_service
from maintenance.org.models import Unit, Workshop

CREATED_AT = time(8)  # plant time on the commission date
CHANGED_AT = time(9)  # plant time on the day of a move or status change
# Columns of assets.csv taken as they are (blank → the field's default); the model parses them.
COPIED = (
    "tag",
    "name",
    "asset_class",
    "manufacturer",
    "spec",
    "serial_number",
    "install_date",
    "commission_date",
    "criticality",
    "fixed_asset_number",
    "original_value_cny",
    "useful_life_years",
    "salvage_rate",
    "special_category",
    "registration_number",
    "custodian",
    "notes",
)


@dataclass(frozen=True)
class Change:
    on: date
    tag: str
    field: str  # "unit" or "status"
    old: str
    new: str


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value.strip() else None


def _status(code: str) -> AssetStatus:
    status = AssetStatus.from_label(code)
    if status is None:
        raise ValueError(f"unknown asset status {code!r}")
    return status


def _instant(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=plant_timezone()).astimezone(UTC)


def is_loaded(session: Session, seed_dir: Path) -> bool:
    site = org_service.get_site_by_code(session, next(read_csv(seed_dir / "org" / "site.csv"))["code"])
    first = next(read_csv(seed_dir / "assets" / "assets.csv"))
    return site is not None and service.get_asset_by_tag(session, first["tag"], site_id=site.id) is not None


def read_history(seed_dir: Path) -> list[Change]:
    """The changes in history.csv, oldest first (file order within a day)."""
    changes = [
        Change(date.fromisoformat(row["date"]), row["tag"], row["field"], row["old"], row["new"])
        for row in read_csv(seed_dir / "assets" / "history.csv")
    ]
    return sorted(changes, key=lambda change: change.on)


def _parents_first(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    by_tag = {row["tag"]: row for row in rows}
    ordered: list[dict[str, str]] = []
    placed: set[str] = set()

    def place(row: dict[str, str], path: tuple[str, ...]) -> None:
        if row["tag"] in placed:
            return
        if row["tag"] in path:
            raise ValueError(f"assets.csv: {row['tag']} is its own component")
        if parent := row["parent_tag"]:
            if parent not in by_tag:
                raise ValueError(f"assets.csv: parent {parent} of {row['tag']} is not in the file")
            place(by_tag[parent], (*path, row["tag"]))
        placed.add(row["tag"])
        ordered.append(row)

    for row in rows:
        place(row, ())
    return ordered


def _with_retirements(rows: Iterable[dict[str, str]], history: list[Change]) -> list[Change]:
    """History plus a retirement on its retired_date for each retired asset the file does not retire."""
    retired_in_history = {change.tag for change in history if change.field == "status" and change.new == "retired"}
    implicit = [
        Change(date.fromisoformat(row["retired_date"]), row["tag"], "status", "in_service", "retired")
        for row in rows
        if row["status"] == AssetStatus.RETIRED and row["tag"] not in retired_in_history
    ]
    return sorted([*history, *implicit], key=lambda change: change.on)


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    rows = list(read_csv(seed_dir / "assets" / "assets.csv"))
    history = _with_retirements(rows, read_history(seed_dir))
    workshops: dict[str, Workshop] = {workshop.code: workshop for workshop in org_service.list_workshops(session)}
    units: dict[str, Unit] = {unit.code: unit for unit in org_service.list_units(session)}
    first: dict[tuple[str, str], str] = {}
    for change in history:
        first.setdefault((change.tag, change.field), change.old)

    for row in rows:
        if units[row["unit"]].workshop_id != workshops[row["workshop"]].id:
            raise ValueError(f"assets.csv: unit {row['unit']} of {row['tag']} is not in workshop {row['workshop']}")

    assets: dict[str, Asset] = {}
    for row in _parents_first(rows):
        unit = units[first.get((row["tag"], "unit"), row["unit"])]
        commissioned = _date(row["commission_date"]) or _date(row["install_date"])
        if commissioned is None:
            raise ValueError(f"assets.csv: {row['tag']} needs an install or commission date")
        data = AssetCreate.model_validate(
            {name: row[name] for name in COPIED if row[name].strip()}
            | {
                "workshop_id": unit.workshop_id,
                "unit_id": unit.id,
                "parent_id": assets[row["parent_tag"]].id if row["parent_tag"] else None,
                "status": _status(first.get((row["tag"], "status"), row["status"])),
            }
        )
        assets[row["tag"]] = service.create_asset(session, data, actor=actor, at=_instant(commissioned, CREATED_AT))

    by_tag = {row["tag"]: row for row in rows}
    for change in history:
        _replay(session, assets[change.tag], by_tag[change.tag], change, units, actor)
    for row in rows:
        asset = assets[row["tag"]]
        if asset.status != row["status"] or asset.unit_id != units[row["unit"]].id:
            raise ValueError(f"history.csv does not lead {row['tag']} to its state in assets.csv")


def _replay(
    session: Session, asset: Asset, row: dict[str, str], change: Change, units: dict[str, Unit], actor: Actor
) -> None:
    at = _instant(change.on, CHANGED_AT)
    if change.field == "unit":
        if asset.unit_id != units[change.old].id:
            raise ValueError(f"history.csv: {change.tag} is not at {change.old} on {change.on}")
        unit = units[change.new]
        data = AssetUpdate.model_validate(asset.model_dump() | {"workshop_id": unit.workshop_id, "unit_id": unit.id})
        service.update_asset(session, asset, data, actor=actor, at=at)
    elif change.field == "status":
        if asset.status != change.old:
            raise ValueError(f"history.csv: {change.tag} is not {change.old} on {change.on}")
        status = _status(change.new)
        if status == AssetStatus.RETIRED and _date(row["retired_date"]) != change.on:
            raise ValueError(
                f"history.csv: {change.tag} is retired on {change.on}, assets.csv says {row['retired_date']}"
            )
        service.set_status(
            session,
            asset,
            status,
            actor=actor,
            cascade=False,
            retired_date=change.on if status == AssetStatus.RETIRED else None,
            retire_reason=row["retire_reason"],
            at=at,
        )
    else:
        raise ValueError(f"history.csv: unknown field {change.field} for {change.tag}")
