"""The change log's chain is anchored (issue 12): the newest rows deleted, or a row edited and
every later hash recomputed, leave a chain whose links all hold, so the chain alone cannot tell.
The anchor (rows written, last id, head hash, moved with every logged change) shows the first;
with ``MAINTENANCE_AUDIT_KEY`` the HMACs of the rows and of the anchor show the second. Without
the key, a recomputed chain (and an anchor rewritten to fit) passes: the verification says so.

Each attack is done as someone with write access to the database would (tests/audit_attacks.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from html import unescape

import pytest
from alembic import command
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, make_url, select, text, update
from sqlmodel import Session

from maintenance.audit import service as audit
from maintenance.audit.models import AuditChainAnchor, ObjectChange
from maintenance.audit.service import SystemActor
from maintenance.cli import alembic_config
from maintenance.config import get_settings
from maintenance.db import READ_ONLY, build_engine
from maintenance.i18n import LOCALE_COOKIE
from maintenance.org.models import Role, Site
from tests.audit_attacks import (
    append_forged_row,
    delete_anchor,
    delete_newest,
    newest_chain,
    rehash_from,
    rewrite_anchor,
    the_chain,
)
from tests.conftest import login
from tests.factories import UserFactory, WorkshopFactory

ACTOR = SystemActor(username="cli:test")
KEY = "audit-key-for-the-tests-" + "0" * 16


def log_changes(session: Session, count: int) -> list[ObjectChange]:
    return [audit.record_create(session, ACTOR, WorkshopFactory()) for _ in range(count)]


def anchor_of(session: Session) -> AuditChainAnchor:
    session.expire_all()
    anchor = session.get(AuditChainAnchor, newest_chain(session))
    assert anchor is not None
    return anchor


def rows_of(session: Session) -> list[ObjectChange]:
    session.expire_all()
    return list(session.scalars(select(ObjectChange).order_by(ObjectChange.id)))  # type: ignore[arg-type]


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "audit_key", None)


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, session: Session) -> bytes:
    """The key set, and the (empty) log's anchor sealed with it, as an operator does once."""
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(KEY))
    audit.seal_chain(session)
    return KEY.encode()


# --- The anchor moves with the chain ------------------------------------------------------


def test_the_anchor_records_the_chains_end(session: Session, no_key: None) -> None:
    before = anchor_of(session).row_count
    changes = log_changes(session, 4)

    anchor = anchor_of(session)
    assert (anchor.row_count, anchor.last_id, anchor.head_hash) == (before + 4, changes[-1].id, changes[-1].hash)
    assert anchor.hmac is None
    report = the_chain(audit.verify_chain(session))
    assert report.ok
    assert (report.anchor_state, report.anchor_rows, report.rows) == ("ok", before + 4, before + 4)


def test_a_rolled_back_savepoint_takes_the_anchor_back(session: Session, no_key: None) -> None:
    log_changes(session, 1)
    savepoint = session.begin_nested()
    log_changes(session, 2)
    savepoint.rollback()
    last = log_changes(session, 1)[-1]

    anchor = anchor_of(session)
    assert (anchor.row_count, anchor.head_hash) == (len(rows_of(session)), last.hash)
    assert audit.verify_chain(session).ok


def test_a_released_savepoint_keeps_the_anchor_moving(session: Session, no_key: None) -> None:
    log_changes(session, 1)
    with session.begin_nested():
        log_changes(session, 2)
    last = log_changes(session, 1)[-1]

    anchor = anchor_of(session)
    assert (anchor.row_count, anchor.head_hash) == (len(rows_of(session)), last.hash)
    assert audit.verify_chain(session).ok


# --- Truncation -----------------------------------------------------------------------------


def test_deleting_the_newest_rows_is_detected_as_truncation(session: Session, no_key: None) -> None:
    log_changes(session, 6)
    total = len(rows_of(session))
    delete_newest(session, 2)

    report = the_chain(audit.verify_chain(session))

    assert report.chain_ok, "what is left is an intact chain: the chain alone cannot tell"
    assert not report.ok
    assert (report.anchor_state, report.anchor_rows, report.rows) == ("truncated", total, total - 2)
    assert any(
        f"cut off (its newest rows were deleted): the anchor records {total} rows" in p for p in report.problems()
    )


def test_truncation_stays_detected_after_later_changes(session: Session, no_key: None) -> None:
    log_changes(session, 5)
    delete_newest(session, 2)
    log_changes(session, 1)

    report = the_chain(audit.verify_chain(session))

    assert report.chain_ok
    assert not report.ok
    assert report.anchor_state == "removed"
    assert report.anchor_removed_rows == 2


def test_a_row_appended_behind_the_applications_back_is_detected(session: Session, no_key: None) -> None:
    log_changes(session, 3)
    append_forged_row(session, actor_name="someone-else")

    report = the_chain(audit.verify_chain(session))

    assert report.chain_ok
    assert report.anchor_state == "added"
    assert not report.ok


def test_an_emptied_anchor_table_is_reported(session: Session, no_key: None) -> None:
    log_changes(session, 2)
    delete_anchor(session)

    report = the_chain(audit.verify_chain(session))

    assert report.anchor_state == "missing"
    assert not report.ok
    # The next change starts a new anchor from the rows there are.
    log_changes(session, 1)
    assert audit.verify_chain(session).ok


def test_without_a_key_an_anchor_rewritten_to_fit_the_truncated_chain_passes(session: Session, no_key: None) -> None:
    """Documented limit: without the key, whoever can write the database can rewrite the anchor."""
    log_changes(session, 4)
    delete_newest(session, 2)
    rewrite_anchor(session)

    report = the_chain(audit.verify_chain(session))

    assert report.ok
    assert not report.keyed


# --- Recomputing the chain --------------------------------------------------------------------


def test_without_a_key_a_recomputed_chain_passes_and_the_report_says_so(session: Session, no_key: None) -> None:
    """Documented limit: editing a row and recomputing every later hash (and the anchor's head)
    cannot be detected without the key; the verification says it cannot rather than pass silently."""
    changes = log_changes(session, 5)
    rehash_from(session, changes[1].id, actor_name="someone-else")  # type: ignore[arg-type]
    assert [row.actor_name for row in rows_of(session) if row.id == changes[1].id] == ["someone-else"]

    report = the_chain(audit.verify_chain(session))

    assert report.ok
    assert not report.keyed
    assert report.anchor_signature == "no_key"


def test_with_the_key_rows_and_anchor_carry_hmacs(session: Session, keyed: bytes) -> None:
    changes = log_changes(session, 3)

    for change in changes:
        assert change.hmac == hmac.new(keyed, f"object_change|{change.hash}".encode(), hashlib.sha256).hexdigest()
    anchor = anchor_of(session)
    # Chain 0's anchor signs the message the single chain's did; the others' name their chain.
    chain = "" if anchor.id == 0 else f"|{anchor.id}"
    message = f"audit_chain_anchor{chain}|{anchor.row_count}|{anchor.last_id}|{anchor.head_hash}"
    assert anchor.hmac == hmac.new(keyed, message.encode(), hashlib.sha256).hexdigest()
    report = the_chain(audit.verify_chain(session))
    assert report.ok
    assert (report.keyed, report.anchor_signature, report.signed_rows) == (True, "valid", 3)


def test_with_the_key_a_recomputed_chain_is_detected_at_the_edited_row(session: Session, keyed: bytes) -> None:
    changes = log_changes(session, 5)
    target = changes[2]
    rehash_from(session, target.id, actor_name="someone-else")  # type: ignore[arg-type]

    report = the_chain(audit.verify_chain(session))

    assert not report.ok
    assert (report.broken_at_id, report.cause) == (target.id, "hmac")
    assert "HMAC does not match" in report.reason


def test_with_the_key_a_recomputed_chain_without_hmacs_is_detected_by_the_anchor(
    session: Session, keyed: bytes
) -> None:
    """Clearing the HMACs makes the rows look written before the key; the anchor's HMAC, which
    nobody without the key can recompute for the new head, still gives it away."""
    changes = log_changes(session, 5)
    rehash_from(session, changes[2].id, drop_hmacs=True, actor_name="someone-else")  # type: ignore[arg-type]

    report = the_chain(audit.verify_chain(session))

    assert report.chain_ok
    assert report.anchor_signature == "invalid"
    assert not report.ok


def test_the_next_change_does_not_sign_a_rewritten_anchor(session: Session, keyed: bytes) -> None:
    changes = log_changes(session, 4)
    rehash_from(session, changes[1].id, drop_hmacs=True, actor_name="someone-else")  # type: ignore[arg-type]
    log_changes(session, 1)

    report = the_chain(audit.verify_chain(session))

    assert report.anchor_signature == "unsigned"
    assert not report.ok


def test_with_the_key_an_anchor_rewritten_to_fit_a_truncated_chain_is_detected(session: Session, keyed: bytes) -> None:
    log_changes(session, 5)
    delete_newest(session, 2)
    rewrite_anchor(session)

    report = the_chain(audit.verify_chain(session))

    assert report.anchor_state == "ok"
    assert report.anchor_signature == "invalid"
    assert not report.ok


def test_another_key_fails(session: Session, keyed: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    log_changes(session, 2)
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr("another-key-" + "1" * 20))

    report = the_chain(audit.verify_chain(session))

    assert report.cause == "hmac"
    assert report.anchor_signature == "invalid"


# --- Rows from before the key ---------------------------------------------------------------


def test_rows_written_before_the_key_are_checked_by_hash_and_covered_by_the_sealed_anchor(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "audit_key", None)
    log_changes(session, 3)
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(KEY))
    assert the_chain(audit.verify_chain(session)).anchor_signature == "unsigned"
    audit.seal_chain(session)
    log_changes(session, 2)

    report = the_chain(audit.verify_chain(session))

    assert report.ok
    assert (report.signed_rows, report.unsigned_rows) == (2, 3)


def test_a_change_written_without_the_key_leaves_the_anchor_unsigned_until_sealed(
    session: Session, keyed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_changes(session, 2)
    session.info.clear()
    monkeypatch.setattr(get_settings(), "audit_key", None)
    log_changes(session, 1)  # a process that was not given the key
    session.info.clear()
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(KEY))
    log_changes(session, 1)

    # (The cleared session.info may have taken this session to other chains on PostgreSQL.)
    signatures = {chain.anchor_signature for chain in audit.verify_chain(session).chains}
    assert "unsigned" in signatures
    audit.seal_chain(session)
    assert audit.verify_chain(session).ok


def test_seal_refuses_a_truncated_chain(session: Session, keyed: bytes) -> None:
    log_changes(session, 4)
    delete_newest(session, 1)

    with pytest.raises(audit.ChainNotSealable) as refused:
        audit.seal_chain(session)

    assert refused.value.report is not None
    assert the_chain(refused.value.report).anchor_state == "truncated"


def test_seal_needs_the_key(session: Session, no_key: None) -> None:
    with pytest.raises(audit.ChainNotSealable, match="MAINTENANCE_AUDIT_KEY"):
        audit.seal_chain(session)


# --- The page ---------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")


@pytest.fixture
def auditor_client(client: TestClient, session: Session) -> TestClient:
    login(client, UserFactory(role=Role.AUDITOR))
    client.cookies.set(LOCALE_COOKIE, "zh_CN")
    return client


def _chain_state(client: TestClient) -> str:
    response = client.get("/audit/chain", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return re.sub(r"\s+", " ", unescape(_TAG.sub(" ", response.text))).strip()


def test_the_page_names_a_truncation(auditor_client: TestClient, session: Session, no_key: None) -> None:
    log_changes(session, 5)
    total = len(rows_of(session))
    delete_newest(session, 3)

    state = _chain_state(auditor_client)

    assert f"链尾被截断：锚点记录 {total} 行，现有 {total - 3} 行。" in state
    assert "未设置审计密钥（MAINTENANCE_AUDIT_KEY）" in state


def test_the_page_shows_the_keys_state(auditor_client: TestClient, session: Session, keyed: bytes) -> None:
    log_changes(session, 2)
    assert "审计密钥签名有效：锚点 HMAC 无误，2 行带 HMAC。" in _chain_state(auditor_client)

    changes = rows_of(session)
    rehash_from(session, changes[-2].id, drop_hmacs=True, actor_name="x")  # type: ignore[arg-type]
    assert "锚点 HMAC 不符" in _chain_state(auditor_client)


def test_the_result_carries_its_states_for_scripts(auditor_client: TestClient, session: Session, keyed: bytes) -> None:
    log_changes(session, 2)
    html = auditor_client.get("/audit/chain", headers={"HX-Request": "true"}).text
    assert 'data-chain-ok="true"' in html
    assert 'data-anchor-state="ok"' in html
    assert 'data-anchor-signature="valid"' in html


# --- Concurrent writers -------------------------------------------------------------------------


@pytest.fixture
def scratch_engine(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A database of its own, migrated to head with the key set (so the migration signs the
    empty log's anchor), where transactions really commit: on PostgreSQL a new database on the
    suite's server, otherwise a SQLite file."""
    monkeypatch.setenv("MAINTENANCE_AUDIT_KEY", KEY)
    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(KEY))
    server = make_url(get_settings().database_url)
    admin: Engine | None = None
    name = ""
    if server.get_backend_name() == "postgresql":
        name = f"{server.database}_anchor_{secrets.token_hex(4)}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('anchor') / 'scratch.db'}"
    engine = build_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def log_sites(session: Session, prefix: str, count: int) -> None:
    for n in range(count):
        site = Site(code=f"{prefix}-{n}", name=f"厂区 {prefix}-{n}")
        session.add(site)
        session.flush()
        audit.record_create(session, ACTOR, site)


def run_in_threads(*targets: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:  # reported by the test
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert not errors, errors


def test_a_writer_waits_for_the_one_holding_the_chain_and_extends_its_commit(scratch_engine: Engine) -> None:
    """Two connections, two real transactions on SQLite (one writer at a time, so one chain): the
    second starts logging while the first holds the chain, waits, and links to (and counts) the
    first's rows once they are committed. On PostgreSQL the second takes another chain and does
    not wait (tests/test_audit_chains.py)."""
    if scratch_engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL writers take separate chains: tests/test_audit_chains.py")
    first_holds = threading.Event()
    second_started = threading.Event()

    def first() -> None:
        with Session(scratch_engine) as session, session.begin():
            log_sites(session, "A", 3)
            first_holds.set()
            assert second_started.wait(30)
            threading.Event().wait(0.3)  # the second is now waiting for the chain
            log_sites(session, "A2", 1)

    def second() -> None:
        assert first_holds.wait(30)
        with Session(scratch_engine) as session, session.begin():
            second_started.set()
            log_sites(session, "B", 2)

    run_in_threads(first, second)

    with Session(scratch_engine) as session:
        report = the_chain(audit.verify_chain(session))
        codes = [row.after["code"] for row in session.scalars(select(ObjectChange).order_by(ObjectChange.id))]  # type: ignore[arg-type, index]
    assert codes == ["A-0", "A-1", "A-2", "A2-0", "B-0", "B-1"]
    assert report.ok, report.problems()
    assert (report.rows, report.anchor_rows, report.anchor_signature) == (6, 6, "valid")


def test_the_anchor_stays_right_under_concurrent_writers(scratch_engine: Engine) -> None:
    """Two writers, each on its own connection, commit many small transactions at once (and
    roll some back): every chain holds, each anchor counts exactly its chain's rows kept, their
    HMACs are valid."""
    transactions, per_transaction = 12, 3
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        start.wait(30)
        for n in range(transactions):
            with Session(scratch_engine) as session:
                log_sites(session, f"{name}{n}", per_transaction)
                if n % 4 == 3:
                    session.rollback()
                else:
                    session.commit()

    run_in_threads(lambda: writer("A"), lambda: writer("B"))

    kept = 2 * (transactions - transactions // 4) * per_transaction
    with Session(scratch_engine) as session:
        report = audit.verify_chain(session)
        anchors = {
            anchor.id: (anchor.row_count, anchor.last_id) for anchor in session.scalars(select(AuditChainAnchor))
        }
    assert report.ok, report.problems()
    assert report.rows == kept
    assert sum(row_count for row_count, _last in anchors.values()) == kept
    assert anchors == {chain.chain: (chain.rows, chain.last_id) for chain in report.chains}
    assert report.anchors_signed


def test_the_log_is_checked_while_writers_commit(scratch_engine: Engine) -> None:
    """Verifying reads the anchor and the rows as one state: writers committing meanwhile do not
    make it report rows added or removed."""
    with Session(scratch_engine) as session, session.begin():
        log_sites(session, "S", 20)
    done = threading.Event()
    reports: list[audit.LogReport] = []

    def write() -> None:
        for n in range(30):
            with Session(scratch_engine) as session, session.begin():
                log_sites(session, f"W{n}", 2)
        done.set()

    def verify() -> None:
        # As the page does: a read-only transaction (on SQLite it does not wait for the writers).
        reader = scratch_engine.execution_options(**{READ_ONLY: True})
        while not done.is_set():
            with Session(reader) as session, session.begin():
                reports.append(audit.verify_chain(session))

    run_in_threads(write, verify)

    assert reports
    assert all(report.ok for report in reports), [report.problems() for report in reports if not report.ok]


def test_an_attack_on_a_real_database_is_seen_by_a_new_connection(scratch_engine: Engine) -> None:
    with Session(scratch_engine) as session, session.begin():
        log_sites(session, "R", 4)
    with Session(scratch_engine) as session, session.begin():
        delete_newest(session, 1)
        rewrite_anchor(session)
    with Session(scratch_engine) as session:
        report = the_chain(audit.verify_chain(session))
    assert report.anchor_signature == "invalid"
    assert not report.ok


def test_editing_rows_directly_is_still_caught_by_their_hash(session: Session, no_key: None) -> None:
    changes = log_changes(session, 3)
    session.execute(
        update(ObjectChange).where(ObjectChange.id == changes[1].id).values(actor_name="x"),  # type: ignore[arg-type]
        execution_options={"synchronize_session": False},
    )

    report = the_chain(audit.verify_chain(session))

    assert (report.broken_at_id, report.cause) == (changes[1].id, "content")
