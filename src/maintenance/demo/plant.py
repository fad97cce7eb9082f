"""Loads the demo plant: each domain's part, in dependency order, in one transaction."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from maintenance.audit.service import SystemActor
from maintenance.config import get_settings
from maintenance.demo import assets as assets_demo
from maintenance.demo import budget as budget_demo
from maintenance.demo import leakfree as leakfree_demo
from maintenance.demo import monitoring as monitoring_demo
from maintenance.demo import mqtt as mqtt_demo
from maintenance.demo import org as org_demo
from maintenance.demo import special as special_demo
from maintenance.demo.inspections import campaigns as campaign_demo
from maintenance.demo.inspections import rounds as round_demo
from maintenance.demo.orders import history as orders_demo
from maintenance.demo.scorecard import accidents as accidents_demo
from maintenance.demo.scorecard import operating as operating_demo
from maintenance.demo.scorecard import projects as projects_demo
from maintenance.demo.scorecard import savings as savings_demo
from maintenance.org.models import Role
from maintenance.org.permissions import ROLE_CAPABILITIES

SEED_ACTOR = SystemActor(username="cli:seed", capabilities=ROLE_CAPABILITIES[Role.MANAGER])  # builds as a manager would

# Each domain's part, in dependency order: (name, module with is_loaded(session, seed_dir) and
# load(session, seed_dir, actor, now)). Every part takes the same clock reading, so the whole plant
# is built as of one instant (the asset registry's dated history ignores it: it is the past).
PARTS = (
    ("org", org_demo),
    ("assets", assets_demo),
    ("orders", orders_demo),
    ("monitoring", monitoring_demo),
    ("MQTT mapping", mqtt_demo),
    ("rounds", round_demo),
    ("seasonal inspections", campaign_demo),
    ("special equipment", special_demo),
    ("leak-free", leakfree_demo),
    ("budget", budget_demo),
    ("key projects", projects_demo),
    ("operating log", operating_demo),
    ("accidents", accidents_demo),
    ("savings ledgers", savings_demo),
)


def load_demo_plant(session: Session, seed_dir: Path, *, now: datetime, console: Console) -> bool:
    """Load every part that is not there yet, as the plant stands at ``now``; True when anything
    was loaded."""
    loaded = False
    for name, part in PARTS:
        if part.is_loaded(session, seed_dir):
            continue
        with console.status(f"loading demo plant: {name}"):
            part.load(session, seed_dir, SEED_ACTOR, now)
        loaded = True
    if loaded:
        console.print("demo plant loaded")
    return loaded


def print_logins(console: Console) -> None:
    table = Table(title="Demo logins (http://127.0.0.1:8000)")
    for column in ("username", "role", "password"):
        table.add_column(column)
    for row in org_demo.logins(get_settings().seed_dir):
        table.add_row(*row)
    console.print(table)
