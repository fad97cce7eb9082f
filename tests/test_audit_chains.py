"""The change log is 16 hash chains side by side, so that writers do not wait for each other:
on PostgreSQL a transaction takes the first chain no other transaction holds (SQLite has one
writer at a time: always chain 0). Each chain is linked, anchored and signed on its own; the
verification checks them all and names the chain that fails.

Rows are put on a given chain by pinning the chain a transaction claims (``on_chain``); everything
after the choice (the tip, the hash, the anchor, the check) is the application's.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from pydantic import SecretStr
from sqlalchemy import Engine, MetaData, Table, delete, insert, select, text, update
from sqlmodel import Session

from maintenance.audit import service as audit
from maintenance.audit.models import CHAINS, GENESIS_HASH, AuditChainAnchor, ChangeAction, ObjectChange
from maintenance.cli import alembic_config
from maintenance.config import get_settings
from maintenance.db import build_engine
from tests.audit_attacks import delete_anchor, delete_newest, rewrite_anchor
from tests.conftest import POSTGRES_URL, scratch_postgresql_database
from tests.factories import WorkshopFactory
from tests.test_audit_anchor import log_sites, run_in_threads

ACTOR = audit.SystemActor(username="cli:test")
KEY = "audit-key-for-the-chain-tests-" + "0" * 10
# The revision before the chains, and the one that adds them.
BEFORE_CHAINS, CHAINS_REVISION = "5d0c1e9a7b24", "8c4e1f2a6d93"


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "audit_key", None)


@pytest.fixture
def on_chain(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Pin the chain the next transactions claim."""

    def pin(chain: int) -> None:
        monkeypatch.setattr(audit, "_claim_chain", lambda session: chain)

    return pin


def log_changes(session: Session, count: int) -> list[ObjectChange]:
    return [audit.record_create(session, ACTOR, WorkshopFactory()) for _ in range(count)]


def log_on(session: Session, pin: Callable[[int], None], chain: int, count: int) -> list[ObjectChange]:
    """``count`` changes on ``chain``, as one transaction writing there would."""
    session.info.pop(audit._HEAD_KEY, None)
    pin(chain)
    return log_changes(session, count)


def failing(report: audit.LogReport) -> dict[int, str]:
    return {chain.chain: chain.anchor_state if chain.chain_ok else f"broken:{chain.cause}" for chain in report.failed}


# --- Chains side by side ------------------------------------------------------------------------


def test_each_chain_links_from_its_own_genesis_and_covers_its_number(
    session: Session, no_key: None, on_chain: Callable[[int], None]
) -> None:
    zero = log_on(session, on_chain, 0, 2)
    seven = log_on(session, on_chain, 7, 3)

    assert zero[0].prev_hash == "0" * 64
    assert seven[0].prev_hash == hashlib.sha256(b"object_change genesis|7").hexdigest()
    assert [row.prev_hash for row in seven[1:]] == [row.hash for row in seven[:-1]]
    assert {row.chain for row in seven} == {7}
    report = audit.verify_chain(session)
    assert report.ok, report.problems()
    assert [(chain.chain, chain.rows, chain.last_id) for chain in report.chains if chain.rows] == [
        (0, 2, zero[-1].id),
        (7, 3, seven[-1].id),
    ]
    assert len(report.chains) == CHAINS == 16
    anchor = session.get(AuditChainAnchor, 7)
    assert anchor is not None
    assert (anchor.row_count, anchor.last_id, anchor.head_hash) == (3, seven[-1].id, seven[-1].hash)


def test_a_row_moved_to_another_chain_is_detected(
    session: Session, no_key: None, on_chain: Callable[[int], None]
) -> None:
    log_on(session, on_chain, 3, 2)
    seven = log_on(session, on_chain, 7, 3)
    session.execute(update(ObjectChange).where(ObjectChange.id == seven[1].id).values(chain=3))  # type: ignore[arg-type]
    session.expire_all()

    report = audit.verify_chain(session)

    assert not report.ok
    assert failing(report) == {3: "broken:link", 7: "broken:link"}
    assert report.chains[3].broken_at_id == seven[1].id


def test_deleting_the_newest_rows_of_chain_7_is_found(
    session: Session, no_key: None, on_chain: Callable[[int], None]
) -> None:
    log_on(session, on_chain, 0, 4)
    log_on(session, on_chain, 7, 4)
    log_on(session, on_chain, 2, 1)  # the log's newest row is on chain 2
    delete_newest(session, 2, chain=7)

    report = audit.verify_chain(session)

    assert not report.ok
    assert failing(report) == {7: "truncated"}
    assert report.chain_ok, "what is left of chain 7 is intact: only its anchor tells"
    assert any(problem.startswith("chain 7: the chain's end was cut off") for problem in report.problems())


@pytest.mark.parametrize("chain", [0, 12], ids=["used", "empty"])
def test_a_missing_anchor_of_any_chain_is_found(
    session: Session, no_key: None, on_chain: Callable[[int], None], chain: int
) -> None:
    log_on(session, on_chain, 0, 2)
    delete_anchor(session, chain)

    report = audit.verify_chain(session)

    assert failing(report) == {chain: "missing"}


def test_a_rewritten_anchor_of_any_chain_is_found_with_the_key(
    session: Session, monkeypatch: pytest.MonkeyPatch, on_chain: Callable[[int], None]
) -> None:
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(KEY))
    audit.seal_chain(session)
    log_on(session, on_chain, 5, 4)
    anchor = session.get(AuditChainAnchor, 5)
    assert anchor is not None
    message = f"audit_chain_anchor|5|4|{anchor.last_id}|{anchor.head_hash}"
    assert anchor.hmac == hmac.new(KEY.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert audit.verify_chain(session).ok
    delete_newest(session, 1, chain=5)
    rewrite_anchor(session, 5)

    report = audit.verify_chain(session)

    assert failing(report) == {5: "ok"}, "the anchor fits the chain's end again"
    assert report.chains[5].anchor_signature == "invalid"


def test_an_anchor_signature_does_not_fit_another_chain(
    session: Session, monkeypatch: pytest.MonkeyPatch, on_chain: Callable[[int], None]
) -> None:
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(KEY))
    audit.seal_chain(session)
    signature = session.scalar(select(AuditChainAnchor.hmac).where(AuditChainAnchor.id == 4))  # type: ignore[arg-type]
    session.execute(update(AuditChainAnchor).where(AuditChainAnchor.id == 9).values(hmac=signature))  # type: ignore[arg-type]
    session.expire_all()

    report = audit.verify_chain(session)

    assert [chain.chain for chain in report.failed] == [9]
    assert report.chains[9].anchor_signature == "invalid"


def test_a_row_outside_every_chain_is_found(session: Session, no_key: None) -> None:
    """The database refuses a chain number out of range; whoever drops that check and writes
    one is still caught."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE object_change DROP CONSTRAINT ck_object_change_chain_number"))
    else:
        session.execute(text("PRAGMA ignore_check_constraints = ON"))
    try:
        row = ObjectChange(
            at=datetime(2026, 12, 1, tzinfo=UTC),
            actor_name="x",
            object_type="site",
            object_id="1",
            action=ChangeAction.CREATE,
            prev_hash="1" * 64,
            hash="2" * 64,
            chain=16,
        )
        session.execute(insert(ObjectChange).values(row.model_dump(exclude={"id"})))
    finally:
        if session.get_bind().dialect.name != "postgresql":
            session.execute(text("PRAGMA ignore_check_constraints = OFF"))

    report = audit.verify_chain(session)

    assert not report.ok
    assert report.stray_rows == 1
    assert "1 rows belong to no chain" in report.problems()[-1]


# --- Writers at once --------------------------------------------------------------------------


@pytest.fixture
def real_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, migrated to head, where transactions really commit and run at
    once: on the suite's PostgreSQL server when it has one, otherwise a SQLite file."""
    if POSTGRES_URL.startswith("postgresql"):
        with scratch_postgresql_database("mt_chains") as url:
            yield from _migrated(build_engine(url))
    else:
        yield from _migrated(build_engine(f"sqlite:///{tmp_path / 'chains.db'}"))


def _migrated(engine: Engine, revision: str = "head") -> Iterator[Engine]:
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        yield engine
    finally:
        engine.dispose()


def test_a_writer_does_not_wait_for_another_holding_a_chain(real_engine: Engine, no_key: None) -> None:
    """The first transaction logs and stays open until the second has logged, committed and
    verified: on PostgreSQL the second takes another chain and gets there (a global lock would
    keep it waiting until the first gave up)."""
    if real_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    first_holds, second_done = threading.Event(), threading.Event()
    first_saw_second: list[bool] = []
    seen: list[audit.LogReport] = []

    def first() -> None:
        with Session(real_engine) as session, session.begin():
            log_sites(session, "A", 1)
            first_holds.set()
            first_saw_second.append(second_done.wait(60))

    def second() -> None:
        assert first_holds.wait(60)
        with Session(real_engine) as session, session.begin():
            log_sites(session, "B", 1)
        with Session(real_engine) as session:
            seen.append(audit.verify_chain(session))
        second_done.set()

    run_in_threads(first, second)

    assert first_saw_second == [True], "the second writer waited for the first"
    assert seen[0].ok, seen[0].problems()
    assert seen[0].rows == 1, "the first had not committed yet"
    with Session(real_engine) as session:
        report = audit.verify_chain(session)
    assert report.ok, report.problems()
    assert report.used_chains == 2


def test_four_writers_at_once_leave_a_log_that_verifies(real_engine: Engine, no_key: None) -> None:
    transactions, per_transaction = 8, 3
    start = threading.Barrier(4)

    def writer(name: str) -> None:
        start.wait(30)
        for n in range(transactions):
            with Session(real_engine) as session, session.begin():
                log_sites(session, f"{name}{n}", per_transaction)

    run_in_threads(*(lambda name=name: writer(name) for name in "ABCD"))

    with Session(real_engine) as session:
        report = audit.verify_chain(session)
        anchors = {
            anchor.id: (anchor.row_count, anchor.last_id) for anchor in session.scalars(select(AuditChainAnchor))
        }
    assert report.ok, report.problems()
    assert report.rows == 4 * transactions * per_transaction
    assert anchors == {chain.chain: (chain.rows, chain.last_id) for chain in report.chains}
    if real_engine.dialect.name == "postgresql":
        assert report.used_chains > 1, "the writers spread over several chains"
    else:
        assert report.used_chains == 1


# --- The migration -----------------------------------------------------------------------------


@pytest.fixture
def before_chains(tmp_path: Path) -> Iterator[Engine]:
    """A database at the revision before the chains."""
    if POSTGRES_URL.startswith("postgresql"):
        with scratch_postgresql_database("mt_chains") as url:
            yield from _migrated(build_engine(url), BEFORE_CHAINS)
    else:
        yield from _migrated(build_engine(f"sqlite:///{tmp_path / 'before.db'}"), BEFORE_CHAINS)


def test_the_migration_keeps_an_existing_sealed_log_verifiable(
    before_chains: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows written by the single chain become chain 0 and verify as they are, its sealed anchor
    moves to chain 0 unchanged, the 15 new chains start empty with signed anchors (the key is
    set while the migration runs), and the next change goes on."""
    monkeypatch.setenv("MAINTENANCE_AUDIT_KEY", KEY)
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(KEY))
    prev, rows = GENESIS_HASH, []
    for n in range(3):
        row = ObjectChange(
            at=datetime(2026, 12, 1, 8, n, tzinfo=UTC),
            actor_name="admin",
            object_type="site",
            object_id=str(n + 1),
            action=ChangeAction.CREATE,
            after={"code": f"S{n}"},
            prev_hash=prev,
            hash="",
        )
        row.hash = audit._hash_payload(row)  # chain 0: the single chain's payload
        prev = row.hash
        rows.append(row.model_dump(exclude={"id", "chain"}))
    old_message = f"audit_chain_anchor|3|3|{prev}".encode()
    old_signature = hmac.new(KEY.encode(), old_message, hashlib.sha256).hexdigest()
    with before_chains.begin() as connection:
        # The table as it was then: no chain column.
        columns = ObjectChange.__table__.columns  # type: ignore[attr-defined]
        log = Table("object_change", MetaData(), *(column._copy() for column in columns if column.name != "chain"))
        connection.execute(insert(log), rows)
        connection.execute(
            text("UPDATE audit_chain_anchor SET row_count = 3, last_id = 3, head_hash = :head, hmac = :hmac"),
            {"head": prev, "hmac": old_signature},
        )

    with before_chains.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, CHAINS_REVISION)

    with Session(before_chains) as session:
        anchors = list(session.scalars(select(AuditChainAnchor).order_by(AuditChainAnchor.id)))  # type: ignore[arg-type]
        assert [anchor.id for anchor in anchors] == list(range(16))
        assert (anchors[0].row_count, anchors[0].last_id, anchors[0].head_hash, anchors[0].hmac) == (
            3,
            3,
            prev,
            old_signature,
        )
        assert set(session.scalars(select(ObjectChange.chain))) == {0}
        report = audit.verify_chain(session)
        assert report.ok, report.problems()
        assert report.anchors_signed
    with Session(before_chains) as session, session.begin():
        log_sites(session, "after", 1)
    with Session(before_chains) as session:
        assert audit.verify_chain(session).ok
        session.execute(delete(AuditChainAnchor).where(AuditChainAnchor.id == 15))  # type: ignore[arg-type]
        assert [chain.chain for chain in audit.verify_chain(session).failed] == [15]
