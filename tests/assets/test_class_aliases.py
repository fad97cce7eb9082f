"""Equipment class aliases: the words plant ledgers use for ISO 14224 classes (离心泵 → 泵 PU),
seeded with the usual ones and kept by administrators on a page of their own."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.assets import class_aliases
from maintenance.assets.choices import AssetClass
from maintenance.assets.models import AssetClassAlias, AssetClassAliasCreate
from maintenance.audit.models import ObjectChange
from maintenance.audit.service import SystemActor
from maintenance.exceptions import ValidationFailed
from maintenance.org.models import Role, User
from tests import factories
from tests.conftest import login

ACTOR = SystemActor(username="test-aliases")
PAGE = "/admin/asset-class-aliases"

# The words of the issue, and the class each one is.
USUAL_WORDS = {
    "离心泵": "PU",
    "往复泵": "PU",
    "螺杆泵": "PU",
    "计量泵": "PU",
    "离心压缩机": "CO",
    "螺杆压缩机": "CO",
    "电机": "EM",
    "变压器": "PT",
    "冷却器": "HE",
    "再沸器": "HE",
    "冷凝器": "HE",
    "塔": "VE",
    "精馏塔": "VE",
    "吸收塔": "VE",
    "反应器": "VE",
    "反应釜": "VE",
    "球罐": "TA",
    "压力容器": "VE",
    "分离器": "VE",
    "工业管道": "PI",
    "压力管道": "PI",
    "安全阀": "VA",
    "调节阀": "VA",
    "起重机": "CR",
    "行车": "CR",
    "电梯": "CR",
    "叉车": "VH",
    "场内机动车辆": "VH",
}


def aliases(session: Session) -> dict[str, str]:
    return {alias.alias: alias.asset_class.value for alias in session.scalars(select(AssetClassAlias))}


def changes_of(session: Session, alias: AssetClassAlias) -> list[str]:
    rows = session.scalars(
        select(ObjectChange)
        .where(col(ObjectChange.object_type) == "asset_class_alias", col(ObjectChange.object_id) == str(alias.id))
        .order_by(col(ObjectChange.id))
    )
    return [row.action.value for row in rows]


def test_the_usual_plant_words_are_there_from_the_start(session: Session) -> None:
    seeded = aliases(session)
    assert len(seeded) >= 30
    assert {word: seeded.get(word) for word in USUAL_WORDS} == USUAL_WORDS
    assert set(seeded.values()) <= {member.value for member in AssetClass}


def test_an_alias_is_added_and_deleted_with_change_log_rows(session: Session) -> None:
    alias = class_aliases.create_alias(
        session, AssetClassAliasCreate(alias=" 造粒机 ", asset_class=AssetClass.MIXER), actor=ACTOR
    )
    assert alias.alias == "造粒机"
    assert class_aliases.class_names(session)["造粒机"] == AssetClass.MIXER

    class_aliases.delete_alias(session, alias, actor=ACTOR)

    assert "造粒机" not in aliases(session)
    assert "造粒机" not in class_aliases.class_names(session)
    assert changes_of(session, alias) == ["create", "delete"]


@pytest.mark.parametrize(
    ("word", "clash"),
    [
        ("离心泵", "离心泵"),  # an alias already
        ("离 心 泵", "离心泵"),  # the same word, spaced
        ("压缩机", "压缩机"),  # a class's own name
        ("PU", "PU"),  # a class's code
    ],
)
def test_a_word_that_already_names_a_class_is_refused(session: Session, word: str, clash: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        class_aliases.create_alias(
            session, AssetClassAliasCreate(alias=word, asset_class=AssetClass.MIXER), actor=ACTOR
        )
    [error] = refused.value.errors
    assert error.field == "alias"
    assert clash in error.message


# --- The admin page -----------------------------------------------------------------------


def test_admins_see_the_aliases_and_the_link_to_them(client: TestClient, admin: User) -> None:
    login(client, admin)
    home = client.get("/").text
    assert f'href="{PAGE}"' in home
    page = client.get(PAGE)
    assert page.status_code == 200
    row = re.search(r'<tr data-alias="离心泵">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert "泵" in row.group(1)
    assert "PU" in row.group(1)


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.MANAGER, Role.AUDITOR])
def test_other_roles_neither_see_the_link_nor_open_the_page(client: TestClient, session: Session, role: Role) -> None:
    token = login(client, factories.UserFactory(role=role))
    assert f'href="{PAGE}"' not in client.get("/").text
    assert client.get(PAGE).status_code == 403
    before = aliases(session)
    response = client.post(PAGE, data={"csrf_token": token, "alias": "造粒机", "asset_class": "MI"})
    assert response.status_code == 403
    assert aliases(session) == before


def test_an_admin_adds_an_alias_on_the_page(client: TestClient, session: Session, admin: User) -> None:
    token = login(client, admin)

    response = client.post(PAGE, data={"csrf_token": token, "alias": "造粒机", "asset_class": "MI"})

    assert response.status_code == 303
    assert aliases(session)["造粒机"] == "MI"
    page = client.get(response.headers["location"]).text
    assert '<tr data-alias="造粒机">' in page
    [added] = session.scalars(select(AssetClassAlias).where(col(AssetClassAlias.alias) == "造粒机"))
    change = session.scalars(
        select(ObjectChange).where(
            col(ObjectChange.object_type) == "asset_class_alias", col(ObjectChange.object_id) == str(added.id)
        )
    ).one()
    assert change.actor_name == admin.username


def test_a_refused_alias_is_shown_with_the_reason(client: TestClient, session: Session, admin: User) -> None:
    token = login(client, admin)
    before = aliases(session)

    response = client.post(PAGE, data={"csrf_token": token, "alias": "离心泵", "asset_class": "CO"})

    assert response.status_code == 422
    assert "离心泵" in response.text
    assert 'class="form-control is-invalid"' in response.text
    assert aliases(session) == before


def test_an_admin_deletes_an_alias_after_confirming(client: TestClient, session: Session, admin: User) -> None:
    alias = class_aliases.create_alias(
        session, AssetClassAliasCreate(alias="造粒机", asset_class=AssetClass.MIXER), actor=ACTOR
    )
    token = login(client, admin)
    page = client.get(PAGE).text
    form = re.search(rf'<form[^>]*action="{PAGE}/{alias.id}/delete"[^>]*>', page)
    assert form is not None
    assert "data-confirm=" in form.group(0)  # the browser asks before deleting

    response = client.post(f"{PAGE}/{alias.id}/delete", data={"csrf_token": token})

    assert response.status_code == 303
    assert "造粒机" not in aliases(session)
    assert changes_of(session, alias) == ["create", "delete"]
    assert client.post(f"{PAGE}/{alias.id}/delete", data={"csrf_token": token}).status_code == 404
