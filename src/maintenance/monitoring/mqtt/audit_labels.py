"""The MQTT mapping rules' names in the change log (see :mod:`maintenance.audit.labels`)."""

from __future__ import annotations

from maintenance.audit.labels import register_labels

register_labels(
    "mqtt_mapping",
    ("MQTT 映射规则", "MQTT mapping rule"),
    {
        "position": ("顺序", "Order"),
        "topic": ("主题模板", "Topic template"),
        "point_template": ("测点编码模板", "Point code template"),
        "point_field": ("测点编码字段", "Point code field"),
        "value_field": ("数值字段", "Value field"),
        "time_field": ("时间字段", "Time field"),
        "scale": ("比例系数", "Scale"),
        "offset": ("偏移量", "Offset"),
        "is_active": ("启用", "Active"),
        "note": ("说明", "Note"),
        "version": ("版本", "Version"),
    },
    title_columns=("topic",),
)
