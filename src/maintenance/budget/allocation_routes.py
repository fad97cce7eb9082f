"""The target, baseline years and allocation grid of a budget year, and the plan's XLSX import (managers)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
