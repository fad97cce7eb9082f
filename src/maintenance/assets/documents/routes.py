"""The asset page's documents tab: list fragment, upload, download, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from maintenance import files
from maintenance.assets import service as asset_service
from maintenance.assets.documents import service as documents
from maintenance.assets.models import Asset
from maintenance.assets.stocktake.service import users_by_id
from maintenance.db import SessionDep
from maintenance.exceptions import ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.org.auth import CurrentUser, ManagerUser, WriterUser
from maintenance.org.models import User
from maintenance.org.permissions import Capability, can, can_write_in
from maintenance.web import FormDep, RecordId, add_toast, is_htmx, redirect, render

router = APIRouter(include_in_schema=False)


def _fragment(
    request: Request, session: Session, user: User, asset: Asset, *, error: str = "", status_code: int = 200
) -> Response:
    items = documents.documents_of(session, asset)
    return render(
        request,
        "assets/documents/_list.html",
        {
            "asset": asset,
            "documents": items,
            "uploaders": users_by_id(session, {item.uploaded_by_id for item in items}),
            "can_upload": can_write_in(session, user, asset.workshop_id),
            "can_delete": can(user, Capability.MANAGE),
            "error": error,
            "accept": files.ACCEPT_ATTRIBUTE,
            "allowed": ", ".join(files.ALLOWED),
            "max_mb": files.MAX_BYTES // (1024 * 1024),
        },
        block=None,
        status_code=status_code,
    )


@router.get("/assets/{asset_id}/documents")
def document_list(request: Request, session: SessionDep, user: CurrentUser, asset_id: RecordId) -> Response:
    asset = asset_service.get_asset_or_raise(session, asset_id)
    return _fragment(request, session, user, asset)


@router.post("/assets/{asset_id}/documents")
def upload_document(
    request: Request, session: SessionDep, user: WriterUser, asset_id: RecordId, form: FormDep
) -> Response:
    asset = asset_service.get_asset_or_raise(session, asset_id)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed(_("Choose a file to upload."))
        document = documents.attach_document(session, asset, upload.file, upload.filename, actor=user)
    except ValidationFailed as error:
        if not is_htmx(request):
            add_toast(request, error.message, "danger")
            return redirect(request, f"/assets/{asset.id}?tab=documents")
        return _fragment(request, session, user, asset, error=error.message, status_code=422)
    add_toast(request, _("%(name)s attached to %(tag)s.", name=document.filename, tag=asset.tag))
    return _after_change(request, session, user, asset)


@router.get("/assets/{asset_id}/documents/{document_id}")
def download_document(
    request: Request, session: SessionDep, user: CurrentUser, asset_id: RecordId, document_id: RecordId
) -> Response:
    asset = asset_service.get_asset_or_raise(session, asset_id)
    document = documents.get_document_or_raise(session, asset, document_id)
    return files.stored_file_response(document.sha256, document.filename, document.content_type)


@router.post("/assets/{asset_id}/documents/{document_id}/delete")
def delete_document(
    request: Request, session: SessionDep, user: ManagerUser, asset_id: RecordId, document_id: RecordId
) -> Response:
    asset = asset_service.get_asset_or_raise(session, asset_id)
    document = documents.get_document_or_raise(session, asset, document_id)
    documents.delete_document(session, asset, document, actor=user)
    add_toast(request, _("%(name)s deleted.", name=document.filename))
    return _after_change(request, session, user, asset)


def _after_change(request: Request, session: Session, user: User, asset: Asset) -> Response:
    """htmx swaps the refreshed list in; a plain form post goes back to the tab."""
    if is_htmx(request):
        return _fragment(request, session, user, asset)
    return redirect(request, f"/assets/{asset.id}?tab=documents")
