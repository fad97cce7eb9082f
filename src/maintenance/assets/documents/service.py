"""Asset documents: attaching an upload to an asset, listing and deleting.

The bytes are checked and stored by :mod:`maintenance.files` (by SHA-256); the row is an
:class:`AssetDocument`. Deleting a document removes its row, not the stored bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets.documents.models import AssetDocument
from maintenance.assets.models import Asset
from maintenance.audit import service as audit
from maintenance.exceptions import NotFound, PermissionDenied
from maintenance.files import store_named_upload
from maintenance.i18n import gettext as _
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, require_write_in


def documents_of(session: Session, asset: Asset) -> Sequence[AssetDocument]:
    return session.scalars(
        select(AssetDocument)
        .where(col(AssetDocument.asset_id) == asset.id)
        .order_by(col(AssetDocument.uploaded_at).desc(), col(AssetDocument.id).desc())
    ).all()


def get_document_or_raise(session: Session, asset: Asset, document_id: int) -> AssetDocument:
    document = session.get(AssetDocument, document_id)
    if document is None or document.asset_id != asset.id:
        raise NotFound(_("This document does not exist or belongs to another asset."))
    return document


def attach_document(session: Session, asset: Asset, stream: BinaryIO, filename: str, *, actor: User) -> AssetDocument:
    require_write_in(session, actor, asset.workshop_id)
    name, stored = store_named_upload(stream, filename)
    document = AssetDocument(
        asset_id=asset.id,  # type: ignore[arg-type]
        filename=name,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(document)
    session.flush()
    audit.record_create(session, actor, document, asset_tag=asset.tag)
    return document


def delete_document(session: Session, asset: Asset, document: AssetDocument, *, actor: User) -> None:
    if not can(actor, Capability.MANAGE):
        raise PermissionDenied(_("Only a manager or an administrator can delete documents."))
    audit.record_delete(session, actor, document, asset_tag=asset.tag)
    session.delete(document)
    session.flush()
