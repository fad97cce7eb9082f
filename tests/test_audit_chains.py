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
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, MetaData, Table, delete, insert, select, text, update
from sqlmodel import Session
from typer.testing import CliRunner

from maintenance import cli
from maintenance.audit import service as audit
from maintenance.audit.models import CHAINS, GENESIS_HASH, AuditChainAnchor, ChangeAction, ObjectChange
from maintenance.cli import alembic_config
from maintenance.config import get_settings
from maintenance.db import build_engine
from maintenance.i18n import LOCALE_COOKIE
from tests.audit_attacks import anchor_backup, cut_back, delete_anchor, delete_newest, rewrite_anchor
from tests.conftest import POSTGRES_URL, scratch_postgresql_database
from tests.factories import WorkshopFactory
from tests.orders.pm.test_scheduler_cli import Plant, plant  # noqa: F401 (the fixture)
from tests.test_audit_anchor import _chain_state, auditor_client, log_sites, run_in_threads  # noqa: F401 (a fixture)

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
    """What fails, chain by chain: a broken link or hash, else the anchor's state, else "cut" when
    the chain no longer holds what the newest checkpoint names."""

    def state(chain: audit.ChainReport) -> str:
        if not chain.chain_ok:
            return f"broken:{chain.cause}"
        if chain.anchor_state == "ok" and not chain.checkpoint_ok:
            return "cut"
        return chain.anchor_state

    return {chain.chain: state(chain) for chain in report.failed}


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


# --- Checkpoints -----------------------------------------------------------------------------
# Each chain is anchored by its own anchor only: whoever can write the database can cut a chain
# back to an earlier state of its rows and anchor (the anchor copied from a backup, signature
# included). A checkpoint on chain 0 names every chain's end; the verification holds every chain
# against the newest one.

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, session: Session) -> None:
    """The key set and every chain's (empty) anchor signed, as the migration or an operator's
    seal leaves them: chain 7's genesis anchor is signed from the start."""
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(KEY))
    audit.seal_chain(session)


def checkpoint_rows(session: Session) -> list[ObjectChange]:
    session.expire_all()
    return list(
        session.scalars(
            select(ObjectChange).where(ObjectChange.object_type == "audit_checkpoint").order_by(ObjectChange.id)  # type: ignore[arg-type]
        )
    )


def test_a_checkpoint_names_every_chains_end_on_chain_0(
    session: Session, keyed: None, on_chain: Callable[[int], None]
) -> None:
    zero = log_on(session, on_chain, 0, 2)
    seven = log_on(session, on_chain, 7, 3)
    session.info.pop(audit._HEAD_KEY, None)

    written = audit.checkpoint(session, ACTOR, NOW)

    assert written is not None
    [row] = checkpoint_rows(session)
    assert (row.id, row.chain, row.at, row.actor_name, row.action) == (written.id, 0, NOW, "cli:test", "create")
    assert row.prev_hash == zero[-1].hash, "it extends chain 0"
    empty = {
        str(chain): [0, 0, hashlib.sha256(f"object_change genesis|{chain}".encode()).hexdigest()]
        for chain in range(1, 16)
    }
    assert row.after == {**empty, "0": [2, zero[-1].id, zero[-1].hash], "7": [3, seven[-1].id, seven[-1].hash]}
    assert row.hmac == hmac.new(KEY.encode(), f"object_change|{row.hash}".encode(), hashlib.sha256).hexdigest()
    report = audit.verify_chain(session)
    assert report.ok, report.problems()
    assert report.checkpoint is not None
    assert report.checkpoint.id == row.id
    assert (report.chains[0].rows, report.chains[0].anchor_signature) == (3, "valid"), "anchored and signed as any row"


@pytest.mark.parametrize("checkpointed", [False, True], ids=["no-checkpoint-the-known-window", "after-a-checkpoint"])
def test_a_chain_emptied_with_its_signed_genesis_anchor_put_back(
    session: Session, keyed: None, on_chain: Callable[[int], None], checkpointed: bool
) -> None:
    """The reviewer's attack: every row of chain 7 deleted and its genesis anchor, signed since
    the migration, put back. Without a checkpoint the log verifies, key and all (the window
    until the first one); after a checkpoint chain 7 fails, naming it."""
    genesis = anchor_backup(session, 7)
    assert (genesis["row_count"], genesis["last_id"]) == (0, 0)
    assert genesis["hmac"] is not None
    log_on(session, on_chain, 0, 1)
    seven = [row.id for row in log_on(session, on_chain, 7, 3)]
    written = audit.checkpoint(session, ACTOR, NOW) if checkpointed else None
    assert cut_back(session, genesis) == seven

    report = audit.verify_chain(session)

    if written is None:
        assert report.ok, report.problems()
        assert report.checkpoint is None
        return
    assert failing(report) == {7: "cut"}
    assert report.chains[7].anchor_signature == "valid", "the anchor put back is genuinely signed"
    assert (
        f"chain 7: the chain was cut back below checkpoint row {written.id}: the checkpoint names 3 rows up to "
        f"row {seven[-1]}, 0 are present up to there, and row {seven[-1]} is not the one it names"
    ) in report.problems()


def test_a_chain_cut_back_to_an_earlier_signed_anchor_below_the_checkpoint_is_found(
    session: Session, keyed: None, on_chain: Callable[[int], None]
) -> None:
    first = log_on(session, on_chain, 7, 2)[-1].id
    backup = anchor_backup(session, 7)
    second = log_on(session, on_chain, 7, 2)[-1].id
    session.info.pop(audit._HEAD_KEY, None)
    written = audit.checkpoint(session, ACTOR, NOW)
    assert written is not None
    log_on(session, on_chain, 7, 1)
    cut_back(session, backup)

    report = audit.verify_chain(session)

    assert failing(report) == {7: "cut"}
    seven = report.chains[7]
    assert (seven.rows, seven.last_id, seven.anchor_state) == (2, first, "ok")
    assert (seven.checkpoint_id, seven.checkpoint_rows, seven.checkpoint_last_id) == (written.id, 4, second)
    assert seven.rows_at_checkpoint == 2


def test_rows_after_the_newest_checkpoint_can_still_be_cut_unseen(
    session: Session, keyed: None, on_chain: Callable[[int], None]
) -> None:
    """The window that is left: a checkpoint names a prefix of each chain, so the rows written
    since the newest one are protected by their chain's anchor alone (each scheduler pass
    writes a checkpoint)."""
    log_on(session, on_chain, 7, 2)
    session.info.pop(audit._HEAD_KEY, None)
    audit.checkpoint(session, ACTOR, NOW)
    backup = anchor_backup(session, 7)
    log_on(session, on_chain, 7, 2)
    cut_back(session, backup)

    assert audit.verify_chain(session).ok


def test_no_checkpoint_is_written_over_a_cut_chain(
    session: Session, keyed: None, on_chain: Callable[[int], None]
) -> None:
    """A new checkpoint would name the cut chain as it is, and the verification, holding the
    chains against the newest checkpoint, would pass again: none is written."""
    genesis = anchor_backup(session, 7)
    log_on(session, on_chain, 7, 3)
    session.info.pop(audit._HEAD_KEY, None)
    first = audit.checkpoint(session, ACTOR, NOW)
    assert first is not None
    cut_back(session, genesis)

    assert audit.checkpoint(session, ACTOR, NOW) is None
    assert [row.id for row in checkpoint_rows(session)] == [first.id]
    report = audit.verify_chain(session)
    assert failing(report) == {7: "cut"}
    with pytest.raises(audit.ChainNotSealable):
        audit.seal_chain(session)


@pytest.mark.parametrize("attack", ["edited", "deleted"])
def test_a_checkpoint_row_edited_or_deleted_breaks_chain_0(
    session: Session, no_key: None, on_chain: Callable[[int], None], attack: str
) -> None:
    log_on(session, on_chain, 0, 1)
    log_on(session, on_chain, 7, 2)
    session.info.pop(audit._HEAD_KEY, None)
    written = audit.checkpoint(session, ACTOR, NOW)
    assert written is not None
    checkpoint_id, named = written.id, {**(written.after or {}), "7": [0, 0, "0" * 64]}
    after = log_on(session, on_chain, 0, 1)[0].id
    if attack == "edited":
        session.execute(update(ObjectChange).where(ObjectChange.id == checkpoint_id).values(after=named))  # type: ignore[arg-type]
    else:
        session.execute(delete(ObjectChange).where(ObjectChange.id == checkpoint_id))  # type: ignore[arg-type]
    session.expire_all()

    report = audit.verify_chain(session)

    if attack == "edited":
        assert failing(report) == {0: "broken:content"}
        assert report.chains[0].broken_at_id == checkpoint_id
    else:
        assert failing(report) == {0: "broken:link"}
        assert report.chains[0].broken_at_id == after


def test_audit_seal_writes_a_checkpoint(
    session: Session, monkeypatch: pytest.MonkeyPatch, on_chain: Callable[[int], None]
) -> None:
    """``maintenance audit seal`` (here in this test's transaction) seals, then writes one."""
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(KEY))
    log_on(session, on_chain, 3, 2)
    session.info.pop(audit._HEAD_KEY, None)

    @contextmanager
    def this_session(*, read_only: bool = False) -> Iterator[Session]:
        yield session

    monkeypatch.setattr(cli, "session_scope", this_session)
    result = CliRunner().invoke(cli.app, ["audit", "seal"])

    assert result.exit_code == 0, result.output
    [row] = checkpoint_rows(session)
    assert f"checkpoint row {row.id} written" in result.output
    assert row.actor_name == "cli:audit-seal"
    assert (row.after or {})["3"][0] == 2
    report = audit.verify_chain(session)
    assert report.ok, report.problems()
    assert report.anchors_signed


def test_a_scheduler_pass_writes_one_checkpoint(plant: Plant) -> None:  # noqa: F811 (the fixture imported)
    result = plant.run("scheduler", "--once", "--today", "2026-03-01", "--horizon-days", "14")

    assert result.returncode == 0, result.stderr
    [(actor, chain)] = plant.rows("SELECT actor_name, chain FROM object_change WHERE object_type = 'audit_checkpoint'")
    assert (actor, chain) == ("cli:scheduler", 0)
    [(newest_on_chain_0,)] = plant.rows(
        "SELECT object_type FROM object_change WHERE chain = 0 ORDER BY id DESC LIMIT 1"
    )
    assert newest_on_chain_0 == "audit_checkpoint", "written after the pass's changes, in its transaction"
    verified = plant.run("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "every chain holds what checkpoint row" in verified.stdout


def test_the_page_names_the_chain_cut_below_the_checkpoint(
    auditor_client: TestClient,  # noqa: F811 (the fixture imported)
    session: Session,
    keyed: None,
    on_chain: Callable[[int], None],
) -> None:
    auditor_client.cookies.set(LOCALE_COOKIE, "en")
    assert "No checkpoint yet" in _chain_state(auditor_client)
    genesis = anchor_backup(session, 7)
    last = log_on(session, on_chain, 7, 2)[-1].id
    session.info.pop(audit._HEAD_KEY, None)
    written = audit.checkpoint(session, ACTOR, NOW)
    assert written is not None
    assert f"Every chain holds what checkpoint row {written.id} names" in _chain_state(auditor_client)
    cut_back(session, genesis)

    state = _chain_state(auditor_client)

    assert (
        f"Chain 7: It was cut back below checkpoint row {written.id}: the checkpoint names 2 rows up to row {last}, "
        "0 are present up to there."
    ) in state


def test_the_change_log_shows_a_checkpoint_in_words(
    auditor_client: TestClient,  # noqa: F811 (the fixture imported)
    session: Session,
    no_key: None,
    on_chain: Callable[[int], None],
) -> None:
    [row] = log_on(session, on_chain, 7, 1)
    last, head = row.id, row.hash
    session.info.pop(audit._HEAD_KEY, None)
    audit.checkpoint(session, ACTOR, NOW)

    auditor_client.cookies.set(LOCALE_COOKIE, "en")
    page = auditor_client.get("/audit", params={"object_type": "audit_checkpoint"})

    assert page.status_code == 200
    text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))
    assert "Change-log checkpoint 1 rows in the log" in text
    assert f"Chain 7 1 rows up to row {last}, head {head[:12]}…" in text
    assert "Chain 0 0 rows up to row 0" in text


def test_checkpoints_taken_while_writers_go_on_leave_a_log_that_verifies(real_engine: Engine, no_key: None) -> None:
    """Each checkpoint reads every chain's end while writers extend the chains (and, on
    PostgreSQL, waits for chain 0 when a writer holds it): it names a prefix of each, which
    the rows added afterwards do not change."""
    start = threading.Barrier(3)

    def writer(name: str) -> None:
        start.wait(30)
        for n in range(6):
            with Session(real_engine) as session, session.begin():
                log_sites(session, f"{name}{n}", 2)

    def checkpoints() -> None:
        start.wait(30)
        for _n in range(6):
            with Session(real_engine) as session, session.begin():
                log_sites(session, f"C{_n}", 1)
                assert audit.checkpoint(session, ACTOR, NOW) is not None

    run_in_threads(lambda: writer("A"), lambda: writer("B"), checkpoints)

    with Session(real_engine) as session:
        report = audit.verify_chain(session)
        assert len(checkpoint_rows(session)) == 6
    assert report.ok, report.problems()
    assert report.checkpoint is not None
    assert report.rows == 2 * 6 * 2 + 6 + 6
