"""The certification board against 50% by 30 June and 100% by 31 December."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
