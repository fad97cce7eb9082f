"""The demo plant's special equipment (特种设备): use registrations, three years of statutory
inspections, a few applications and the regulator's findings.

- ``seed/special/registrations.csv``: one use registration per item (blank certificate: the
  asset's registration number; safety valves are registered as accessories on the certificate
  of the equipment they protect); the retired 1# forklift's registration is cancelled.
- ``seed/special/findings.csv``: the regulator's rectification notices, dated in days before
  today: an old one closed, and the one about the crane that failed, being rectified.
- The inspection history is computed from today (the plant date), so the demo looks the same on
  any calendar day: each regular required inspection falls due between 45 days and its interval
  from today (spread by the item's position, never near a boundary), and its reports go back
  three years; a few stories (:data:`STORIES`) give the due list something to show. One item in
  seven was once inspected 40 days late, so the coverage trend has dips.

On any day the register shows: one overdue item (a safety valve), one application overdue (the
elevator), one failed (a crane: must not operate), one grade-4 vessel in monitored use, four
due within 30 days with their applications recorded, and everything else in date.

Rows are written as plain inserts with their change-log rows, in :func:`_insert` alone, so the
loader can later go through the recording services instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, SQLModel, col

from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.audit.service import Actor, record_create
from maintenance.db import plant_timezone
from maintenance.demo.seed_files import read_csv
from maintenance.org import service as org_service
from maintenance.special import service
from maintenance.special.choices import FindingKind, FindingStatus, InspectionResult, RegistrationEventKind
from maintenance.special.models import (
    Finding,
    InspectionApplication,
    Registration,
    RegistrationEvent,
    SpecialInspection,
)
from maintenance.special.rules import TypeRule, add_months

HISTORY_YEARS = 3
CLEAR_DAYS = 45  # a regular inspection falls due at least this long ahead: clear of "due soon"
LATE_DAYS = 40  # how late the once-late items were inspected
AGENCIES = {
    "SV-CALIBRATION": "苏州市特种设备检验研究院安全阀校验站",
    "LF-PERIODIC": "江苏省特种设备安全监督检验研究院苏州分院",
    "VH-PERIODIC": "江苏省特种设备安全监督检验研究院苏州分院",
    "EL-PERIODIC": "江苏省特种设备安全监督检验研究院苏州分院",
}
AGENCY = "苏州市特种设备检验研究院"  # vessels, piping, boilers
GRADED = ("PV-PERIODIC", "PP-PERIODIC")  # their reports give a safety grade


@dataclass(frozen=True)
class Story:
    """One required inspection of an item that the demo sets apart: when it falls (fell) due, in
    days from today, whether it was applied for, whether its last inspection failed (days ago),
    and the grade its last report gave."""

    code: str
    due_in_days: int
    applied: bool = False
    failed_days_ago: int | None = None
    grade: int | None = None
    notes: str = ""


STORIES = {
    "PSV-2202": Story("SV-CALIBRATION", -15),  # overdue: nobody applied
    "CR-6303": Story("EL-PERIODIC", 20),  # less than a month left, not applied for
    "CR-6301": Story(
        "LF-PERIODIC",
        5,
        applied=True,
        failed_days_ago=18,
        notes="起升机构制动器摩擦片磨损超标，主梁跨中下挠超过允许值，大车轨道压板松动。不合格，停止使用，整改后复检。",
    ),
    "V-1101": Story(
        "PV-PERIODIC",
        420,
        grade=4,
        notes="筒体下部局部腐蚀减薄，最小实测壁厚接近计算厚度，安全状况等级4级，监控使用：每季度测厚，缩短检验周期。",
    ),
    "PSV-1101": Story("SV-CALIBRATION", 12, applied=True),
    "E-2101": Story("PV-ANNUAL", 20, applied=True),
    "VH-6304": Story("VH-PERIODIC", 8, applied=True),
    "4101-PL-001": Story("PP-PERIODIC", 25, applied=True),
}


@dataclass(frozen=True)
class PlannedReport:
    inspected: date
    result: InspectionResult
    grade: int | None
    notes: str = ""


@dataclass(frozen=True)
class PlannedApplication:
    due: date
    applied: date


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(Registration.id)).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    if is_loaded(session, seed_dir):
        return
    today = now.astimezone(plant_timezone()).date()
    rows = list(read_csv(seed_dir / "special" / "registrations.csv"))
    assets = {
        asset.tag: asset
        for asset in session.scalars(select(Asset).where(col(Asset.tag).in_([row["tag"] for row in rows])))
    }
    _register(session, actor, rows, assets)
    _inspect(session, actor, [assets[row["tag"]] for row in rows], today)
    _findings(session, actor, seed_dir, assets, today)


def _insert(session: Session, actor: Actor, row: SQLModel) -> None:
    """Every row of the demo register goes in here, with its change-log row."""
    session.add(row)
    session.flush()
    record_create(session, actor, row)


def _register(session: Session, actor: Actor, rows: list[dict[str, str]], assets: dict[str, Asset]) -> None:
    for row in rows:
        asset = assets[row["tag"]]
        cancelled = date.fromisoformat(row["cancelled_date"]) if row["cancelled_date"] else None
        registration = Registration(
            asset_id=asset.id,  # type: ignore[arg-type]
            sub_category=row["sub_category"],
            certificate_number=row["certificate_number"] or asset.registration_number,
            equipment_code=row["equipment_code"],
            registration_date=date.fromisoformat(row["registration_date"]),
            authority=row["authority"],
            cancelled_date=cancelled,
        )
        _insert(session, actor, registration)
        if cancelled is not None:
            event = RegistrationEvent(
                registration_id=registration.id,  # type: ignore[arg-type]
                kind=RegistrationEventKind.CANCELLATION,
                event_date=cancelled,
                description="设备报废，向登记机关办理注销登记，交回使用登记证。",
            )
            _insert(session, actor, event)


def _inspect(session: Session, actor: Actor, assets: list[Asset], today: date) -> None:
    rules = service.inspection_rules(session)
    report_numbers: Counter[int] = Counter()  # per year
    position = 0
    for asset in assets:
        if asset.status == AssetStatus.RETIRED:
            continue
        for rule in rules.get(asset.special_category, []):
            reports, application = plan_history(asset, rule, position, today)
            position += 1
            for planned in reports:
                report_numbers[planned.inspected.year] += 1
                number = f"TJ{planned.inspected.year}-{report_numbers[planned.inspected.year]:04d}"
                _insert(session, actor, _report(asset, rule, planned, number))
            if application is not None:
                _insert(
                    session,
                    actor,
                    InspectionApplication(
                        asset_id=asset.id,  # type: ignore[arg-type]
                        inspection_type_id=rule.type_id,
                        due_date=application.due,
                        applied_date=application.applied,
                        agency=AGENCIES.get(rule.inspection_type.code, AGENCY),
                        reference=f"SQ{application.applied:%Y%m%d}-{asset.tag}",
                    ),
                )


def _report(asset: Asset, rule: TypeRule, planned: PlannedReport, number: str) -> SpecialInspection:
    return SpecialInspection(
        asset_id=asset.id,  # type: ignore[arg-type]
        inspection_type_id=rule.type_id,
        inspected_date=planned.inspected,
        agency=AGENCIES.get(rule.inspection_type.code, AGENCY),
        result=planned.result,
        safety_grade=planned.grade,
        report_number=number,
        notes=planned.notes,
    )


def plan_history(
    asset: Asset, rule: TypeRule, position: int, today: date
) -> tuple[list[PlannedReport], PlannedApplication | None]:
    """The reports of one required inspection of ``asset`` up to yesterday, oldest first, and the
    application for its next due date (if the demo has one). ``position`` spreads the regular
    items' due dates over the interval."""
    code = rule.inspection_type.code
    story = STORIES.get(asset.tag)
    story = story if story is not None and story.code == code else None
    grade = _grade(code, position, story)
    months = rule.months_after(grade)
    # A regular one falls due between CLEAR_DAYS and a little less than the interval ahead, so
    # its last report is past.
    spread = CLEAR_DAYS + (position * 53) % (28 * months - CLEAR_DAYS - 10)
    due_in = story.due_in_days if story is not None else spread
    last = add_months(today + timedelta(days=due_in), -months)
    commissioned = asset.commission_date or date.min
    if last < commissioned:  # too new for that: its first inspection falls due after commissioning
        first_due = rule.due_after(None, asset.commission_date)
        if commissioned >= today or first_due is None or first_due > today + timedelta(days=CLEAR_DAYS):
            return [], None
        last = min(today - timedelta(days=1), first_due - timedelta(days=14))
    dates = [last]
    late = story is None and position % 7 == 3
    earliest = max(commissioned, add_months(today, -12 * HISTORY_YEARS))
    while (earlier := add_months(dates[0], -months) - timedelta(days=LATE_DAYS if late else 0)) >= earliest:
        dates.insert(0, earlier)
        late = False
    reports = [
        PlannedReport(
            day,
            InspectionResult.CONDITIONAL if (position + index) % 13 == 0 else InspectionResult.PASS,
            grade,
            story.notes if story is not None and day == last and story.failed_days_ago is None else "",
        )
        for index, day in enumerate(dates)
    ]
    application = None
    if story is not None and story.applied:
        application = PlannedApplication(due=add_months(last, months), applied=today - timedelta(days=40))
    if story is not None and story.failed_days_ago is not None:
        failed = today - timedelta(days=story.failed_days_ago)
        reports.append(PlannedReport(failed, InspectionResult.FAIL, grade, story.notes))
    return reports, application


def _grade(code: str, position: int, story: Story | None) -> int | None:
    if code not in GRADED:
        return None
    if story is not None and story.grade is not None:
        return story.grade
    return 3 if position % 5 == 0 else 2


def _findings(session: Session, actor: Actor, seed_dir: Path, assets: dict[str, Asset], today: date) -> None:
    workshops = {workshop.code: workshop for workshop in org_service.list_workshops(session)}
    for row in read_csv(seed_dir / "special" / "findings.csv"):
        issued = today - timedelta(days=int(row["issued_days_ago"]))
        status = FindingStatus(row["status"])
        _insert(
            session,
            actor,
            Finding(
                kind=FindingKind(row["kind"]),
                workshop_id=workshops[row["workshop"]].id,  # type: ignore[arg-type]
                asset_id=assets[row["tag"]].id if row["tag"] else None,
                issued_date=issued,
                issued_by=row["issued_by"],
                reference=row["reference"].format(year=issued.year),
                description=row["description"],
                deadline_date=issued + timedelta(days=int(row["deadline_days"])),
                owner=row["owner"],
                status=status,
                closed_date=today - timedelta(days=int(row["closed_days_ago"])) if row["closed_days_ago"] else None,
                rectification=row["rectification"],
            ),
        )
