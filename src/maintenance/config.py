"""Typed settings read from ``MAINTENANCE_*`` environment variables."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = Path(__file__).resolve().parent

# An address as people type it: something@domain.tld, no spaces, no angle brackets or quotes (a
# plant's internal addresses; the SMTP server has the last word on whether it exists).
EMAIL_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+$")
EMAIL_MAX_LENGTH = 254


def is_email_address(text: str) -> bool:
    return len(text) <= EMAIL_MAX_LENGTH and EMAIL_ADDRESS.match(text) is not None


# Values that have appeared in examples and must never sign real sessions.
KNOWN_PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development", "test"})
# Where a missing MAINTENANCE_SECRET_KEY is generated into var/secret_key; elsewhere it is refused.
SECRET_GENERATED_IN = frozenset({"dev", "test"})
MIN_SECRET_KEY_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAINTENANCE_", env_ignore_empty=True, extra="ignore")

    environment: Literal["dev", "test", "prod"] = "dev"
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    secret_key: str = ""
    # Signs the change log (HMAC-SHA256 of each row's hash and of the chain's anchor), so a chain
    # recomputed after an edit, or an anchor rewritten after the newest rows were deleted, is
    # detected. Optional: without it the log still detects edited and removed rows, but not a
    # chain recomputed by someone with write access to the database. Keep it out of the database
    # (and its backups); every process that writes the log needs the same key.
    audit_key: SecretStr | None = None
    language: Literal["zh_CN", "en"] = "zh_CN"
    # The plant's wall clock: dates typed by users and "end of day" for as-of exports.
    timezone: str = "Asia/Shanghai"
    # Start the wall clock at this instant (ISO 8601 with an offset) instead of the real time; it
    # then runs on from there. For demos and for running the suite on a chosen day (a year end, a
    # leap day): every date and time the product uses comes from this one clock (db.utcnow).
    clock_start: datetime | None = None
    templates_dir: Path = PROJECT_ROOT / "templates"
    seed_dir: Path = PROJECT_ROOT / "seed"
    # Failed logins allowed per username within the window before it is locked.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # Failed logins allowed from one client address within the window (any usernames) before
    # the address is refused (429). Behind a reverse proxy the app must see the client's own
    # address (`maintenance serve` trusts X-Forwarded-For from the proxy at 127.0.0.1).
    login_address_max_failures: int = Field(default=20, ge=1)
    session_max_age_hours: int = Field(default=12, ge=1)
    page_size: int = Field(default=50, ge=5, le=500)
    # Work orders whose planned cost exceeds this need a manager's approval (检修项目审批).
    order_approval_threshold_cny: Decimal = Field(default=Decimal("50000"), ge=0)
    # Four eyes: whoever requested an order may not approve it (another engineer or a manager
    # does). System processes (the PM scheduler) raise and approve without a person.
    order_four_eyes: bool = True
    # The PM scheduler raises orders falling due within this many days (plus each plan's lead time).
    scheduler_horizon_days: int = Field(default=14, ge=1, le=366)
    scheduler_interval_minutes: int = Field(default=60, ge=1)
    # Spreadsheet imports are checked against these before a parser sees them (a 2 KB workbook
    # can declare a sheet of a million rows by sixteen thousand columns): rows and columns of a
    # sheet, cells (rows × columns) of all sheets, the MB a workbook may unpack to. The asset
    # register first, then the readings import (a historian's export: up to a million rows of
    # a few columns; CSV is streamed, so its rows only cost time).
    import_max_rows: int = Field(default=200_000, ge=1)
    import_max_columns: int = Field(default=200, ge=1)
    import_max_cells: int = Field(default=4_000_000, ge=1)
    import_max_unpacked_mb: int = Field(default=256, ge=1)
    reading_import_max_rows: int = Field(default=5_000_000, ge=1)
    reading_import_max_columns: int = Field(default=50, ge=1)
    reading_import_max_cells: int = Field(default=10_000_000, ge=1)
    reading_import_max_unpacked_mb: int = Field(default=1024, ge=1)
    # An export of more rows than this (counted up to one more) runs as a background job on the
    # "My exports" page instead of inside the request; at most this many of a user's exports are
    # queued or running at once; workers per app process; a running job whose heartbeat is older
    # than this many minutes was interrupted (its process stopped); jobs and files are kept this long.
    export_job_threshold_rows: int = Field(default=5_000, ge=1)
    export_jobs_per_user: int = Field(default=2, ge=1)
    export_job_workers: int = Field(default=2, ge=1, le=16)
    export_job_stale_minutes: int = Field(default=10, ge=1)
    export_job_keep_hours: int = Field(default=24, ge=1)
    # E-mail (the daily notification digest, the admins' test mail). No host: e-mail is off.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = ""  # the sender's address, required with a host
    smtp_timeout: float = Field(default=10.0, gt=0, le=300)
    # Where the app is served, for the links in e-mails (they are read outside the app).
    base_url: str = "http://localhost:8000"
    # The digest goes out once a plant day, at the scheduler's first pass after this hour.
    digest_hour: int = Field(default=7, ge=0, le=23)
    # Items listed per topic in a digest; the rest are counted ("and 3 more").
    digest_max_items: int = Field(default=10, ge=1, le=200)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'maintenance.db'}"
        if not self.secret_key:
            if self.environment not in SECRET_GENERATED_IN:
                # Every host (and worker) would sign with a key of its own: sessions would not
                # survive a restart on a new machine nor move between servers behind one proxy.
                raise ValueError(
                    f"MAINTENANCE_SECRET_KEY is not set: in {self.environment} it must be configured, the same "
                    "on every host and worker (generate one with `openssl rand -hex 32`); "
                    "only dev and test generate one under var/"
                )
            self.secret_key = _secret_from_var(self.var_dir)
        if self.clock_start is not None:
            if self.environment == "prod":
                raise ValueError("MAINTENANCE_CLOCK_START is for demos and tests; it is refused in prod")
            if self.clock_start.tzinfo is None:
                raise ValueError("MAINTENANCE_CLOCK_START needs an offset, e.g. 2026-12-31T23:30:00+08:00")
        if self.smtp_host and not self.smtp_from:
            raise ValueError("MAINTENANCE_SMTP_HOST needs MAINTENANCE_SMTP_FROM, the address mail is sent from")
        if self.environment != "dev" and self.secret_key.lower() in KNOWN_PLACEHOLDER_SECRETS:
            raise ValueError(
                "MAINTENANCE_SECRET_KEY is a known placeholder; set a random value (`openssl rand -hex 32`)"
            )
        if self.environment == "prod" and len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"MAINTENANCE_SECRET_KEY is too short: at least {MIN_SECRET_KEY_LENGTH} random characters "
                "(`openssl rand -hex 32`)"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def files_dir(self) -> Path:
        return self.var_dir / "files"

    @property
    def exports_dir(self) -> Path:
        """The files of export jobs (removed with their jobs; not part of a backup)."""
        return self.var_dir / "exports"

    @field_validator("smtp_from")
    @classmethod
    def _from_is_an_address(cls, address: str) -> str:
        if address.strip() and not is_email_address(address.strip()):
            raise ValueError("MAINTENANCE_SMTP_FROM must be an e-mail address, e.g. maintenance@plant.example")
        return address.strip()

    @field_validator("base_url")
    @classmethod
    def _base_url_is_absolute(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("MAINTENANCE_BASE_URL must start with http:// or https://")
        return url.rstrip("/")

    @field_validator("audit_key")
    @classmethod
    def _audit_key_is_strong(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value().strip()) < 16:
            raise ValueError("MAINTENANCE_AUDIT_KEY needs at least 16 random characters (e.g. `openssl rand -hex 32`)")
        return key


def _secret_from_var(var_dir: Path) -> str:
    """Read the secret generated on first run, creating it (mode 600) when absent."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
