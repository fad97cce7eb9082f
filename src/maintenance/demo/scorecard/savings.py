"""The demo plant's savings ledgers entered by hand: ``seed/scorecard/savings.csv``, five entries
per ledger over the year in several workshops (refurbished impellers, dry-gas and mechanical
seals; SKF/FAG bearings and imported seals replaced by domestic ones; the overhaul's scaffolding
and insulation tendered, contractors' quotes compared), two plant-wide tenders and one plant-wide
localisation. The work orders' refurbished and localised lines add to the first two ledgers on
their own (:mod:`maintenance.demo.orders.history`).

**Dates.** Each row is a day of the seed day's year (``MM-DD``; never 29 February), ``{year}`` in
a reference standing for the year; only the rows dated on or before the seed day are loaded, so
the ledgers never run ahead of the plant's clock. Each entry is written through the ledgers'
service (its saving computed, its change-log row written) as the seed actor, a manager.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit.service import Actor
from maintenance.db import plant_timezone
from maintenance.demo.seed_files import read_csv
from maintenance.org.models import Workshop
from maintenance.scorecard.savings import entries
from maintenance.scorecard.savings.models import SavingsEntry, SavingsEntryCreate, SavingsKind


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(SavingsEntry.id)).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    if is_loaded(session, seed_dir):
        return
    today = now.astimezone(plant_timezone()).date()
    workshops = {w.code: w.id for w in session.scalars(select(Workshop))}
    for row in read_csv(seed_dir / "scorecard" / "savings.csv"):
        month, day = (int(part) for part in row["recorded"].split("-"))
        recorded_on = date(today.year, month, day)
        if recorded_on > today:
            continue
        data = SavingsEntryCreate(
            kind=SavingsKind(row["kind"]),
            recorded_on=recorded_on,
            workshop_id=workshops[row["workshop"]] if row["workshop"] else None,
            description=row["description"],
            reference=row["reference"].format(year=today.year),
            quantity=Decimal(row["quantity"]),
            reference_price_cny=Decimal(row["reference_price_cny"]),
            actual_price_cny=Decimal(row["actual_price_cny"]),
            note=row["note"],
        )
        entries.create_entry(session, data, today=today, actor=actor)
