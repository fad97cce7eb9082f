"""Asset documents: uploads checked by extension and content, stored once per content under
var/files by SHA-256, listed on the asset page's tab, downloaded as attachments, deleted by
managers, every change logged."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
import xlsxwriter
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance import files
from maintenance.assets.documents.models import AssetDocument
from maintenance.assets.models import Asset
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.org.models import Role, User, UserWorkshop
from tests import factories
from tests.conftest import login

HX = {"HX-Request": "true", "Accept-Language": "en"}
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def asset(session: Session) -> Asset:
    return factories.AssetFactory(tag="P-101", name="循环水泵")  # type: ignore[no-any-return]


def upload(client: TestClient, token: str, asset: Asset, name: str, content: bytes, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/assets/{asset.id}/documents",
        data={"csrf_token": token},
        files={"file": (name, content, "application/octet-stream")},
        headers={**HX, **headers},
    )


def rows(session: Session, asset: Asset) -> list[AssetDocument]:
    return list(session.scalars(select(AssetDocument).where(col(AssetDocument.asset_id) == asset.id)))


def logged(session: Session) -> list[ObjectChange]:
    return list(
        session.scalars(
            select(ObjectChange).where(col(ObjectChange.object_type) == "asset_document").order_by(col(ObjectChange.id))
        )
    )


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet().write(0, 0, "泵")
    book.close()
    return buffer.getvalue()


def test_an_upload_is_stored_by_hash_listed_and_logged(
    client: TestClient, session: Session, admin: User, asset: Asset
) -> None:
    token = login(client, admin)
    response = upload(client, token, asset, "泵 说明书.pdf", PDF)

    assert response.status_code == 200, response.text
    assert "泵 说明书.pdf" in response.text
    assert 'id="documents"' in response.text
    [document] = rows(session, asset)
    sha = hashlib.sha256(PDF).hexdigest()
    assert (document.sha256, document.size_bytes, document.content_type) == (sha, len(PDF), "application/pdf")
    assert document.uploaded_by_id == admin.id
    stored = files.files_dir() / sha[:2] / sha
    assert stored.read_bytes() == PDF
    [change] = logged(session)
    assert change.action == ChangeAction.CREATE
    assert change.after is not None
    assert change.after["sha256"] == sha
    assert change.after["asset_tag"] == "P-101"

    tab = client.get(f"/assets/{asset.id}/documents", headers=HX)
    assert tab.status_code == 200
    assert "<html" not in tab.text
    assert f'href="/assets/{asset.id}/documents/{document.id}"' in tab.text


def test_the_same_content_is_stored_once(client: TestClient, session: Session, admin: User, asset: Asset) -> None:
    other = factories.AssetFactory(tag="P-102", workshop_id=asset.workshop_id)
    content = PDF + b"% same content, twice\n"
    token = login(client, admin)
    upload(client, token, asset, "a.pdf", content)
    upload(client, token, other, "copy of a.pdf", content)

    [first], [second] = rows(session, asset), rows(session, other)
    assert first.sha256 == second.sha256
    assert list((files.files_dir() / first.sha256[:2]).glob(first.sha256 + "*")) == [files.blob_path(first.sha256)]
    assert not list((files.files_dir() / "tmp").iterdir())  # no temporary files left behind


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("setup.exe", b"MZ\x90\x00", "cannot be attached"),
        ("noextension", PDF, "cannot be attached"),
        ("drawing.pdf", PNG, "does not look like a PDF file"),
        ("photo.jpg", PDF, "does not look like a JPEG file"),
        ("table.xlsx", b"PK\x03\x04" + b"\x00" * 40, "does not look like a Excel file"),
        ("letter.docx", "xlsx-bytes", "does not look like a Word file"),
        ("plan.dwg", PDF, "does not look like a AutoCAD DWG file"),
        ("notes.txt", b"abc\x00\x01\x02", "does not look like a Text file"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_wrong_types_are_refused_with_a_clear_error(
    client: TestClient, session: Session, admin: User, asset: Asset, name: str, content: bytes | str, reason: str
) -> None:
    token = login(client, admin)
    response = upload(client, token, asset, name, _xlsx() if content == "xlsx-bytes" else content)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert 'data-testid="document-error"' in response.text
    assert reason in response.text
    assert rows(session, asset) == []
    assert logged(session) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 32),
        ("image.png", PNG),
        ("list.xlsx", "xlsx-bytes"),
        ("plan.dwg", b"AC1032" + b"\x00" * 32),
        ("记录.txt", "点检记录：正常\n".encode("gb18030")),
        ("readme.txt", "UTF-8 文本\n".encode()),
    ],
)
def test_allowed_types_are_accepted(
    client: TestClient, session: Session, admin: User, asset: Asset, name: str, content: bytes | str
) -> None:
    token = login(client, admin)
    response = upload(client, token, asset, name, _xlsx() if content == "xlsx-bytes" else content)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert len(rows(session, asset)) == 1


def test_a_docx_must_contain_a_word_document(client: TestClient, session: Session, admin: User, asset: Asset) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    token = login(client, admin)
    assert upload(client, token, asset, "report.docx", buffer.getvalue()).status_code == 200


def test_files_over_the_size_limit_are_refused(
    client: TestClient, session: Session, admin: User, asset: Asset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_BYTES", 1024 * 1024)
    token = login(client, admin)
    response = upload(client, token, asset, "big.pdf", PDF + b"0" * (1024 * 1024))
    assert response.status_code == 422
    assert "larger than the limit of 1 MB" in response.text
    assert rows(session, asset) == []


def test_a_download_is_an_attachment_with_the_stored_type(
    client: TestClient, session: Session, admin: User, asset: Asset
) -> None:
    token = login(client, admin)
    upload(client, token, asset, "泵 说明书.pdf", PDF)
    [document] = rows(session, asset)
    auditor = factories.UserFactory(role=Role.AUDITOR)
    client.cookies.clear()
    login(client, auditor)  # auditors read everything

    response = client.get(f"/assets/{asset.id}/documents/{document.id}")
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%B3%B5%20%E8%AF%B4%E6%98%8E%E4%B9%A6.pdf" in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/assets/{asset.id}/documents/{document.id + 1000}").status_code == 404


def test_managers_delete_with_confirmation_and_the_change_is_logged(
    client: TestClient, session: Session, admin: User, asset: Asset
) -> None:
    token = login(client, admin)
    upload(client, token, asset, "a.pdf", PDF)
    [document] = rows(session, asset)
    tab = client.get(f"/assets/{asset.id}/documents", headers=HX).text
    assert f'hx-post="/assets/{asset.id}/documents/{document.id}/delete"' in tab
    assert "hx-confirm=" in tab

    response = client.post(f"/assets/{asset.id}/documents/{document.id}/delete", data={"csrf_token": token}, headers=HX)
    assert response.status_code == 200
    assert rows(session, asset) == []
    assert [change.action for change in logged(session)] == [ChangeAction.CREATE, ChangeAction.DELETE]
    assert files.blob_path(document.sha256).exists()  # bytes stay: other rows and the log may refer to them


def test_engineers_upload_in_their_workshops_but_do_not_delete(
    client: TestClient, session: Session, engineer: User, asset: Asset
) -> None:
    elsewhere = factories.AssetFactory(tag="X-1")
    session.add(UserWorkshop(user_id=engineer.id, workshop_id=asset.workshop_id))
    session.flush()
    token = login(client, engineer)

    assert upload(client, token, asset, "a.pdf", PDF).status_code == 200
    assert upload(client, token, elsewhere, "a.pdf", PDF).status_code == 403
    [document] = rows(session, asset)
    assert "hx-confirm=" not in client.get(f"/assets/{asset.id}/documents", headers=HX).text
    response = client.post(f"/assets/{asset.id}/documents/{document.id}/delete", data={"csrf_token": token}, headers=HX)
    assert response.status_code == 403
    assert len(rows(session, asset)) == 1


def test_auditors_cannot_upload(client: TestClient, session: Session, asset: Asset) -> None:
    token = login(client, factories.UserFactory(role=Role.AUDITOR))
    assert upload(client, token, asset, "a.pdf", PDF).status_code == 403
    assert 'type="file"' not in client.get(f"/assets/{asset.id}/documents", headers=HX).text
    assert rows(session, asset) == []


def test_a_plain_form_upload_returns_to_the_documents_tab(
    client: TestClient, session: Session, admin: User, asset: Asset
) -> None:
    token = login(client, admin)
    response = client.post(
        f"/assets/{asset.id}/documents", data={"csrf_token": token}, files={"file": ("a.pdf", PDF, "application/pdf")}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/assets/{asset.id}?tab=documents"
