"""The finance journal: costs booked outside work orders, listed and imported from XLSX/CSV."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
