"""JSON API of the org domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Security
from sqlmodel import SQLModel

from maintenance.org.auth import api_user
from maintenance.org.models import Role, User

router = APIRouter(tags=["org"])


class MeRead(SQLModel):
    id: int
    username: str
    full_name: str
    role: Role


@router.get("/me", response_model=MeRead, summary="The user the token belongs to")
def read_me(user: Annotated[User, Security(api_user)]) -> User:
    return user
