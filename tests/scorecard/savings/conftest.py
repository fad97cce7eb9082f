"""The savings ledgers' small plant: the budget tests' two workshops with a pump each and their
``make_order`` (orders raised, approved and completed through the order service at given plant
times; a refurbished or localised line of actual price ``a`` has a reference price of ``2a``, so
it saves exactly ``a``), plus entries made by hand and users of every role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from maintenance.org.models import Role, User, UserWorkshop, Workshop
from maintenance.scorecard.savings.models import SavingsEntry, SavingsKind
from maintenance.scorecard.savings.rules import saving_of
from tests import factories
from tests.budget.conftest import make_order, other_pump, other_workshop, plant, pump, workshop  # noqa: F401

__all__ = ["plant"]

MakeEntry = Callable[..., SavingsEntry]


@pytest.fixture
def entry(session: Session) -> MakeEntry:
    """``entry(kind, "2026-03-05", reference, actual, of=workshop, quantity="1", description=...)``:
    an entry of the workshop ``of``, plant-wide without it."""

    def make(
        kind: SavingsKind,
        recorded_on: str,
        reference_price: str,
        actual_price: str,
        *,
        of: Workshop | None = None,
        quantity: str = "1",
        description: str = "手工登记",
        reference: str = "",
    ) -> SavingsEntry:
        row = SavingsEntry(
            kind=kind,
            recorded_on=date.fromisoformat(recorded_on),
            workshop_id=of.id if of else None,
            description=description,
            reference=reference,
            quantity=Decimal(quantity),
            reference_price_cny=Decimal(reference_price),
            actual_price_cny=Decimal(actual_price),
            saving_cny=saving_of(Decimal(reference_price), Decimal(actual_price), Decimal(quantity)),
        )
        session.add(row)
        session.flush()
        return row

    return make


@pytest.fixture
def manager(session: Session) -> User:
    return factories.UserFactory(role=Role.MANAGER)


@pytest.fixture
def auditor(session: Session) -> User:
    return factories.UserFactory(role=Role.AUDITOR)


@pytest.fixture
def engineer_of(session: Session) -> Callable[[Workshop], User]:
    def make(own: Workshop) -> User:
        user = factories.UserFactory(role=Role.ENGINEER)
        session.add(UserWorkshop(user_id=user.id, workshop_id=own.id))  # type: ignore[arg-type]
        session.flush()
        return user

    return make
