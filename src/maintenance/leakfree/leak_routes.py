"""The leak register: open leaks and their age, a leak's way to repair, failed seal checks of rounds."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
