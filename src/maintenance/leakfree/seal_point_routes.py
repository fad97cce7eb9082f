"""The seal-point inventory (密封点台账): list, export, create, edit, retire."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
