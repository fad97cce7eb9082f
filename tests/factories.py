"""factory_boy factories: one per model, flushing (never committing) into the test session."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import factory
from sqlmodel import Session

from maintenance.assets import service as asset_service
from maintenance.assets.choices import AssetClass
from maintenance.assets.models import Asset, AssetCreate
from maintenance.audit.service import SystemActor
from maintenance.org.models import Role, Site, Unit, User, Workshop
from maintenance.security import hash_password

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


class _Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


def bind(session: Session) -> None:
    """Point every factory at the test's session."""
    for factory_class in _Base.__subclasses__():
        factory_class._meta.sqlalchemy_session = session


class SiteFactory(_Base):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"S{n}")
    name = factory.Sequence(lambda n: f"厂区{n}")


class WorkshopFactory(_Base):
    class Meta:
        model = Workshop

    code = factory.Sequence(lambda n: f"W{n}")
    name = factory.Sequence(lambda n: f"车间{n}")
    site_id = factory.LazyFunction(lambda: SiteFactory().id)


class UnitFactory(_Base):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"U{n}")
    name = factory.Sequence(lambda n: f"装置{n}")
    workshop_id = factory.LazyFunction(lambda: WorkshopFactory().id)


class UserFactory(_Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.ENGINEER
    is_active = True
    password_hash = _PASSWORD_HASH


class AssetFactory(_Base):
    """Created through ``assets.service.create_asset`` (validated, first version and change-log row
    written, site and pinyin initials derived from the workshop and name). ``at=`` places the
    creation, and so the first version, in the past."""

    class Meta:
        model = Asset

    tag = factory.Sequence(lambda n: f"P-F{n:04d}")
    name = "循环水泵"
    asset_class = AssetClass.PUMP
    workshop_id = factory.LazyFunction(lambda: WorkshopFactory().id)
    install_date = date(2020, 3, 1)
    commission_date = date(2020, 3, 15)
    original_value_cny = Decimal("120000.00")

    @classmethod
    def _create(cls, model_class: type[Asset], *args: Any, at: Any = None, **kwargs: Any) -> Asset:
        session = cls._meta.sqlalchemy_session
        return asset_service.create_asset(
            session, AssetCreate.model_validate(kwargs), actor=SystemActor(username="factory"), at=at
        )
