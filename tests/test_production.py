"""Running in production: the secret key must be configured (a generated one would differ on each
host), and ``maintenance serve`` starts as many workers as the database can use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from maintenance.cli import default_workers
from maintenance.config import MIN_SECRET_KEY_LENGTH, Settings

SRC = str(Path(__file__).resolve().parents[1] / "src")
STRONG_KEY = "k" * MIN_SECRET_KEY_LENGTH


@pytest.fixture
def no_secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAINTENANCE_SECRET_KEY", raising=False)


@pytest.mark.usefixtures("no_secret_in_environment")
def test_prod_refuses_to_start_without_a_configured_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(environment="prod", var_dir=tmp_path)

    message = str(refused.value)
    assert "MAINTENANCE_SECRET_KEY is not set" in message
    assert "the same on every host and worker" in message
    assert not (tmp_path / "secret_key").exists(), "nothing is generated in prod"


@pytest.mark.usefixtures("no_secret_in_environment")
def test_prod_ignores_a_key_generated_earlier_under_var(tmp_path: Path) -> None:
    """A var/secret_key left by a dev run on the host is still a per-host key: refused."""
    (tmp_path / "secret_key").write_text(STRONG_KEY)

    with pytest.raises(ValidationError, match="MAINTENANCE_SECRET_KEY is not set"):
        Settings(environment="prod", var_dir=tmp_path)


@pytest.mark.parametrize("environment", ["dev", "test"])
@pytest.mark.usefixtures("no_secret_in_environment")
def test_dev_and_test_generate_a_key_once_under_var(environment: str, tmp_path: Path) -> None:
    first = Settings(environment=environment, var_dir=tmp_path)  # type: ignore[arg-type]
    again = Settings(environment=environment, var_dir=tmp_path)  # type: ignore[arg-type]

    assert len(first.secret_key) >= MIN_SECRET_KEY_LENGTH
    assert again.secret_key == first.secret_key == (tmp_path / "secret_key").read_text()
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("key", "reason"),
    [("changeme", "known placeholder"), ("k" * (MIN_SECRET_KEY_LENGTH - 1), "too short")],
)
def test_prod_refuses_a_placeholder_or_short_key(key: str, reason: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=reason):
        Settings(environment="prod", var_dir=tmp_path, secret_key=key)


def test_prod_accepts_a_configured_key(tmp_path: Path) -> None:
    assert Settings(environment="prod", var_dir=tmp_path, secret_key=STRONG_KEY).secret_key == STRONG_KEY


def test_serve_in_prod_without_a_key_exits_with_the_reason(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAINTENANCE_")}
    env.update(
        PYTHONPATH=SRC,
        MAINTENANCE_ENVIRONMENT="prod",
        MAINTENANCE_VAR_DIR=str(tmp_path / "var"),
        MAINTENANCE_DATABASE_URL=f"sqlite:///{tmp_path / 'm.db'}",
        COLUMNS="200",
    )

    result = subprocess.run(
        [sys.executable, "-m", "maintenance.cli", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert result.returncode == 1
    assert "MAINTENANCE_SECRET_KEY is not set" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert "serving" not in result.stdout


@pytest.mark.parametrize(
    ("url", "cores", "workers"),
    [
        ("sqlite:///var/maintenance.db", 8, 1),
        ("sqlite://", 1, 1),
        ("postgresql+psycopg://maintenance@db/maintenance", 8, 8),
        ("postgresql+psycopg://maintenance@db/maintenance", 1, 1),
        ("postgresql+psycopg://maintenance@db/maintenance", None, 1),
    ],
)
def test_serve_defaults_to_a_worker_per_core_on_postgresql_and_one_on_sqlite(
    url: str, cores: int | None, workers: int
) -> None:
    assert default_workers(url, cores) == workers


@pytest.mark.parametrize(("arguments", "workers"), [([], 1), (["--workers", "3"], 3)])
def test_serve_starts_uvicorn_with_the_default_or_the_chosen_workers(
    arguments: list[str], workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite's database is SQLite unless MAINTENANCE_TEST_DATABASE_URL says PostgreSQL."""
    import uvicorn

    from maintenance.cli import app
    from maintenance.config import get_settings

    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: started.append({"target": target, **options}))

    result = CliRunner().invoke(app, ["serve", *arguments])

    assert result.exit_code == 0, result.output
    expected = workers if arguments else default_workers(get_settings().database_url, os.cpu_count())
    assert started == [
        {
            "target": "maintenance.main:app",
            "host": "127.0.0.1",
            "port": 8000,
            "workers": expected,
            "proxy_headers": True,
            "forwarded_allow_ips": "127.0.0.1",
        }
    ]
