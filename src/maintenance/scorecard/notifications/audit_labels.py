"""The notifications domain's names in the change log (see :mod:`maintenance.audit.labels`)."""

from __future__ import annotations

from maintenance.audit.labels import register_labels

register_labels(
    "notification_preference",
    ("通知设置", "Notification setting"),
    {
        "user_id": ("用户", "User"),
        "topic": ("通知类别", "Topic"),
        "enabled": ("站内通知", "In-app"),
        "digest": ("每日邮件摘要", "Daily e-mail digest"),
        "updated_at": ("修改时间", "Updated at"),
    },
    title_columns=("user_id", "topic"),
)
register_labels(
    "notification_read",
    ("通知已读", "Notification read"),
    {"user_id": ("用户", "User"), "key": ("通知", "Notification"), "read_at": ("阅读时间", "Read at")},
)
