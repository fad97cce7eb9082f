"""Read API of the year's scorecard (scope ``scorecard:read``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/scorecard", tags=["scorecard"])
