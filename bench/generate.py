"""Generate a large plant for the benchmarks: a fresh SQLite database with N assets.

    .venv/bin/python bench/generate.py [PATH] [--assets 100000] [--seed 2026]

The database (default ``bench/var/bench.db``, gitignored) is created from nothing, migrated
with Alembic like production, and loaded with the demo org (site, 6 workshops, 18 units, one
user per role; password as printed by ``maintenance seed --demo``) and N assets with their
first ``AssetVersion`` rows.

The assets are drawn from the demo registry (``seed/assets/assets.csv``) used as templates: a
top-level seed asset and its components (pump + motor, vessel + safety valve, …) are copied
again and again with a new tag number, dates, status, value, unit, custodian, so classes,
specs, special-equipment shares (about a third) and the parent/child structure look like a real
plant. Rows are bulk-inserted with SQLAlchemy Core (``executemany`` in batches, one
transaction), with exactly the columns ``service.create_asset`` would write (``name_initials``
from ``service.name_initials``, ``version`` 1, the first version valid from the creation time);
no change-log rows are written. The same seed gives the same database.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import sys
import time as clock
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_DB = BENCH_DIR / "var" / "bench.db"
BATCH = 5000
# The demo registry's "today" (fixed, so a seed always gives the same data); no date is after it.
TODAY = min(date(2026, 11, 23), date.today())

STATUSES = (("in_service", 72), ("standby", 14), ("under_repair", 4), ("idle", 3), ("retired", 7))
RETIRE_REASONS = (
    "超过使用年限, 经技术鉴定报废",
    "腐蚀严重, 修复费用超过新购60%, 经技术鉴定报废",
    "能效不达标, 列入淘汰目录",
    "工艺改造后停用, 无再利用价值",
    "事故损坏, 无修复价值",
    "随主设备报废",
)
NOTES = ("节能改造新增", "整体更新", "SIS改造", "二期改造项目", "干气密封改造", "大修后性能恢复", "备件已储备")


def configure_environment(db_path: Path) -> None:
    """Point the application at ``db_path``: settings are read once, before any maintenance import."""
    os.environ["MAINTENANCE_DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("MAINTENANCE_VAR_DIR", str(BENCH_DIR / "var"))
    sys.path.insert(0, str(ROOT / "src"))


def read_seed() -> list[dict[str, str]]:
    with (ROOT / "seed" / "assets" / "assets.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _renumber(tag: str, number: int) -> str:
    """Replace the first run of digits in a seed tag (P-2104A → P-012345A): one group, one number."""
    start = next((i for i, char in enumerate(tag) if char.isdigit()), None)
    if start is None:
        return f"{tag}-{number:06d}"
    end = start
    while end < len(tag) and tag[end].isdigit():
        end += 1
    return f"{tag[:start]}{number:06d}{tag[end:]}"


_DIGITS = re.compile(r"\d+")


def _scramble_digits(rng: random.Random, text: str) -> str:
    """Same shape, other digits: serial and registration numbers stay plausible."""
    return _DIGITS.sub(lambda match: str(rng.randrange(10 ** len(match[0]))).zfill(len(match[0])), text)


class Generator:
    """Asset rows (dicts of ``asset`` columns) in id order, parents before their components."""

    def __init__(self, rng: random.Random, workshops: dict[str, int], units: dict[str, tuple[int, int]], site_id: int):
        from maintenance.assets.service import name_initials
        from maintenance.db import plant_timezone

        self.rng = rng
        self.site_id = site_id
        self.zone = plant_timezone()
        self.workshops = workshops  # code → id
        self.units = units  # code → (unit id, workshop id)
        self.units_by_workshop: dict[int, list[int]] = defaultdict(list)
        for unit_id, workshop_id in units.values():
            self.units_by_workshop[workshop_id].append(unit_id)
        self.all_units = list(units.values())
        self.seed = read_seed()
        children: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in self.seed:
            if row["parent_tag"]:
                children[row["parent_tag"]].append(row)
        self.children = children
        self.tops = [row for row in self.seed if not row["parent_tag"]]
        self.by_class: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in self.seed:
            self.by_class[row["asset_class"]].append(row)
        self.custodians = sorted({row["custodian"] for row in self.seed if row["custodian"]})
        self._initials_cache: dict[str, str] = {}
        self._name_initials = name_initials
        self.status_names = [name for name, _ in STATUSES]
        self.status_weights = [weight for _, weight in STATUSES]

    def initials(self, name: str) -> str:
        cached = self._initials_cache.get(name)
        if cached is None:
            cached = self._initials_cache[name] = self._name_initials(name)
        return cached

    def rows(self, count: int) -> Iterator[dict[str, Any]]:
        next_id = 1
        group = 0
        while next_id <= count:
            group += 1
            top = self.rng.choice(self.tops)
            members = self._subtree(top)
            if next_id + len(members) - 1 > count:
                members = members[: count - next_id + 1]  # parents come first: a prefix stays consistent
            yield from self._group(members, group, next_id)
            next_id += len(members)

    def _subtree(self, row: dict[str, str]) -> list[dict[str, str]]:
        found = [row]
        for child in self.children.get(row["tag"], ()):
            found.extend(self._subtree(child))
        return found

    def _placement(self, template: dict[str, str]) -> tuple[int, int]:
        """(unit id, workshop id): mostly the template's unit, sometimes a sibling unit or anywhere."""
        draw = self.rng.random()
        unit_id, workshop_id = self.units[template["unit"]]
        if draw < 0.6:
            return unit_id, workshop_id
        if draw < 0.85:
            return self.rng.choice(self.units_by_workshop[workshop_id]), workshop_id
        return self.rng.choice(self.all_units)

    def _group(self, members: list[dict[str, str]], group: int, first_id: int) -> Iterator[dict[str, Any]]:
        rng = self.rng
        unit_id, workshop_id = self._placement(members[0])
        installed = TODAY - timedelta(days=rng.randrange(60, 36 * 365))
        status = rng.choices(self.status_names, self.status_weights)[0]
        # "3#" names the third of several alike (3#循环水泵, its motor 3#循环水泵电机): one number per group.
        prefix = "" if rng.random() < 0.7 else f"{rng.randint(1, 9)}#"
        ids: dict[str, int] = {}
        for offset, template in enumerate(members):
            asset_id = first_id + offset
            ids[template["tag"]] = asset_id
            # Components usually share the parent's fate; sometimes one is in another state.
            own_status = status if offset == 0 or rng.random() < 0.9 else rng.choice(self.status_names[:4])
            yield self._asset(template, asset_id, group, prefix, unit_id, workshop_id, installed, own_status, ids)

    def _asset(
        self,
        template: dict[str, str],
        asset_id: int,
        group: int,
        prefix: str,
        unit_id: int,
        workshop_id: int,
        installed: date,
        status: str,
        ids: dict[str, int],
    ) -> dict[str, Any]:
        rng = self.rng
        # Another maker of the same class now and then (with its serial-number pattern); the spec stays.
        maker = template if rng.random() < 0.7 else rng.choice(self.by_class[template["asset_class"]])
        name = f"{prefix}{template['name']}"
        install_date = min(TODAY - timedelta(days=30), installed + timedelta(days=rng.randrange(0, 15)))
        commission_date = min(TODAY - timedelta(days=1), install_date + timedelta(days=rng.randrange(5, 120)))
        retired_date = None
        retire_reason = ""
        if status == "retired":
            retired_date = commission_date + timedelta(days=rng.randrange(1, max(2, (TODAY - commission_date).days)))
            retire_reason = rng.choice(RETIRE_REASONS)
        value = Decimal(template["original_value_cny"]) * Decimal(str(round(rng.lognormvariate(0, 0.35), 3)))
        special = template["special_category"]
        criticality = template["criticality"] if rng.random() < 0.8 else rng.choice("ABC")
        created = datetime.combine(commission_date, time(8), tzinfo=self.zone).astimezone(UTC)  # as the demo loader
        return {
            "id": asset_id,
            "site_id": self.site_id,
            "tag": _renumber(template["tag"], group),
            "name": name,
            "asset_class": template["asset_class"],
            "workshop_id": workshop_id,
            "unit_id": unit_id,
            "parent_id": ids.get(template["parent_tag"]),
            "manufacturer": maker["manufacturer"],
            "spec": template["spec"],
            "serial_number": _scramble_digits(rng, maker["serial_number"]),
            "install_date": install_date,
            "commission_date": commission_date,
            "criticality": criticality,
            "status": status,
            "fixed_asset_number": f"GD-{commission_date.year}-{asset_id:06d}",
            "original_value_cny": value.quantize(Decimal("100")).quantize(Decimal("0.01")),
            "useful_life_years": int(template["useful_life_years"]),
            "salvage_rate": Decimal(template["salvage_rate"]),
            "special_category": special,
            "registration_number": _scramble_digits(rng, template["registration_number"]) if special != "none" else "",
            "custodian": template["custodian"] if rng.random() < 0.6 else rng.choice(self.custodians),
            "notes": f"{commission_date.year}年{rng.choice(NOTES)}" if rng.random() < 0.1 else "",
            "retired_date": retired_date,
            "retire_reason": retire_reason,
            "name_initials": self.initials(name),
            "version": 1,
            "created_at": created,
            "updated_at": created,
        }


def version_of(row: dict[str, Any]) -> dict[str, Any]:
    """The asset's first version, as ``service._open_version`` writes it."""
    version = {key: value for key, value in row.items() if key not in ("id", "created_at", "updated_at")}
    return version | {"asset_id": row["id"], "valid_from": row["created_at"], "valid_to": None}


def remove_database(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def generate(db_path: Path, count: int, seed: int) -> None:
    configure_environment(db_path)
    remove_database(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    populate(count, seed, str(db_path))
    from rich.console import Console

    Console(stderr=True).print(f"{db_path}: {db_path.stat().st_size / 1e6:.0f} MB")


def populate(count: int, seed: int, name: str) -> None:
    """Migrate the database ``MAINTENANCE_DATABASE_URL`` names (SQLite or an empty PostgreSQL
    database), load the demo org and insert ``count`` assets with their first versions."""
    from alembic import command
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy import func, insert, select

    from maintenance.assets.models import Asset, AssetVersion
    from maintenance.cli import alembic_config
    from maintenance.config import get_settings
    from maintenance.db import get_engine, session_scope, utcnow
    from maintenance.demo import org as org_demo
    from maintenance.demo.plant import SEED_ACTOR
    from maintenance.org.models import Site, Unit, Workshop

    console = Console(stderr=True)
    started = clock.perf_counter()
    with console.status("migrating"):
        command.upgrade(alembic_config(), "head")
    with console.status("loading the demo org"), session_scope() as session:
        org_demo.load(session, get_settings().seed_dir, SEED_ACTOR, utcnow())

    engine = get_engine()
    with engine.begin() as connection:
        site_id = connection.execute(select(Site.id)).scalar_one()
        codes: dict[int, str] = dict(connection.execute(select(Workshop.id, Workshop.code)).all())
        workshops = {code: workshop_id for workshop_id, code in codes.items()}
        units = {
            code: (unit_id, workshop_id)
            for unit_id, code, workshop_id in connection.execute(select(Unit.id, Unit.code, Unit.workshop_id))
        }
        generator = Generator(random.Random(seed), workshops, units, site_id)
        asset_insert, version_insert = insert(Asset.__table__), insert(AssetVersion.__table__)  # type: ignore[attr-defined]
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("inserting assets and versions", total=count)

            def insert_batch(batch: list[dict[str, Any]]) -> None:
                connection.execute(asset_insert, batch)
                connection.execute(version_insert, [version_of(row) for row in batch])
                progress.advance(task, len(batch))

            batch: list[dict[str, Any]] = []
            for row in generator.rows(count):
                batch.append(row)
                if len(batch) == BATCH:
                    insert_batch(batch)
                    batch = []
            if batch:
                insert_batch(batch)
        total = connection.execute(select(func.count()).select_from(Asset.__table__)).scalar_one()
        special = connection.execute(
            select(func.count()).select_from(Asset.__table__).where(Asset.special_category != "none")
        ).scalar_one()
        components = connection.execute(
            select(func.count()).select_from(Asset.__table__).where(Asset.parent_id.is_not(None))  # type: ignore[union-attr]
        ).scalar_one()
        per_workshop = dict(
            connection.execute(select(Asset.workshop_id, func.count()).group_by(Asset.workshop_id)).all()
        )
    engine.dispose()  # closing the last connection checkpoints the WAL into the database file
    elapsed = clock.perf_counter() - started
    spread = ", ".join(f"{codes[key]} {number:,}" for key, number in sorted(per_workshop.items()))
    console.print(
        f"{name}: {total:,} assets ({special / total:.0%} special equipment, {components / total:.0%} components; "
        f"{spread}) in {elapsed:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DB, help=f"database file (default {DEFAULT_DB})")
    parser.add_argument("--assets", type=int, default=100_000, help="number of assets (default 100000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    args = parser.parse_args()
    generate(args.path.resolve(), args.assets, args.seed)


if __name__ == "__main__":
    main()
