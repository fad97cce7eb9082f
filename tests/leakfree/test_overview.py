"""The managers' overview (/leakfree), the home card and a workshop's page, on a small plant
computed by hand.

Workshop WA: 1,990 flanges and 500 pump seals (2,490 points), certified 2026-03-15 (valid through
2027-03-14). Its survey of 2026-04-01 over 2,000 static / 500 dynamic points found 3 static leaks
(1.50‰, 0.00‰), repaired on 2026-04-20; its survey of 2026-05-10 over 1,990 / 500 found 1 static
and 1 dynamic leak: 0.50‰ (1 in 1,990 shows 0.50 but is over 0.5‰) and 2.00‰ (exactly the limit,
met): the workshop fails, and being surveyed after its certificate it is certified at risk. On
2026-06-01 its two leaks of 2026-05-10 are open, the oldest 22 days old.
Workshop WB: 100 flanges, no survey, no application.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from maintenance import as_of as as_of_module
from maintenance.leakfree.choices import SealType
from maintenance.leakfree.models import Certification, Leak
from maintenance.org.models import User, Workshop
from tests import factories
from tests.conftest import login
from tests.leakfree.conftest import Certify, MakeSealPoint, MakeSurvey

AS_OF = "2026-06-01"


@dataclass
class Plant:
    wa: Workshop
    wb: Workshop
    certificate: Certification


@pytest.fixture
def plant(
    session: Session, workshop: Workshop, make_seal_point: MakeSealPoint, make_survey: MakeSurvey, certify: Certify
) -> Plant:
    workshop.code, workshop.name = "WA", "一车间"
    wb = factories.WorkshopFactory(code="WB", name="二车间")
    make_seal_point(seal_type=SealType.FLANGE, count=1_990)
    make_seal_point(seal_type=SealType.PUMP_SEAL, count=500)
    make_seal_point(seal_type=SealType.FLANGE, count=100, workshop_id=wb.id)
    april = make_survey(date(2026, 4, 1), static_points=2_000, dynamic_points=500, static_leaks=3)
    session.execute(update(Leak).where(Leak.survey_id == april.id).values(repaired_date=date(2026, 4, 20)))
    make_survey(date(2026, 5, 10), static_points=1_990, dynamic_points=500, static_leaks=1, dynamic_leaks=1)
    certificate = certify(date(2026, 2, 1), certified=date(2026, 3, 15))
    certificate.assessor = "机动部 王工"
    certificate.assessment_remarks = "台账完整"
    session.flush()
    return Plant(workshop, wb, certificate)


def row_of(html: str, code: str) -> str:
    match = re.search(rf'<tr data-testid="overview-row" data-code="{code}">(.*?)</tr>', html, re.S)
    assert match, code
    return match.group(1)


def cell(row: str, testid: str) -> str:
    match = re.search(rf'<td[^>]*data-testid="{testid}"[^>]*>(.*?)</td>', row, re.S)
    assert match, testid
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip())


def test_each_workshop_shows_its_points_rates_leaks_and_certificate(
    client: TestClient, manager: User, plant: Plant
) -> None:
    login(client, manager)
    page = client.get("/leakfree", params={"as_of": AS_OF})
    assert page.status_code == 200

    wa = row_of(page.text, "WA")
    assert cell(wa, "total-points") == "2,490"
    assert cell(wa, "split-points") == "1,990 / 500"
    # 1 in 1,990 shows 0.50 and is over 0.5‰: in red with the limit; 2.00‰ is exactly 2‰: met.
    assert cell(wa, "static-rate") == "0.50‰ > 0.5‰"
    assert 'data-over="true"' in wa.split('data-testid="static-rate"')[1].split("</td>")[0]
    assert cell(wa, "dynamic-rate") == "2.00‰"
    assert 'data-meets="no"' in wa
    assert 'data-open="2"' in wa
    assert 'data-oldest-days="22"' in wa
    assert 'data-standing="at_risk"' in wa
    assert 'data-testid="valid-until">2027/3/14<' in wa
    assert f'href="/leakfree/workshops/{plant.wa.id}?as_of={AS_OF}"' in wa

    wb = row_of(page.text, "WB")
    assert cell(wb, "total-points") == "100"
    assert 'data-meets="none"' in wb
    assert cell(wb, "static-rate") == "—"
    assert 'data-open="0"' in wb
    assert "data-oldest-days" not in wb
    assert 'data-standing="not_started"' in wb
    # The intactness note is said once, on the page, not per row.
    assert page.text.count("arrives with the operating log") + page.text.count("待运行记录上线后纳入") == 1


def test_the_reference_date_moves_every_figure(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    page = client.get("/leakfree", params={"as_of": "2026-05-01"})

    wa = row_of(page.text, "WA")
    # The April survey: 3 in 2,000 = 1.50‰ (over), no dynamic leak; its leaks were repaired on 04-20.
    assert cell(wa, "static-rate") == "1.50‰ > 0.5‰"
    assert cell(wa, "dynamic-rate") == "0.00‰"
    assert 'data-open="0"' in wa
    # Surveyed after the certificate and over the limit: at risk already.
    assert 'data-standing="at_risk"' in wa

    before_any = row_of(client.get("/leakfree", params={"as_of": "2026-03-01"}).text, "WA")
    assert 'data-meets="none"' in before_any
    assert 'data-standing="in_assessment"' in before_any  # applied 02-01, decided 03-15


def test_the_default_date_is_the_plant_s_today(
    client: TestClient, manager: User, plant: Plant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(as_of_module, "plant_today", lambda: date(2026, 3, 20))
    login(client, manager)
    wa = row_of(client.get("/leakfree").text, "WA")
    assert 'data-standing="certified"' in wa
    assert 'data-meets="none"' in wa


def test_an_htmx_request_gets_the_table_alone(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    fragment = client.get("/leakfree", params={"as_of": AS_OF}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="overview-table"' in fragment.text


@pytest.mark.parametrize("bad", ["2026-02-30", "yesterday", "0001-01-01"])
def test_a_bad_reference_date_is_refused(client: TestClient, manager: User, bad: str) -> None:
    login(client, manager)
    for path in ("/leakfree", "/leakfree/board", "/leakfree/card"):
        assert client.get(path, params={"as_of": bad}).status_code == 422, path


def test_an_auditor_reads_and_exports_the_overview(client: TestClient, auditor: User, plant: Plant) -> None:
    login(client, auditor)
    response = client.get("/leakfree", params={"as_of": AS_OF, "export": "csv"})
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 3
    wa = lines[1].split(",")
    # code, name, points, static, dynamic, survey, static leaks, dynamic leaks, ‰, ‰, meets, open, oldest
    assert wa[:13] == ["WA", "一车间", "2490", "1990", "500", "2026-05-10", "1", "1", "0.50", "2.00", "否", "2", "22"]
    assert wa[14:] == ["2026-03-15", "2027-03-14"]
    assert client.get("/leakfree", params={"export": "pdf"}).status_code == 422


def test_the_home_card_counts_certified_and_over_threshold(client: TestClient, manager: User, plant: Plant) -> None:
    login(client, manager)
    card = client.get("/leakfree/card", params={"as_of": AS_OF})
    assert card.status_code == 200
    # WA certified (at risk) of 2; half of 2 is 1 by 30 June: on track. WA is over a threshold.
    assert re.search(r'data-testid="card-certified">\s*1 / 2', card.text)
    assert re.search(r'data-testid="card-over-threshold">\s*1<', card.text)


def test_the_overview_runs_a_fixed_number_of_queries(
    client: TestClient,
    manager: User,
    plant: Plant,
    make_seal_point: MakeSealPoint,
    make_survey: MakeSurvey,
    certify: Certify,
    count_queries: list[str],
) -> None:
    login(client, manager)

    def counts() -> list[int]:
        found = []
        for path in ("/leakfree", "/leakfree/card", f"/leakfree/workshops/{plant.wa.id}"):
            count_queries.clear()
            assert client.get(path, params={"as_of": AS_OF}).status_code == 200
            found.append(len(count_queries))
        return found

    with_two = counts()
    for n in range(4):
        extra = factories.WorkshopFactory()
        make_seal_point(count=10 + n, workshop_id=extra.id)
        make_survey(date(2026, 5, 1), static_points=10 + n, dynamic_points=0, static_leaks=1, workshop_id=extra.id)
        certify(date(2026, 1, 5), certified=date(2026, 2, 1), workshop_id=extra.id)
        make_survey(date(2026, 3, 1 + n), static_points=1_990, dynamic_points=500, static_leaks=n)
    assert counts() == with_two


# --- A workshop's page --------------------------------------------------------------------


def test_the_workshop_page_shows_its_figures_surveys_trend_and_history(
    client: TestClient, manager: User, plant: Plant, certify: Certify
) -> None:
    rejected = certify(date(2025, 10, 1), rejected=date(2025, 11, 20))
    login(client, manager)
    page = client.get(f"/leakfree/workshops/{plant.wa.id}", params={"as_of": AS_OF})
    assert page.status_code == 200
    assert 'data-testid="total-points">2,490<' in page.text
    assert re.findall(r'data-testid="survey-row" data-date="([^"]+)"', page.text) == ["2026-05-10", "2026-04-01"]

    option = json.loads(page.text.split('<template id="rates-trend" data-chart-option>', 1)[1].split("</template>")[0])
    assert option["xAxis"]["data"] == ["2026-04-01", "2026-05-10"]
    static, dynamic = option["series"]
    assert static["data"] == [1.5, 0.5]
    assert dynamic["data"] == [0.0, 2.0]
    assert static["markLine"]["data"] == [{"yAxis": 0.5}]
    assert dynamic["markLine"]["data"] == [{"yAxis": 2.0}]

    history = re.findall(r'data-testid="certification-row" data-id="(\d+)"', page.text)
    assert history == [str(plant.certificate.id), str(rejected.id)]  # newest first
    assert f'href="/leakfree/certifications/{plant.certificate.id}"' in page.text
    assert "机动部 王工" in page.text
    assert "台账完整" in page.text
    assert "2027/3/14" in page.text


def test_the_workshop_page_on_an_earlier_day_and_for_an_unknown_workshop(
    client: TestClient, manager: User, plant: Plant
) -> None:
    login(client, manager)
    page = client.get(f"/leakfree/workshops/{plant.wb.id}", params={"as_of": AS_OF})
    assert page.status_code == 200
    assert 'data-testid="survey-row"' not in page.text
    assert 'id="rates-trend"' not in page.text

    earlier = client.get(f"/leakfree/workshops/{plant.wa.id}", params={"as_of": "2026-04-15"})
    assert re.findall(r'data-testid="survey-row" data-date="([^"]+)"', earlier.text) == ["2026-04-01"]

    assert client.get("/leakfree/workshops/999999").status_code == 404
    assert client.get("/leakfree/workshops/99999999999").status_code in (404, 422)
