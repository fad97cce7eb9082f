"""Choices of the asset registry (codes stored; labels and colours shown)."""

from __future__ import annotations

from maintenance.choices import Choice


class AssetClass(Choice):
    """ISO 14224 equipment classes (Annex A codes) that occur in a chemical plant; the
    last few are local classes for items ISO 14224 does not list on their own."""

    COMPRESSOR = ("CO", "压缩机", "Compressor", "primary")
    PUMP = ("PU", "泵", "Pump", "primary")
    ELECTRIC_MOTOR = ("EM", "电动机", "Electric motor", "primary")
    STEAM_TURBINE = ("ST", "汽轮机", "Steam turbine", "primary")
    ELECTRIC_GENERATOR = ("EG", "发电机", "Electric generator", "primary")
    BLOWER_FAN = ("BL", "风机", "Blower / fan", "primary")
    MIXER = ("MI", "搅拌器", "Mixer", "primary")
    CENTRIFUGE = ("CF", "离心机", "Centrifuge", "primary")
    HEAT_EXCHANGER = ("HE", "换热器", "Heat exchanger", "info")
    VESSEL = ("VE", "容器/塔器", "Vessel / column", "info")
    STORAGE_TANK = ("TA", "储罐", "Storage tank", "info")
    PIPING = ("PI", "管道", "Piping", "info")
    HEATER_BOILER = ("HB", "锅炉/加热炉", "Heater / boiler", "info")
    CRANE = ("CR", "起重机械", "Crane", "warning")
    VALVE = ("VA", "阀门", "Valve", "secondary")
    POWER_TRANSFORMER = ("PT", "电力变压器", "Power transformer", "danger")
    SWITCHGEAR = ("SG", "开关柜", "Switchgear", "danger")
    FREQUENCY_CONVERTER = ("FC", "变频器", "Frequency converter", "danger")
    INSTRUMENT = ("IP", "仪表", "Instrument / input device", "secondary")
    VEHICLE = ("VH", "厂内机动车辆", "In-plant vehicle", "warning")


class Criticality(Choice):
    A = ("A", "A类(关键)", "A (critical)", "danger")
    B = ("B", "B类(重要)", "B (important)", "warning")
    C = ("C", "C类(一般)", "C (general)", "secondary")


class AssetStatus(Choice):
    IN_SERVICE = ("in_service", "在用", "In service", "success")
    STANDBY = ("standby", "备用", "Standby", "info")
    UNDER_REPAIR = ("under_repair", "检修", "Under repair", "warning")
    IDLE = ("idle", "闲置", "Idle", "secondary")
    RETIRED = ("retired", "报废", "Retired", "dark")


class SpecialCategory(Choice):
    """特种设备 categories (《特种设备目录》) that plants register with the regulator."""

    NONE = ("none", "非特种设备", "Not special equipment", "light")
    BOILER = ("boiler", "锅炉", "Boiler", "danger")
    PRESSURE_VESSEL = ("pressure_vessel", "压力容器", "Pressure vessel", "danger")
    PRESSURE_PIPING = ("pressure_piping", "压力管道", "Pressure piping", "danger")
    ELEVATOR = ("elevator", "电梯", "Elevator", "warning")
    LIFTING = ("lifting", "起重机械", "Lifting appliance", "warning")
    VEHICLE = ("vehicle", "场(厂)内专用机动车辆", "In-plant motor vehicle", "warning")
    SAFETY_VALVE = ("safety_valve", "安全阀", "Safety valve", "danger")
    GAS_CYLINDER = ("gas_cylinder", "气瓶", "Gas cylinder", "warning")
