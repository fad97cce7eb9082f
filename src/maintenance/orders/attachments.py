"""Photos and files on a work order (taken at the equipment, often on a phone).

The bytes are checked and stored by the file store (by SHA-256, see :mod:`maintenance.files`),
as asset documents are; the row is an :class:`OrderAttachment`. Whoever may
change the order may attach to it and remove its attachments; every change is in the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.exceptions import NotFound
from maintenance.files import store_named_upload
from maintenance.i18n import gettext as _
from maintenance.orders.models import OrderAttachment, WorkOrder
from maintenance.orders.service import check_may_write
from maintenance.org.models import User

IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})


def attachments_of(session: Session, order: WorkOrder) -> Sequence[OrderAttachment]:
    return session.scalars(
        select(OrderAttachment)
        .where(col(OrderAttachment.order_id) == order.id)
        .order_by(col(OrderAttachment.uploaded_at).desc(), col(OrderAttachment.id).desc())
    ).all()


def get_attachment_or_raise(session: Session, order: WorkOrder, attachment_id: int) -> OrderAttachment:
    attachment = session.get(OrderAttachment, attachment_id)
    if attachment is None or attachment.order_id != order.id:
        raise NotFound(_("This attachment does not exist or belongs to another order."))
    return attachment


def is_image(attachment: OrderAttachment) -> bool:
    return attachment.content_type in IMAGE_TYPES


def attach_file(session: Session, order: WorkOrder, stream: BinaryIO, filename: str, *, actor: User) -> OrderAttachment:
    """Check, store and record one upload; raises ValidationFailed with a reason users can act on."""
    check_may_write(session, actor, order, order.workshop_id)
    name, stored = store_named_upload(stream, filename)
    attachment = OrderAttachment(
        order_id=order.id,  # type: ignore[arg-type]
        filename=name,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(attachment)
    session.flush()
    audit.record_create(session, actor, attachment, order_number=order.number)
    return attachment


def delete_attachment(session: Session, order: WorkOrder, attachment: OrderAttachment, *, actor: User) -> None:
    """Remove the row; the stored bytes stay (other rows may share them, the log names the hash)."""
    check_may_write(session, actor, order, order.workshop_id)
    audit.record_delete(session, actor, attachment, order_number=order.number)
    session.delete(attachment)
    session.flush()
