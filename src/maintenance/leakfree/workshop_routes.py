"""A workshop's leak-free page: rates by survey, surveys, certification history."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
