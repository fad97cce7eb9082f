"""The per-workshop overview (/leakfree)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
