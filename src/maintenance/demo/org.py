"""The org part of the demo plant: site, workshops, units and one user per role."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from maintenance.audit.service import Actor
from maintenance.demo.seed_files import read_csv
from maintenance.org import service
from maintenance.org.models import Role, SiteCreate, UnitCreate, UserCreate, WorkshopCreate

# Demonstration only: printed by `maintenance seed --demo` and in the README.
DEMO_PASSWORD = "demo2026"  # noqa: S105 (a published demo password)


def is_loaded(session: Session, seed_dir: Path) -> bool:
    site = next(read_csv(seed_dir / "org" / "site.csv"))
    return service.get_site_by_code(session, site["code"]) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    folder = seed_dir / "org"
    site_row = next(read_csv(folder / "site.csv"))
    site = service.create_site(session, SiteCreate(code=site_row["code"], name=site_row["name"]), actor=actor)
    assert site.id is not None
    workshop_ids: dict[str, int] = {}
    for row in read_csv(folder / "workshops.csv"):
        workshop = service.create_workshop(
            session, WorkshopCreate(code=row["code"], name=row["name"], site_id=site.id), actor=actor
        )
        assert workshop.id is not None
        workshop_ids[row["code"]] = workshop.id
    for row in read_csv(folder / "units.csv"):
        service.create_unit(
            session,
            UnitCreate(code=row["code"], name=row["name"], workshop_id=workshop_ids[row["workshop"]]),
            actor=actor,
        )
    for row in read_csv(folder / "users.csv"):
        service.create_user(
            session,
            UserCreate(
                username=row["username"],
                full_name=row["full_name"],
                email=row["email"] or None,
                role=Role(row["role"]),
                password=DEMO_PASSWORD,
                workshop_ids=[workshop_ids[code] for code in row["workshops"].split()],
            ),
            actor=actor,
        )


def logins(seed_dir: Path) -> list[tuple[str, str, str]]:
    """(username, role, password) of the demo users."""
    return [(row["username"], Role(row["role"]).en, DEMO_PASSWORD) for row in read_csv(seed_dir / "org" / "users.csv")]
