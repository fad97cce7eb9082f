"""Loads the demo plant: each domain's part, in dependency order, in one transaction."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from maintenance.audit.service import SystemActor
from maintenance.config import get_settings
from maintenance.org import demo as org_demo

SEED_ACTOR = SystemActor(username="cli:seed")


def load_demo_plant(session: Session, seed_dir: Path, *, console: Console) -> bool:
    """Load everything unless the plant is already there; True when loaded now."""
    if org_demo.is_loaded(session, seed_dir):
        return False
    with console.status("loading demo plant: org"):
        org_demo.load(session, seed_dir, SEED_ACTOR)
    console.print("demo plant loaded")
    return True


def print_logins(console: Console) -> None:
    table = Table(title="Demo logins (http://127.0.0.1:8000)")
    for column in ("username", "role", "password"):
        table.add_column(column)
    for row in org_demo.logins(get_settings().seed_dir):
        table.add_row(*row)
    console.print(table)
