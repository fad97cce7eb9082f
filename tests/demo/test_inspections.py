"""The demo plant's seasonal inspection campaigns: a finished summer (flood) campaign and a
winter one under way, answered by the workshops' engineers, some findings raising orders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit.service import SystemActor
from maintenance.config import get_settings
from maintenance.db import plant_today, utcnow
from maintenance.demo.inspections import campaigns as campaign_demo
from maintenance.demo.plant import PARTS, SEED_ACTOR
from maintenance.inspections import campaigns
from maintenance.inspections.campaigns import SheetStatus
from maintenance.inspections.choices import CampaignKind
from maintenance.inspections.models import CampaignResult, InspectionCampaign
from maintenance.orders.choices import OrderState
from maintenance.org.models import Role, User
from maintenance.org.permissions import EVERY_CAPABILITY

TODAY = plant_today()


@pytest.fixture
def demo_session(session: Session) -> Session:
    """The demo plant's org and registry (the campaigns need its workshops, engineers and assets)."""
    for name, part in PARTS:
        if name in ("org", "assets"):
            part.load(session, get_settings().seed_dir, SEED_ACTOR, utcnow())
    return session


def test_the_demo_has_a_finished_summer_and_a_current_winter_campaign(demo_session: Session) -> None:
    session = demo_session
    summer, winter = campaign_demo.seed_campaigns(
        session, SystemActor(username="test", capabilities=EVERY_CAPABILITY), TODAY
    )

    def statuses(campaign: InspectionCampaign) -> list[SheetStatus]:
        items = campaigns.items_of(session, campaign)
        return sorted(row.status for row in campaigns.workshop_progress(session, campaign, len(items), TODAY))

    assert summer.kind == CampaignKind.FLOOD
    assert summer.deadline < TODAY
    assert statuses(summer) == sorted([SheetStatus.ON_TIME] * 5 + [SheetStatus.LATE])
    summer_orders = [finding for finding in campaigns.findings_of(session, summer) if finding.order_number]
    assert len(summer_orders) >= 3
    assert {finding.order_state for finding in summer_orders} <= {OrderState.COMPLETED, OrderState.CLOSED}

    assert winter.kind == CampaignKind.WINTERIZATION
    assert winter.starts_on == TODAY - timedelta(days=21)
    assert winter.deadline == TODAY + timedelta(days=7)
    winter_statuses = statuses(winter)
    assert winter_statuses.count(SheetStatus.ON_TIME) == 2
    assert winter_statuses.count(SheetStatus.NOT_STARTED) == 1
    assert winter_statuses.count(SheetStatus.IN_PROGRESS) == 3
    winter_findings = campaigns.findings_of(session, winter)
    assert any(finding.order_number for finding in winter_findings)
    assert any(finding.order_number is None for finding in winter_findings)
    assert any(finding.asset is None for finding in winter_findings)
    # Answered by the workshops' own engineers, set up by the manager.
    assert session.get(User, winter.created_by_id).role == Role.MANAGER  # type: ignore[union-attr]
    answered_by = session.scalars(select(col(CampaignResult.answered_by_id)).distinct()).all()
    assert {session.get(User, user_id).role for user_id in answered_by} == {Role.ENGINEER}  # type: ignore[union-attr]

    assert (
        campaign_demo.seed_campaigns(session, SystemActor(username="test", capabilities=EVERY_CAPABILITY), TODAY) == []
    )
