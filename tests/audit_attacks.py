"""What someone with write access to the database (and the application's source, but not
``MAINTENANCE_AUDIT_KEY``) can do to the change log, for the tests that show it is detected.

Every helper works behind the application's back: plain UPDATE/DELETE/INSERT statements in the
session's transaction, as a psql or sqlite3 shell would issue them. The tests' session then goes
on as the application's next transaction would, reading the chain's end afresh (the session
carries it only within a transaction).

The log is several chains; each helper attacks one: ``chain`` when given, otherwise the chain of
the newest row (the one a test's session has been logging on), chain 0 in an empty log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.audit.models import AuditChainAnchor, ObjectChange, genesis_hash


def _done(session: Session) -> None:
    session.expire_all()
    session.info.pop(audit._HEAD_KEY, None)


_LOG = ObjectChange.__table__  # type: ignore[attr-defined]
_ANCHOR = AuditChainAnchor.__table__  # type: ignore[attr-defined]


def newest_chain(session: Session) -> int:
    """The chain of the newest row (0 when the log is empty)."""
    return session.scalar(select(_LOG.c.chain).order_by(_LOG.c.id.desc()).limit(1)) or 0


def the_chain(report: audit.LogReport) -> audit.ChainReport:
    """The report of the one chain a test logged on (a session keeps its chain while its
    transaction lasts), or chain 0 when none holds rows."""
    used = [chain for chain in report.chains if chain.rows]
    assert len(used) <= 1, f"rows on chains {[chain.chain for chain in used]}"
    return used[0] if used else report.chains[0]


def _ids(session: Session, chain: int) -> list[int]:
    return list(session.scalars(select(col(ObjectChange.id)).where(_LOG.c.chain == chain).order_by(_LOG.c.id)))


def delete_newest(session: Session, count: int, chain: int | None = None) -> list[int]:
    """Delete a chain's newest ``count`` rows: what is left is a shorter chain whose every link
    holds. Returns the ids deleted."""
    doomed = _ids(session, newest_chain(session) if chain is None else chain)[-count:]
    session.execute(delete(_LOG).where(_LOG.c.id.in_(doomed)))
    _done(session)
    return doomed


def delete_anchor(session: Session, chain: int | None = None) -> None:
    session.execute(delete(_ANCHOR).where(_ANCHOR.c.id == (newest_chain(session) if chain is None else chain)))
    _done(session)


def rewrite_anchor(session: Session, chain: int | None = None) -> None:
    """Make a chain's anchor describe the chain as it now is (its HMAC, if any, cannot be
    recomputed without the key: it is left as it was)."""
    chain = newest_chain(session) if chain is None else chain
    rows = session.scalar(select(func.count()).select_from(_LOG).where(_LOG.c.chain == chain)) or 0
    last = session.execute(
        select(_LOG.c.id, _LOG.c.hash).where(_LOG.c.chain == chain).order_by(_LOG.c.id.desc()).limit(1)
    ).first()
    last_id, head = (last.id, last.hash) if last is not None else (0, genesis_hash(chain))
    session.execute(
        update(_ANCHOR).where(_ANCHOR.c.id == chain).values(row_count=rows, last_id=last_id, head_hash=head)
    )
    _done(session)


def rehash_from(
    session: Session, row_id: int, *, drop_hmacs: bool = False, renamed: dict[str, str] | None = None, **edits: Any
) -> None:
    """Edit row ``row_id`` (``edits``: column → new value) and recompute its hash and every later
    row's link and hash on its chain with the application's own algorithm, then rewrite the
    chain's anchor's head to the new end. Checkpoints naming a hash so replaced (``renamed``: old
    → new) are rewritten to name the new one, and chain 0 recomputed from the first of them. Row
    HMACs cannot be recomputed: they are left as they were, or cleared (``drop_hmacs``) as if the
    rows had been written before the key was set."""
    renamed = {} if renamed is None else renamed
    chain = session.scalar(select(_LOG.c.chain).where(_LOG.c.id == row_id))
    assert chain is not None
    same_chain = _LOG.c.chain == chain
    previous = session.scalar(
        select(_LOG.c.hash).where(same_chain, _LOG.c.id < row_id).order_by(_LOG.c.id.desc()).limit(1)
    )
    prev_hash = previous or genesis_hash(chain)
    rows = list(
        session.scalars(select(ObjectChange).where(same_chain, _LOG.c.id >= row_id).order_by(col(ObjectChange.id)))
    )
    forged = []
    for row in rows:
        copy = ObjectChange.model_validate(row.model_dump())
        if row.id == row_id:
            for column, value in edits.items():
                setattr(copy, column, value)
        if copy.object_type == audit.CHECKPOINT and copy.after:
            copy.after = {name: _renamed_entry(entry, renamed) for name, entry in copy.after.items()}
        copy.prev_hash = prev_hash
        copy.hash = audit._hash_payload(copy)
        renamed[row.hash] = copy.hash
        forged.append(copy)
        prev_hash = copy.hash
    for copy in forged:
        values: dict[str, Any] = {**edits} if copy.id == row_id else {}
        values.update(prev_hash=copy.prev_hash, hash=copy.hash)
        if copy.object_type == audit.CHECKPOINT:
            values["after"] = copy.after
        if drop_hmacs:
            values["hmac"] = None
        session.execute(update(_LOG).where(_LOG.c.id == copy.id).values(**values))
    session.execute(update(_ANCHOR).where(_ANCHOR.c.id == chain).values(head_hash=prev_hash))
    _done(session)
    if chain != 0:
        naming = [
            row.id
            for row in session.execute(
                select(_LOG.c.id, _LOG.c.after).where(
                    _LOG.c.chain == 0, _LOG.c.object_type == audit.CHECKPOINT, _LOG.c.id > row_id
                )
            )
            if any(_renamed_entry(entry, renamed) != entry for entry in (row.after or {}).values())
        ]
        if naming:
            rehash_from(session, min(naming), drop_hmacs=drop_hmacs, renamed=renamed)


def _renamed_entry(entry: list[Any], renamed: dict[str, str]) -> list[Any]:
    rows, last_id, head = entry
    return [rows, last_id, renamed.get(head, head)]


def append_forged_row(session: Session, chain: int | None = None, **content: Any) -> None:
    """Insert a row at a chain's end with a correct link and hash, as the application would
    have written it (without its HMAC and without moving the anchor)."""
    chain = newest_chain(session) if chain is None else chain
    head = session.scalar(
        select(_LOG.c.hash).where(_LOG.c.chain == chain).order_by(_LOG.c.id.desc()).limit(1)
    ) or genesis_hash(chain)
    row = ObjectChange(
        at=content.pop("at", None) or audit.utcnow(),
        actor_name=content.pop("actor_name", "admin"),
        object_type=content.pop("object_type", "workshop"),
        object_id=content.pop("object_id", "1"),
        action=content.pop("action", audit.ChangeAction.DELETE),
        prev_hash=head,
        hash="",
        chain=chain,
        **content,
    )
    row.hash = audit._hash_payload(row)
    session.execute(insert(_LOG).values(row.model_dump(exclude={"id"})))
    _done(session)


def anchor_backup(session: Session, chain: int) -> dict[str, Any]:
    """A chain's anchor as a backup of the database holds it (signature included)."""
    return dict(session.execute(select(_ANCHOR).where(_ANCHOR.c.id == chain)).one()._mapping)


def cut_back(session: Session, backup: dict[str, Any]) -> list[int]:
    """Cut a chain back to the state of an earlier anchor (``anchor_backup``): delete its rows
    written since and put the anchor back as it was, signature included. What is left is an
    intact chain with a signed anchor at its end. Returns the ids deleted."""
    chain = backup["id"]
    doomed = [row_id for row_id in _ids(session, chain) if row_id > backup["last_id"]]
    session.execute(delete(_LOG).where(_LOG.c.id.in_(doomed)))
    session.execute(update(_ANCHOR).where(_ANCHOR.c.id == chain).values(backup))
    _done(session)
    return doomed
