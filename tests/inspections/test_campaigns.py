"""Seasonal special inspections (季节性专项检查), the service: managers set a campaign up (a checklist,
the workshops, a deadline); each workshop's engineers answer every item OK or not OK; a finding on
an asset raises one corrective order; a workshop submits once everything is answered; completion
is reported per workshop (on time, late, overdue) and over all campaigns from SQL aggregates.

Fixtures ``workshop`` and ``asset`` (an asset of that workshop) come from tests/inspections/conftest.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.db import plant_timezone, plant_today
from maintenance.exceptions import Conflict, PermissionDenied, ValidationFailed
from maintenance.inspections import campaigns
from maintenance.inspections.campaigns import CampaignFilters, CampaignState, SheetStatus
from maintenance.inspections.choices import CampaignKind
from maintenance.inspections.models import (
    CampaignCreate,
    CampaignItem,
    CampaignResult,
    CampaignUpdate,
    CampaignWorkshop,
    InspectionCampaign,
)
from maintenance.orders.choices import ChecklistResult, OrderState, OrderType
from maintenance.orders.models import WorkOrder
from maintenance.org.models import Role, User, Workshop
from tests import factories
from tests.monitoring.conftest import engineer_of

OK = ChecklistResult.OK
NOT_OK = ChecklistResult.NOT_OK
TODAY = plant_today()
ITEMS = ["伴热线投用、疏水器畅通", "保温完好、无破损进水", "排凝阀排净、无冻堵"]


def data(**changes: object) -> CampaignCreate:
    fields: dict[str, object] = {
        "name": "2026年冬季防冻防凝专项检查",
        "kind": CampaignKind.WINTERIZATION,
        "starts_on": TODAY - timedelta(days=7),
        "deadline": TODAY + timedelta(days=7),
        "instructions": "气温降至5℃以下前完成。",
    }
    fields.update(changes)
    return CampaignCreate.model_validate(fields)


def changes_of(session: Session, obj: object, action: ChangeAction | None = None) -> list[ObjectChange]:
    stmt = select(ObjectChange).where(
        col(ObjectChange.object_type) == type(obj).__tablename__,  # type: ignore[attr-defined]
        col(ObjectChange.object_id) == str(obj.id),  # type: ignore[attr-defined]
    )
    if action is not None:
        stmt = stmt.where(col(ObjectChange.action) == action)
    return list(session.scalars(stmt.order_by(col(ObjectChange.id))))


def at_plant(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=plant_timezone()).astimezone(UTC)


@pytest.fixture
def other_workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory()


@pytest.fixture
def engineer(session: Session, workshop: Workshop) -> User:
    """An engineer of ``workshop``."""
    return engineer_of(session, workshop)


@pytest.fixture
def campaign(session: Session, manager: User, workshop: Workshop, other_workshop: Workshop) -> InspectionCampaign:
    return campaigns.create_campaign(session, data(), ITEMS, [workshop.id, other_workshop.id], actor=manager)  # type: ignore[list-item]


@pytest.fixture
def items(session: Session, campaign: InspectionCampaign) -> list[CampaignItem]:
    return campaigns.items_of(session, campaign)


@pytest.fixture
def part(session: Session, campaign: InspectionCampaign, workshop: Workshop) -> CampaignWorkshop:
    """``workshop``'s sheet of the campaign."""
    return campaigns.get_campaign_workshop_or_raise(session, campaign, workshop.id)  # type: ignore[arg-type]


def answer_all(session: Session, part: CampaignWorkshop, items: list[CampaignItem], actor: User) -> None:
    for item in items:
        campaigns.answer(session, part, item, OK, actor=actor)


# --- Setting up -----------------------------------------------------------------------------


def test_a_manager_creates_a_campaign_with_its_checklist_and_workshops_in_the_change_log(
    session: Session, campaign: InspectionCampaign, manager: User, workshop: Workshop, other_workshop: Workshop
) -> None:
    items = campaigns.items_of(session, campaign)
    parts = session.scalars(select(CampaignWorkshop).where(col(CampaignWorkshop.campaign_id) == campaign.id)).all()

    assert [item.text for item in items] == ITEMS
    assert [item.position for item in items] == [1, 2, 3]
    assert {part.workshop_id for part in parts} == {workshop.id, other_workshop.id}
    assert all(part.items_answered == 0 and part.findings == 0 for part in parts)
    assert campaign.created_by_id == manager.id
    logged = [*changes_of(session, campaign), *(c for item in items for c in changes_of(session, item))]
    logged += [c for part in parts for c in changes_of(session, part)]
    assert [change.action for change in logged] == [ChangeAction.CREATE] * 6
    assert {change.actor_name for change in logged} == {manager.username}


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_only_managers_and_admins_set_up_campaigns(session: Session, workshop: Workshop, role: Role) -> None:
    user = engineer_of(session, workshop) if role == Role.ENGINEER else factories.UserFactory(role=role)

    with pytest.raises(PermissionDenied):
        campaigns.create_campaign(session, data(), ITEMS, [workshop.id], actor=user)  # type: ignore[list-item]

    admin = factories.UserFactory(role=Role.ADMIN)
    assert campaigns.create_campaign(session, data(), ITEMS, [workshop.id], actor=admin).id  # type: ignore[list-item]


def test_a_campaign_needs_at_least_one_item_and_one_workshop(session: Session, manager: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        campaigns.create_campaign(session, data(), ["  ", ""], [], actor=manager)

    assert {error.field for error in refused.value.errors} == {"items", "workshop_ids"}
    assert session.scalar(select(func.count()).select_from(InspectionCampaign)) == 0


def test_checklist_lines_are_refused_by_line_when_repeated_or_too_long(
    session: Session, manager: User, workshop: Workshop
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        campaigns.create_campaign(
            session, data(), ["伴热线投用", "保温完好", "伴热线投用", "长" * 201], [workshop.id], actor=manager
        )  # type: ignore[list-item]

    messages = [error.message for error in refused.value.errors if error.field == "items"]
    assert len(messages) == 2
    assert "3" in messages[0]  # line 3 repeats line 1
    assert "4" in messages[1]  # line 4 is too long


def test_unknown_workshops_are_refused(session: Session, manager: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        campaigns.create_campaign(session, data(), ITEMS, [999_999], actor=manager)

    assert [error.field for error in refused.value.errors] == ["workshop_ids"]


def test_an_edit_from_a_stale_version_is_a_conflict(
    session: Session, campaign: InspectionCampaign, manager: User
) -> None:
    fields = data().model_dump()
    campaigns.update_campaign(
        session, campaign, CampaignUpdate(**fields | {"deadline": TODAY + timedelta(days=10)}, version=1), actor=manager
    )

    assert campaign.version == 2
    assert campaign.deadline == TODAY + timedelta(days=10)
    [update] = changes_of(session, campaign, ChangeAction.UPDATE)
    assert update.before is not None
    assert update.before["version"] == 1
    with pytest.raises(Conflict) as stale:
        campaigns.update_campaign(
            session, campaign, CampaignUpdate(**fields | {"name": "另一个"}, version=1), actor=manager
        )
    assert stale.value.status_code == 409
    assert campaign.name == fields["name"]


def test_an_unchanged_edit_writes_nothing(session: Session, campaign: InspectionCampaign, manager: User) -> None:
    campaigns.update_campaign(session, campaign, CampaignUpdate(**data().model_dump(), version=1), actor=manager)

    assert campaign.version == 1
    assert changes_of(session, campaign, ChangeAction.UPDATE) == []


def test_engineers_cannot_edit_a_campaign(session: Session, campaign: InspectionCampaign, engineer: User) -> None:
    with pytest.raises(PermissionDenied):
        campaigns.update_campaign(session, campaign, CampaignUpdate(**data().model_dump(), version=1), actor=engineer)


def test_items_are_appended_and_an_item_without_answers_can_be_removed(
    session: Session, campaign: InspectionCampaign, items: list[CampaignItem], manager: User
) -> None:
    [added] = campaigns.add_items(session, campaign, ["消防水管线排空"], actor=manager)
    campaigns.remove_item(session, campaign, items[1], actor=manager)

    assert added.position == 4
    assert [item.text for item in campaigns.items_of(session, campaign)] == [ITEMS[0], ITEMS[2], "消防水管线排空"]
    assert [change.action for change in changes_of(session, items[1])] == [ChangeAction.CREATE, ChangeAction.DELETE]


def test_an_item_already_on_the_checklist_is_not_added_twice(
    session: Session, campaign: InspectionCampaign, manager: User
) -> None:
    with pytest.raises(ValidationFailed):
        campaigns.add_items(session, campaign, [ITEMS[0]], actor=manager)


def test_an_item_that_has_answers_is_not_removed(
    session: Session,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    engineer: User,
    manager: User,
) -> None:
    campaigns.answer(session, part, items[0], OK, actor=engineer)

    with pytest.raises(Conflict) as refused:
        campaigns.remove_item(session, campaign, items[0], actor=manager)

    assert ITEMS[0] in refused.value.message
    assert len(campaigns.items_of(session, campaign)) == 3


def test_items_are_not_added_once_a_workshop_has_submitted(
    session: Session,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    engineer: User,
    manager: User,
) -> None:
    answer_all(session, part, items, engineer)
    campaigns.submit(session, part, actor=engineer)

    with pytest.raises(Conflict):
        campaigns.add_items(session, campaign, ["新增项目"], actor=manager)


def test_workshops_are_added_once(
    session: Session, campaign: InspectionCampaign, manager: User, workshop: Workshop
) -> None:
    third = factories.WorkshopFactory()

    added = campaigns.add_workshops(session, campaign, [workshop.id, third.id], actor=manager)  # type: ignore[list-item]

    assert [part.workshop_id for part in added] == [third.id]
    with pytest.raises(ValidationFailed):
        campaigns.add_workshops(session, campaign, [third.id], actor=manager)  # type: ignore[list-item]


# --- Answering ------------------------------------------------------------------------------


def test_engineers_answer_only_for_their_workshops_and_auditors_never(
    session: Session,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    other_workshop: Workshop,
    engineer: User,
    auditor: User,
    manager: User,
) -> None:
    theirs = campaigns.get_campaign_workshop_or_raise(session, campaign, other_workshop.id)  # type: ignore[arg-type]

    with pytest.raises(PermissionDenied):
        campaigns.answer(session, theirs, items[0], OK, actor=engineer)
    with pytest.raises(PermissionDenied):
        campaigns.answer(session, theirs, items[0], OK, actor=auditor)
    campaigns.answer(session, theirs, items[0], OK, actor=manager)  # managers write everywhere

    assert theirs.items_answered == 1


def test_answering_again_changes_the_answer_and_keeps_the_counters_right(
    session: Session, items: list[CampaignItem], part: CampaignWorkshop, engineer: User
) -> None:
    first = campaigns.answer(session, part, items[0], OK, actor=engineer)
    campaigns.answer(session, part, items[1], NOT_OK, "保温层破损约2米", actor=engineer)
    assert (part.items_answered, part.findings) == (2, 1)

    again = campaigns.answer(session, part, items[0], NOT_OK, "伴热线未投用", actor=engineer)
    assert again.id == first.id
    assert (part.items_answered, part.findings) == (2, 2)

    campaigns.answer(session, part, items[1], OK, actor=engineer)
    assert (part.items_answered, part.findings) == (2, 1)

    stored = session.scalars(select(CampaignResult).where(col(CampaignResult.campaign_workshop_id) == part.id)).all()
    assert len(stored) == part.items_answered
    assert sum(1 for result in stored if result.result == NOT_OK) == part.findings
    assert [change.action for change in changes_of(session, first)] == [ChangeAction.CREATE, ChangeAction.UPDATE]


def test_the_same_answer_again_writes_nothing(
    session: Session, items: list[CampaignItem], part: CampaignWorkshop, engineer: User
) -> None:
    result = campaigns.answer(session, part, items[0], OK, "正常", actor=engineer)
    campaigns.answer(session, part, items[0], OK, " 正常 ", actor=engineer)

    assert part.items_answered == 1
    assert len(changes_of(session, result)) == 1


def test_a_finding_needs_a_note(
    session: Session, items: list[CampaignItem], part: CampaignWorkshop, engineer: User
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        campaigns.answer(session, part, items[0], NOT_OK, "  ", actor=engineer)

    assert [error.field for error in refused.value.errors] == ["note"]
    assert part.items_answered == 0


def test_a_finding_names_an_asset_of_the_workshop_by_tag_or_id(
    session: Session,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    engineer: User,
    asset: Asset,
    workshop: Workshop,
) -> None:
    neighbour = factories.WorkshopFactory(site_id=workshop.site_id)
    elsewhere = factories.AssetFactory(tag="P-9901", workshop_id=neighbour.id)

    by_tag = campaigns.answer(session, part, items[0], NOT_OK, "排凝阀冻堵", asset_tag=f" {asset.tag} ", actor=engineer)
    by_id = campaigns.answer(session, part, items[1], NOT_OK, "保温破损", asset_id=asset.id, actor=engineer)
    with pytest.raises(ValidationFailed) as wrong_workshop:
        campaigns.answer(session, part, items[2], NOT_OK, "冻堵", asset_tag="P-9901", actor=engineer)
    with pytest.raises(ValidationFailed) as unknown:
        campaigns.answer(session, part, items[2], NOT_OK, "冻堵", asset_tag="NO-SUCH-TAG", actor=engineer)

    assert by_tag.asset_id == by_id.asset_id == asset.id
    assert wrong_workshop.value.errors[0].message == f"{elsewhere.tag} 不是 {workshop.name} 的设备。"
    assert [error.field for error in unknown.value.errors] == ["asset_tag"]


def test_a_finding_raises_one_corrective_order_on_its_asset(
    session: Session, items: list[CampaignItem], part: CampaignWorkshop, engineer: User, asset: Asset
) -> None:
    finding = campaigns.answer(
        session, part, items[2], NOT_OK, "P-1101B出口排凝阀冻堵", asset_tag=asset.tag, actor=engineer
    )

    order = campaigns.raise_order(session, finding, actor=engineer)

    assert order.order_type == OrderType.CM
    assert order.state == OrderState.DRAFT
    assert order.asset_id == asset.id
    assert order.title == f"防冻防凝：{ITEMS[2]}：异常"
    assert order.description == "P-1101B出口排凝阀冻堵"
    assert finding.order_id == order.id
    assert [change.action for change in changes_of(session, finding)] == [ChangeAction.CREATE, ChangeAction.UPDATE]
    with pytest.raises(Conflict) as twice:
        campaigns.raise_order(session, finding, actor=engineer)
    assert order.number in twice.value.message
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 1


def test_only_a_finding_with_an_asset_raises_an_order(
    session: Session, items: list[CampaignItem], part: CampaignWorkshop, engineer: User, auditor: User, asset: Asset
) -> None:
    fine = campaigns.answer(session, part, items[0], OK, actor=engineer)
    no_asset = campaigns.answer(session, part, items[1], NOT_OK, "保温破损", actor=engineer)
    with_asset = campaigns.answer(session, part, items[2], NOT_OK, "冻堵", asset_tag=asset.tag, actor=engineer)

    with pytest.raises(Conflict):
        campaigns.raise_order(session, fine, actor=engineer)
    with pytest.raises(ValidationFailed) as refused:
        campaigns.raise_order(session, no_asset, actor=engineer)
    assert [error.field for error in refused.value.errors] == ["asset_tag"]
    with pytest.raises(PermissionDenied):
        campaigns.raise_order(session, with_asset, actor=auditor)


def test_a_finding_that_raised_an_order_stays_not_ok_on_its_asset(
    session: Session, items: list[CampaignItem], part: CampaignWorkshop, engineer: User, asset: Asset
) -> None:
    finding = campaigns.answer(session, part, items[0], NOT_OK, "伴热线未投用", asset_tag=asset.tag, actor=engineer)
    campaigns.raise_order(session, finding, actor=engineer)

    with pytest.raises(ValidationFailed) as refused:
        campaigns.answer(session, part, items[0], OK, actor=engineer)
    campaigns.answer(session, part, items[0], NOT_OK, "伴热线未投用，已通知仪表班", asset_tag=asset.tag, actor=engineer)

    assert {error.field for error in refused.value.errors} == {"result", "asset_tag"}
    assert finding.note == "伴热线未投用，已通知仪表班"
    assert part.findings == 1


# --- Submitting -----------------------------------------------------------------------------


def test_a_sheet_is_submitted_only_when_every_item_is_answered(
    session: Session, items: list[CampaignItem], part: CampaignWorkshop, engineer: User
) -> None:
    campaigns.answer(session, part, items[1], OK, actor=engineer)

    with pytest.raises(ValidationFailed) as refused:
        campaigns.submit(session, part, actor=engineer)

    assert [error.field for error in refused.value.errors] == [f"item_{items[0].id}", f"item_{items[2].id}"]
    assert ITEMS[0] in refused.value.errors[0].message
    assert part.submitted_at is None

    for item in (items[0], items[2]):
        campaigns.answer(session, part, item, OK, actor=engineer)
    campaigns.submit(session, part, actor=engineer)

    assert part.submitted_at is not None
    assert part.submitted_by_id == engineer.id
    assert [change.action for change in changes_of(session, part)] == [ChangeAction.CREATE, ChangeAction.UPDATE]


def test_a_submitted_sheet_is_fixed_until_a_manager_reopens_it(
    session: Session, items: list[CampaignItem], part: CampaignWorkshop, engineer: User, manager: User
) -> None:
    answer_all(session, part, items, engineer)
    campaigns.submit(session, part, actor=engineer)

    with pytest.raises(Conflict):
        campaigns.answer(session, part, items[0], NOT_OK, "复查发现保温破损", actor=engineer)
    with pytest.raises(Conflict):
        campaigns.submit(session, part, actor=engineer)
    with pytest.raises(PermissionDenied):
        campaigns.reopen(session, part, actor=engineer)

    campaigns.reopen(session, part, actor=manager)
    campaigns.answer(session, part, items[0], NOT_OK, "复查发现保温破损", actor=engineer)

    assert part.submitted_at is None
    assert (part.items_answered, part.findings) == (3, 1)
    with pytest.raises(Conflict):
        campaigns.reopen(session, part, actor=manager)


# --- Completion -----------------------------------------------------------------------------

DEADLINE = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("answered", "submitted_on", "today", "status"),
    [
        (0, None, date(2026, 11, 20), SheetStatus.NOT_STARTED),
        (2, None, date(2026, 11, 30), SheetStatus.IN_PROGRESS),
        (2, None, date(2026, 12, 1), SheetStatus.OVERDUE),
        (0, None, date(2026, 12, 1), SheetStatus.OVERDUE),
        (3, date(2026, 11, 30), date(2026, 12, 5), SheetStatus.ON_TIME),
        (3, date(2026, 12, 1), date(2026, 12, 5), SheetStatus.LATE),
    ],
)
def test_a_sheet_is_on_time_late_or_overdue_by_the_plant_date(
    answered: int, submitted_on: date | None, today: date, status: SheetStatus
) -> None:
    # 07:00 at the plant is still the day before in UTC: the plant's date counts.
    submitted_at = at_plant(submitted_on, 7) if submitted_on else None
    part = CampaignWorkshop(campaign_id=1, workshop_id=1, items_answered=answered, submitted_at=submitted_at)

    assert campaigns.sheet_status(part, DEADLINE, today) == status


def test_completion_by_workshop_counts_answers_findings_and_orders(
    session: Session,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    engineer: User,
    asset: Asset,
) -> None:
    answer_all(session, part, items[:2], engineer)
    finding = campaigns.answer(session, part, items[2], NOT_OK, "冻堵", asset_tag=asset.tag, actor=engineer)
    campaigns.raise_order(session, finding, actor=engineer)
    campaigns.submit(session, part, actor=engineer)

    rows = campaigns.workshop_progress(session, campaign, len(items), TODAY)
    progress = campaigns.progress_of(rows, len(items))

    mine = next(row for row in rows if row.part.id == part.id)
    other = next(row for row in rows if row.part.id != part.id)
    assert (mine.answered, mine.findings, mine.orders, mine.status) == (3, 1, 1, SheetStatus.ON_TIME)
    assert (other.answered, other.percent, other.status) == (0, 0.0, SheetStatus.NOT_STARTED)
    assert (progress.answered, progress.expected, progress.findings, progress.orders, progress.submitted) == (
        3,
        6,
        1,
        1,
        1,
    )
    assert progress.percent == 50.0
    assert progress.state(campaign, TODAY) == CampaignState.ACTIVE
    assert progress.state(campaign, campaign.deadline + timedelta(days=1)) == CampaignState.OVERDUE
    assert progress.state(campaign, campaign.starts_on - timedelta(days=1)) == CampaignState.UPCOMING


def test_the_list_aggregates_each_campaign_in_sql_and_filters_by_year_and_kind(
    session: Session,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    engineer: User,
    manager: User,
    workshop: Workshop,
) -> None:
    summer = campaigns.create_campaign(
        session,
        data(
            name="2025年夏季防汛检查", kind=CampaignKind.FLOOD, starts_on=date(2025, 6, 1), deadline=date(2025, 6, 30)
        ),
        ["排水沟畅通"],
        [workshop.id],  # type: ignore[list-item]
        actor=manager,
    )
    campaigns.answer(session, part, items[0], NOT_OK, "伴热线未投用", actor=engineer)

    def listed(**filters: object) -> dict[int, campaigns.CampaignProgress]:
        rows = session.execute(campaigns.list_campaigns(CampaignFilters.model_validate(filters))).all()
        return {row[0].id: campaigns.progress_from_row(row) for row in rows}

    everything = listed()
    assert everything[campaign.id] == campaigns.CampaignProgress(  # type: ignore[index]
        items=3, workshops=2, answered=1, findings=1, submitted=0, orders=0
    )
    assert everything[summer.id] == campaigns.CampaignProgress(items=1, workshops=1)  # type: ignore[index]
    assert list(listed(year=2025)) == [summer.id]
    assert list(listed(kind="winterization")) == [campaign.id]
    assert list(listed(sort="-completion")) == [campaign.id, summer.id]
    assert list(listed(sort="starts_on")) == [summer.id, campaign.id]
    # The years campaigns started in: the winter one a week ago (last year on 1 January), 2025.
    assert campaigns.campaign_years(session) == sorted({(TODAY - timedelta(days=7)).year, 2025}, reverse=True)


def test_unknown_sort_keys_fall_back_to_the_newest_first() -> None:
    assert CampaignFilters.model_validate({"sort": "drop table"}).sort == "-starts_on"
