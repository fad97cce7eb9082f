"""Choices of condition monitoring (codes stored; labels and colours shown)."""

from __future__ import annotations

from maintenance.choices import Choice


class Quantity(Choice):
    """What a point measures. Units and physically possible ranges are in :mod:`rules`."""

    VIBRATION = ("vibration", "振动速度(有效值)", "Vibration velocity (RMS)", "primary")
    BEARING_TEMPERATURE = ("bearing_temp", "轴承温度", "Bearing temperature", "danger")
    TEMPERATURE = ("temperature", "温度", "Temperature", "danger")
    PRESSURE = ("pressure", "压力", "Pressure", "info")
    FLOW = ("flow", "流量", "Flow", "info")
    CURRENT = ("current", "电流", "Current", "warning")
    WALL_THICKNESS = ("thickness", "壁厚", "Wall thickness", "secondary")
    OIL_PARTICLES = ("oil_ppm", "油液分析", "Oil analysis", "secondary")
    LEAK_COUNT = ("leak_count", "泄漏点数", "Leak count", "secondary")
    RUNTIME_HOURS = ("runtime", "累计运行小时", "Runtime hours", "secondary")


class ConditionState(Choice):
    NORMAL = ("normal", "正常", "Normal", "success")
    WARNING = ("warning", "预警", "Warning", "warning")
    ALARM = ("alarm", "报警", "Alarm", "danger")


class ReadingSource(Choice):
    FORM = ("form", "手工录入", "Form", "secondary")
    ROUND = ("round", "点检", "Round", "primary")
    IMPORT = ("import", "文件导入", "File import", "info")
    API = ("api", "接口", "API", "dark")
    MQTT = ("mqtt", "MQTT 传感器", "MQTT sensor", "dark")


class LimitPreset(Choice):
    """ISO 10816-3 machine group × foundation; limits B/C (warning) and C/D (alarm) come from it."""

    NONE = ("none", "手工设定", "Set by hand", "light")
    G1_RIGID = ("iso10816_g1_rigid", "ISO 10816-3 第1组 刚性基础", "ISO 10816-3 group 1, rigid", "primary")
    G1_FLEXIBLE = ("iso10816_g1_flexible", "ISO 10816-3 第1组 柔性基础", "ISO 10816-3 group 1, flexible", "primary")
    G2_RIGID = ("iso10816_g2_rigid", "ISO 10816-3 第2组 刚性基础", "ISO 10816-3 group 2, rigid", "primary")
    G2_FLEXIBLE = ("iso10816_g2_flexible", "ISO 10816-3 第2组 柔性基础", "ISO 10816-3 group 2, flexible", "primary")


class AlertState(Choice):
    OPEN = ("open", "报警中", "Active", "danger")
    BACK_TO_NORMAL = ("normal_again", "已恢复正常", "Back to normal", "success")
    CLOSED = ("closed", "已处理", "Closed", "secondary")
