"""Documents attached to an asset (drawings, manuals, certificates, photos).

The row describes the upload; the bytes live under ``settings.files_dir`` named by their
SHA-256, so the same file attached twice (or to two assets) is stored once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from maintenance.db import UTCDateTime, utcnow


class AssetDocument(SQLModel, table=True):
    __tablename__ = "asset_document"

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(
        sa_column=Column(Integer, ForeignKey("asset.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64, index=True)
    uploaded_by_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def audit_repr(self) -> str:
        return self.filename
