"""asset class aliases, seeded with the words plant ledgers use

Revision ID: 969aac482b32
Revises: 19fc9bf32a5d
Create Date: 2026-12-03 13:35:35.301659
"""

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "969aac482b32"
down_revision: str | None = "19fc9bf32a5d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The usual words of Chinese plant ledgers for equipment, each with the ISO 14224 class code of
# the registry it is (assets.choices.AssetClass). Words that are a class's own code or label
# (泵, 压缩机, 风机, 汽轮机, 电动机, 换热器, 容器, 塔器, 储罐, 管道, 阀门, 锅炉, 加热炉, 厂内机动车辆 …)
# are accepted without an alias. Reactors are vessels in ISO 14224; elevators, which the class
# list has no class of their own for, go with the lifting appliances (CR).
USUAL_ALIASES: tuple[tuple[str, str], ...] = (
    # pumps
    ("离心泵", "PU"),
    ("往复泵", "PU"),
    ("螺杆泵", "PU"),
    ("计量泵", "PU"),
    ("齿轮泵", "PU"),
    ("屏蔽泵", "PU"),
    ("磁力泵", "PU"),
    ("隔膜泵", "PU"),
    ("柱塞泵", "PU"),
    ("真空泵", "PU"),
    ("水泵", "PU"),
    ("油泵", "PU"),
    # compressors
    ("离心压缩机", "CO"),
    ("螺杆压缩机", "CO"),
    ("往复压缩机", "CO"),
    ("活塞压缩机", "CO"),
    ("空压机", "CO"),
    ("冰机", "CO"),
    # blowers and fans
    ("鼓风机", "BL"),
    ("引风机", "BL"),
    ("罗茨风机", "BL"),
    ("离心风机", "BL"),
    ("轴流风机", "BL"),
    ("通风机", "BL"),
    # turbines, motors, generators
    ("蒸汽透平", "ST"),
    ("电机", "EM"),
    ("马达", "EM"),
    ("防爆电机", "EM"),
    ("异步电动机", "EM"),
    ("同步电动机", "EM"),
    ("发电机组", "EG"),
    # electrical
    ("变压器", "PT"),
    ("主变", "PT"),
    ("主变压器", "PT"),
    ("配电变压器", "PT"),
    ("配电柜", "SG"),
    ("高压开关柜", "SG"),
    ("低压开关柜", "SG"),
    ("变频柜", "FC"),
    ("变送器", "IP"),
    ("流量计", "IP"),
    ("压力表", "IP"),
    # mixers
    ("搅拌机", "MI"),
    # heat exchangers
    ("冷却器", "HE"),
    ("再沸器", "HE"),
    ("冷凝器", "HE"),
    ("蒸发器", "HE"),
    ("空冷器", "HE"),
    ("板式换热器", "HE"),
    ("管壳式换热器", "HE"),
    # columns, reactors and vessels
    ("塔", "VE"),
    ("精馏塔", "VE"),
    ("吸收塔", "VE"),
    ("反应器", "VE"),
    ("反应釜", "VE"),
    ("压力容器", "VE"),
    ("分离器", "VE"),
    ("缓冲罐", "VE"),
    ("汽包", "VE"),
    # storage tanks
    ("球罐", "TA"),
    ("贮罐", "TA"),
    ("储槽", "TA"),
    ("常压储罐", "TA"),
    # piping
    ("工业管道", "PI"),
    ("压力管道", "PI"),
    ("管线", "PI"),
    # valves
    ("安全阀", "VA"),
    ("调节阀", "VA"),
    ("截止阀", "VA"),
    ("闸阀", "VA"),
    ("球阀", "VA"),
    ("蝶阀", "VA"),
    ("止回阀", "VA"),
    ("阀", "VA"),
    # lifting appliances
    ("起重机", "CR"),
    ("行车", "CR"),
    ("桥式起重机", "CR"),
    ("天车", "CR"),
    ("吊车", "CR"),
    ("电动葫芦", "CR"),
    ("电梯", "CR"),
    # in-plant vehicles
    ("叉车", "VH"),
    ("场内机动车辆", "VH"),
    ("场(厂)内专用机动车辆", "VH"),
    ("厂内专用机动车辆", "VH"),
    ("装载机", "VH"),
    # heaters and boilers
    ("余热锅炉", "HB"),
    ("蒸汽锅炉", "HB"),
    ("管式加热炉", "HB"),
)


def _match_key(text: str) -> str:
    """As imports compare words (maintenance.spreadsheets.squash, copied: a migration never
    imports application code that may change): NFKC, case-folded, without spaces and the
    punctuation people vary."""
    return re.sub(r"[\s*:：/\\._\-·、]", "", unicodedata.normalize("NFKC", text).casefold())


def upgrade() -> None:
    alias_table = op.create_table(
        "asset_class_alias",
        sa.Column("alias", sa.String(length=40), nullable=False),
        sa.Column("asset_class", sa.String(length=30), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_key", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_class_alias")),
        sa.UniqueConstraint("match_key", name=op.f("uq_asset_class_alias_match_key")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        alias_table,
        [
            {"alias": alias, "asset_class": code, "match_key": _match_key(alias), "created_at": now}
            for alias, code in USUAL_ALIASES
        ],
    )


def downgrade() -> None:
    op.drop_table("asset_class_alias")
