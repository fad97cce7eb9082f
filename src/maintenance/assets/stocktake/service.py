"""Stocktake services: start a count from a snapshot, record what was found, add surplus,
sign off. They flush, never commit, and log every change in the same transaction.

Who may do what: engineers start and count in their own workshops, managers and admins
everywhere; only managers and admins sign a count off (or discard one started by
mistake); auditors read and export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import Select, delete, func, insert, or_, select, update
from sqlmodel import Session, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.depreciation import book_value_of
from maintenance.assets.models import Asset
from maintenance.assets.stocktake.models import (
    AssetCondition,
    CountResult,
    Stocktake,
    StocktakeLine,
    StocktakeState,
    StocktakeSurplus,
    StocktakeSurplusCreate,
)
from maintenance.audit import service as audit
from maintenance.audit.models import ChangeAction
from maintenance.db import plant_today, utcnow
from maintenance.exceptions import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.models import Unit, User, Workshop
from maintenance.org.permissions import Capability, can, require_write_in, writable_workshop_ids
from maintenance.web import ListFilters, RecordId

ZERO = Decimal("0.00")

# --- Reading ------------------------------------------------------------------------------


class StocktakeFilters(ListFilters):
    workshop_id: RecordId | None = None
    state: StocktakeState | None = None


class LineFilters(ListFilters):
    # The result is trimmed like the search text: one of spaces is no filter either.
    trimmed = frozenset({"q", "result"})

    q: str | None = Field(default=None, max_length=100)
    result: CountResult | None = None


def get_stocktake_or_raise(session: Session, stocktake_id: int, *, lock: str | None = None) -> Stocktake:
    """``lock="share"`` for recording a count, ``"update"`` for closing: on PostgreSQL a close
    waits for counts in flight and a count cannot slip in after the close."""
    stmt = select(Stocktake).where(col(Stocktake.id) == stocktake_id)
    if lock is not None:
        stmt = stmt.with_for_update(read=lock == "share")
    stocktake = session.scalar(stmt)
    if stocktake is None:
        raise NotFound(_("Stocktake #%(id)s does not exist.", id=stocktake_id))
    return stocktake


def list_stocktakes(filters: StocktakeFilters) -> Select[Any]:
    stmt = select(Stocktake)
    if filters.workshop_id is not None:
        stmt = stmt.where(col(Stocktake.workshop_id) == filters.workshop_id)
    if filters.state is not None:
        stmt = stmt.where(col(Stocktake.state) == filters.state)
    return stmt.order_by(col(Stocktake.id).desc())


def list_lines(stocktake: Stocktake, filters: LineFilters) -> Select[Any]:
    stmt = select(StocktakeLine).where(col(StocktakeLine.stocktake_id) == stocktake.id)
    if filters.result is not None:
        stmt = stmt.where(col(StocktakeLine.result) == filters.result)
    if filters.q:
        pattern = f"%{filters.q}%"
        stmt = stmt.where(
            or_(
                col(StocktakeLine.tag).ilike(pattern),
                col(StocktakeLine.name).ilike(pattern),
                col(StocktakeLine.fixed_asset_number).ilike(pattern),
            )
        )
    return stmt.order_by(col(StocktakeLine.tag), col(StocktakeLine.id))


def get_line_or_raise(session: Session, stocktake: Stocktake, line_id: int) -> StocktakeLine:
    line = session.get(StocktakeLine, line_id)
    if line is None or line.stocktake_id != stocktake.id:
        raise NotFound(_("This line does not belong to stocktake #%(id)s.", id=stocktake.id))
    return line


def surplus_of(session: Session, stocktake: Stocktake) -> Sequence[StocktakeSurplus]:
    return session.scalars(
        select(StocktakeSurplus)
        .where(col(StocktakeSurplus.stocktake_id) == stocktake.id)
        .order_by(col(StocktakeSurplus.id))
    ).all()


@dataclass
class Tally:
    count: int = 0
    original_value_cny: Decimal = ZERO
    net_book_value_cny: Decimal = ZERO


@dataclass
class Progress:
    """Counts and values of a stocktake's lines by result, plus its surplus."""

    by_result: dict[CountResult, Tally] = field(default_factory=lambda: {result: Tally() for result in CountResult})
    surplus_count: int = 0
    surplus_value_cny: Decimal = ZERO

    @property
    def expected(self) -> Tally:
        tallies = self.by_result.values()
        return Tally(
            sum(t.count for t in tallies),
            sum((t.original_value_cny for t in tallies), ZERO),
            sum((t.net_book_value_cny for t in tallies), ZERO),
        )

    @property
    def found(self) -> Tally:
        return self.by_result[CountResult.FOUND]

    @property
    def missing(self) -> Tally:
        return self.by_result[CountResult.MISSING]

    @property
    def uncounted(self) -> int:
        return self.by_result[CountResult.UNCOUNTED].count

    @property
    def counted(self) -> int:
        return self.found.count + self.missing.count

    @property
    def percent(self) -> int:
        expected = self.expected.count
        return 100 if expected == 0 else int(self.counted * 100 / expected)


def progress_of(session: Session, stocktake_ids: Sequence[int]) -> dict[int, Progress]:
    """Progress of many stocktakes in two grouped queries (list pages)."""
    result: dict[int, Progress] = {stocktake_id: Progress() for stocktake_id in stocktake_ids}
    if not stocktake_ids:
        return result
    lines = session.execute(
        select(
            col(StocktakeLine.stocktake_id),
            col(StocktakeLine.result),
            func.count(),
            func.coalesce(func.sum(StocktakeLine.original_value_cny), 0),
            func.coalesce(func.sum(StocktakeLine.net_book_value_cny), 0),
        )
        .where(col(StocktakeLine.stocktake_id).in_(stocktake_ids))
        .group_by(col(StocktakeLine.stocktake_id), col(StocktakeLine.result))
    ).all()
    for stocktake_id, count_result, count, original, book in lines:
        result[stocktake_id].by_result[CountResult(count_result)] = Tally(
            count, Decimal(original).quantize(ZERO), Decimal(book).quantize(ZERO)
        )
    surplus = session.execute(
        select(
            col(StocktakeSurplus.stocktake_id),
            func.count(),
            func.coalesce(func.sum(StocktakeSurplus.estimated_value_cny), 0),
        )
        .where(col(StocktakeSurplus.stocktake_id).in_(stocktake_ids))
        .group_by(col(StocktakeSurplus.stocktake_id))
    ).all()
    for stocktake_id, count, value in surplus:
        result[stocktake_id].surplus_count = count
        result[stocktake_id].surplus_value_cny = Decimal(value).quantize(ZERO)
    return result


def open_stocktake_of_workshop(session: Session, workshop_id: int) -> Stocktake | None:
    return session.scalar(
        select(Stocktake).where(col(Stocktake.workshop_id) == workshop_id, col(Stocktake.state) == StocktakeState.OPEN)
    )


@dataclass
class ScanTarget:
    """What the asset page offers someone holding a phone in front of an asset."""

    stocktake: Stocktake
    line: StocktakeLine | None  # None: the asset is not in the snapshot (surplus)


def scan_target(session: Session, user: User, asset: Asset) -> ScanTarget | None:
    """The open stocktake of the asset's workshop, when ``user`` may count in it."""
    allowed = writable_workshop_ids(session, user)
    if allowed is not None and asset.workshop_id not in allowed:
        return None
    stocktake = open_stocktake_of_workshop(session, asset.workshop_id)
    if stocktake is None:
        return None
    line = session.scalar(
        select(StocktakeLine).where(
            col(StocktakeLine.stocktake_id) == stocktake.id, col(StocktakeLine.asset_id) == asset.id
        )
    )
    return ScanTarget(stocktake, line)


# --- Writing ------------------------------------------------------------------------------


def _require_open(stocktake: Stocktake) -> None:
    if not stocktake.is_open:
        raise Conflict(_("Stocktake #%(id)s is closed: its results can no longer be changed.", id=stocktake.id))


def _locations(session: Session, workshop: Workshop) -> dict[int | None, str]:
    units = session.scalars(select(Unit).where(col(Unit.workshop_id) == workshop.id)).all()
    locations: dict[int | None, str] = {unit.id: f"{workshop.name} / {unit.name}" for unit in units}
    locations[None] = workshop.name
    return locations


def start_stocktake(session: Session, *, workshop_id: int, note: str = "", actor: User) -> Stocktake:
    """Open a count of the workshop's non-retired assets as they stand now."""
    # Lock the workshop row so two people starting at once cannot open two counts (PostgreSQL).
    workshop = session.scalar(select(Workshop).where(col(Workshop.id) == workshop_id).with_for_update())
    if workshop is None:
        raise ValidationFailed(_("Choose an existing workshop."), [FieldError("workshop_id", _("does not exist"))])
    require_write_in(session, actor, workshop.id)  # type: ignore[arg-type]
    already = open_stocktake_of_workshop(session, workshop.id)  # type: ignore[arg-type]
    if already is not None:
        raise Conflict(
            _(
                "Stocktake #%(id)s of %(workshop)s is still open. Close it before starting another.",
                id=already.id,
                workshop=workshop.name,
            )
        )
    note = note.strip()
    if len(note) > 500:
        raise ValidationFailed(
            _("The stocktake was not started."), [FieldError("note", _("Enter at most 500 characters."))]
        )
    today = plant_today()
    stocktake = Stocktake(workshop_id=workshop.id, as_of_date=today, note=note, started_by_id=actor.id)  # type: ignore[arg-type]
    session.add(stocktake)
    session.flush()

    locations = _locations(session, workshop)
    assets = session.scalars(
        select(Asset)
        .where(col(Asset.workshop_id) == workshop.id, col(Asset.status) != AssetStatus.RETIRED)
        .order_by(col(Asset.tag))
    ).all()
    rows: list[dict[str, Any]] = [
        {
            "stocktake_id": stocktake.id,
            "asset_id": asset.id,
            "tag": asset.tag,
            "name": asset.name,
            "location": locations.get(asset.unit_id, workshop.name),
            "fixed_asset_number": asset.fixed_asset_number,
            "original_value_cny": asset.original_value_cny,
            "net_book_value_cny": book_value_of(asset, today).net_book_value_cny,
            "result": CountResult.UNCOUNTED,
            "note": "",
            "found_by_scan": False,
        }
        for asset in assets
    ]
    if rows:
        session.execute(insert(StocktakeLine), rows)
    # One log row for the snapshot: the lines are copies of the registry, written once.
    audit.record_create(
        session,
        actor,
        stocktake,
        expected_assets=len(rows),
        expected_original_value_cny=sum((asset.original_value_cny for asset in assets), ZERO),
        expected_net_book_value_cny=sum((row["net_book_value_cny"] for row in rows), ZERO),
    )
    return stocktake


def record_count(
    session: Session,
    stocktake: Stocktake,
    line: StocktakeLine,
    *,
    result: CountResult,
    condition: AssetCondition | None = None,
    note: str | None = None,
    actor: User,
    by_scan: bool = False,
) -> StocktakeLine:
    """Found (with the condition seen), missing, or back to not counted (a slip of the finger)."""
    _require_open(stocktake)
    require_write_in(session, actor, stocktake.workshop_id)
    if note is not None and len(note.strip()) > 500:
        raise ValidationFailed(_("The count was not saved."), [FieldError("note", _("Enter at most 500 characters."))])
    before = audit.snapshot(line)
    line.result = result
    if result == CountResult.FOUND:
        line.condition = condition or line.condition or AssetCondition.GOOD
        line.found_by_scan = by_scan or (line.found_by_scan and before["result"] == CountResult.FOUND.value)
    else:
        line.condition = None
        line.found_by_scan = False
    if note is not None:
        line.note = note.strip()
    if result == CountResult.UNCOUNTED:
        line.counted_by_id = None
        line.counted_at = None
    elif audit.snapshot(line) != before or line.counted_at is None:
        line.counted_by_id = actor.id
        line.counted_at = utcnow()
    session.flush()
    audit.record_update(session, actor, line, before)
    return line


def surplus_for_asset(session: Session, stocktake: Stocktake, asset: Asset) -> StocktakeSurplus | None:
    return session.scalar(
        select(StocktakeSurplus).where(
            col(StocktakeSurplus.stocktake_id) == stocktake.id, col(StocktakeSurplus.asset_id) == asset.id
        )
    )


def record_scan(
    session: Session,
    stocktake: Stocktake,
    asset: Asset,
    *,
    condition: AssetCondition | None,
    note: str | None,
    actor: User,
) -> StocktakeLine | StocktakeSurplus:
    """A label was scanned on site: the asset is found. One the snapshot does not list (added
    to the registry or moved into the workshop since the start) is surplus (盘盈)."""
    line = session.scalar(
        select(StocktakeLine).where(
            col(StocktakeLine.stocktake_id) == stocktake.id, col(StocktakeLine.asset_id) == asset.id
        )
    )
    if line is not None:
        return record_count(
            session,
            stocktake,
            line,
            result=CountResult.FOUND,
            condition=condition,
            note=note,
            actor=actor,
            by_scan=True,
        )
    _require_open(stocktake)
    if asset.workshop_id != stocktake.workshop_id:
        raise ValidationFailed(
            _(
                "%(tag)s belongs to another workshop and is not part of stocktake #%(id)s.",
                tag=asset.tag,
                id=stocktake.id,
            )
        )
    if surplus_for_asset(session, stocktake, asset) is not None:
        raise Conflict(
            _("%(tag)s is already recorded as surplus in stocktake #%(id)s.", tag=asset.tag, id=stocktake.id)
        )
    workshop = session.get(Workshop, asset.workshop_id)
    assert workshop is not None
    data = StocktakeSurplusCreate(
        asset_id=asset.id,
        description=f"{asset.tag} {asset.name}"[:200],
        location=_locations(session, workshop).get(asset.unit_id, workshop.name),
        estimated_value_cny=book_value_of(asset, plant_today()).net_book_value_cny,
        condition=condition or AssetCondition.GOOD,
        note=(note or "").strip()[:500],
    )
    return add_surplus(session, stocktake, data, actor=actor)


def mark_uncounted_missing(session: Session, stocktake: Stocktake, *, actor: User) -> int:
    """Everything not counted yet is missing (盘亏): the last step before signing off."""
    _require_open(stocktake)
    require_write_in(session, actor, stocktake.workshop_id)
    uncounted = session.execute(
        select(col(StocktakeLine.id), col(StocktakeLine.tag))
        .where(col(StocktakeLine.stocktake_id) == stocktake.id, col(StocktakeLine.result) == CountResult.UNCOUNTED)
        .order_by(col(StocktakeLine.tag))
    ).all()
    if not uncounted:
        return 0
    session.execute(
        update(StocktakeLine)
        .where(col(StocktakeLine.id).in_([row[0] for row in uncounted]))
        .values(result=CountResult.MISSING, condition=None, counted_by_id=actor.id, counted_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    # One log row names every line this changed (a workshop can have thousands).
    audit.record(
        session,
        actor=actor,
        action=ChangeAction.UPDATE,
        obj=stocktake,
        before=audit.snapshot(stocktake, uncounted_lines=len(uncounted)),
        after=audit.snapshot(
            stocktake, uncounted_lines=0, marked_missing=[{"line_id": row[0], "tag": row[1]} for row in uncounted]
        ),
    )
    return len(uncounted)


def add_surplus(
    session: Session, stocktake: Stocktake, data: StocktakeSurplusCreate, *, actor: User
) -> StocktakeSurplus:
    _require_open(stocktake)
    require_write_in(session, actor, stocktake.workshop_id)
    if data.asset_id is not None and session.get(Asset, data.asset_id) is None:
        raise ValidationFailed(_("The surplus item was not saved."), [FieldError("asset_id", _("does not exist"))])
    surplus = StocktakeSurplus(
        stocktake_id=stocktake.id,  # type: ignore[arg-type]
        recorded_by_id=actor.id,  # type: ignore[arg-type]
        **data.model_dump() | {"description": data.description.strip(), "location": data.location.strip()},
    )
    session.add(surplus)
    session.flush()
    audit.record_create(session, actor, surplus)
    return surplus


def delete_surplus(session: Session, stocktake: Stocktake, surplus_id: int, *, actor: User) -> None:
    _require_open(stocktake)
    require_write_in(session, actor, stocktake.workshop_id)
    surplus = session.get(StocktakeSurplus, surplus_id)
    if surplus is None or surplus.stocktake_id != stocktake.id:
        raise NotFound(_("This surplus item does not belong to stocktake #%(id)s.", id=stocktake.id))
    audit.record_delete(session, actor, surplus)
    session.delete(surplus)
    session.flush()


def close_stocktake(session: Session, stocktake: Stocktake, *, statement: str, actor: User) -> Stocktake:
    """Sign the count off: who, when and what they declare. Afterwards nothing changes."""
    _require_open(stocktake)
    if not can(actor, Capability.MANAGE):
        raise PermissionDenied(_("Only a manager or an administrator can sign a stocktake off."))
    statement = statement.strip()
    if not statement:
        raise ValidationFailed(
            _("Write the sign-off statement."), [FieldError("statement", _("This field is required."))]
        )
    if len(statement) > 2000:
        raise ValidationFailed(
            _("The sign-off statement is too long."), [FieldError("statement", _("Enter at most 2000 characters."))]
        )
    uncounted = progress_of(session, [stocktake.id])[stocktake.id].uncounted  # type: ignore[list-item,index]
    if uncounted:
        raise Conflict(
            _(
                "%(n)s assets have not been counted yet. Count them, or mark them missing, before signing off.",
                n=uncounted,
            )
        )
    before = audit.snapshot(stocktake)
    stocktake.state = StocktakeState.CLOSED
    stocktake.closed_by_id = actor.id
    stocktake.closed_at = utcnow()
    stocktake.signed_by_name = actor.display_name[:100]
    stocktake.sign_off_statement = statement
    session.flush()
    audit.record_update(session, actor, stocktake, before)
    return stocktake


def discard_stocktake(session: Session, stocktake: Stocktake, *, actor: User) -> None:
    """Delete an open count started by mistake (a signed one is a record and stays)."""
    _require_open(stocktake)
    if not can(actor, Capability.MANAGE):
        raise PermissionDenied(_("Only a manager or an administrator can discard a stocktake."))
    progress = progress_of(session, [stocktake.id])[stocktake.id]  # type: ignore[list-item,index]
    audit.record_delete(session, actor, stocktake, counted_lines=progress.counted, surplus_items=progress.surplus_count)
    session.execute(delete(StocktakeSurplus).where(col(StocktakeSurplus.stocktake_id) == stocktake.id))
    session.execute(delete(StocktakeLine).where(col(StocktakeLine.stocktake_id) == stocktake.id))
    session.delete(stocktake)
    session.flush()


# --- The report ---------------------------------------------------------------------------


@dataclass
class StocktakeReport:
    stocktake: Stocktake
    workshop: Workshop
    started_by: User | None
    closed_by: User | None
    progress: Progress
    found: Sequence[StocktakeLine]
    missing: Sequence[StocktakeLine]
    uncounted: Sequence[StocktakeLine]
    surplus: Sequence[StocktakeSurplus]
    conditions: dict[AssetCondition, int]


def build_report(session: Session, stocktake: Stocktake) -> StocktakeReport:
    lines = session.scalars(
        select(StocktakeLine).where(col(StocktakeLine.stocktake_id) == stocktake.id).order_by(col(StocktakeLine.tag))
    ).all()
    by_result: dict[CountResult, list[StocktakeLine]] = {result: [] for result in CountResult}
    for line in lines:
        by_result[line.result].append(line)
    condition_counts: dict[str, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(col(StocktakeLine.condition), func.count())
            .where(col(StocktakeLine.stocktake_id) == stocktake.id, col(StocktakeLine.condition).is_not(None))
            .group_by(StocktakeLine.condition)
        ).all()
    )
    # Totals summed here from the lines themselves, exactly (SQLite sums NUMERIC as floats).
    progress = progress_of(session, [stocktake.id])[stocktake.id]  # type: ignore[list-item,index]
    for count_result, result_lines in by_result.items():
        progress.by_result[count_result] = Tally(
            len(result_lines),
            sum((line.original_value_cny for line in result_lines), ZERO),
            sum((line.net_book_value_cny for line in result_lines), ZERO),
        )
    surplus = surplus_of(session, stocktake)
    progress.surplus_count = len(surplus)
    progress.surplus_value_cny = sum((item.estimated_value_cny for item in surplus), ZERO)
    workshop = session.get(Workshop, stocktake.workshop_id)
    assert workshop is not None
    return StocktakeReport(
        stocktake=stocktake,
        workshop=workshop,
        started_by=session.get(User, stocktake.started_by_id),
        closed_by=session.get(User, stocktake.closed_by_id) if stocktake.closed_by_id else None,
        progress=progress,
        found=by_result[CountResult.FOUND],
        missing=by_result[CountResult.MISSING],
        uncounted=by_result[CountResult.UNCOUNTED],
        surplus=surplus,
        conditions={AssetCondition(code): n for code, n in condition_counts.items()},
    )


def users_by_id(session: Session, user_ids: set[int | None]) -> dict[int, User]:
    ids = [user_id for user_id in user_ids if user_id is not None]
    if not ids:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(col(User.id).in_(ids)))}  # type: ignore[misc]
