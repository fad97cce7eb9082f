"""The finance journal's list through the served app: filters (dates, defaulting to this year;
workshop; category; search), sorting, pagination, the filtered total in 万元 and 元, a fixed
number of queries, the CSV export of the filtered list; engineers read their own workshops'
entries only; a manager deletes an entry (change log), a missing one is a 404."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.db import plant_today
from maintenance.orders.choices import CostCategory
from maintenance.orders.models import JournalEntry
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories
from tests.conftest import login

LIST = "/budget/journal"
MARCH = "date_from=2026-03-01&date_to=2026-03-31"

Book = Callable[..., JournalEntry]


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def march(workshop: Workshop, other_workshop: Workshop, book: Book) -> None:
    """Four vouchers in March 2026 and one in April."""
    book(workshop, "2026-03-05", CostCategory.SERVICES, "120000.00", "记-0158")
    book(workshop, "2026-03-28", CostCategory.SERVICES, "-20000.00", "记-0201")
    book(workshop, "2026-03-10", CostCategory.MATERIALS, "3456.78", "记-0170")
    book(other_workshop, "2026-03-12", CostCategory.SPARES, "125000.00", "记-0180")
    book(workshop, "2026-04-02", CostCategory.SERVICES, "50000.00", "记-0233")


def _references(html: str) -> list[str]:
    return re.findall(r'<tr data-reference="([^"]+)"', html)


def _total(html: str) -> str:
    match = re.search(r'id="journal-total" data-total="([^"]+)"', html)
    assert match, html[:3000]
    return match.group(1)


def test_the_month_is_listed_newest_first_with_its_total_in_wan_and_yuan(
    client: TestClient, manager: User, march: None
) -> None:
    login(client, manager)

    page = client.get(f"{LIST}?{MARCH}")

    assert page.status_code == 200
    assert _references(page.text) == ["记-0201", "记-0180", "记-0170", "记-0158"]
    # 120,000.00 − 20,000.00 + 3,456.78 + 125,000.00 = 228,456.78 元 = 22.85万元
    assert _total(page.text) == "228456.78"
    assert "22.85" in page.text
    assert "228,456.78" in page.text


@pytest.mark.parametrize(
    ("query", "references", "total"),
    [
        ("&category=services", ["记-0201", "记-0158"], "100000.00"),
        ("&q=0170", ["记-0170"], "3456.78"),
        ("&sort=amount", ["记-0201", "记-0170", "记-0158", "记-0180"], "228456.78"),
        ("&sort=-reference", ["记-0201", "记-0180", "记-0170", "记-0158"], "228456.78"),
    ],
)
def test_filters_and_sorting(
    client: TestClient, manager: User, march: None, query: str, references: list[str], total: str
) -> None:
    login(client, manager)

    page = client.get(f"{LIST}?{MARCH}{query}")

    assert _references(page.text) == references
    assert _total(page.text) == total


def test_a_workshop_filter_and_the_htmx_fragment(
    client: TestClient, manager: User, march: None, other_workshop: Workshop
) -> None:
    login(client, manager)

    fragment = client.get(f"{LIST}?{MARCH}&workshop_id={other_workshop.id}", headers={"HX-Request": "true"})

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert _references(fragment.text) == ["记-0180"]
    assert _total(fragment.text) == "125000.00"


def test_without_dates_the_list_shows_this_year(
    client: TestClient, manager: User, workshop: Workshop, book: Book
) -> None:
    today = plant_today()
    book(workshop, today.isoformat(), CostCategory.LABOUR, "100.00", "THIS-YEAR")
    book(workshop, (today.replace(month=1, day=1) - timedelta(days=1)).isoformat(), CostCategory.LABOUR, "1.00", "LAST")
    login(client, manager)

    page = client.get(LIST)

    assert _references(page.text) == ["THIS-YEAR"]


def test_an_engineer_reads_only_their_workshops_entries(
    client: TestClient, session: Session, march: None, workshop: Workshop, other_workshop: Workshop
) -> None:
    engineer = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=engineer.id, workshop_id=other_workshop.id))  # type: ignore[arg-type]
    session.flush()
    login(client, engineer)

    own = client.get(f"{LIST}?{MARCH}")
    foreign = client.get(f"{LIST}?{MARCH}&workshop_id={workshop.id}")

    assert _references(own.text) == ["记-0180"]
    assert _total(own.text) == "125000.00"
    assert _references(foreign.text) == []
    assert _total(foreign.text) == "0.00"
    assert "/budget/journal/import" not in own.text


def test_an_empty_list_says_so(client: TestClient, manager: User) -> None:
    login(client, manager)

    page = client.get(f"{LIST}?{MARCH}")

    assert page.status_code == 200
    assert _references(page.text) == []
    assert 'class="bi bi-inbox' in page.text


def test_pages_and_a_fixed_number_of_queries(
    client: TestClient, manager: User, workshop: Workshop, book: Book, count_queries: list[str]
) -> None:
    def add(first: int, count: int) -> None:
        for number in range(first, first + count):
            book(workshop, "2026-03-01", CostCategory.LABOUR, "1.00", f"V-{number:03}")

    def queries() -> int:
        count_queries.clear()
        assert client.get(f"{LIST}?{MARCH}&sort=reference").status_code == 200
        return len(count_queries)

    login(client, manager)
    add(1, 2)
    few = queries()
    add(3, 58)
    many = queries()
    second = client.get(f"{LIST}?{MARCH}&sort=reference&page=2")

    assert many == few
    assert _references(second.text)[0] == "V-051"  # 50 a page
    assert _total(second.text) == "60.00"


def test_the_csv_export_holds_the_filtered_entries(
    client: TestClient, manager: User, march: None, workshop: Workshop
) -> None:
    client.cookies.set("lang", "en")
    login(client, manager)

    response = client.get(f"{LIST}?{MARCH}&workshop_id={workshop.id}&sort=date&export=csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["Booked on", "Workshop", "Category", "Amount (CNY)", "Voucher", "Description"]
    assert [row[:5] for row in rows[1:]] == [
        ["2026-03-05", "合成车间", "Outsourced services", "120000.00", "记-0158"],
        ["2026-03-10", "合成车间", "Materials", "3456.78", "记-0170"],
        ["2026-03-28", "合成车间", "Outsourced services", "-20000.00", "记-0201"],
    ]


def test_the_xlsx_export_is_a_workbook(client: TestClient, manager: User, march: None) -> None:
    login(client, manager)

    response = client.get(f"{LIST}?{MARCH}&export=xlsx")

    assert response.status_code == 200
    assert response.content.startswith(b"PK")


def test_an_unknown_export_format_is_a_422(client: TestClient, manager: User) -> None:
    login(client, manager)

    assert client.get(f"{LIST}?export=pdf").status_code == 422


def test_a_manager_deletes_an_entry_into_the_change_log(
    client: TestClient, session: Session, manager: User, workshop: Workshop, book: Book
) -> None:
    entry = book(workshop, "2026-03-05", CostCategory.SERVICES, "120000.00", "记-0158")
    entry_id = entry.id
    csrf = login(client, manager)

    response = client.post(f"{LIST}/{entry_id}/delete", data={"csrf_token": csrf})

    assert response.status_code == 303
    assert session.scalars(select(JournalEntry)).all() == []
    change = session.scalars(select(ObjectChange).where(ObjectChange.object_type == "journal_entry")).one()
    assert (change.action, change.object_id, change.before["reference"]) == (
        ChangeAction.DELETE,
        str(entry_id),
        "记-0158",
    )


def test_deleting_a_missing_entry_is_a_404_and_an_engineer_is_refused(
    client: TestClient, session: Session, manager: User, workshop: Workshop, book: Book
) -> None:
    entry = book(workshop, "2026-03-05", CostCategory.SERVICES, "1.00", "记-0158")
    csrf = login(client, factories.UserFactory(role=Role.ENGINEER))
    refused = client.post(f"{LIST}/{entry.id}/delete", data={"csrf_token": csrf})
    client.cookies.clear()
    csrf = login(client, manager)

    missing = client.post(f"{LIST}/999999/delete", data={"csrf_token": csrf})

    assert refused.status_code == 403
    assert missing.status_code == 404
    assert [e.reference for e in session.scalars(select(JournalEntry))] == ["记-0158"]
