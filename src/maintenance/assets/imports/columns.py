"""The columns of an asset list: the field each one fills, its template headers in Chinese and
English, the names ledgers give it, the kind of cell it holds, and the choices its cells name
(equipment classes by code, label or any alias an administrator added)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from maintenance import spreadsheets
from maintenance.assets import class_aliases
from maintenance.assets.choices import AssetClass, AssetStatus, Criticality, SpecialCategory
from maintenance.assets.class_aliases import ClassWord
from maintenance.assets.models import AssetFields
from maintenance.choices import Choice
from maintenance.i18n import current_locale
from maintenance.i18n import gettext as _
from maintenance.spreadsheets import NOTHING, CellError, cell_text, squash

# "code": normalised (full-width forms → ordinary ones); "text" and "notes": free text, kept as written.
Kind = Literal["code", "text", "notes", "choice", "date", "money", "int", "rate", "workshop", "unit", "parent"]


@dataclass(frozen=True)
class Column:
    """One importable column: the model field, its template headers and the names users give it."""

    field: str
    zh: str
    en: str
    kind: Kind = "text"
    aliases: tuple[str, ...] = ()
    required: bool = False
    choice: type[Choice] | None = None

    @property
    def label(self) -> str:
        return self.zh if current_locale() == "zh_CN" else self.en

    @property
    def max_length(self) -> int | None:
        info = AssetFields.model_fields.get(self.field)
        for item in info.metadata if info else ():
            if hasattr(item, "max_length"):
                return int(item.max_length)
        return None


COLUMNS: tuple[Column, ...] = (
    Column(
        "tag",
        "位号",
        "Tag",
        "code",
        aliases=("设备位号", "设备编号", "tag no", "tag number", "equipment tag"),
        required=True,
    ),
    Column("name", "设备名称", "Name", aliases=("名称", "asset name", "equipment name"), required=True),
    Column(
        "asset_class",
        "设备类别",
        "Class",
        "choice",
        ("类别", "设备分类", "设备类型", "equipment class", "asset class", "iso 14224 class"),
        required=True,
        choice=AssetClass,
    ),
    Column("workshop", "车间", "Workshop", "workshop", ("所属车间", "使用车间", "车间名称"), required=True),
    Column("unit", "装置", "Unit", "unit", ("工段", "装置/工段", "所属装置", "装置名称")),
    Column("parent_tag", "上级设备", "Parent tag", "parent", ("上级位号", "上级设备位号", "所属设备", "parent")),
    Column("manufacturer", "制造厂", "Manufacturer", aliases=("制造厂家", "生产厂家", "制造单位", "制造商", "厂家")),
    Column("spec", "规格型号", "Model/Spec", aliases=("型号", "规格", "型号规格", "model", "spec", "specification")),
    Column("serial_number", "出厂编号", "Serial", "code", ("出厂号", "制造编号", "serial number", "serial no")),
    Column("install_date", "安装日期", "Install date", "date", ("安装时间", "installed on", "installation date")),
    Column(
        "commission_date",
        "投用日期",
        "Commission date",
        "date",
        ("投运日期", "投产日期", "投用时间", "启用日期", "commissioned on", "commissioning date"),
    ),
    Column("criticality", "重要度", "Criticality", "choice", ("重要程度", "设备重要度", "ABC分类"), choice=Criticality),
    Column("status", "状态", "Status", "choice", ("设备状态", "使用状态"), choice=AssetStatus),
    Column(
        "fixed_asset_number",
        "固定资产编号",
        "Fixed asset number",
        "code",
        ("资产编号", "固定资产卡片号", "卡片编号", "fixed asset no", "asset number"),
    ),
    Column(
        "original_value_cny",
        "原值(元)",
        "Original value (CNY)",
        "money",
        ("原值", "资产原值", "固定资产原值", "账面原值", "original value"),
    ),
    Column("useful_life_years", "折旧年限", "Useful life (years)", "int", ("使用年限", "预计使用年限", "useful life")),
    Column("salvage_rate", "残值率", "Salvage rate", "rate", ("净残值率", "预计净残值率", "residual rate")),
    Column(
        "special_category",
        "特种设备类别",
        "Special category",
        "choice",
        ("特种设备", "特种设备种类", "special equipment", "special equipment category"),
        choice=SpecialCategory,
    ),
    Column(
        "registration_number",
        "使用登记证号",
        "Registration number",
        "code",
        ("使用登记证编号", "登记证号", "使用证号", "registration certificate no", "registration no"),
    ),
    Column("custodian", "保管人", "Custodian", aliases=("责任人", "保管责任人", "keeper")),
    Column("notes", "备注", "Notes", "notes", ("说明", "remarks", "remark", "comment")),
    Column("retired_date", "报废日期", "Retired on", "date", ("retired date", "retirement date")),
    Column("retire_reason", "报废原因", "Retire reason", aliases=("retirement reason",)),
)
COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}
REQUIRED = tuple(column for column in COLUMNS if column.required)
HEADERS = spreadsheets.HeaderMatcher(
    {column.field: (column.zh, column.en, column.field, *column.aliases) for column in COLUMNS}
)


def is_canonical(header: str, name: str) -> bool:
    """Whether ``header`` names field ``name`` as the template does (not by an alias)."""
    column = COLUMN_BY_FIELD[name]
    keys = set(spreadsheets.header_keys(header))
    return any(keys & set(spreadsheets.header_keys(text)) for text in (column.zh, column.en, column.field))


# --- Choices ------------------------------------------------------------------------------

_EXTRA_CHOICE_NAMES: dict[type[Choice], dict[str, str]] = {
    Criticality: {
        "a类": "A",
        "a级": "A",
        "关键": "A",
        "critical": "A",
        "b类": "B",
        "b级": "B",
        "重要": "B",
        "important": "B",
        "c类": "C",
        "c级": "C",
        "一般": "C",
        "general": "C",
    },
    AssetStatus: {"运行": "in_service", "使用": "in_service", "使用中": "in_service", "维修": "under_repair"},
    SpecialCategory: {
        "无": "none",
        "否": "none",
        "非特种": "none",
        "no": "none",
        "场内专用机动车辆": "vehicle",
        "厂内专用机动车辆": "vehicle",
        "厂内机动车辆": "vehicle",
        "场(厂)内机动车辆": "vehicle",
        "起重机": "lifting",
    },
}


_CHOICE_NAMES: dict[type[Choice], dict[str, Choice]] = {
    choice: dict(spreadsheets.choice_names(choice, _EXTRA_CHOICE_NAMES.get(choice)))
    for choice in (AssetClass, AssetStatus, Criticality, SpecialCategory)
}


def parse_choice(
    value: Any,
    choice: type[Choice],
    *,
    names: dict[str, Choice] | None = None,
    words: Sequence[ClassWord] | None = None,
) -> Choice | None:
    """A member by code, label or other name. ``names`` (by :func:`squash` key) replaces the
    built-in names: equipment classes pass theirs with the aliases, and ``words`` to suggest
    the closest classes for an unknown word."""
    text = cell_text(value)
    if choice is SpecialCategory and text and (not squash(text) or text.casefold() in NOTHING):
        return SpecialCategory.NONE  # "-", "/", "无": not special equipment
    names = names if names is not None else _CHOICE_NAMES[choice]
    if choice is AssetClass and text and squash(text) not in names:
        raise CellError(_unknown_class(text, words if words is not None else class_aliases.words_of(())))
    return spreadsheets.parse_choice(value, names, choice)


def _unknown_class(text: str, words: Sequence[ClassWord]) -> str:
    """未知类别“离芯泵”，是否为：离心泵(泵)、泵？ — or, with nothing close, the classes there are."""
    closest = class_aliases.closest_words(text, words)
    separator = "、" if current_locale() == "zh_CN" else ", "
    if closest:
        return _(
            "Unknown class “%(value)s”. Did you mean: %(suggestions)s?",
            value=text,
            suggestions=separator.join(dict.fromkeys(word.label for word in closest)),
        )
    return _(
        "Unknown class “%(value)s”. Give one of the classes %(options)s, or a word an administrator has "
        "added as an alias of one.",
        value=text,
        options=separator.join(member.label for member in AssetClass),
    )
