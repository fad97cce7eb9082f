"""The change log reads the chain's head once per transaction and carries it along (bulk work
logs thousands of changes); whatever ends the transaction, and any rollback (a savepoint's
included), makes it read again, so the chain never links to a row that was rolled back or that
another writer added meanwhile. A released savepoint keeps it: its rows are the transaction's."""

from __future__ import annotations

from itertools import groupby, pairwise

from sqlalchemy import Engine, select
from sqlmodel import Session

from maintenance.audit import service as audit
from maintenance.audit.models import ObjectChange, genesis_hash
from maintenance.audit.service import SystemActor
from maintenance.org.models import Site
from tests.factories import WorkshopFactory

ACTOR = SystemActor(username="test")


def _rows(session: Session) -> list[ObjectChange]:
    session.expire_all()
    return list(session.scalars(select(ObjectChange).order_by(ObjectChange.id)))  # type: ignore[arg-type]


def _assert_linked(rows: list[ObjectChange]) -> None:
    """Each chain's rows (one chain on SQLite) link from its genesis hash, in order."""
    for chain, in_chain in groupby(sorted(rows, key=lambda row: (row.chain, row.id)), key=lambda row: row.chain):
        linked = list(in_chain)
        assert linked[0].prev_hash == genesis_hash(chain)
        for previous, row in pairwise(linked):
            assert row.prev_hash == previous.hash


def test_many_changes_in_one_transaction_form_one_chain(session: Session) -> None:
    for _n in range(20):
        audit.record_create(session, ACTOR, WorkshopFactory())
    rows = _rows(session)
    assert len(rows) == 20
    _assert_linked(rows)
    assert audit.verify_chain(session).ok


def test_a_change_after_a_rolled_back_savepoint_links_to_the_last_kept_row(session: Session) -> None:
    audit.record_create(session, ACTOR, WorkshopFactory())
    savepoint = session.begin_nested()
    audit.record_create(session, ACTOR, WorkshopFactory())
    audit.record_create(session, ACTOR, WorkshopFactory())
    savepoint.rollback()
    audit.record_create(session, ACTOR, WorkshopFactory())

    rows = _rows(session)
    assert len(rows) == 2
    _assert_linked(rows)
    assert audit.verify_chain(session).ok


def test_a_change_after_a_released_savepoint_continues_the_chain(session: Session) -> None:
    savepoint = session.begin_nested()
    audit.record_create(session, ACTOR, WorkshopFactory())
    savepoint.commit()
    audit.record_create(session, ACTOR, WorkshopFactory())
    rows = _rows(session)
    assert len(rows) == 2
    _assert_linked(rows)


def test_another_session_appending_between_transactions_is_seen(engine: Engine) -> None:
    """Two sessions take turns (each in its own transaction): each links to the other's rows."""
    connection = engine.connect()
    outer = connection.begin()
    try:
        first = Session(bind=connection, join_transaction_mode="create_savepoint")
        second = Session(bind=connection, join_transaction_mode="create_savepoint")
        for n, session in enumerate((first, second, first)):
            with session.begin():
                site = Site(code=f"CHAIN{n}", name=f"厂区{n}")
                session.add(site)
                session.flush()
                audit.record_create(session, ACTOR, site)
        rows = _rows(first)
        assert len(rows) == 3
        _assert_linked(rows)
        first.close()
        second.close()
    finally:
        outer.rollback()
        connection.close()
