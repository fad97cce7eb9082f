"""The org domain's names in the change log (see :mod:`maintenance.audit.labels`)."""

from __future__ import annotations

from maintenance.audit.labels import register_labels

CREATED_AT = ("创建时间", "Created at")

register_labels(
    "site",
    ("厂区", "Site"),
    {"code": ("编码", "Code"), "name": ("名称", "Name"), "created_at": CREATED_AT},
    title_columns=("name",),
)
register_labels(
    "workshop",
    ("车间", "Workshop"),
    {"code": ("编码", "Code"), "name": ("名称", "Name"), "site_id": ("厂区", "Site"), "created_at": CREATED_AT},
    title_columns=("name",),
)
register_labels(
    "unit",
    ("装置", "Unit"),
    {"code": ("编码", "Code"), "name": ("名称", "Name"), "workshop_id": ("车间", "Workshop"), "created_at": CREATED_AT},
    title_columns=("name",),
)
register_labels(
    "app_user",
    ("用户", "User"),
    {
        "username": ("用户名", "Username"),
        "full_name": ("姓名", "Full name"),
        "role": ("角色", "Role"),
        "is_active": ("启用", "Active"),
        "email": ("电子邮箱", "E-mail"),
        "language": ("邮件语言", "E-mail language"),
        "created_at": CREATED_AT,
        "last_login_at": ("最近登录", "Last login"),
        # Logged beside the columns by the user service.
        "workshop_ids": ("所属车间", "Workshops"),
        "password_changed": ("密码已修改", "Password changed"),
    },
    title_columns=("username", "full_name"),
    references={"workshop_ids": "workshop"},
)
register_labels(
    "api_token",
    ("API 令牌", "API token"),
    {
        "user_id": ("用户", "User"),
        "name": ("名称", "Name"),
        "scopes": ("权限范围", "Scopes"),
        "prefix": ("令牌前缀", "Prefix"),
        "created_at": CREATED_AT,
        "expires_at": ("到期时间", "Expires at"),
        "last_used_at": ("最近使用", "Last used"),
        "revoked_at": ("吊销时间", "Revoked at"),
        "revoked_by": ("吊销人", "Revoked by"),
    },
    title_columns=("name",),
)
