"""The content-addressed file store: uploads checked, stored once by SHA-256, served back.

A file is accepted when its extension is on the list *and* its first bytes look like that
kind of file (a renamed .exe is refused), and it is at most ``MAX_BYTES`` long. The bytes
go to ``files_dir/ab/abcdef…`` named by their SHA-256, written through a temporary file
and renamed, so a file attached twice (or to two records) is stored once and a crash never
leaves half a file under a real name.

The rows that name a file belong to the domains (asset documents, order attachments, round
photos). Deleting a row leaves the stored bytes: other rows may share them, the change log
names the hash, and the transaction may still roll back; a clean-up of unreferenced files
must consult every domain's rows.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fastapi.responses import FileResponse

from maintenance.config import get_settings
from maintenance.exceptions import FieldError, NotFound, ValidationFailed
from maintenance.i18n import gettext as _

MAX_BYTES = 20 * 1024 * 1024
_CHUNK = 1024 * 1024
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class FileKind:
    content_type: str
    label: str


# What may be attached, by extension. The content type sent to browsers comes from here,
# never from the uploading browser.
ALLOWED: dict[str, FileKind] = {
    "pdf": FileKind("application/pdf", "PDF"),
    "png": FileKind("image/png", "PNG"),
    "jpg": FileKind("image/jpeg", "JPEG"),
    "jpeg": FileKind("image/jpeg", "JPEG"),
    "xlsx": FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel"),
    "docx": FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word"),
    "dwg": FileKind("image/vnd.dwg", "AutoCAD DWG"),
    "txt": FileKind("text/plain", "Text"),  # UTF-8 or GB18030: no charset claimed
}
ACCEPT_ATTRIBUTE = ",".join(f".{extension}" for extension in ALLOWED)


def files_dir() -> Path:
    return get_settings().files_dir


def blob_path(sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return files_dir() / sha256[:2] / sha256


# --- Checking an upload -------------------------------------------------------------------


def clean_filename(name: str) -> str:
    """The name without any directory part (old browsers send C:\\…\\x.pdf), control
    characters or leading dots, at most 200 characters with the extension kept."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 199 - len(extension)] + dot + extension) if dot and len(extension) <= 10 else name[:200]
    return name


def extension_of(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def _looks_like(extension: str, head: bytes, path: Path) -> bool:
    """Cheap checks of the first bytes (and, for Office files, the zip's member names)."""
    if extension == "pdf":
        return head.startswith(b"%PDF-")
    if extension == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == "dwg":
        return re.match(rb"AC1\d{3}|AC[12]\.\d\d", head[:6]) is not None
    if extension in ("xlsx", "docx"):
        if not head.startswith(b"PK\x03\x04"):
            return False
        marker = "xl/" if extension == "xlsx" else "word/"
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return False
        return "[Content_Types].xml" in names and any(name.startswith(marker) for name in names)
    if extension == "txt":
        if b"\x00" in head:
            return False
        complete = len(head) < _SNIFF_BYTES  # else the sample may end inside a character
        for encoding in ("utf-8", "gb18030"):
            try:
                codecs.getincrementaldecoder(encoding)().decode(head, final=complete)
            except UnicodeDecodeError:
                continue
            return True
        return False
    return False


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size_bytes: int
    content_type: str


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, [FieldError("file", message)])


def store_upload(stream: BinaryIO, filename: str) -> StoredFile:
    """Check and store an uploaded file; raises ValidationFailed with a reason users can act on."""
    extension = extension_of(filename)
    kind = ALLOWED.get(extension)
    if kind is None:
        raise _refuse(
            _(
                "Files of type “%(ext)s” cannot be attached. Allowed: %(allowed)s.",
                ext=extension or _("no extension"),
                allowed=", ".join(ALLOWED),
            )
        )
    directory = files_dir()
    (directory / "tmp").mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    with tempfile.NamedTemporaryFile(dir=directory / "tmp", delete=False) as temporary:
        temporary_path = Path(temporary.name)
        try:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise _refuse(
                        _(
                            "“%(name)s” is larger than the limit of %(limit)s MB.",
                            name=filename,
                            limit=MAX_BYTES // (1024 * 1024),
                        )
                    )
                if len(head) < _SNIFF_BYTES:
                    head += chunk[: _SNIFF_BYTES - len(head)]
                digest.update(chunk)
                temporary.write(chunk)
            temporary.flush()
            os.fsync(temporary.fileno())
        except BaseException:
            temporary.close()
            temporary_path.unlink(missing_ok=True)
            raise
    try:
        if size == 0:
            raise _refuse(_("“%(name)s” is empty.", name=filename))
        if not _looks_like(extension, head, temporary_path):
            raise _refuse(
                _(
                    "“%(name)s” does not look like a %(kind)s file: its content does not match its extension.",
                    name=filename,
                    kind=kind.label,
                )
            )
        sha256 = digest.hexdigest()
        target = blob_path(sha256)
        if target.exists():
            temporary_path.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary_path, target)  # atomic: readers see all of the file or none
    except BaseException:
        temporary_path.unlink(missing_ok=True)
        raise
    return StoredFile(sha256=sha256, size_bytes=size, content_type=kind.content_type)


def store_named_upload(stream: BinaryIO, filename: str) -> tuple[str, StoredFile]:
    """The upload's cleaned name and :func:`store_upload`'s result; no usable name means no file."""
    name = clean_filename(filename)
    if not name:
        raise _refuse(_("Choose a file to upload."))
    return name, store_upload(stream, name)


# --- Serving a stored file ----------------------------------------------------------------


def stored_file_response(sha256: str, filename: str, content_type: str, *, inline: bool = False) -> FileResponse:
    """A stored upload (asset document, order attachment, round photo) sent under its own name and type."""
    path = blob_path(sha256)
    if not path.is_file():
        raise NotFound(_("The stored file of %(name)s is missing. Ask an administrator to restore it.", name=filename))
    return FileResponse(
        path,
        media_type=content_type,
        filename=filename,
        content_disposition_type="inline" if inline else "attachment",
        headers={"Vary": "HX-Request", "Cache-Control": "private, max-age=0"},
    )
