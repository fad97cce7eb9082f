"""The budget overview (/budget): a year's target, plan, actual, committed, variance and forecast
by workshop, category and month, with the burn-up chart."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
