"""The year's targets (/scorecard/targets): read by everyone, set by managers and admins, all
rows at once; percentages and 万元 as typed, stored as fractions and 元; an empty field is the
default; each change in the change log; bad input a 422 naming the indicator; a stale row a 409."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from maintenance.audit.models import ObjectChange
from maintenance.exceptions import Conflict
from maintenance.org.models import Role, User
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.models import ScorecardTarget
from maintenance.scorecard.targets import TargetChange, save_targets, stamp_of, targets_of_year
from tests import factories
from tests.conftest import login

PAGE = "/scorecard/targets?year=2026"


NOW = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)


def stored(session: Session) -> dict[Indicator, tuple[Decimal, str]]:
    rows = session.exec(select(ScorecardTarget).where(col(ScorecardTarget.year) == 2026))
    return {row.indicator: (row.value, row.note) for row in rows}


def changes(session: Session) -> list[tuple[str, str]]:
    rows = session.exec(select(ObjectChange).where(col(ObjectChange.object_type) == "scorecard_target"))
    return [(row.action.value, row.object_repr) for row in rows]


def set_row(session: Session, indicator: Indicator, value: str, note: str = "") -> ScorecardTarget:
    row = ScorecardTarget(
        year=2026, indicator=indicator, value=Decimal(value), note=note, updated_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
    session.add(row)
    session.flush()
    return row


def test_a_manager_sets_a_share_in_percent_and_savings_in_10k_cny(
    client: TestClient, session: Session, manager: User
) -> None:
    token = login(client, manager)
    response = client.post(
        PAGE,
        data={
            "csrf_token": token,
            "value_pm_compliance": "92.5",
            "note_pm_compliance": "集团对标",
            "value_refurbish_savings": "120",
            "value_accident_rate": "-15",
        },
    )
    assert response.status_code == 303
    assert stored(session) == {
        Indicator.PM_COMPLIANCE: (Decimal("0.925"), "集团对标"),
        Indicator.REFURBISH_SAVINGS: (Decimal("1200000"), ""),
        Indicator.ACCIDENT_RATE: (Decimal("-0.15"), ""),
    }
    assert sorted(changes(session)) == [
        ("create", "2026 accident_rate"),
        ("create", "2026 pm_compliance"),
        ("create", "2026 refurbish_savings"),
    ]
    # The others keep their defaults: 计划对口率's is 90 %.
    assert targets_of_year(session, 2026)[Indicator.MATERIAL_MATCH] == Decimal("0.90")


def test_the_form_shows_a_set_target_as_typed_and_an_empty_field_restores_the_default(
    client: TestClient, session: Session, manager: User
) -> None:
    row = set_row(session, Indicator.INTACTNESS, "0.9700", "旧")
    token = login(client, manager)
    page = client.get(PAGE).text
    assert 'name="value_intactness" inputmode="decimal"\n                 value="97"' in page

    response = client.post(PAGE, data={"csrf_token": token, "stamp_intactness": row.updated_at.isoformat()})

    assert response.status_code == 303
    assert stored(session) == {}
    assert changes(session) == [("delete", "2026 intactness")]
    assert targets_of_year(session, 2026)[Indicator.INTACTNESS] == Decimal("0.98")


@pytest.mark.parametrize(
    ("field", "typed", "words"),
    [
        ("value_pm_compliance", "ninety", "PM compliance: ninety is not a percentage"),
        ("value_pm_compliance", "120", "PM compliance: enter a percentage from 0 to 100"),
        ("value_load", "-5", "Load rate: enter a percentage from 0 to 100"),
        ("value_accident_rate", "-101", "enter a percentage from -100 to 100"),
        ("value_refurbish_savings", "-3", "Refurbish-and-reuse savings: -3 is negative"),
        ("value_tender_savings", "100000000", "Tender savings: 100000000 is too large"),
    ],
)
def test_bad_input_is_a_422_naming_the_indicator_and_nothing_is_written(
    client: TestClient, session: Session, manager: User, in_english: TestClient, field: str, typed: str, words: str
) -> None:
    token = login(client, manager)
    response = client.post(PAGE, data={"csrf_token": token, field: typed, "value_cbm_share": "35"})
    assert response.status_code == 422
    assert words in response.text
    assert stored(session) == {}
    assert changes(session) == []


def test_a_target_changed_meanwhile_is_a_409_and_nothing_is_written(
    client: TestClient, session: Session, manager: User, in_english: TestClient
) -> None:
    set_row(session, Indicator.CBM_SHARE, "0.3500")
    token = login(client, manager)
    # The form was loaded before the row was set: it carries no stamp for it.
    response = client.post(PAGE, data={"csrf_token": token, "value_cbm_share": "40", "value_load": "85"})
    assert response.status_code == 409
    assert "Someone else changed the target of Condition-based share of orders" in response.text
    assert stored(session) == {Indicator.CBM_SHARE: (Decimal("0.3500"), "")}
    assert changes(session) == []


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineers_and_auditors_read_the_targets_but_cannot_set_them(
    client: TestClient, session: Session, role: Role
) -> None:
    set_row(session, Indicator.LOAD, "0.8800")
    token = login(client, factories.UserFactory(role=role))
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'name="value_load"' not in page.text
    assert "88.0 %" in page.text
    assert client.post(PAGE, data={"csrf_token": token, "value_load": "80"}).status_code == 403
    assert stored(session) == {Indicator.LOAD: (Decimal("0.8800"), "")}


def test_the_repair_cost_target_is_the_budget_s(client: TestClient, manager: User) -> None:
    login(client, manager)
    page = client.get(PAGE).text
    assert 'href="/budget/2026/target"' in page
    assert 'name="value_repair_cost"' not in page


def test_a_target_saved_by_another_worker_after_the_form_was_checked_refuses_the_whole_form(
    session: Session,
) -> None:
    """Two managers save at once (on PostgreSQL, two workers): both forms pass the check of the
    rows they loaded; the later UPDATE finds the version moved on and nothing of its form stays."""
    row = set_row(session, Indicator.INTACTNESS, "0.9700", "旧")
    form_stamp = stamp_of(row)
    table = ScorecardTarget.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table).where(table.c.id == row.id).values(value=Decimal("0.9500"), version=row.version + 1),
        execution_options={"synchronize_session": False},
    )
    form = [
        TargetChange(Indicator.LOAD, Decimal("0.8800"), "", ""),
        TargetChange(Indicator.INTACTNESS, Decimal("0.9900"), "", form_stamp),
    ]

    with pytest.raises(Conflict) as refused:
        save_targets(session, 2026, form, actor=factories.UserFactory(role=Role.MANAGER), now=NOW)

    assert [error.field for error in refused.value.errors] == ["value_intactness"]
    assert stored(session) == {Indicator.INTACTNESS: (Decimal("0.9500"), "旧")}
