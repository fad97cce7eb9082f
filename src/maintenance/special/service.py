"""The special-equipment register: loading it on a reference date, and coverage.

Every page, export, reminder and API answer of this domain starts from :func:`register_items`,
which reads the facts in a fixed number of queries (the items, their registrations, inspection
reports, applications, and the rules) and hands them to :func:`rules.standing_on`.

An item is an asset whose ``special_category`` is not "none" and that is not retired. It is
**in service** for coverage when it is in service, on standby or under repair (idle equipment
is reported to the regulator as stopped, 停用, and needs no inspection until it returns) and its
registration is not cancelled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlmodel import Session, col

from maintenance.assets.choices import AssetStatus, SpecialCategory
from maintenance.assets.models import Asset
from maintenance.special import rules
from maintenance.special.models import (
    InspectionApplication,
    InspectionGradeInterval,
    InspectionType,
    Registration,
    SpecialInspection,
)
from maintenance.special.rules import Coverage, ItemStanding, TypeRule

IN_SERVICE_STATUSES = frozenset({AssetStatus.IN_SERVICE, AssetStatus.STANDBY, AssetStatus.UNDER_REPAIR})


@dataclass(frozen=True)
class RegisterItem:
    """One special-equipment item on the reference date."""

    asset: Asset
    registration: Registration | None
    standing: ItemStanding

    @property
    def in_service(self) -> bool:
        cancelled = self.registration is not None and self.registration.cancelled_date is not None
        cancelled = cancelled and self.registration.cancelled_date <= self.standing.as_of  # type: ignore[union-attr, operator]
        return self.asset.status in IN_SERVICE_STATUSES and not cancelled


@dataclass(frozen=True)
class RegisterFacts:
    """What the status function needs about a set of items, loaded once (for one date or many)."""

    assets: Sequence[Asset]
    registrations: dict[int, Registration]
    reports: dict[int, list[SpecialInspection]]
    applications: dict[int, list[InspectionApplication]]
    rules: dict[SpecialCategory, list[TypeRule]]

    def items_on(self, as_of: date) -> list[RegisterItem]:
        items = []
        for asset in self.assets:
            assert asset.id is not None
            registration = self.registrations.get(asset.id)
            standing = rules.standing_on(
                as_of,
                rules=self.rules.get(asset.special_category, []),
                commission_date=asset.commission_date,
                registration=registration,
                reports=self.reports.get(asset.id, []),
                applications=self.applications.get(asset.id, []),
            )
            items.append(RegisterItem(asset, registration, standing))
        return items


def inspection_rules(session: Session) -> dict[SpecialCategory, list[TypeRule]]:
    """The active inspection types of each category with their grade rules (two queries)."""
    grades: dict[int, dict[int, int | None]] = defaultdict(dict)
    for row in session.scalars(select(InspectionGradeInterval)):
        grades[row.inspection_type_id][row.safety_grade] = row.interval_months
    by_category: dict[SpecialCategory, list[TypeRule]] = defaultdict(list)
    for inspection_type in session.scalars(
        select(InspectionType).where(col(InspectionType.is_active).is_(True)).order_by(col(InspectionType.id))
    ):
        assert inspection_type.id is not None
        by_category[inspection_type.category].append(TypeRule(inspection_type, grades[inspection_type.id]))
    return dict(by_category)


def special_assets_query(
    *,
    workshop_ids: Sequence[int] | None = None,
    asset_ids: Sequence[int] | None = None,
    category: SpecialCategory | None = None,
) -> Select[Asset]:
    stmt = select(Asset).where(
        col(Asset.special_category) != SpecialCategory.NONE, col(Asset.status) != AssetStatus.RETIRED
    )
    if workshop_ids is not None:
        stmt = stmt.where(col(Asset.workshop_id).in_(list(workshop_ids)))
    if asset_ids is not None:
        stmt = stmt.where(col(Asset.id).in_(list(asset_ids)))
    if category is not None:
        stmt = stmt.where(col(Asset.special_category) == category)
    return stmt.order_by(col(Asset.workshop_id), col(Asset.tag))


def load_facts(
    session: Session,
    *,
    workshop_ids: Sequence[int] | None = None,
    asset_ids: Sequence[int] | None = None,
    category: SpecialCategory | None = None,
) -> RegisterFacts:
    """The items (optionally of some workshops, assets or one category) and their facts, in
    six queries whatever their number."""
    assets = session.scalars(
        special_assets_query(workshop_ids=workshop_ids, asset_ids=asset_ids, category=category)
    ).all()
    ids = [asset.id for asset in assets]
    registrations = {
        row.asset_id: row for row in session.scalars(select(Registration).where(col(Registration.asset_id).in_(ids)))
    }
    reports: dict[int, list[SpecialInspection]] = defaultdict(list)
    for report in session.scalars(select(SpecialInspection).where(col(SpecialInspection.asset_id).in_(ids))):
        reports[report.asset_id].append(report)
    applications: dict[int, list[InspectionApplication]] = defaultdict(list)
    for application in session.scalars(
        select(InspectionApplication).where(col(InspectionApplication.asset_id).in_(ids))
    ):
        applications[application.asset_id].append(application)
    return RegisterFacts(assets, registrations, dict(reports), dict(applications), inspection_rules(session))


def register_items(
    session: Session,
    as_of: date,
    *,
    workshop_ids: Sequence[int] | None = None,
    asset_ids: Sequence[int] | None = None,
    category: SpecialCategory | None = None,
) -> list[RegisterItem]:
    """The special-equipment items and where each stands on ``as_of``."""
    facts = load_facts(session, workshop_ids=workshop_ids, asset_ids=asset_ids, category=category)
    return facts.items_on(as_of)


def item_standing(session: Session, asset: Asset, as_of: date) -> RegisterItem | None:
    """One asset's standing (None when it is not special equipment, or retired)."""
    assert asset.id is not None
    items = register_items(session, as_of, asset_ids=[asset.id])
    return items[0] if items else None


# --- Coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageReport:
    """Coverage on a date: overall, per workshop id and per category."""

    as_of: date
    overall: Coverage
    by_workshop: dict[int, Coverage]
    by_category: dict[SpecialCategory, Coverage]


def coverage_report(items: Sequence[RegisterItem], as_of: date) -> CoverageReport:
    counted = [item for item in items if item.in_service]
    return CoverageReport(
        as_of=as_of,
        overall=rules.coverage_of(item.standing for item in counted),
        by_workshop=rules.coverage_by((item.asset.workshop_id, item.standing) for item in counted),
        by_category=rules.coverage_by((item.asset.special_category, item.standing) for item in counted),
    )


def coverage_trend(facts: RegisterFacts, last: date, months: int = 12) -> list[tuple[date, Coverage]]:
    """Overall coverage at each month's end up to ``last`` (from the facts loaded once; the items
    are today's: an asset's status in past months is not replayed)."""
    trend = []
    for month_end in rules.month_ends(last, months):
        counted = [item for item in facts.items_on(month_end) if item.in_service]
        trend.append((month_end, rules.coverage_of(item.standing for item in counted)))
    return trend
