"""The certification workflow: apply, self-assess, company assessment, revoke."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
