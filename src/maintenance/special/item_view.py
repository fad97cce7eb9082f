"""What the item page shows about one special-equipment asset on a reference date, read in a
fixed number of queries whatever its history holds: where it stands (the status function), its
registration with the change and cancellation records, and its inspection history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.special import service
from maintenance.special.models import InspectionType, Registration, RegistrationEvent, SpecialInspection
from maintenance.special.records import registration_of
from maintenance.special.rules import ItemStanding


@dataclass(frozen=True)
class ItemRecord:
    asset: Asset
    # None when the asset is retired: it has left the register, its history stays readable.
    standing: ItemStanding | None
    registration: Registration | None
    events: Sequence[RegistrationEvent]
    history: Sequence[SpecialInspection]  # newest first
    types: Sequence[InspectionType]  # every type of the asset's category, inactive ones too
    types_by_id: dict[int, InspectionType]

    @property
    def active_types(self) -> list[InspectionType]:
        """The types a new application or inspection may be recorded for."""
        return [t for t in self.types if t.is_active]


def item_record(session: Session, asset: Asset, as_of: date) -> ItemRecord:
    assert asset.id is not None
    facts = service.load_facts(session, asset_ids=[asset.id])
    items = facts.items_on(as_of)
    registration = items[0].registration if items else registration_of(session, asset)
    history = sorted(
        facts.reports.get(asset.id, []) if items else _reports(session, asset),
        key=lambda r: (r.inspected_date, r.id or 0),
        reverse=True,
    )
    events = (
        session.scalars(
            select(RegistrationEvent)
            .where(col(RegistrationEvent.registration_id) == registration.id)
            .order_by(col(RegistrationEvent.event_date), col(RegistrationEvent.id))
        ).all()
        if registration is not None
        else []
    )
    types = session.scalars(
        select(InspectionType)
        .where(col(InspectionType.category) == asset.special_category)
        .order_by(col(InspectionType.id))
    ).all()
    return ItemRecord(
        asset=asset,
        standing=items[0].standing if items else None,
        registration=registration,
        events=events,
        history=history,
        types=types,
        types_by_id={t.id: t for t in types if t.id is not None},
    )


def _reports(session: Session, asset: Asset) -> list[SpecialInspection]:
    return list(session.scalars(select(SpecialInspection).where(col(SpecialInspection.asset_id) == asset.id)))
