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
# Not logged (the consumer writes them with every batch), but named like every table.
register_labels(
    "mqtt_ingest_stats",
    ("MQTT 采集统计", "MQTT ingest statistics"),
    {
        "name": ("采集名称", "Ingest name"),
        "received": ("已接收", "Received"),
        "stored": ("已存储", "Stored"),
        "duplicates": ("重复", "Duplicates"),
        "refused": ("已拒收", "Refused"),
        "last_message_at": ("最近消息时间", "Last message at"),
        "lag_seconds": ("延迟（秒）", "Lag (s)"),
        "per_minute": ("每分钟读数", "Readings per minute"),
        "connected": ("已连接", "Connected"),
        "updated_at": ("更新时间", "Updated at"),
    },
    title_columns=("name",),
)
register_labels(
    "mqtt_refusal",
    ("MQTT 拒收消息", "Refused MQTT message"),
    {
        "ingest": ("采集名称", "Ingest name"),
        "received_at": ("接收时间", "Received at"),
        "topic": ("主题", "Topic"),
        "payload": ("消息内容", "Payload"),
        "reason": ("原因", "Reason"),
    },
)
