"""The savings ledgers through the served app: the list (ledger cards against the year's target,
filters, sorting, pages in a fixed number of queries, the htmx fragment, the CSV and XLSX of the
filtered rows), and entries by hand: the saving computed, a negative one refused naming the
field (422, nothing written), who may write what, a stale edit (409), a confirmed delete; each
write in the change log."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.db import plant_today
from maintenance.orders.choices import CostKind
from maintenance.org.models import User, Workshop
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.models import ScorecardTarget
from maintenance.scorecard.savings.models import SavingsEntry, SavingsKind
from tests.budget.conftest import MakeOrder, plant
from tests.conftest import login
from tests.scorecard.savings.conftest import MakeEntry

LIST = "/scorecard/savings"
R, L, T = SavingsKind.REFURBISH, SavingsKind.LOCALISATION, SavingsKind.TENDER
Engineer = Callable[[Workshop], User]


def _rows(html: str) -> list[str]:
    """Each listed row as source:id."""
    return [f"{source}:{row_id}" for source, row_id in re.findall(r'<tr data-source="(\w+)" data-id="(\d+)"', html)]


def _card(html: str, kind: SavingsKind) -> tuple[str, str, str]:
    match = re.search(
        rf'data-ledger="{kind.value}" data-total="([^"]+)" data-from-orders="([^"]+)" data-entered="([^"]+)"', html
    )
    assert match, html[:3000]
    return match.group(1), match.group(2), match.group(3)


def _total(html: str) -> str:
    match = re.search(r'id="savings-total" data-total="([^"]+)"', html)
    assert match, html[:3000]
    return match.group(1)


def _changes(session: Session) -> list[ObjectChange]:
    return list(session.scalars(select(ObjectChange).where(ObjectChange.object_type == "savings_entry")))


@pytest.fixture
def ledger(
    session: Session, make_order: MakeOrder, entry: MakeEntry, pump: Asset, other_pump: Asset, workshop: Workshop
) -> dict[str, int]:
    """2026: an order of 合成车间 saving 300 (refurbished) and 1250 (localised) on 10 March;
    entries: refurbish 1200 (1 Feb, 合成), localisation 2121.00 (5 May, plant-wide), tender 62000
    (30 Jun, plant-wide); and a refurbish entry of 2025."""
    order = make_order(pump, lines=[(CostKind.REFURBISHED, "0", "300"), (CostKind.LOCALISED, "0", "1250")],
                       finished=plant(2026, 3, 10))  # fmt: skip
    seals = entry(
        R, "2026-02-01", "1000.00", "400.00", quantity="2", of=workshop, description="机封修复", reference="MS-01"
    )
    bearings = entry(L, "2026-05-05", "850.50", "320.25", quantity="4", description="国产轴承 6316", reference="6316")
    tender = entry(T, "2026-06-30", "500000.00", "438000.00", description="大修脚手架招标", reference="ZB-2026-07")
    old = entry(R, "2025-12-31", "200.00", "100.00", description="去年")
    return {"order": order.id, "seals": seals.id, "bearings": bearings.id, "tender": tender.id, "old": old.id}  # type: ignore[dict-item]


# --- The list ----------------------------------------------------------------------------------


def test_the_years_ledgers_and_their_rows(
    client: TestClient, session: Session, manager: User, ledger: dict[str, int]
) -> None:
    session.add(ScorecardTarget(year=2026, indicator=Indicator.TENDER_SAVINGS, value=Decimal("200000")))
    session.flush()
    client.cookies.set("lang", "en")
    login(client, manager)

    page = client.get(f"{LIST}?year=2026")

    assert page.status_code == 200
    # newest first; the two lines of the order share its day (the later line first)
    order_lines = [f"order:{ledger['order']}", f"order:{ledger['order']}"]
    assert _rows(page.text) == [f"entry:{ledger['tender']}", f"entry:{ledger['bearings']}", *order_lines,
                                f"entry:{ledger['seals']}"]  # fmt: skip
    assert _card(page.text, R) == ("1500.00", "300.00", "1200.00")
    assert _card(page.text, L) == ("3371.00", "1250.00", "2121.00")
    assert _card(page.text, T) == ("62000.00", "0.00", "62000.00")
    # 1500 + 3371 + 62000
    assert _total(page.text) == "66871.00"
    assert 'data-target="1000000"' in page.text  # the default 修旧利废 target
    assert "No target set" in page.text  # localisation
    assert 'data-target="200000.0000"' in page.text  # tender, set for the year
    assert f'href="/orders/{ledger["order"]}"' in page.text


@pytest.mark.parametrize(
    ("query", "rows", "total"),
    [
        ("&kind=refurbish", ["order", "seals"], "1500.00"),
        ("&kind=tender", ["tender"], "62000.00"),
        ("&q=6316", ["bearings"], "2121.00"),
        ("&date_from=2026-03-01&date_to=2026-05-31", ["bearings", "order", "order"], "3671.00"),  # 2121 + 300 + 1250
        ("&sort=saving", ["order", "seals", "order", "bearings", "tender"], "66871.00"),
        ("&sort=reference&kind=tender", ["tender"], "62000.00"),
    ],
)
def test_filters_and_sorting(
    client: TestClient, manager: User, ledger: dict[str, int], query: str, rows: list[str], total: str
) -> None:
    login(client, manager)

    page = client.get(f"{LIST}?year=2026{query}")

    assert [row.split(":")[1] for row in _rows(page.text)] == [str(ledger[name]) for name in rows]
    assert _total(page.text) == total


def test_a_workshop_filter_and_the_htmx_fragment(
    client: TestClient, manager: User, ledger: dict[str, int], other_workshop: Workshop
) -> None:
    login(client, manager)

    fragment = client.get(f"{LIST}?year=2026&workshop_id={other_workshop.id}", headers={"HX-Request": "true"})

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert _rows(fragment.text) == []
    assert _card(fragment.text, R) == ("0.00", "0.00", "0.00")
    assert 'class="bi bi-inbox' in fragment.text  # the empty state


def test_every_role_reads_every_workshops_savings(
    client: TestClient, ledger: dict[str, int], engineer_of: Engineer, other_workshop: Workshop, auditor: User
) -> None:
    login(client, engineer_of(other_workshop))
    engineers = client.get(f"{LIST}?year=2026&kind=refurbish")
    client.cookies.clear()
    login(client, auditor)
    auditors = client.get(f"{LIST}?year=2026&kind=refurbish")

    assert _total(engineers.text) == _total(auditors.text) == "1500.00"
    assert "/scorecard/savings/new" in engineers.text
    assert "/scorecard/savings/new" not in auditors.text


def test_pages_and_a_fixed_number_of_queries(
    client: TestClient, manager: User, entry: MakeEntry, make_order: MakeOrder, pump: Asset, count_queries: list[str]
) -> None:
    def add(first: int, count: int) -> None:
        for number in range(first, first + count):
            entry(T, "2026-04-01", "2.00", "1.00", reference=f"ZB-{number:03}")
            make_order(pump, lines=[(CostKind.REFURBISHED, "0", "1")], finished=plant(2026, 4, 1))

    def queries() -> int:
        count_queries.clear()
        assert client.get(f"{LIST}?year=2026&sort=reference").status_code == 200
        return len(count_queries)

    login(client, manager)
    add(1, 2)
    few = queries()
    add(3, 28)
    many = queries()
    second = client.get(f"{LIST}?year=2026&sort=reference&page=2")

    assert many == few
    assert len(_rows(second.text)) == 10  # 60 rows, 50 a page
    assert _total(second.text) == "60.00"


def test_the_csv_export_holds_the_filtered_rows(
    client: TestClient, manager: User, ledger: dict[str, int], workshop: Workshop
) -> None:
    client.cookies.set("lang", "en")
    login(client, manager)

    response = client.get(f"{LIST}?year=2026&kind=refurbish&sort=date&export=csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Date", "Ledger", "Source", "Workshop", "Description", "Part, tender or order number",
                       "Quantity", "Reference price (CNY)", "Actual price (CNY)", "Saving (CNY)"]  # fmt: skip
    assert rows[1] == ["2026-02-01", "Refurbish and reuse", "Entered", "合成车间", "机封修复", "MS-01", "2.000",
                       "1000.00", "400.00", "1200.00"]  # fmt: skip
    assert rows[2][:4] == ["2026-03-10", "Refurbish and reuse", "Work order", "合成车间"]
    assert rows[2][7:] == ["600.00", "300.00", "300.00"]
    assert len(rows) == 3


def test_the_xlsx_export_gives_the_ledgers_totals(client: TestClient, manager: User, ledger: dict[str, int]) -> None:
    client.cookies.set("lang", "en")
    login(client, manager)

    response = client.get(f"{LIST}?year=2026&export=xlsx")

    assert response.status_code == 200
    assert response.headers["X-Export-Rows"] == "5"
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    about = {row[0]: row[1] for row in book.get_sheet_by_name("About").to_python() if len(row) > 1 and row[0]}
    assert about["Refurbish and reuse from orders (CNY)"] == 300
    assert about["Spares localisation entered (CNY)"] == 2121
    assert about["Tender price comparison total (CNY)"] == 62000
    assert about["Total of the rows (CNY)"] == 66871


def test_an_unknown_export_format_is_a_422(client: TestClient, manager: User) -> None:
    login(client, manager)

    assert client.get(f"{LIST}?export=pdf").status_code == 422


# --- Entries by hand ---------------------------------------------------------------------------


def _form(workshop: Workshop | None, **changes: str) -> dict[str, str]:
    return {
        "kind": "localisation",
        "recorded_on": "2026-03-02",
        "workshop_id": str(workshop.id) if workshop else "",
        "description": "SKF 22222 换国产",
        "reference": "22222",
        "quantity": "3",
        "reference_price_cny": "1999.99",
        "actual_price_cny": "1333.33",
        **changes,
    }


def test_an_engineer_enters_a_saving_of_their_workshop(
    client: TestClient, session: Session, engineer_of: Engineer, workshop: Workshop
) -> None:
    csrf = login(client, engineer_of(workshop))

    response = client.post(f"{LIST}/new", data={**_form(workshop), "csrf_token": csrf})

    assert response.status_code == 303
    saved = session.scalars(select(SavingsEntry)).one()
    # (1999.99 − 1333.33) × 3 = 1999.98
    assert (saved.kind, saved.saving_cny, saved.workshop_id) == (L, Decimal("1999.98"), workshop.id)
    [change] = _changes(session)
    assert (change.action, change.after["saving_cny"]) == (ChangeAction.CREATE, "1999.98")


def test_a_negative_saving_is_refused_naming_the_field(
    client: TestClient, session: Session, manager: User, english: None
) -> None:
    client.cookies.set("lang", "en")
    csrf = login(client, manager)

    response = client.post(
        f"{LIST}/new",
        data={
            **_form(None, kind="tender", reference_price_cny="100000", actual_price_cny="100000.01"),
            "csrf_token": csrf,
        },
    )

    assert response.status_code == 422
    assert "The awarded price is above the budget: not a saving." in response.text
    assert 'class="form-control is-invalid" id="f-actual_price_cny"' in response.text
    assert "Awarded price (CNY)" in response.text  # the tender ledger's words for the prices
    assert session.scalar(select(func.count()).select_from(SavingsEntry)) == 0
    assert _changes(session) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"recorded_on": "2999-01-01"}, "The date cannot be in the future."),
        ({"quantity": "0"}, "greater than 0"),
        ({"description": ""}, "This field is required."),
        ({"reference_price_cny": "abc"}, "Enter a number."),
        ({"recorded_on": "0001-01-01"}, "Enter a date in 2000 or later."),
        # Each value fits its column; the saving, (10¹⁴ − 0.01) × 99,999,999,999.999, does not.
        (
            {"quantity": "99999999999.999", "reference_price_cny": "99999999999999.99", "actual_price_cny": "0"},
            "Quantity × price is too large an amount: check both.",
        ),
    ],
)
def test_other_bad_input_is_a_422_with_nothing_written(
    client: TestClient, session: Session, manager: User, changes: dict[str, str], message: str
) -> None:
    client.cookies.set("lang", "en")
    csrf = login(client, manager)

    response = client.post(f"{LIST}/new", data={**_form(None, **changes), "csrf_token": csrf})

    assert response.status_code == 422
    assert message in response.text
    assert session.scalar(select(func.count()).select_from(SavingsEntry)) == 0


def test_who_may_write_where(
    client: TestClient,
    session: Session,
    engineer_of: Engineer,
    workshop: Workshop,
    other_workshop: Workshop,
    auditor: User,
    manager: User,
) -> None:
    answers = {}
    for name, user, form in [
        ("engineer, other workshop", engineer_of(other_workshop), _form(workshop)),
        ("engineer, plant-wide", engineer_of(workshop), _form(None)),
        ("auditor", auditor, _form(workshop)),
        ("manager, plant-wide", manager, _form(None)),
    ]:
        client.cookies.clear()
        csrf = login(client, user)
        answers[name] = client.post(f"{LIST}/new", data={**form, "csrf_token": csrf}).status_code
    client.cookies.clear()
    login(client, auditor)
    answers["auditor's form"] = client.get(f"{LIST}/new").status_code

    assert answers == {
        "engineer, other workshop": 403,
        "engineer, plant-wide": 403,
        "auditor": 403,
        "manager, plant-wide": 303,
        "auditor's form": 403,
    }
    assert [e.workshop_id for e in session.scalars(select(SavingsEntry))] == [None]


def test_an_entry_is_edited_from_its_version(
    client: TestClient, session: Session, engineer_of: Engineer, workshop: Workshop, entry: MakeEntry
) -> None:
    saved = entry(L, "2026-03-02", "1999.99", "1333.33", quantity="3", of=workshop)
    csrf = login(client, engineer_of(workshop))

    response = client.post(
        f"{LIST}/{saved.id}", data={**_form(workshop, quantity="5"), "version": "1", "csrf_token": csrf}
    )

    assert response.status_code == 303
    session.refresh(saved)
    # 666.66 × 5 = 3333.30
    assert (saved.saving_cny, saved.version) == (Decimal("3333.30"), 2)
    [change] = _changes(session)
    assert (change.action, change.before["quantity"], change.after["saving_cny"]) == (
        ChangeAction.UPDATE,
        "3",
        "3333.30",
    )


def test_an_edit_to_an_amount_too_large_to_store_is_a_422_and_changes_nothing(
    client: TestClient, session: Session, manager: User, workshop: Workshop, entry: MakeEntry
) -> None:
    saved = entry(L, "2026-03-02", "1999.99", "1333.33", quantity="3", of=workshop)
    csrf = login(client, manager)
    huge = {"quantity": "99999999999.999", "reference_price_cny": "99999999999999.99", "actual_price_cny": "0"}

    response = client.post(f"{LIST}/{saved.id}", data={**_form(workshop, **huge), "version": "1", "csrf_token": csrf})

    assert response.status_code == 422
    session.refresh(saved)
    assert (saved.quantity, saved.saving_cny, saved.version) == (Decimal("3.000"), Decimal("1999.98"), 1)


def test_a_stale_edit_is_a_409_and_changes_nothing(
    client: TestClient, session: Session, manager: User, workshop: Workshop, entry: MakeEntry
) -> None:
    saved = entry(L, "2026-03-02", "1999.99", "1333.33", quantity="3", of=workshop)
    saved.version = 2  # someone saved it meanwhile
    session.flush()
    csrf = login(client, manager)

    response = client.post(
        f"{LIST}/{saved.id}", data={**_form(workshop, quantity="5"), "version": "1", "csrf_token": csrf}
    )

    assert response.status_code == 409
    assert 'data-testid="conflict"' in response.text
    assert f"object_type=savings_entry&amp;object_id={saved.id}" in response.text
    session.refresh(saved)
    assert (saved.quantity, saved.saving_cny) == (Decimal("3.000"), Decimal("1999.98"))
    assert _changes(session) == []


def test_an_engineer_of_another_workshop_reads_but_may_not_edit(
    client: TestClient, session: Session, engineer_of: Engineer, workshop: Workshop, other_workshop: Workshop,
    entry: MakeEntry,
) -> None:  # fmt: skip
    saved = entry(R, "2026-03-02", "100.00", "40.00", of=workshop)
    csrf = login(client, engineer_of(other_workshop))

    page = client.get(f"{LIST}/{saved.id}")
    edit = client.post(
        f"{LIST}/{saved.id}", data={**_form(workshop, kind="refurbish"), "version": "1", "csrf_token": csrf}
    )
    delete = client.post(f"{LIST}/{saved.id}/delete", data={"version": "1", "csrf_token": csrf})

    assert page.status_code == 200
    assert "<fieldset disabled>" in page.text
    assert (edit.status_code, delete.status_code) == (403, 403)
    assert session.get(SavingsEntry, saved.id) is not None


def test_a_delete_asks_first_and_is_logged(
    client: TestClient, session: Session, manager: User, entry: MakeEntry
) -> None:
    saved = entry(T, "2026-06-30", "500000.00", "438000.00", description="大修脚手架招标")
    saved_id = saved.id
    csrf = login(client, manager)

    page = client.get(f"{LIST}/{saved_id}")
    stale = client.post(f"{LIST}/{saved_id}/delete", data={"version": "7", "csrf_token": csrf})
    deleted = client.post(f"{LIST}/{saved_id}/delete", data={"version": "1", "csrf_token": csrf})

    assert 'id="delete-form"' in page.text
    assert "data-confirm=" in page.text
    assert stale.status_code == 409
    assert deleted.status_code == 303
    assert session.get(SavingsEntry, saved_id) is None
    [change] = _changes(session)
    assert (change.action, change.before["description"]) == (ChangeAction.DELETE, "大修脚手架招标")


def test_a_missing_entry_is_a_404(client: TestClient, manager: User) -> None:
    csrf = login(client, manager)

    assert client.get(f"{LIST}/999999").status_code == 404
    assert client.post(f"{LIST}/999999/delete", data={"version": "1", "csrf_token": csrf}).status_code == 404


def test_a_new_form_is_of_its_ledger_and_dated_today(client: TestClient, manager: User) -> None:
    client.cookies.set("lang", "en")
    login(client, manager)

    page = client.get(f"{LIST}/new?kind=refurbish")

    assert page.status_code == 200
    assert "New part price (CNY)" in page.text
    assert "Repair cost (CNY)" in page.text
    assert f'name="recorded_on" type="date"\n         value="{plant_today().isoformat()}"' in page.text
