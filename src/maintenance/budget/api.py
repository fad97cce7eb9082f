"""Read API of the repair-cost budget (scope ``budget:read``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/budget", tags=["budget"])
