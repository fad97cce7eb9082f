"""Import of the seal-point inventory from XLSX: preview, then confirm."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
