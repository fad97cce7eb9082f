"""Read API: per-workshop leak-free status and the programme's progress (scope leakfree:read)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
