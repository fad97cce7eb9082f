"""Seasonal special inspection pages: the list (filters, sort, empty state, overall completion in a
fixed number of queries), the create/edit forms (managers; messages next to the fields; 409 on a
stale edit), the campaign page (completion by workshop, findings with their assets and orders, the
checklist) and a workshop's sheet (each item saved with htmx, a finding raising an order, Submit).

The default locale is zh_CN: pages are checked in Chinese. Fixtures ``workshop`` and ``asset`` (an
asset of that workshop) come from tests/inspections/conftest.py.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.db import plant_today
from maintenance.inspections import campaigns
from maintenance.inspections.choices import CampaignKind
from maintenance.inspections.models import (
    CampaignCreate,
    CampaignItem,
    CampaignResult,
    CampaignWorkshop,
    InspectionCampaign,
)
from maintenance.orders.choices import ChecklistResult
from maintenance.orders.models import WorkOrder
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories
from tests.conftest import login

HTMX = {"HX-Request": "true"}
TODAY = plant_today()
ITEMS = ["伴热线投用、疏水器畅通", "保温完好、无破损进水", "排凝阀排净、无冻堵"]


@pytest.fixture
def engineer(session: Session, workshop: Workshop) -> User:
    """An engineer of ``workshop``."""
    user = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    return user


def make_campaign(
    session: Session,
    manager: User,
    workshops: list[Workshop],
    *,
    name: str = "2026年冬季防冻防凝专项检查",
    kind: CampaignKind = CampaignKind.WINTERIZATION,
    starts_on: date = TODAY - timedelta(days=21),
    deadline: date = TODAY + timedelta(days=7),
    items: list[str] = ITEMS,
) -> InspectionCampaign:
    data = CampaignCreate(name=name, kind=kind, starts_on=starts_on, deadline=deadline)
    return campaigns.create_campaign(session, data, items, [w.id for w in workshops], actor=manager)  # type: ignore[misc]


@pytest.fixture
def campaign(session: Session, manager: User, workshop: Workshop) -> InspectionCampaign:
    return make_campaign(session, manager, [workshop, factories.WorkshopFactory()])


@pytest.fixture
def items(session: Session, campaign: InspectionCampaign) -> list[CampaignItem]:
    return campaigns.items_of(session, campaign)


@pytest.fixture
def part(session: Session, campaign: InspectionCampaign, workshop: Workshop) -> CampaignWorkshop:
    return campaigns.get_campaign_workshop_or_raise(session, campaign, workshop.id)  # type: ignore[arg-type]


def sheet_url(campaign: InspectionCampaign, workshop: Workshop) -> str:
    return f"/campaigns/{campaign.id}/workshops/{workshop.id}"


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- The list -------------------------------------------------------------------------------


def test_the_list_shows_kind_dates_completion_findings_and_the_overdue_flag(
    client: TestClient, session: Session, manager: User, auditor: User, workshop: Workshop, engineer: User
) -> None:
    current = make_campaign(session, manager, [workshop])
    late = make_campaign(
        session,
        manager,
        [workshop],
        name="2026年夏季防汛防暑专项检查",
        kind=CampaignKind.FLOOD,
        starts_on=TODAY - timedelta(days=60),
        deadline=TODAY - timedelta(days=30),
    )
    part = campaigns.get_campaign_workshop_or_raise(session, current, workshop.id)  # type: ignore[arg-type]
    first = campaigns.items_of(session, current)[0]
    campaigns.answer(session, part, first, ChecklistResult.NOT_OK, "伴热线未投用", actor=engineer)
    login(client, auditor)

    response = client.get("/campaigns")

    assert response.status_code == 200
    rows = dict(re.findall(r'data-campaign="(\d+)"(.*?)</tr>', response.text, re.S))
    current_row, late_row = text_of(rows[str(current.id)]), text_of(rows[str(late.id)])
    assert "防冻防凝" in current_row
    assert "1 / 3 (33%)" in current_row  # answered of items × workshops
    assert "逾期未完成" in late_row
    assert "table-danger" in rows[str(late.id)]
    assert "防汛" in late_row
    assert 'href="/campaigns/new"' not in response.text  # auditors set nothing up


def test_the_list_filters_by_year_and_kind_with_htmx_and_says_when_nothing_matches(
    client: TestClient, session: Session, manager: User, workshop: Workshop
) -> None:
    winter = make_campaign(session, manager, [workshop], starts_on=date(2025, 11, 1), deadline=date(2025, 11, 30))
    summer = make_campaign(
        session,
        manager,
        [workshop],
        name="2025年夏季防汛检查",
        kind=CampaignKind.FLOOD,
        starts_on=date(2025, 6, 1),
        deadline=date(2025, 6, 30),
    )
    login(client, manager)

    fragment = client.get("/campaigns", params={"year": 2025, "kind": "flood"}, headers=HTMX)
    nothing = client.get("/campaigns", params={"year": 2024})
    nonsense = client.get("/campaigns", params={"year": "last", "kind": "snow", "sort": "evil"})

    assert "<html" not in fragment.text
    assert re.findall(r'data-campaign="(\d+)"', fragment.text) == [str(summer.id)]
    assert "没有符合条件的季节性专项检查" in nothing.text
    assert nonsense.status_code == 200
    assert re.findall(r'data-campaign="(\d+)"', nonsense.text) == [str(winter.id), str(summer.id)]


def test_an_empty_list_tells_managers_what_to_do(client: TestClient, manager: User) -> None:
    login(client, manager)

    response = client.get("/campaigns")

    assert "尚无季节性专项检查" in response.text
    assert 'href="/campaigns/new"' in response.text


def test_the_list_runs_a_fixed_number_of_queries(
    client: TestClient, session: Session, manager: User, workshop: Workshop, engineer: User, count_queries: list[str]
) -> None:
    def add(count: int) -> None:
        for n in range(count):
            campaign = make_campaign(session, manager, [workshop, factories.WorkshopFactory()], name=f"专项检查{n}")
            part = campaigns.get_campaign_workshop_or_raise(session, campaign, workshop.id)  # type: ignore[arg-type]
            campaigns.answer(
                session, part, campaigns.items_of(session, campaign)[0], ChecklistResult.OK, actor=engineer
            )

    def queries() -> int:
        count_queries.clear()
        assert client.get("/campaigns").status_code == 200
        return len(count_queries)

    login(client, manager)
    add(2)
    few = queries()
    add(10)
    many = queries()

    assert many == few


# --- Create and edit ------------------------------------------------------------------------


def test_a_manager_creates_a_campaign_with_one_item_per_line_and_chosen_workshops(
    client: TestClient, session: Session, manager: User, workshop: Workshop
) -> None:
    other = factories.WorkshopFactory()
    token = login(client, manager)
    form = client.get("/campaigns/new")
    assert form.status_code == 200
    assert f'value="{workshop.id}"' in form.text

    response = client.post(
        "/campaigns/new",
        data={
            "csrf_token": token,
            "name": "2026年冬季防冻防凝专项检查",
            "kind": "winterization",
            "starts_on": "2026-11-01",
            "deadline": "2026-11-30",
            "instructions": "11月底前完成",
            "items": "伴热线投用\r\n\r\n  保温完好  \r\n消防水管线排空\r\n",
            "workshop_ids": [str(workshop.id), str(other.id)],
        },
    )

    assert response.status_code == 303
    created = session.scalar(select(InspectionCampaign))
    assert created is not None
    assert response.headers["location"] == f"/campaigns/{created.id}"
    assert [item.text for item in campaigns.items_of(session, created)] == ["伴热线投用", "保温完好", "消防水管线排空"]
    assert session.scalar(select(func.count()).select_from(CampaignWorkshop)) == 2


def test_a_bad_form_comes_back_with_the_reasons_next_to_the_fields(
    client: TestClient, session: Session, manager: User
) -> None:
    token = login(client, manager)

    response = client.post(
        "/campaigns/new",
        data={
            "csrf_token": token,
            "name": "",
            "kind": "winterization",
            "starts_on": "2026-11-30",
            "deadline": "2026-11-01",
            "items": "\n  \n",
        },
    )

    assert response.status_code == 422
    html = response.text
    assert re.search(r'id="f-name".{0,400}?class="invalid-feedback d-block">此项为必填项', html, re.S)
    assert "截止日期不能早于开始日期" in html
    assert "请至少填写一项检查内容" in html
    assert "请至少选择一个车间" in html
    assert session.scalar(select(func.count()).select_from(InspectionCampaign)) == 0


def test_every_refused_checklist_line_is_named(
    client: TestClient, session: Session, manager: User, workshop: Workshop
) -> None:
    token = login(client, manager)

    response = client.post(
        "/campaigns/new",
        data={
            "csrf_token": token,
            "name": "2026年冬季防冻防凝专项检查",
            "kind": "winterization",
            "starts_on": "2026-11-01",
            "deadline": "2026-11-30",
            "items": "伴热线投用\n保温完好\n伴热线投用\n" + "长" * 201,
            "workshop_ids": str(workshop.id),
        },
    )

    assert response.status_code == 422
    feedback = text_of(re.search(r'id="f-items".*?invalid-feedback d-block">(.*?)</div>', response.text, re.S)[1])  # type: ignore[index]
    assert "第3行与其他行重复：伴热线投用" in feedback
    assert "第4行超过 200 个字符" in feedback
    assert 'value="2026-11-30"' in response.text  # what was typed comes back


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_only_managers_open_the_new_campaign_form(
    client: TestClient, session: Session, workshop: Workshop, role: Role
) -> None:
    login(client, factories.UserFactory(role=role))

    assert client.get("/campaigns/new").status_code == 403


def test_an_edit_saves_and_a_stale_edit_is_a_409_with_the_differences(
    client: TestClient, session: Session, manager: User, campaign: InspectionCampaign
) -> None:
    token = login(client, manager)
    form = {
        "csrf_token": token,
        "name": campaign.name,
        "kind": "winterization",
        "starts_on": campaign.starts_on.isoformat(),
        "deadline": (campaign.deadline + timedelta(days=3)).isoformat(),
        "version": "1",
    }
    assert client.get(f"/campaigns/{campaign.id}/edit").status_code == 200

    saved = client.post(f"/campaigns/{campaign.id}/edit", data=form)
    stale = client.post(f"/campaigns/{campaign.id}/edit", data=form | {"name": "改名", "version": "1"})

    assert saved.status_code == 303
    assert campaign.version == 2
    assert stale.status_code == 409
    assert 'data-testid="conflict"' in stale.text
    assert "改名" in stale.text
    assert campaign.name == "2026年冬季防冻防凝专项检查"


# --- The campaign page ----------------------------------------------------------------------


def test_the_campaign_page_shows_completion_by_workshop_and_findings_with_asset_and_order(
    client: TestClient,
    session: Session,
    auditor: User,
    engineer: User,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    asset: Asset,
    workshop: Workshop,
) -> None:
    campaigns.answer(session, part, items[0], ChecklistResult.OK, actor=engineer)
    campaigns.answer(session, part, items[1], ChecklistResult.OK, actor=engineer)
    finding = campaigns.answer(
        session, part, items[2], ChecklistResult.NOT_OK, "出口排凝阀冻堵", asset_tag=asset.tag, actor=engineer
    )
    order = campaigns.raise_order(session, finding, actor=engineer)
    campaigns.submit(session, part, actor=engineer)
    login(client, auditor)

    response = client.get(f"/campaigns/{campaign.id}")

    assert response.status_code == 200
    html = response.text
    rows = dict(re.findall(r'data-workshop="([^"]+)"(.*?)</tr>', html, re.S))
    mine = text_of(rows[workshop.code])
    assert "3 / 3 (100%)" in mine
    assert "按期提交" in mine
    assert any("未开始" in text_of(row) for code, row in rows.items() if code != workshop.code)
    [finding_row] = re.findall(r'data-testid="finding-row">(.*?)</tr>', html, re.S)
    assert f'href="/assets/{asset.id}"' in finding_row
    assert f'href="/orders/{order.id}"' in finding_row
    assert "出口排凝阀冻堵" in finding_row
    assert len(re.findall(r'data-testid="checklist-item"', html)) == 3
    assert 'action="/campaigns/' not in html  # auditors change nothing


def test_the_campaign_page_runs_a_fixed_number_of_queries(
    client: TestClient,
    session: Session,
    manager: User,
    engineer: User,
    workshop: Workshop,
    asset: Asset,
    count_queries: list[str],
) -> None:
    campaign = make_campaign(session, manager, [workshop], items=[f"检查项{n}" for n in range(12)])
    part = campaigns.get_campaign_workshop_or_raise(session, campaign, workshop.id)  # type: ignore[arg-type]
    items = campaigns.items_of(session, campaign)

    def find(start: int, count: int) -> None:
        for item in items[start : start + count]:
            result = campaigns.answer(
                session, part, item, ChecklistResult.NOT_OK, "异常", asset_tag=asset.tag, actor=engineer
            )
            campaigns.raise_order(session, result, actor=engineer)

    def queries() -> int:
        count_queries.clear()
        assert client.get(f"/campaigns/{campaign.id}").status_code == 200
        return len(count_queries)

    login(client, manager)
    find(0, 1)
    few = queries()
    find(1, 10)
    campaigns.add_workshops(session, campaign, [factories.WorkshopFactory().id for _ in range(5)], actor=manager)
    many = queries()

    assert many == few


def test_an_item_with_answers_is_not_removed_and_the_page_says_why(
    client: TestClient,
    session: Session,
    manager: User,
    engineer: User,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
) -> None:
    campaigns.answer(session, part, items[0], ChecklistResult.OK, actor=engineer)
    token = login(client, manager)

    refused = client.post(f"/campaigns/{campaign.id}/items/{items[0].id}/remove", data={"csrf_token": token})
    removed = client.post(f"/campaigns/{campaign.id}/items/{items[1].id}/remove", data={"csrf_token": token})

    assert refused.status_code == 409
    assert ITEMS[0] in text_of(re.search(r'data-testid="remove-error">(.*?)</div>', refused.text, re.S)[1])  # type: ignore[index]
    assert removed.status_code == 303
    assert [item.text for item in campaigns.items_of(session, campaign)] == [ITEMS[0], ITEMS[2]]


def test_items_and_workshops_are_added_on_the_campaign_page(
    client: TestClient, session: Session, manager: User, campaign: InspectionCampaign
) -> None:
    third = factories.WorkshopFactory()
    token = login(client, manager)

    added = client.post(
        f"/campaigns/{campaign.id}/items", data={"csrf_token": token, "items": "消防水管线排空\n洗眼器防冻"}
    )
    repeated = client.post(f"/campaigns/{campaign.id}/items", data={"csrf_token": token, "items": ITEMS[0]})
    joined = client.post(
        f"/campaigns/{campaign.id}/workshops", data={"csrf_token": token, "workshop_ids": str(third.id)}
    )
    nothing = client.post(f"/campaigns/{campaign.id}/workshops", data={"csrf_token": token})

    assert added.status_code == 303
    assert len(campaigns.items_of(session, campaign)) == 5
    assert repeated.status_code == 422
    assert ITEMS[0] in repeated.text
    assert joined.status_code == 303
    assert nothing.status_code == 422
    assert "请至少选择一个车间" in nothing.text


# --- A workshop's sheet ---------------------------------------------------------------------


def test_the_sheet_has_a_card_per_item_with_ok_and_not_ok(
    client: TestClient, engineer: User, campaign: InspectionCampaign, workshop: Workshop
) -> None:
    login(client, engineer)

    response = client.get(sheet_url(campaign, workshop))

    assert response.status_code == 200
    assert len(re.findall(r'data-testid="campaign-item"', response.text)) == 3
    assert response.text.count('name="result" ') == 3 * 2
    assert "正常" in response.text
    assert "异常" in response.text
    assert 'data-testid="submit-sheet"' in response.text
    assert "0 / 3" in text_of(response.text)


def test_an_answer_saved_with_htmx_returns_its_card_and_the_sheet_progress(
    client: TestClient,
    session: Session,
    engineer: User,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    workshop: Workshop,
    asset: Asset,
) -> None:
    token = login(client, engineer)

    response = client.post(
        f"{sheet_url(campaign, workshop)}/items/{items[2].id}",
        data={"csrf_token": token, "result": "not_ok", "note": "排凝阀冻堵", "asset_tag": asset.tag},
        headers=HTMX,
    )

    assert response.status_code == 200
    html = response.text
    assert "<html" not in html
    assert html.count('data-testid="campaign-item"') == 1
    assert f'id="item-{items[2].id}"' in html
    assert 'id="sheet-progress" class="card mb-3" hx-swap-oob="true"' in html
    assert "1 / 3" in text_of(html)
    assert 'data-testid="raise-order"' in html
    assert (part.items_answered, part.findings) == (1, 1)


def test_a_plain_post_falls_back_to_a_redirect_to_the_item(
    client: TestClient,
    engineer: User,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    workshop: Workshop,
) -> None:
    token = login(client, engineer)

    response = client.post(
        f"{sheet_url(campaign, workshop)}/items/{items[0].id}", data={"csrf_token": token, "result": "ok"}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{sheet_url(campaign, workshop)}#item-{items[0].id}"
    assert part.items_answered == 1


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_finding_without_a_note_is_refused_at_the_note(
    client: TestClient,
    engineer: User,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    workshop: Workshop,
    htmx: bool,
) -> None:
    token = login(client, engineer)

    response = client.post(
        f"{sheet_url(campaign, workshop)}/items/{items[0].id}",
        data={"csrf_token": token, "result": "not_ok", "note": " ", "asset_tag": "NO-SUCH"},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    card = re.search(rf'id="item-{items[0].id}".*?</form>', response.text, re.S)
    assert card
    assert "请说明异常情况" in card[0]
    assert "没有位号为 NO-SUCH 的设备" in card[0]
    assert ("<html" in response.text) is not htmx
    assert part.items_answered == 0


def test_a_missing_result_is_refused(
    client: TestClient, engineer: User, campaign: InspectionCampaign, items: list[CampaignItem], workshop: Workshop
) -> None:
    token = login(client, engineer)

    response = client.post(
        f"{sheet_url(campaign, workshop)}/items/{items[0].id}", data={"csrf_token": token}, headers=HTMX
    )

    assert response.status_code == 422
    assert "请选择“正常”或“异常”" in response.text


def test_a_finding_raises_a_work_order_from_its_card_once(
    client: TestClient,
    session: Session,
    engineer: User,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    workshop: Workshop,
    asset: Asset,
) -> None:
    campaigns.answer(
        session, part, items[1], ChecklistResult.NOT_OK, "保温破损进水", asset_tag=asset.tag, actor=engineer
    )
    token = login(client, engineer)
    url = f"{sheet_url(campaign, workshop)}/items/{items[1].id}/raise"

    raised = client.post(url, data={"csrf_token": token}, headers=HTMX)
    again = client.post(url, data={"csrf_token": token}, headers=HTMX)

    order = session.scalar(select(WorkOrder))
    assert order is not None
    assert raised.status_code == 200
    assert f'href="/orders/{order.id}"' in raised.text
    assert order.number in raised.text  # the card and the toast
    assert again.status_code == 409
    assert again.headers["HX-Reswap"] == "none"
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 1


def test_submit_lists_what_is_missing_then_fixes_the_answers(
    client: TestClient,
    session: Session,
    engineer: User,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    workshop: Workshop,
) -> None:
    campaigns.answer(session, part, items[0], ChecklistResult.OK, actor=engineer)
    token = login(client, engineer)
    url = sheet_url(campaign, workshop)

    incomplete = client.post(f"{url}/submit", data={"csrf_token": token})
    assert incomplete.status_code == 422
    assert "还有 2 项未填写" in incomplete.text
    assert incomplete.text.count("尚未填写") >= 2

    for item in items[1:]:
        campaigns.answer(session, part, item, ChecklistResult.OK, actor=engineer)
    submitted = client.post(f"{url}/submit", data={"csrf_token": token})
    page = client.get(url)

    assert submitted.status_code == 303
    assert part.submitted_at is not None
    assert 'data-testid="submitted"' in page.text
    assert 'name="result"' not in page.text  # answers are fixed
    assert 'data-testid="submit-sheet"' not in page.text


def test_an_auditor_reads_a_sheet_but_writes_nothing(
    client: TestClient,
    session: Session,
    auditor: User,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    workshop: Workshop,
) -> None:
    token = login(client, auditor)
    url = sheet_url(campaign, workshop)

    page = client.get(url)
    answer = client.post(f"{url}/items/{items[0].id}", data={"csrf_token": token, "result": "ok"})
    submit = client.post(f"{url}/submit", data={"csrf_token": token})

    assert page.status_code == 200
    assert 'name="result"' not in page.text
    assert answer.status_code == 403
    assert submit.status_code == 403
    assert session.scalar(select(func.count()).select_from(CampaignResult)) == 0


def test_an_engineer_of_another_workshop_reads_but_cannot_answer(
    client: TestClient, session: Session, campaign: InspectionCampaign, items: list[CampaignItem], workshop: Workshop
) -> None:
    outsider = factories.UserFactory(role=Role.ENGINEER)
    token = login(client, outsider)
    url = sheet_url(campaign, workshop)

    assert 'name="result"' not in client.get(url).text
    assert client.post(f"{url}/items/{items[0].id}", data={"csrf_token": token, "result": "ok"}).status_code == 403


def test_a_manager_reopens_a_submitted_sheet(
    client: TestClient,
    session: Session,
    manager: User,
    engineer: User,
    campaign: InspectionCampaign,
    items: list[CampaignItem],
    part: CampaignWorkshop,
    workshop: Workshop,
) -> None:
    for item in items:
        campaigns.answer(session, part, item, ChecklistResult.OK, actor=engineer)
    campaigns.submit(session, part, actor=engineer)
    token = login(client, manager)

    response = client.post(f"{sheet_url(campaign, workshop)}/reopen", data={"csrf_token": token})

    assert response.status_code == 303
    assert part.submitted_at is None
    assert 'name="result"' in client.get(sheet_url(campaign, workshop)).text


def test_a_workshop_outside_the_campaign_has_no_sheet(
    client: TestClient, engineer: User, campaign: InspectionCampaign
) -> None:
    login(client, engineer)

    assert client.get(f"/campaigns/{campaign.id}/workshops/999999").status_code == 404
    assert client.get("/campaigns/999999").status_code == 404


def test_the_sheet_runs_a_fixed_number_of_queries(
    client: TestClient,
    session: Session,
    manager: User,
    engineer: User,
    workshop: Workshop,
    asset: Asset,
    count_queries: list[str],
) -> None:
    campaign = make_campaign(session, manager, [workshop], items=[f"检查项{n}" for n in range(12)])
    part = campaigns.get_campaign_workshop_or_raise(session, campaign, workshop.id)  # type: ignore[arg-type]
    items = campaigns.items_of(session, campaign)

    def queries() -> int:
        count_queries.clear()
        assert client.get(sheet_url(campaign, workshop)).status_code == 200
        return len(count_queries)

    login(client, engineer)
    campaigns.answer(session, part, items[0], ChecklistResult.NOT_OK, "异常", asset_tag=asset.tag, actor=engineer)
    few = queries()
    for item in items[1:]:
        result = campaigns.answer(
            session, part, item, ChecklistResult.NOT_OK, "异常", asset_tag=asset.tag, actor=engineer
        )
        campaigns.raise_order(session, result, actor=engineer)
    many = queries()

    assert many == few
    assert (
        session.scalar(
            select(func.count()).select_from(CampaignResult).where(col(CampaignResult.order_id).is_not(None))
        )
        == 11
    )
