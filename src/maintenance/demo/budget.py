"""The demo plant's repair-cost budget: the year's 1560万 target against the three years before,
its allocation by workshop × category × month, and the finance journal booked so far.

What ``seed/budget/`` holds (CSV, UTF-8, edited by hand):

- ``years.csv``: the target (``years_before`` 0) and the baseline years' actual cost (3, 2 and 1
  years before), 3050万, 3210万 and 3100万: an average of 3120万, so the target is a 50 % cut.
- ``allocation.csv``: each workshop's annual amount (they sum to the target) and its shares of
  the categories in whole percent.
- ``months.csv``: the monthly profile in whole percent, one column for routine cost and one for
  turnaround cost (September and October carry it all). The demo's overhaul is dated relative
  to the seed day (:mod:`maintenance.demo.orders.history`), so when it falls in the seed year
  its months take the turnaround cost instead (40 % its first month, 60 % its last; all of it
  when one month of it is in the year): the plan expects the overhaul when the plant has it.
- ``journal.csv``: the year's finance journal by day of the year (``MM-DD``; never 29 February),
  ``{year}`` in a reference standing for the year.

Every cell is annual × share × weight ÷ 10,000, exact to the 元 because the annual amounts are
whole 万; the loader checks the cells sum to the target.

**Dates.** The budget year is the seed day's year. Only the journal entries booked by the seed
day are loaded, so the journal never runs ahead of the plant's clock. **Over plan on any day:**
热电 (PWR) and 罐区 (TNK) book a quarterly contract on each quarter's first day, each larger than
110 % of the workshop's whole plan for the quarter (PWR: 47/55/74/89万 against 42.24/49.92/67.2/
80.64万; TNK: 30/35/34/36万 against 26.4/31.2/30/32.4万). The plan to date never exceeds the plan
of the quarters begun, so these two are more than 10 % over plan on every day of the year
whatever the work orders add; the other workshops' journal is small.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, SQLModel, col

from maintenance.audit.service import Actor, record_create
from maintenance.budget.models import Allocation, BaselineYear, BudgetYear
from maintenance.db import plant_timezone
from maintenance.demo.seed_files import read_csv
from maintenance.orders.choices import CostCategory
from maintenance.orders.models import JournalEntry, Turnaround
from maintenance.org.models import Workshop

PERCENT = Decimal(100)


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(BudgetYear.id)).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    if is_loaded(session, seed_dir):
        return
    today = now.astimezone(plant_timezone()).date()
    folder = seed_dir / "budget"
    workshops = {w.code: w for w in session.scalars(select(Workshop))}
    budget = _years(session, actor, folder, today.year)
    profile = _with_overhaul(list(read_csv(folder / "months.csv")), _overhaul_months(session, today.year))
    _insert_all(session, actor, _allocation(folder, profile, budget, workshops))
    _insert_all(session, actor, _journal(folder, workshops, today))


def _insert_all(session: Session, actor: Actor, rows: Sequence[SQLModel]) -> None:
    """One flush for the lot, then its change-log rows."""
    session.add_all(rows)
    session.flush()
    for row in rows:
        record_create(session, actor, row)


def _years(session: Session, actor: Actor, folder: Path, year: int) -> BudgetYear:
    """The target of ``year`` and its baseline years; returns the target's row."""
    rows = {int(row["years_before"]): row for row in read_csv(folder / "years.csv")}
    target = rows.pop(0)
    budget = BudgetYear(year=year, target_cny=Decimal(target["amount_cny"]), note=target["note"])
    baselines = [
        BaselineYear(year=year - before, actual_cny=Decimal(row["amount_cny"]), note=row["note"])
        for before, row in sorted(rows.items(), reverse=True)
    ]
    _insert_all(session, actor, [budget, *baselines])
    return budget


def _overhaul_months(session: Session, year: int) -> list[int]:
    """The months of ``year`` the plant's latest overhaul runs in (none when it is not in it)."""
    overhaul = session.scalars(
        select(Turnaround)
        .where(col(Turnaround.start_date) <= date(year, 12, 31), col(Turnaround.end_date) >= date(year, 1, 1))
        .order_by(col(Turnaround.end_date).desc())
    ).first()
    if overhaul is None:
        return []
    first = max(overhaul.start_date, date(year, 1, 1)).month
    last = min(overhaul.end_date, date(year, 12, 31)).month
    return sorted({first, last})


def _with_overhaul(profile: list[dict[str, str]], months: list[int]) -> list[dict[str, str]]:
    """The profile with its turnaround weights moved to ``months`` (kept when there are none)."""
    if not months:
        return profile
    weights = dict(zip(months, ("40", "60") if len(months) == 2 else ("100",), strict=True))
    return [{**row, "turnaround": weights.get(int(row["month"]), "0")} for row in profile]


def _allocation(
    folder: Path, profile: list[dict[str, str]], budget: BudgetYear, workshops: dict[str, Workshop]
) -> list[Allocation]:
    cells = []
    for row in read_csv(folder / "allocation.csv"):
        annual = Decimal(row["annual_cny"])
        for category in CostCategory:
            column = "turnaround" if category == CostCategory.TURNAROUND else "routine"
            amount = annual * Decimal(row[category.value]) / PERCENT
            cells += [
                Allocation(
                    budget_year_id=budget.id,  # type: ignore[arg-type]
                    workshop_id=workshops[row["workshop"]].id,  # type: ignore[arg-type]
                    category=category,
                    month=int(month["month"]),
                    amount_cny=amount * Decimal(month[column]) / PERCENT,
                )
                for month in profile
                if Decimal(month[column]) and amount
            ]
    allocated = sum((cell.amount_cny for cell in cells), Decimal(0))
    if allocated != budget.target_cny:
        raise ValueError(f"seed/budget: the allocation sums to {allocated}, not the target {budget.target_cny}")
    return cells


def _journal(folder: Path, workshops: dict[str, Workshop], today: date) -> list[JournalEntry]:
    """The entries of ``today``'s year booked on or before it."""
    entries = []
    for row in read_csv(folder / "journal.csv"):
        month, day = (int(part) for part in row["booked"].split("-"))
        booked_on = date(today.year, month, day)
        if booked_on > today:
            continue
        entries.append(
            JournalEntry(
                booked_on=booked_on,
                workshop_id=workshops[row["workshop"]].id,  # type: ignore[arg-type]
                category=CostCategory(row["category"]),
                amount_cny=Decimal(row["amount_cny"]),
                reference=row["reference"].format(year=today.year),
                description=row["description"],
                source_file="seed/budget/journal.csv",
            )
        )
    return entries
