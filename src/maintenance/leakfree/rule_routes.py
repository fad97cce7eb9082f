"""The management rules register: versions, effective dates, files."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
