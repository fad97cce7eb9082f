"""Leak surveys: list, record (with the leaks found), survey page, export."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
