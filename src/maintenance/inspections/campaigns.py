"""Seasonal special inspections (季节性专项检查): a campaign (防冻防凝 in winter, 防汛/防暑 in summer, …)
is one checklist that each participating workshop answers by a deadline. A not-OK answer is a
finding; a finding on an asset raises one corrective work order. A workshop submits its sheet
once every item is answered; a manager may reopen it.

Who may do what (``actor`` is a user, or a :class:`SystemActor` such as the demo loader, which may
do what its capabilities allow; org.permissions decides):

- managers and admins set campaigns up: create, edit (optimistic lock on ``version``), add and
  remove items, add workshops, reopen a submitted sheet;
- engineers answer, raise orders and submit in their own workshops (managers everywhere);
- auditors read everything and write nothing.

Each workshop's ``items_answered`` and ``findings`` are kept by :func:`answer` under a lock of the
workshop's row, so lists read them without scanning results. They are a cache of the results,
which are in the change log themselves; the counters alone are not logged.

Services flush, never commit; every create, change and delete is in the change log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, extract, func, select
from sqlmodel import Session, col

from maintenance.assets import service as asset_service
from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.choices import Choice
from maintenance.db import plant_timezone, utcnow, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.i18n import ngettext
from maintenance.inspections.choices import CampaignKind
from maintenance.inspections.models import (
    CampaignCreate,
    CampaignItem,
    CampaignResult,
    CampaignUpdate,
    CampaignWorkshop,
    InspectionCampaign,
)
from maintenance.orders import service as order_service
from maintenance.orders.choices import ChecklistResult, OrderState, OrderType, Provider
from maintenance.orders.models import WorkOrder, WorkOrderCreate
from maintenance.org.models import Workshop
from maintenance.org.permissions import Capability, require, require_write_in

ITEM_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 500
MAX_ITEMS = 200


class SheetStatus(Choice):
    """Where one workshop's sheet stands; derived from its counters, submission and the clock."""

    NOT_STARTED = ("not_started", "未开始", "Not started", "secondary")
    IN_PROGRESS = ("in_progress", "检查中", "In progress", "primary")
    ON_TIME = ("on_time", "按期提交", "Submitted on time", "success")
    LATE = ("late", "逾期提交", "Submitted late", "warning")
    OVERDUE = ("overdue", "已逾期", "Overdue", "danger")


class CampaignState(Choice):
    """Where a campaign stands as a whole."""

    UPCOMING = ("upcoming", "未开始", "Not started yet", "info")
    ACTIVE = ("active", "进行中", "In progress", "primary")
    COMPLETE = ("complete", "已完成", "Complete", "success")
    OVERDUE = ("overdue", "逾期未完成", "Overdue", "danger")


# --- Reading ------------------------------------------------------------------------------


def get_campaign_or_raise(session: Session, campaign_id: int) -> InspectionCampaign:
    campaign = session.get(InspectionCampaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Seasonal inspection %(id)s does not exist.", id=campaign_id))
    return campaign


def items_of(session: Session, campaign: InspectionCampaign) -> list[CampaignItem]:
    return list(
        session.scalars(
            select(CampaignItem)
            .where(col(CampaignItem.campaign_id) == campaign.id)
            .order_by(col(CampaignItem.position), col(CampaignItem.id))
        )
    )


def get_item_or_raise(session: Session, campaign: InspectionCampaign, item_id: int) -> CampaignItem:
    item = session.get(CampaignItem, item_id)
    if item is None or item.campaign_id != campaign.id:
        raise NotFound(_("No such item in this inspection."))
    return item


def get_campaign_workshop_or_raise(
    session: Session, campaign: InspectionCampaign, workshop_id: int
) -> CampaignWorkshop:
    part = session.scalar(
        select(CampaignWorkshop).where(
            col(CampaignWorkshop.campaign_id) == campaign.id, col(CampaignWorkshop.workshop_id) == workshop_id
        )
    )
    if part is None:
        raise NotFound(_("This workshop does not take part in the inspection."))
    return part


def result_of(session: Session, part: CampaignWorkshop, item: CampaignItem) -> CampaignResult | None:
    return session.scalar(
        select(CampaignResult).where(
            col(CampaignResult.campaign_workshop_id) == part.id, col(CampaignResult.item_id) == item.id
        )
    )


def answers_per_item(session: Session, campaign: InspectionCampaign) -> dict[int, int]:
    """How many workshops have answered each item (items without answers are missing): one query."""
    rows = session.execute(
        select(col(CampaignResult.item_id), func.count())
        .join(CampaignItem, col(CampaignItem.id) == col(CampaignResult.item_id))
        .where(col(CampaignItem.campaign_id) == campaign.id)
        .group_by(col(CampaignResult.item_id))
    ).all()
    return {int(item_id): int(count) for item_id, count in rows}


# --- Setting up (managers) ----------------------------------------------------------------


def _require_manager(actor: Actor) -> None:
    require(actor, Capability.MANAGE, _("Only managers set up seasonal inspections."))


def parse_items(text: str) -> list[str]:
    """One checklist item per line; blank lines are skipped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _item_errors(texts: Sequence[str], existing: Sequence[str] = ()) -> list[FieldError]:
    """Reasons to refuse checklist lines, each naming its line (1-based, as typed)."""
    errors: list[FieldError] = []
    on_checklist = {text.casefold() for text in existing}
    first_line: dict[str, int] = {}
    for line, text in enumerate(texts, start=1):
        if len(text) > ITEM_MAX_LENGTH:
            errors.append(
                FieldError("items", _("Line %(line)s is longer than %(n)s characters.", line=line, n=ITEM_MAX_LENGTH))
            )
        key = text.casefold()
        if key in on_checklist:
            errors.append(
                FieldError("items", _("Line %(line)s is in the checklist already: %(text)s", line=line, text=text))
            )
        elif key in first_line:
            errors.append(FieldError("items", _("Line %(line)s repeats an item: %(text)s", line=line, text=text)))
        else:
            first_line[key] = line
    if len(texts) + len(existing) > MAX_ITEMS:
        errors.append(FieldError("items", _("A checklist holds at most %(n)s items.", n=MAX_ITEMS)))
    return errors


def _workshop_errors(session: Session, workshop_ids: Sequence[int]) -> list[FieldError]:
    if not workshop_ids:
        return [FieldError("workshop_ids", _("Choose at least one workshop."))]
    found = set(session.scalars(select(col(Workshop.id)).where(col(Workshop.id).in_(set(workshop_ids)))))
    if found != set(workshop_ids):
        return [FieldError("workshop_ids", _("Choose workshops from the list."))]
    return []


def setup_errors(session: Session, texts: Sequence[str], workshop_ids: Sequence[int]) -> list[FieldError]:
    """What is wrong with a new campaign's checklist and workshops (the form shows it next to
    them even when other fields are wrong too)."""
    errors = _item_errors(texts) if texts else [FieldError("items", _("Enter at least one checklist item."))]
    return errors + _workshop_errors(session, workshop_ids)


def create_campaign(
    session: Session,
    data: CampaignCreate,
    items: Sequence[str],
    workshop_ids: Sequence[int],
    *,
    actor: Actor,
    at: datetime | None = None,
) -> InspectionCampaign:
    """A campaign with its checklist (in the order given) and its workshops. ``at`` backdates it
    (demo history)."""
    _require_manager(actor)
    texts = [text.strip() for text in items if text.strip()]
    errors = setup_errors(session, texts, workshop_ids)
    if errors:
        raise ValidationFailed(_("The inspection was not saved."), errors)
    now = at or utcnow()
    campaign = InspectionCampaign.model_validate(
        data, update={"created_by_id": actor.id, "created_at": now, "updated_at": now}
    )
    session.add(campaign)
    session.flush()
    audit.record_create(session, actor, campaign)
    _add_items(session, campaign, texts, start=0, actor=actor)
    for workshop_id in dict.fromkeys(workshop_ids):
        _add_workshop(session, campaign, workshop_id, actor=actor)
    return campaign


def _add_items(
    session: Session, campaign: InspectionCampaign, texts: Sequence[str], *, start: int, actor: Actor
) -> list[CampaignItem]:
    created = [
        CampaignItem(campaign_id=campaign.id, position=start + offset, text=text)  # type: ignore[arg-type]
        for offset, text in enumerate(texts, start=1)
    ]
    session.add_all(created)
    session.flush()
    for item in created:
        audit.record_create(session, actor, item)
    return created


def _add_workshop(
    session: Session, campaign: InspectionCampaign, workshop_id: int, *, actor: Actor
) -> CampaignWorkshop:
    part = CampaignWorkshop(campaign_id=campaign.id, workshop_id=workshop_id)  # type: ignore[arg-type]
    session.add(part)
    session.flush()
    audit.record_create(session, actor, part)
    return part


def update_campaign(
    session: Session, campaign: InspectionCampaign, data: CampaignUpdate, *, actor: Actor
) -> InspectionCampaign:
    """Apply a full edit made from ``data.version``; a newer stored version is a conflict, here
    or (saved meanwhile by someone else) in the UPDATE."""
    _require_manager(actor)

    def stale() -> Conflict:
        return Conflict(
            _(
                "Someone else changed “%(name)s” while you were editing it. Review their changes and edit again.",
                name=campaign.name,
            ),
            [FieldError("version", _("stale"))],
        )

    if data.version != campaign.version:
        raise stale()
    before = audit.snapshot(campaign)
    with versioned_write(session, campaign, stale):
        campaign.sqlmodel_update(data.model_dump(exclude={"version"}))
        changed = audit.snapshot(campaign) != before
        if changed:
            campaign.version += 1
            campaign.updated_at = utcnow()
    if changed:
        audit.record_update(session, actor, campaign, before)
    return campaign


def add_items(
    session: Session, campaign: InspectionCampaign, texts: Sequence[str], *, actor: Actor
) -> list[CampaignItem]:
    """Append items to the checklist. Not once a workshop has submitted: its sheet would be
    submitted with items it never saw (reopen it first)."""
    _require_manager(actor)
    texts = [text.strip() for text in texts if text.strip()]
    if not texts:
        raise ValidationFailed(_("No item was added."), [FieldError("items", _("Enter at least one checklist item."))])
    submitted = session.scalar(
        select(func.count())
        .select_from(CampaignWorkshop)
        .where(col(CampaignWorkshop.campaign_id) == campaign.id, col(CampaignWorkshop.submitted_at).is_not(None))
    )
    if submitted:
        raise Conflict(
            ngettext(
                "%(num)s workshop has submitted its sheet already: reopen it before adding items.",
                "%(num)s workshops have submitted their sheets already: reopen them before adding items.",
                submitted,
            )
        )
    existing = items_of(session, campaign)
    errors = _item_errors(texts, [item.text for item in existing])
    if errors:
        raise ValidationFailed(_("No item was added."), errors)
    start = max((item.position for item in existing), default=0)
    return _add_items(session, campaign, texts, start=start, actor=actor)


def remove_item(session: Session, campaign: InspectionCampaign, item: CampaignItem, *, actor: Actor) -> None:
    """Take an item off the checklist; refused once any workshop has answered it."""
    _require_manager(actor)
    if item.campaign_id != campaign.id:
        raise NotFound(_("No such item in this inspection."))
    answers = answers_per_item(session, campaign).get(item.id or 0, 0)
    if answers:
        raise Conflict(
            ngettext(
                "“%(text)s” has been answered by %(num)s workshop, so it stays on the checklist.",
                "“%(text)s” has been answered by %(num)s workshops, so it stays on the checklist.",
                answers,
                text=item.text,
            )
        )
    if len(items_of(session, campaign)) <= 1:
        raise Conflict(_("A checklist needs at least one item: add another before removing this one."))
    audit.record_delete(session, actor, item)
    session.delete(item)
    session.flush()


def add_workshops(
    session: Session, campaign: InspectionCampaign, workshop_ids: Sequence[int], *, actor: Actor
) -> list[CampaignWorkshop]:
    """Bring more workshops into the campaign (those already in are left as they are)."""
    _require_manager(actor)
    errors = _workshop_errors(session, workshop_ids)
    if errors:
        raise ValidationFailed(_("No workshop was added."), errors)
    taking_part = set(
        session.scalars(
            select(col(CampaignWorkshop.workshop_id)).where(col(CampaignWorkshop.campaign_id) == campaign.id)
        )
    )
    new = [workshop_id for workshop_id in dict.fromkeys(workshop_ids) if workshop_id not in taking_part]
    if not new:
        raise ValidationFailed(
            _("No workshop was added."),
            [FieldError("workshop_ids", _("The workshops chosen take part already."))],
        )
    return [_add_workshop(session, campaign, workshop_id, actor=actor) for workshop_id in new]


# --- Answering (engineers of the workshop) ------------------------------------------------


def _require_write(session: Session, actor: Actor, part: CampaignWorkshop) -> None:
    require_write_in(session, actor, part.workshop_id)


def _require_open(session: Session, part: CampaignWorkshop) -> None:
    if part.submitted_at is not None:
        workshop = session.get(Workshop, part.workshop_id)
        raise Conflict(
            _(
                "%(workshop)s submitted its sheet on %(date)s: a manager must reopen it before answers change.",
                workshop=workshop.name if workshop else part.workshop_id,
                date=part.submitted_at.astimezone(plant_timezone()).date().isoformat(),
            )
        )


def _resolve_asset(
    session: Session, part: CampaignWorkshop, asset_tag: str | None, asset_id: int | None
) -> tuple[Asset | None, list[FieldError]]:
    """The asset a finding is on, named by tag (forms; tags are unique within the workshop's
    site) or id; it must be of the workshop."""
    tag = (asset_tag or "").strip()
    if not tag and asset_id is None:
        return None, []
    workshop = session.get(Workshop, part.workshop_id)
    if tag:
        asset = asset_service.get_asset_by_tag(session, tag, site_id=workshop.site_id if workshop else None)
    else:
        asset = session.get(Asset, asset_id)
    if asset is None:
        return None, [FieldError("asset_tag", _("No asset has the tag %(tag)s.", tag=tag or asset_id))]
    if asset.workshop_id != part.workshop_id:
        return None, [
            FieldError(
                "asset_tag",
                _(
                    "%(tag)s is not an asset of %(workshop)s.",
                    tag=asset.tag,
                    workshop=workshop.name if workshop else part.workshop_id,
                ),
            )
        ]
    return asset, []


def answer(
    session: Session,
    part: CampaignWorkshop,
    item: CampaignItem,
    result: ChecklistResult,
    note: str = "",
    asset_tag: str | None = None,
    asset_id: int | None = None,
    *,
    actor: Actor,
    at: datetime | None = None,
) -> CampaignResult:
    """Record (or change) the workshop's answer to ``item``. A not-OK answer needs a note saying
    what is wrong; the asset is optional until an order is raised. Once a finding has raised an
    order its result and asset stay (the note may still change). ``at`` backdates it (demo)."""
    _require_write(session, actor, part)
    if item.campaign_id != part.campaign_id:
        raise NotFound(_("No such item in this inspection."))
    # Answers of one workshop are serialised on its row: the counters stay right.
    session.refresh(part, with_for_update=True)
    _require_open(session, part)
    note = note.strip()
    errors: list[FieldError] = []
    if result == ChecklistResult.NOT_OK and not note:
        errors.append(FieldError("note", _("Describe what is not OK.")))
    if len(note) > NOTE_MAX_LENGTH:
        errors.append(FieldError("note", _("Enter at most %(n)s characters.", n=NOTE_MAX_LENGTH)))
    asset, asset_errors = _resolve_asset(session, part, asset_tag, asset_id)
    errors += asset_errors
    stored = result_of(session, part, item)
    if stored is not None and stored.order_id is not None:
        if result != ChecklistResult.NOT_OK:
            errors.append(FieldError("result", _("A work order was raised for this finding: it stays not OK.")))
        if asset is None or asset.id != stored.asset_id:
            errors.append(FieldError("asset_tag", _("A work order was raised for this asset: the asset stays.")))
    if errors:
        raise ValidationFailed(_("The answer was not saved."), errors)
    now = at or utcnow()
    fields: dict[str, Any] = {
        "result": result,
        "note": note,
        "asset_id": asset.id if asset else None,
    }
    was_finding = stored is not None and stored.result == ChecklistResult.NOT_OK
    is_finding = result == ChecklistResult.NOT_OK
    if stored is None:
        stored = CampaignResult(
            campaign_workshop_id=part.id,  # type: ignore[arg-type]
            item_id=item.id,  # type: ignore[arg-type]
            answered_by_id=actor.id,
            answered_at=now,
            **fields,
        )
        session.add(stored)
        part.items_answered += 1
        part.findings += int(is_finding)
        session.flush()
        audit.record_create(session, actor, stored)
        return stored
    before = audit.snapshot(stored)
    stored.sqlmodel_update(fields)
    if audit.snapshot(stored) == before:
        return stored
    stored.answered_by_id, stored.answered_at = actor.id, now
    part.findings += int(is_finding) - int(was_finding)
    session.flush()
    audit.record_update(session, actor, stored, before)
    return stored


def raise_order(session: Session, result: CampaignResult, *, actor: Actor, at: datetime | None = None) -> WorkOrder:
    """A finding on an asset becomes a corrective order (once): "防冻防凝: <item>: not OK", with the
    note as its description. ``at`` backdates it (demo history)."""
    part = session.get(CampaignWorkshop, result.campaign_workshop_id)
    if part is None:  # pragma: no cover - the foreign key keeps it
        raise NotFound()
    _require_write(session, actor, part)
    session.refresh(result, with_for_update=True)  # two clicks raise one order
    if result.result != ChecklistResult.NOT_OK:
        raise Conflict(_("Only a finding (not OK) raises a work order."))
    if result.order_id is not None:
        order = session.get(WorkOrder, result.order_id)
        raise Conflict(
            _("This finding has raised order %(number)s already.", number=order.number if order else result.order_id)
        )
    if result.asset_id is None:
        raise ValidationFailed(
            _("Name the asset of the finding first."),
            [FieldError("asset_tag", _("Enter the tag of the asset."))],
        )
    campaign = get_campaign_or_raise(session, part.campaign_id)
    item = session.get(CampaignItem, result.item_id)
    order = order_service.create_order(
        session,
        WorkOrderCreate(
            order_type=OrderType.CM,
            asset_id=result.asset_id,
            title=_("%(kind)s: %(item)s: not OK", kind=campaign.kind.label, item=item.text if item else "")[:200],
            description=result.note,
            provider=Provider.IN_HOUSE,
        ),
        actor=actor,
        at=at,
    )
    before = audit.snapshot(result)
    result.order_id = order.id
    session.flush()
    audit.record_update(session, actor, result, before)
    return order


def missing_items(session: Session, part: CampaignWorkshop) -> list[CampaignItem]:
    """The items the workshop has not answered yet, in checklist order."""
    answered = select(col(CampaignResult.item_id)).where(col(CampaignResult.campaign_workshop_id) == part.id)
    return list(
        session.scalars(
            select(CampaignItem)
            .where(col(CampaignItem.campaign_id) == part.campaign_id, col(CampaignItem.id).not_in(answered))
            .order_by(col(CampaignItem.position), col(CampaignItem.id))
        )
    )


def submit(session: Session, part: CampaignWorkshop, *, actor: Actor, at: datetime | None = None) -> CampaignWorkshop:
    """The workshop is done: every item answered. Answers are then fixed until a manager reopens."""
    _require_write(session, actor, part)
    session.refresh(part, with_for_update=True)
    _require_open(session, part)
    missing = missing_items(session, part)
    if missing:
        raise ValidationFailed(
            ngettext(
                "%(num)s item is not answered yet.",
                "%(num)s items are not answered yet.",
                len(missing),
            ),
            [FieldError(f"item_{item.id}", _("Not answered: %(text)s", text=item.text)) for item in missing],
        )
    before = audit.snapshot(part)
    part.submitted_at = at or utcnow()
    part.submitted_by_id = actor.id
    session.flush()
    audit.record_update(session, actor, part, before)
    return part


def reopen(session: Session, part: CampaignWorkshop, *, actor: Actor) -> CampaignWorkshop:
    """A manager takes a submitted sheet back so that its answers may change again."""
    require(actor, Capability.MANAGE, _("Only a manager reopens a submitted sheet."))
    session.refresh(part, with_for_update=True)
    if part.submitted_at is None:
        raise Conflict(_("This sheet has not been submitted."))
    before = audit.snapshot(part)
    part.submitted_at = None
    part.submitted_by_id = None
    session.flush()
    audit.record_update(session, actor, part, before)
    return part


# --- Completion ---------------------------------------------------------------------------


def _percent(done: int, total: int) -> float | None:
    return 100.0 * done / total if total else None


def sheet_status(part: CampaignWorkshop, deadline: date, today: date) -> SheetStatus:
    """On time / late by the plant date of submission; overdue once the deadline has passed."""
    if part.submitted_at is not None:
        submitted_on = part.submitted_at.astimezone(plant_timezone()).date()
        return SheetStatus.ON_TIME if submitted_on <= deadline else SheetStatus.LATE
    if today > deadline:
        return SheetStatus.OVERDUE
    return SheetStatus.IN_PROGRESS if part.items_answered else SheetStatus.NOT_STARTED


@dataclass(frozen=True)
class CampaignProgress:
    """A campaign's completion over all its workshops."""

    items: int = 0
    workshops: int = 0
    answered: int = 0
    findings: int = 0
    submitted: int = 0
    orders: int = 0

    @property
    def expected(self) -> int:
        return self.items * self.workshops

    @property
    def percent(self) -> float | None:
        return _percent(self.answered, self.expected)

    def state(self, campaign: InspectionCampaign, today: date) -> CampaignState:
        if self.workshops and self.submitted == self.workshops:
            return CampaignState.COMPLETE
        if today > campaign.deadline:
            return CampaignState.OVERDUE
        if today < campaign.starts_on:
            return CampaignState.UPCOMING
        return CampaignState.ACTIVE


@dataclass(frozen=True)
class WorkshopProgress:
    """One workshop's sheet: answered of the items, findings, orders raised, status."""

    part: CampaignWorkshop
    workshop: Workshop
    items: int
    orders: int
    status: SheetStatus

    @property
    def answered(self) -> int:
        return self.part.items_answered

    @property
    def findings(self) -> int:
        return self.part.findings

    @property
    def percent(self) -> float | None:
        return _percent(self.answered, self.items)


def _orders_per_workshop() -> Any:
    """(campaign_workshop_id, orders raised) of every sheet, as a subquery."""
    return (
        select(col(CampaignResult.campaign_workshop_id).label("part_id"), func.count().label("orders"))
        .where(col(CampaignResult.order_id).is_not(None))
        .group_by(col(CampaignResult.campaign_workshop_id))
        .subquery()
    )


def workshop_progress(
    session: Session, campaign: InspectionCampaign, items: int, today: date
) -> list[WorkshopProgress]:
    """Every participating workshop's progress, by workshop code: one query."""
    orders = _orders_per_workshop()
    rows = session.execute(
        select(CampaignWorkshop, Workshop, func.coalesce(orders.c.orders, 0))
        .join(Workshop, col(Workshop.id) == col(CampaignWorkshop.workshop_id))
        .outerjoin(orders, orders.c.part_id == col(CampaignWorkshop.id))
        .where(col(CampaignWorkshop.campaign_id) == campaign.id)
        .order_by(col(Workshop.code))
    ).all()
    return [
        WorkshopProgress(part, workshop, items, order_count, sheet_status(part, campaign.deadline, today))
        for part, workshop, order_count in rows
    ]


def progress_of(rows: Sequence[WorkshopProgress], items: int) -> CampaignProgress:
    return CampaignProgress(
        items=items,
        workshops=len(rows),
        answered=sum(row.answered for row in rows),
        findings=sum(row.findings for row in rows),
        submitted=sum(1 for row in rows if row.part.submitted_at is not None),
        orders=sum(row.orders for row in rows),
    )


@dataclass(frozen=True)
class Finding:
    """A not-OK answer with what the campaign page shows of it."""

    result: CampaignResult
    item_text: str
    workshop: Workshop
    asset: Asset | None
    order_number: str | None
    order_state: OrderState | None


def findings_of(session: Session, campaign: InspectionCampaign) -> list[Finding]:
    """Every finding of the campaign with its workshop, asset and order: one query."""
    rows = session.execute(
        select(CampaignResult, col(CampaignItem.text), Workshop, Asset, col(WorkOrder.number), col(WorkOrder.state))
        .join(CampaignWorkshop, col(CampaignWorkshop.id) == col(CampaignResult.campaign_workshop_id))
        .join(CampaignItem, col(CampaignItem.id) == col(CampaignResult.item_id))
        .join(Workshop, col(Workshop.id) == col(CampaignWorkshop.workshop_id))
        .outerjoin(Asset, col(Asset.id) == col(CampaignResult.asset_id))
        .outerjoin(WorkOrder, col(WorkOrder.id) == col(CampaignResult.order_id))
        .where(col(CampaignWorkshop.campaign_id) == campaign.id, col(CampaignResult.result) == ChecklistResult.NOT_OK)
        .order_by(col(Workshop.code), col(CampaignItem.position))
    ).all()
    return [Finding(*row) for row in rows]


@dataclass(frozen=True)
class SheetLine:
    """One item of a workshop's sheet (``number``: its place in the checklist, from 1) with the
    workshop's answer, if any, the finding's asset tag and the order it raised."""

    number: int
    item: CampaignItem
    result: CampaignResult | None
    asset_tag: str | None
    order_number: str | None

    @property
    def is_finding(self) -> bool:
        return self.result is not None and self.result.result == ChecklistResult.NOT_OK


def _answers(session: Session, part: CampaignWorkshop, item_id: int | None = None) -> dict[int, Any]:
    stmt = (
        select(CampaignResult, col(Asset.tag), col(WorkOrder.number))
        .outerjoin(Asset, col(Asset.id) == col(CampaignResult.asset_id))
        .outerjoin(WorkOrder, col(WorkOrder.id) == col(CampaignResult.order_id))
        .where(col(CampaignResult.campaign_workshop_id) == part.id)
    )
    if item_id is not None:
        stmt = stmt.where(col(CampaignResult.item_id) == item_id)
    return {row[0].item_id: tuple(row) for row in session.execute(stmt)}


def sheet_lines(
    session: Session, part: CampaignWorkshop, items: Sequence[CampaignItem], only: CampaignItem | None = None
) -> list[SheetLine]:
    """The sheet in checklist order with the workshop's answers (or just the line of ``only``): one query."""
    answers = _answers(session, part, only.id if only is not None else None)
    return [
        SheetLine(number, item, *(answers.get(item.id or 0) or (None, None, None)))
        for number, item in enumerate(items, start=1)
        if only is None or item.id == only.id
    ]


# --- The list -----------------------------------------------------------------------------

DEFAULT_SORT = "-starts_on"


class CampaignFilters(BaseModel):
    """What the list filters and sorts on, parsed from query parameters."""

    model_config = ConfigDict(extra="ignore")

    year: int | None = Field(default=None, ge=2000, le=2100)
    kind: CampaignKind | None = None
    sort: str = DEFAULT_SORT

    @field_validator("year", "kind", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("sort")
    @classmethod
    def _known_sort(cls, value: str) -> str:
        return value if value.removeprefix("-") in SORTABLE else DEFAULT_SORT


def list_campaigns(filters: CampaignFilters) -> Select[*tuple[Any, ...]]:
    """(campaign, items, workshops, answered, findings, submitted, orders) rows: the counts are
    aggregated in SQL, so a page of campaigns is one query whatever their size."""
    items = (
        select(col(CampaignItem.campaign_id).label("campaign_id"), func.count().label("items"))
        .group_by(col(CampaignItem.campaign_id))
        .subquery()
    )
    parts = (
        select(
            col(CampaignWorkshop.campaign_id).label("campaign_id"),
            func.count().label("workshops"),
            func.sum(col(CampaignWorkshop.items_answered)).label("answered"),
            func.sum(col(CampaignWorkshop.findings)).label("findings"),
            func.count(col(CampaignWorkshop.submitted_at)).label("submitted"),
        )
        .group_by(col(CampaignWorkshop.campaign_id))
        .subquery()
    )
    orders = (
        select(col(CampaignWorkshop.campaign_id).label("campaign_id"), func.count().label("orders"))
        .join(CampaignResult, col(CampaignResult.campaign_workshop_id) == col(CampaignWorkshop.id))
        .where(col(CampaignResult.order_id).is_not(None))
        .group_by(col(CampaignWorkshop.campaign_id))
        .subquery()
    )
    item_count = func.coalesce(items.c["items"], 0)
    workshop_count = func.coalesce(parts.c.workshops, 0)
    answered = func.coalesce(parts.c.answered, 0)
    findings = func.coalesce(parts.c.findings, 0)
    columns = {
        "items": item_count,
        "workshops": workshop_count,
        "answered": answered,
        "findings": findings,
        "submitted": func.coalesce(parts.c.submitted, 0),
        "orders": func.coalesce(orders.c.orders, 0),
    }
    stmt = (
        select(InspectionCampaign, *(expression.label(name) for name, expression in columns.items()))
        .outerjoin(items, items.c.campaign_id == col(InspectionCampaign.id))
        .outerjoin(parts, parts.c.campaign_id == col(InspectionCampaign.id))
        .outerjoin(orders, orders.c.campaign_id == col(InspectionCampaign.id))
    )
    if filters.year is not None:
        stmt = stmt.where(
            col(InspectionCampaign.starts_on) >= date(filters.year, 1, 1),
            col(InspectionCampaign.starts_on) <= date(filters.year, 12, 31),
        )
    if filters.kind is not None:
        stmt = stmt.where(col(InspectionCampaign.kind) == filters.kind)
    key = filters.sort.removeprefix("-")
    expression = SORTABLE[key](answered, item_count * workshop_count, findings)
    direction = expression.desc() if filters.sort.startswith("-") else expression.asc()
    return stmt.order_by(direction, col(InspectionCampaign.id).desc())


# Sort keys users may ask for (``-`` prefix for descending), given the aggregate expressions
# (answered, expected answers, findings).
SORTABLE: dict[str, Any] = {
    "name": lambda *_: col(InspectionCampaign.name),
    "kind": lambda *_: col(InspectionCampaign.kind),
    "starts_on": lambda *_: col(InspectionCampaign.starts_on),
    "deadline": lambda *_: col(InspectionCampaign.deadline),
    "completion": lambda answered, expected, _findings: answered * 1.0 / func.nullif(expected, 0),
    "findings": lambda _answered, _expected, findings: findings,
}


def progress_from_row(row: Sequence[Any]) -> CampaignProgress:
    """A list row's counts (after the campaign) as a :class:`CampaignProgress`."""
    items, workshops, answered, findings, submitted, orders = (int(value or 0) for value in row[1:7])
    return CampaignProgress(items, workshops, answered, findings, submitted, orders)


def campaign_years(session: Session) -> list[int]:
    """The years campaigns started in, newest first (the list's year filter)."""
    year = extract("year", col(InspectionCampaign.starts_on))
    return [int(value) for value in session.scalars(select(year).distinct().order_by(year.desc())) if value]
