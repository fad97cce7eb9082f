"""The management rules register (管理制度): each rule (a document code) and its versions.

- The **current** version of a code on a day is the one with the latest effective date on or
  before that day (two versions effective the same day: the one recorded last).
- A version effective after the day is **upcoming**; the other versions effective by the day are
  **superseded** by the current one.
- A version is a (code, version label) pair: recording the same pair twice is refused.
- Only PDF, Word (DOCX) and Excel (XLSX) files are accepted; the bytes go to the file store
  (:mod:`maintenance.files`), which checks their size and that they are what they claim to be.

The register is one query over the table (a few dozen rows in any plant); the grouping and the
standing are computed here, from the date passed in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, BinaryIO

from fastapi import Depends
from sqlalchemy import Select, select
from sqlmodel import Session, col

from maintenance import files
from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.choices import Choice
from maintenance.exceptions import FieldError, NotFound, ValidationFailed
from maintenance.files import StoredFile
from maintenance.i18n import gettext as _
from maintenance.leakfree.choices import RuleDocumentKind
from maintenance.leakfree.models import RuleDocument, RuleDocumentCreate
from maintenance.org.permissions import Capability, require
from maintenance.web import ListFilters, filters_from_query

RULE_FILE_EXTENSIONS = ("pdf", "docx", "xlsx")
RULE_FILE_ACCEPT = ",".join(f".{extension}" for extension in RULE_FILE_EXTENSIONS)


class VersionStanding(Choice):
    """Where a version of a rule stands on a day."""

    CURRENT = ("current", "现行", "Current", "success")
    UPCOMING = ("upcoming", "待生效", "Upcoming", "info")
    SUPERSEDED = ("superseded", "已被替代", "Superseded", "secondary")


class RuleFilters(ListFilters):
    kind: RuleDocumentKind | None = None
    as_of: date | None = None  # the day the versions are placed on (default: the plant's today)


RuleFiltersDep = Annotated[RuleFilters, Depends(filters_from_query(RuleFilters))]


def list_rule_documents(filters: RuleFilters) -> Select[Any]:
    """Every version (of the kind filtered on), by code, then effective date and recording order."""
    stmt = select(RuleDocument)
    if filters.kind is not None:
        stmt = stmt.where(col(RuleDocument.kind) == filters.kind)
    return stmt.order_by(col(RuleDocument.code), col(RuleDocument.effective_date), col(RuleDocument.id))


@dataclass
class RuleEntry:
    """One rule (code) of the register on ``as_of``: its current version (none while every
    version is still to come), the versions still to come (soonest first) and those it replaced
    (latest first)."""

    code: str
    current: RuleDocument | None
    upcoming: list[RuleDocument] = field(default_factory=list)
    superseded: list[RuleDocument] = field(default_factory=list)

    @property
    def shown(self) -> RuleDocument:
        """The version whose kind and title the register shows: the current one, else the next."""
        return self.current if self.current is not None else self.upcoming[0]


def _order(document: RuleDocument) -> tuple[date, int]:
    return document.effective_date, document.id or 0


def entries_of(documents: Iterable[RuleDocument], as_of: date) -> list[RuleEntry]:
    """The versions grouped by code (in code order), each placed on ``as_of``."""
    by_code: dict[str, list[RuleDocument]] = defaultdict(list)
    for document in documents:
        by_code[document.code].append(document)
    entries = []
    for code in sorted(by_code):
        versions = sorted(by_code[code], key=_order)
        in_effect = [version for version in versions if version.effective_date <= as_of]
        entries.append(
            RuleEntry(
                code=code,
                current=in_effect[-1] if in_effect else None,
                upcoming=[version for version in versions if version.effective_date > as_of],
                superseded=list(reversed(in_effect[:-1])),
            )
        )
    return entries


def standing_on(document: RuleDocument, current: RuleDocument | None, as_of: date) -> VersionStanding:
    if document.effective_date > as_of:
        return VersionStanding.UPCOMING
    return VersionStanding.CURRENT if current is not None and document.id == current.id else VersionStanding.SUPERSEDED


def register(session: Session, as_of: date, filters: RuleFilters | None = None) -> list[RuleEntry]:
    """The register on ``as_of`` (one query)."""
    return entries_of(session.scalars(list_rule_documents(filters or RuleFilters())), as_of)


def get_rule_document_or_raise(session: Session, document_id: int) -> RuleDocument:
    document = session.get(RuleDocument, document_id)
    if document is None:
        raise NotFound(_("Rule document %(id)s does not exist.", id=document_id))
    return document


# --- Recording a version -----------------------------------------------------------------


def _refuse_file(message: str) -> ValidationFailed:
    return ValidationFailed(message, [FieldError("file", message)])


def store_rule_file(stream: BinaryIO, filename: str) -> tuple[str, StoredFile]:
    """Check that the upload is a PDF, DOCX or XLSX file and store it (size and content checked by
    the file store); refused with the reason on the ``file`` field."""
    name = files.clean_filename(filename)
    if not name:
        raise _refuse_file(_("Choose the rule's file (PDF, DOCX or XLSX)."))
    if files.extension_of(name) not in RULE_FILE_EXTENSIONS:
        raise _refuse_file(
            _(
                "A rule's file must be PDF, DOCX or XLSX; “%(name)s” is not.",
                name=name,
            )
        )
    return name, files.store_upload(stream, name)


def create_rule_document(
    session: Session, data: RuleDocumentCreate, stored: tuple[str, StoredFile], *, actor: Actor
) -> RuleDocument:
    """Record a version of a rule with its file (managers and admins), with its change-log row."""
    require(actor, Capability.MANAGE, _("Only managers record management rules."))
    duplicate = session.scalar(
        select(col(RuleDocument.id)).where(
            col(RuleDocument.code) == data.code, col(RuleDocument.version_label) == data.version_label
        )
    )
    if duplicate is not None:
        message = _(
            "Version %(version)s of %(code)s is already in the register.", version=data.version_label, code=data.code
        )
        raise ValidationFailed(_("The rule was not saved."), [FieldError("version_label", message)])
    name, stored_file = stored
    document = RuleDocument.model_validate(
        data.model_dump()
        | {
            "file_sha256": stored_file.sha256,
            "filename": name,
            "content_type": stored_file.content_type,
            "uploaded_by_id": actor.id,
        }
    )
    session.add(document)
    session.flush()
    audit.record_create(session, actor, document)
    return document
