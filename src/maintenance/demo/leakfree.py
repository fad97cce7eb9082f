"""The demo plant's leak-free programme (无泄漏创建): seal-point inventories, a year of monthly
leak surveys with their leaks, the workshops' certifications and two management rules.

- ``seed/leakfree/seal_points.csv``: each workshop's inventory in 27–48 lines (1,600–5,200 static
  points, 20–31 dynamic); the dynamic lines name the workshop's pumps, compressors and agitators
  by tag, the static lines count a unit's flanges, valves, unions, plugs and gauge connections.
- ``seed/leakfree/rules.csv``: 《无泄漏创建管理办法》2026版 and 《设备管理制度》 in two versions (the
  older superseded), effective a number of days before today; each gets a small PDF made here,
  stored through the file store.
- Surveys: twelve per workshop, one a month, the latest 3–8 days before today (the day staggered
  by workshop). Their leaks follow :data:`LEAKS` (static, dynamic per survey, latest first):
  early months exceed the limits, the certified workshops' recent months meet them. Every leak
  of the latest survey is still open; of the survey before, one is repaired and awaiting its
  re-check and the rest re-checked; older ones are re-checked, except one TNK flange left open
  for the next shutdown. The 热电车间's open pump-seal leak has a corrective work order.

**Dates of the certifications.** The programme's "certified in the first half" cannot be tied
to the calendar: seeded early in a year, that year's first half is still to come. So every
certificate is dated in days before the seed date, within the last 12 months (valid one year,
all in force on the seed date), as :data:`CERTIFICATIONS` says:

- SYN certified 200 days ago, DIS 150 days ago, PWR 120 days ago (at risk: its latest survey
  found a leaking pump seal, over the 2‰ dynamic limit);
- UTL rejected 250 days ago (its survey then exceeded the limits), applied again and certified
  100 days ago;
- TNK applied 20 days ago and is self-assessed (in assessment); PKG has not started.

Rows are written as plain bulk inserts with their change-log rows (:func:`_insert_all`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlmodel import Session, SQLModel, col

from maintenance import files
from maintenance.assets.models import Asset
from maintenance.audit.service import Actor, record_create
from maintenance.db import plant_day_start, plant_timezone
from maintenance.demo.seed_files import read_csv
from maintenance.leakfree import rules
from maintenance.leakfree.choices import (
    CertificationState,
    LeakSeverity,
    LeakStatus,
    RuleDocumentKind,
    SealKind,
    SealType,
)
from maintenance.leakfree.models import Certification, Leak, LeakSurvey, RuleDocument, SealPoint
from maintenance.orders import service as order_service
from maintenance.orders.choices import OrderType, Priority
from maintenance.orders.models import WorkOrderCreate
from maintenance.org.models import Unit, Workshop

SURVEYS = 12
SURVEYORS = {
    "SYN": "合成车间泄漏检测组",
    "DIS": "精馏车间泄漏检测组",
    "UTL": "公用工程车间设备组",
    "PWR": "热电车间设备组",
    "TNK": "罐区设备组",
    "PKG": "包装车间设备组",
}
# (static leaks, dynamic leaks) found on each survey, the latest first.
LEAKS: dict[str, list[tuple[int, int]]] = {
    "SYN": [(1, 0), (0, 0), (1, 0), (2, 0), (1, 0), (0, 0), (2, 0), (1, 0), (3, 1), (4, 1), (3, 2), (5, 1)],
    "DIS": [(1, 0), (1, 0), (0, 0), (2, 0), (1, 0), (0, 0), (1, 0), (3, 1), (2, 1), (4, 0), (3, 1), (5, 2)],
    "UTL": [(0, 0), (1, 0), (0, 0), (1, 0), (0, 0), (2, 1), (1, 1), (2, 0), (3, 1), (2, 1), (4, 1), (3, 2)],
    "PWR": [(1, 1), (0, 0), (1, 0), (0, 0), (1, 0), (0, 0), (2, 0), (1, 1), (2, 0), (3, 1), (2, 1), (3, 0)],
    "TNK": [(1, 0), (1, 0), (2, 0), (1, 1), (2, 0), (3, 1), (2, 0), (3, 1), (4, 1), (3, 0), (4, 2), (5, 1)],
    "PKG": [(2, 0), (1, 1), (2, 0), (3, 0), (2, 1), (3, 0), (2, 0), (4, 1), (3, 0), (2, 1), (3, 0), (4, 1)],
}
SEVERITIES = (LeakSeverity.SEEP, LeakSeverity.SEEP, LeakSeverity.DRIP, LeakSeverity.SEEP, LeakSeverity.LEAK)
DESCRIPTIONS = {
    SealType.FLANGE: "法兰垫片处渗漏，紧固螺栓后复查",
    SealType.VALVE_BONNET: "阀盖中法兰渗漏",
    SealType.VALVE_PACKING: "阀杆填料处渗漏，需压紧或更换填料",
    SealType.THREADED_UNION: "丝扣连接处渗漏",
    SealType.PLUG: "丝堵处渗漏",
    SealType.GAUGE_CONNECTION: "压力表接头渗漏",
    SealType.PUMP_SEAL: "机械密封泄漏，滴速超标",
    SealType.COMPRESSOR_SEAL: "轴封处泄漏",
    SealType.AGITATOR_SEAL: "搅拌器轴封渗漏",
}
WORK_ORDER_WORKSHOP = "PWR"  # its open dynamic leak gets a corrective order
LONG_OPEN_WORKSHOP = "TNK"  # a leak of its third-latest survey waits for a shutdown


@dataclass(frozen=True)
class CertificationStory:
    """An application, in days before the seed date: applied, self-assessed, decided (certified
    or rejected; None while in assessment)."""

    applied: int
    self_assessed: int
    decided: int | None = None
    rejected: bool = False
    remarks: str = ""


CERTIFICATIONS: dict[str, list[CertificationStory]] = {
    "SYN": [CertificationStory(260, 240, 200, remarks="台账完整，泄漏率达标，同意认证。")],
    "DIS": [CertificationStory(210, 190, 150, remarks="台账完整，泄漏率达标，同意认证。")],
    "PWR": [CertificationStory(170, 150, 120, remarks="同意认证；注意给水泵机封运行状况。")],
    "UTL": [
        CertificationStory(300, 280, 250, rejected=True, remarks="动密封泄漏率超标（循环水泵机封），整改后重新申请。"),
        CertificationStory(150, 130, 100, remarks="整改完成，复查泄漏率达标，同意认证。"),
    ],
    "TNK": [CertificationStory(20, 12)],
}
ASSESSOR = "公司无泄漏验收组"


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(SealPoint.id)).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    if is_loaded(session, seed_dir):
        return
    today = now.astimezone(plant_timezone()).date()
    workshops = {workshop.code: workshop for workshop in session.scalars(select(Workshop))}
    points = _inventory(session, actor, seed_dir, workshops)
    _surveys(session, actor, workshops, points, today)
    _certifications(session, actor, workshops, today)
    _rules(session, actor, seed_dir, today)


def _insert_all(session: Session, actor: Actor, rows: Sequence[SQLModel]) -> None:
    """Every row of the demo goes in here: one flush for the lot, then its change-log rows."""
    session.add_all(rows)
    session.flush()
    for row in rows:
        record_create(session, actor, row)


def _inventory(
    session: Session, actor: Actor, seed_dir: Path, workshops: dict[str, Workshop]
) -> dict[str, list[SealPoint]]:
    rows = list(read_csv(seed_dir / "leakfree" / "seal_points.csv"))
    units = {unit.code: unit.id for unit in session.scalars(select(Unit))}
    tags = [row["asset_tag"] for row in rows if row["asset_tag"]]
    assets = {asset.tag: asset.id for asset in session.scalars(select(Asset).where(col(Asset.tag).in_(tags)))}
    points = [
        SealPoint(
            code=row["code"],
            workshop_id=workshops[row["workshop"]].id,  # type: ignore[arg-type]
            unit_id=units[row["unit"]] if row["unit"] else None,
            asset_id=assets[row["asset_tag"]] if row["asset_tag"] else None,
            seal_type=SealType(row["seal_type"]),
            location=row["location"],
            count=int(row["count"]),
        )
        for row in rows
    ]
    _insert_all(session, actor, points)
    by_workshop: dict[str, list[SealPoint]] = {code: [] for code in workshops}
    codes = {workshop.id: code for code, workshop in workshops.items()}
    for point in points:
        by_workshop[codes[point.workshop_id]].append(point)
    return by_workshop


def survey_dates(today: date, position: int) -> list[date]:
    """The workshop's survey days, the latest first: 3–8 days ago, then a month apart."""
    latest = today - timedelta(days=3 + position)
    return [latest - relativedelta(months=months) for months in range(SURVEYS)]


def _surveys(
    session: Session, actor: Actor, workshops: dict[str, Workshop], points: dict[str, list[SealPoint]], today: date
) -> None:
    surveys: list[LeakSurvey] = []
    planned: list[tuple[str, int, LeakSurvey]] = []  # (workshop, months back, survey)
    for position, code in enumerate(sorted(LEAKS)):
        inventory = points[code]
        static = sum(point.count for point in inventory if point.kind == SealKind.STATIC)
        dynamic = sum(point.count for point in inventory if point.kind == SealKind.DYNAMIC)
        for back, day in enumerate(survey_dates(today, position)):
            survey = LeakSurvey(
                workshop_id=workshops[code].id,  # type: ignore[arg-type]
                survey_date=day,
                surveyed_by=SURVEYORS[code],
                static_points=static,
                dynamic_points=dynamic,
                note="月度泄漏检测" if back else "月度泄漏检测（本月）",
            )
            surveys.append(survey)
            planned.append((code, back, survey))
    _insert_all(session, actor, surveys)
    leaks: list[Leak] = []
    for code, back, survey in planned:
        leaks.extend(_leaks_of(code, back, survey, points[code], today))
    _insert_all(session, actor, leaks)
    _raise_order(session, actor, workshops, leaks, today)


def _leaks_of(code: str, back: int, survey: LeakSurvey, inventory: list[SealPoint], today: date) -> list[Leak]:
    static_leaks, dynamic_leaks = LEAKS[code][back]
    static_points = [point for point in inventory if point.kind == SealKind.STATIC]
    dynamic_points = [point for point in inventory if point.kind == SealKind.DYNAMIC]
    chosen = [(SealKind.STATIC, static_points[(back * 7 + n * 5) % len(static_points)]) for n in range(static_leaks)]
    chosen += [(SealKind.DYNAMIC, dynamic_points[(back * 3 + n) % len(dynamic_points)]) for n in range(dynamic_leaks)]
    leaks = []
    for index, (kind, point) in enumerate(chosen):
        found = survey.survey_date
        leak = Leak(
            workshop_id=survey.workshop_id,
            survey_id=survey.id,
            seal_point_id=point.id,
            asset_id=point.asset_id,
            kind=kind,
            severity=SEVERITIES[(back + index) % len(SEVERITIES)],
            found_date=found,
            description=f"{point.location}：{DESCRIPTIONS[point.seal_type]}",
        )
        long_open = code == LONG_OPEN_WORKSHOP and back == 2 and index == 0
        if back == 0 or long_open:
            if long_open:
                leak.description += "；在线无法处理，列入停车检修计划"
        else:
            leak.repaired_date = min(found + timedelta(days=2 + (index * 3) % 7), today - timedelta(days=1))
            awaiting = back == 1 and index == 0
            if awaiting:
                leak.status = LeakStatus.REPAIRED
            else:
                leak.status = LeakStatus.CLOSED
                leak.rechecked_date = min(leak.repaired_date + timedelta(days=7), today)
        leaks.append(leak)
    return leaks


def _raise_order(
    session: Session, actor: Actor, workshops: dict[str, Workshop], leaks: list[Leak], today: date
) -> None:
    """A corrective order for the open pump-seal leak of 热电车间 (raised the day after it was found)."""
    workshop_id = workshops[WORK_ORDER_WORKSHOP].id
    leak = next(
        leak
        for leak in leaks
        if leak.workshop_id == workshop_id
        and leak.kind == SealKind.DYNAMIC
        and leak.status == LeakStatus.OPEN
        and leak.asset_id is not None
    )
    assert leak.asset_id is not None
    raised = min(leak.found_date + timedelta(days=1), today)
    order = order_service.create_order(
        session,
        WorkOrderCreate(
            order_type=OrderType.CM,
            asset_id=leak.asset_id,
            title="机械密封泄漏，更换机封",
            description=f"无泄漏检测发现：{leak.description}",
            priority=Priority.HIGH,
            planned_start_date=raised + timedelta(days=3),
        ),
        actor=actor,
        at=plant_day_start(raised) + timedelta(hours=9),
    )
    leak.order_id = order.id
    session.flush()


def _certifications(session: Session, actor: Actor, workshops: dict[str, Workshop], today: date) -> None:
    rows = []
    for code, stories in CERTIFICATIONS.items():
        for story in stories:
            cert = Certification(
                workshop_id=workshops[code].id,  # type: ignore[arg-type]
                applied_date=today - timedelta(days=story.applied),
                application_note="申请无泄漏车间认证",
                inventory_complete=True,
                survey_recent=True,
                thresholds_met=True,
                documents_in_place=True,
                self_assessed_date=today - timedelta(days=story.self_assessed),
                state=CertificationState.SELF_ASSESSED,
            )
            if story.decided is not None:
                decided = today - timedelta(days=story.decided)
                cert.assessor = ASSESSOR
                cert.assessed_date = decided
                cert.assessment_remarks = story.remarks
                if story.rejected:
                    cert.state = CertificationState.REJECTED
                else:
                    cert.state = CertificationState.CERTIFIED
                    cert.certified_date = decided
                    cert.valid_until = rules.valid_until(decided)
            rows.append(cert)
    _insert_all(session, actor, rows)


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), with a correct cross-reference table."""
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _rules(session: Session, actor: Actor, seed_dir: Path, today: date) -> None:
    rows = []
    for row in read_csv(seed_dir / "leakfree" / "rules.csv"):
        stored = files.store_upload(
            io.BytesIO(minimal_pdf(f"{row['code']} {row['version_label'].encode('ascii', 'ignore').decode()}")),
            row["filename"],
        )
        rows.append(
            RuleDocument(
                kind=RuleDocumentKind(row["kind"]),
                code=row["code"],
                title=row["title"],
                version_label=row["version_label"],
                effective_date=today - timedelta(days=int(row["effective_days_ago"])),
                note=row["note"],
                file_sha256=stored.sha256,
                filename=row["filename"],
                content_type=stored.content_type,
            )
        )
    _insert_all(session, actor, rows)
