"""Drill-down: the orders, cost lines and journal entries behind a figure of the budget."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
