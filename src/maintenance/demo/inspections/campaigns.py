"""Seasonal special inspections of the demo plant (季节性专项检查).

- The summer 防汛防暑 campaign, about half a year ago and finished: every workshop submitted (精馏车间
  two days late); six findings, the five on an asset raised corrective orders that have since been
  completed (two of them closed).
- The current winter 防冻防凝 campaign: started three weeks ago, deadline in a week. 合成车间 and
  公用工程车间 have submitted; 精馏车间, 热电车间 and 罐区 are part-way through (findings with and
  without orders, one without an asset yet); 包装车间 has not started.

Dates are relative to ``today`` (the plant date), so the demo stays current. Everything goes
through :mod:`maintenance.inspections.campaigns` as people would do it: the manager sets the
campaigns up, each workshop's engineer answers, raises orders and submits (their permissions
are checked as on the pages); ``actor`` stands in for whoever the demo plant lacks. Answers and
orders are backdated to working hours on the days they were made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit.service import Actor
from maintenance.db import plant_timezone
from maintenance.inspections import campaigns
from maintenance.inspections.choices import CampaignKind
from maintenance.inspections.models import CampaignCreate, CampaignItem, CampaignResult, InspectionCampaign
from maintenance.orders import service as order_service
from maintenance.orders.choices import ChecklistResult, DetectionMethod, FailureCause, FailureMechanism, FailureMode
from maintenance.orders.models import FailureReportUpdate
from maintenance.org import service as org_service
from maintenance.org.models import Role, User, UserWorkshop, Workshop

OK = ChecklistResult.OK
NOT_OK = ChecklistResult.NOT_OK

SUMMER_ITEMS = (
    "厂区排水沟、雨水井疏通，无堵塞",
    "防汛沙袋、移动抽水泵等防汛物资到位",
    "低洼处电机、配电设施防水措施落实",
    "储罐呼吸阀、阻火器完好，无卡涩",
    "防雷、防静电接地完好，检测合格",
    "室外机泵、电机防雨遮阳罩完好",
    "空调、轴流风机等降温设施运行正常",
    "电机温升、轴承温度在允许范围内",
    "循环水冷却塔运行正常，冷却效果满足要求",
    "应急照明、防汛通讯畅通",
)

WINTER_ITEMS = (
    "伴热线（蒸汽/电伴热）全部投用，疏水器畅通",
    "保温、保冷层完好，无破损进水",
    "停用设备、管线低点排凝阀排净，无积水冻堵",
    "消防水管线、消火栓排空或保持流动",
    "仪表引压管、液位计伴热投用",
    "备用机泵定期盘车，泵体排净或保持热备",
    "循环水上塔阀、旁路阀防冻措施落实",
    "安全阀、呼吸阀无结冰卡涩",
    "洗眼器、安全淋浴防冻措施落实",
    "防冻防凝物资（保温棉、蒸汽胶管）到位",
)

SUMMER_INSTRUCTIONS = (
    "汛期前各车间对照清单逐项检查，发现问题当场记录并落实到设备位号，需检修的提报工单。\n"
    "重点：低洼区域配电设施、储罐呼吸阀、冷却塔及高温季节机泵温升。"
)
WINTER_INSTRUCTIONS = (
    "气温降至5℃以下前完成全部检查。停用设备和管线必须排净，伴热、保温逐条核对；"
    "发现冻堵、漏汽等问题记录到设备位号并提报工单。\n"
    "11月底前各车间提交检查表，机动部汇总通报。"
)


@dataclass(frozen=True)
class Finding:
    """A not-OK answer of the demo: item (1-based), note, asset tag (or none), and what became of
    its order: None (not raised yet), "draft", "approved", "completed" or "closed"."""

    item: int
    note: str
    tag: str | None
    order: str | None
    failure_mode: FailureMode = FailureMode.OTH


@dataclass(frozen=True)
class Sheet:
    """One workshop's sheet in the demo: how many items it has answered (in order), its findings,
    and when it submitted (days after the campaign started; None: not submitted)."""

    answered: int
    findings: tuple[Finding, ...] = ()
    submitted_after_days: int | None = None


SUMMER_SHEETS = {
    "SYN": Sheet(
        10,
        (Finding(8, "合成液泵A电机温升偏高，外壳温度78℃，风扇罩积尘", "PM-1101A", "closed", FailureMode.OHE),),
        submitted_after_days=12,
    ),
    "DIS": Sheet(10, submitted_after_days=32),  # two days late
    "UTL": Sheet(
        10,
        (Finding(9, "2#冷却塔填料局部堵塞结垢，出水温度偏高约3℃", "BL-3101B", "completed", FailureMode.LOO),),
        submitted_after_days=15,
    ),
    "PWR": Sheet(
        10,
        (Finding(5, "2#主变接地引下线锈蚀，接地电阻实测4.8Ω，超过4Ω", "PT-4302", "closed", FailureMode.PDE),),
        submitted_after_days=20,
    ),
    "TNK": Sheet(
        10,
        (
            Finding(4, "3#原料储罐呼吸阀阀盘卡涩，动作不灵活", "TK-5103", "completed", FailureMode.FTS),
            Finding(1, "罐区东侧雨水井淤积，需清淤", None, None),
        ),
        submitted_after_days=18,
    ),
    "PKG": Sheet(
        10,
        (Finding(7, "成品库1#排风机皮带松弛打滑，风量不足", "BL-6301", "completed", FailureMode.LOO),),
        submitted_after_days=25,
    ),
}

WINTER_SHEETS = {
    "SYN": Sheet(
        10,
        (Finding(3, "合成液泵B（备用）出口排凝阀冻堵，已用蒸汽临时化开", "P-1101B", "approved", FailureMode.PLU),),
        submitted_after_days=14,
    ),
    "UTL": Sheet(
        10,
        (Finding(6, "循环水泵C（备用）泵体未排净，盘车发紧", "P-3101C", "draft"),),
        submitted_after_days=17,
    ),
    "DIS": Sheet(
        6,
        (Finding(1, "低压蒸汽管线伴热疏水器漏汽，疏水不畅", "2101-PL-003", None),),
    ),
    "PWR": Sheet(3),
    "TNK": Sheet(
        8,
        (
            Finding(2, "2#原料球罐液相管线保温层破损进水约2米", "5101-PL-002", "draft"),
            Finding(4, "装卸站消防水管线低点未排空", None, None),
        ),
    ),
    "PKG": Sheet(0),
}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A plant-time instant as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=plant_timezone()).astimezone(UTC)


class _People:
    """The manager and each workshop's engineer of the demo plant (``actor`` where there is none)."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.actor = actor
        self.manager: Actor = (
            session.scalar(
                select(User).where(col(User.role) == Role.MANAGER, col(User.is_active)).order_by(col(User.id)).limit(1)
            )
            or actor
        )
        rows = session.execute(
            select(col(UserWorkshop.workshop_id), User)
            .join(User, col(User.id) == col(UserWorkshop.user_id))
            .where(col(User.role) == Role.ENGINEER, col(User.is_active))
            .order_by(col(User.id))
        ).all()
        self.engineers: dict[int, Actor] = {}
        for workshop_id, user in rows:
            self.engineers.setdefault(workshop_id, user)

    def engineer(self, workshop_id: int) -> Actor:
        return self.engineers.get(workshop_id, self.manager)


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(InspectionCampaign.id)).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> None:
    seed_campaigns(session, actor, now.astimezone(plant_timezone()).date())


def seed_campaigns(session: Session, actor: Actor, today: date) -> list[InspectionCampaign]:
    """The summer and winter campaigns of the demo plant (nothing when campaigns exist already)."""
    if session.scalar(select(col(InspectionCampaign.id)).limit(1)) is not None:
        return []
    people = _People(session, actor)
    workshops = {workshop.code: workshop for workshop in org_service.list_workshops(session)}
    summer_start = today - timedelta(days=175)
    winter_start = today - timedelta(days=21)
    summer = _campaign(
        session,
        people,
        workshops,
        CampaignCreate(
            name=f"{summer_start.year}年夏季防汛防暑专项检查",
            kind=CampaignKind.FLOOD,
            starts_on=summer_start,
            deadline=summer_start + timedelta(days=30),
            instructions=SUMMER_INSTRUCTIONS,
        ),
        SUMMER_ITEMS,
        SUMMER_SHEETS,
        today,
    )
    winter = _campaign(
        session,
        people,
        workshops,
        CampaignCreate(
            name=f"{winter_start.year}年冬季防冻防凝专项检查",
            kind=CampaignKind.WINTERIZATION,
            starts_on=winter_start,
            deadline=today + timedelta(days=7),
            instructions=WINTER_INSTRUCTIONS,
        ),
        WINTER_ITEMS,
        WINTER_SHEETS,
        today,
    )
    return [summer, winter]


def _campaign(
    session: Session,
    people: _People,
    workshops: dict[str, Workshop],
    data: CampaignCreate,
    texts: tuple[str, ...],
    sheets: dict[str, Sheet],
    today: date,
) -> InspectionCampaign:
    taking_part = [workshops[code] for code in sheets if code in workshops]
    campaign = campaigns.create_campaign(
        session,
        data,
        list(texts),
        [workshop.id for workshop in taking_part if workshop.id is not None],
        actor=people.manager,
        at=_at(data.starts_on - timedelta(days=3), 9),
    )
    items = campaigns.items_of(session, campaign)
    for number, workshop in enumerate(taking_part):
        _fill_sheet(session, people, campaign, items, workshop, sheets[workshop.code], number, today)
    return campaign


def _fill_sheet(
    session: Session,
    people: _People,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    workshop: Workshop,
    sheet: Sheet,
    number: int,
    today: date,
) -> None:
    part = campaigns.get_campaign_workshop_or_raise(session, campaign, workshop.id or 0)
    engineer = people.engineer(workshop.id or 0)
    findings = {finding.item: finding for finding in sheet.findings}
    # Sheets are walked over a few days from the start, a workshop a day apart.
    last_day = (
        campaign.starts_on + timedelta(days=sheet.submitted_after_days)
        if sheet.submitted_after_days is not None
        else today - timedelta(days=1)
    )
    first_day = min(campaign.starts_on + timedelta(days=2 + number), last_day)
    span = max((last_day - first_day).days, 0)
    for index, item in enumerate(items[: sheet.answered]):
        day = first_day + timedelta(days=span * index // max(len(items), 1))
        at = _at(day, 9 + index % 7, 10 * (index % 6))
        finding = findings.get(index + 1)
        result = campaigns.answer(
            session,
            part,
            item,
            NOT_OK if finding else OK,
            finding.note if finding else "",
            asset_tag=finding.tag if finding else None,
            actor=engineer,
            at=at,
        )
        if finding is not None and finding.order is not None:
            _raise(session, people, result, finding, engineer, at + timedelta(hours=1), today)
    if sheet.submitted_after_days is not None:
        campaigns.submit(session, part, actor=engineer, at=_at(last_day, 16, 30))


def _raise(
    session: Session,
    people: _People,
    result: CampaignResult,
    finding: Finding,
    engineer: Actor,
    at: datetime,
    today: date,
) -> None:
    """Raise the finding's order and take it as far as the demo says."""
    order = campaigns.raise_order(session, result, actor=engineer, at=at)
    if finding.order == "draft":
        return
    order_service.perform(session, order, "approve", actor=people.manager, at=at + timedelta(hours=2))
    if finding.order == "approved":
        return
    started = at + timedelta(days=1)
    order_service.perform(session, order, "start", actor=engineer, at=started)
    order_service.record_failure(
        session,
        order,
        FailureReportUpdate(
            failure_mode=finding.failure_mode,
            failure_mechanism=FailureMechanism.UNKNOWN,
            failure_cause=FailureCause.EXPECTED_WEAR,
            detection_method=DetectionMethod.INSPECTION,
            version=order.version,
        ),
        actor=engineer,
    )
    finished = min(started + timedelta(days=2), _at(today - timedelta(days=1), 16))
    order_service.perform(session, order, "complete", actor=engineer, at=finished)
    if finding.order == "closed":
        order_service.perform(session, order, "close", actor=people.manager, at=finished + timedelta(days=3))
