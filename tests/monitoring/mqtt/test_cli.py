"""`maintenance ingest mapping load` and the checks `ingest mqtt` makes before connecting."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from maintenance import cli
from maintenance.monitoring.mqtt.consumer import Broker
from maintenance.monitoring.mqtt.models import MqttMapping
from tests import factories


def test_a_mapping_file_is_loaded_all_or_nothing(
    cli_in_test_session: CliRunner, session: Session, tmp_path: Path
) -> None:
    good = tmp_path / "mapping.toml"
    good.write_text(
        '[[rules]]\ntopic = "plant/{workshop}/{point}/reading"\n\n[[rules]]\ntopic = "bus/#"\npoint_field = "id"\n'
    )
    result = cli_in_test_session.invoke(cli.app, ["ingest", "mapping", "load", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 mapping rules loaded" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text('[{"topic": "a/{point}"}, {"topic": "a/#/b"}]')
    refused = cli_in_test_session.invoke(cli.app, ["ingest", "mapping", "load", str(bad)])
    assert refused.exit_code == 1
    assert "row 2, topic" in refused.output
    assert [m.topic for m in session.scalars(select(MqttMapping).order_by(MqttMapping.position))] == [
        "plant/{workshop}/{point}/reading",
        "bus/#",
    ]


def test_ingest_refuses_before_connecting(cli_in_test_session: CliRunner, session: Session) -> None:
    both = cli_in_test_session.invoke(cli.app, ["ingest", "mqtt", "--token", "x", "--user", "y"])
    assert both.exit_code == 1
    assert "either --token or --user" in both.output
    bad_url = cli_in_test_session.invoke(cli.app, ["ingest", "mqtt", "--user", "y", "--broker", "http://x"])
    assert bad_url.exit_code == 1
    assert "not an MQTT broker URL" in bad_url.output
    auditor = factories.UserFactory(role="auditor")
    refused = cli_in_test_session.invoke(cli.app, ["ingest", "mqtt", "--user", auditor.username, "--topic", "a/#"])
    assert refused.exit_code == 1
    assert "error:" in refused.output
    admin = factories.UserFactory(role="admin")
    no_topic = cli_in_test_session.invoke(cli.app, ["ingest", "mqtt", "--user", admin.username])
    assert no_topic.exit_code == 1
    assert "no topic" in no_topic.output


def test_the_broker_password_comes_from_a_file_or_the_environment_and_is_never_echoed(
    cli_in_test_session: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAINTENANCE_MQTT_PASSWORD", raising=False)
    bad_url = cli_in_test_session.invoke(cli.app, ["ingest", "mqtt", "--user", "y", "--broker", "http://u:s3cret@x"])
    assert bad_url.exit_code == 1
    assert "not an MQTT broker URL" in bad_url.output
    assert "s3cret" not in bad_url.output
    with pytest.raises(ValueError, match="not an MQTT broker URL") as refused:
        Broker.parse("u:s3cret@")
    assert "s3cret" not in str(refused.value)
    assert "'u:***@'" in str(refused.value)
    assert "s3cret" not in repr(Broker.parse("mqtt://u:s3cret@host"))
    secret = tmp_path / "mqtt-password"
    secret.write_text("from-file\n")
    assert cli.mqtt_broker("mqtt://ingest@broker:1884", secret) == Broker("broker", 1884, "ingest", "from-file")
    monkeypatch.setenv("MAINTENANCE_MQTT_PASSWORD", "from-env")
    assert cli.mqtt_broker("mqtt://ingest@broker", None).password == "from-env"
    assert cli.mqtt_broker("mqtt://ingest@broker", secret).password == "from-file"
    missing = cli_in_test_session.invoke(
        cli.app, ["ingest", "mqtt", "--user", "y", "--password-file", str(tmp_path / "nope")]
    )
    assert missing.exit_code != 0
    no_user = cli_in_test_session.invoke(cli.app, ["ingest", "mqtt", "--user", "y", "--broker", "mqtt://broker"])
    assert no_user.exit_code == 1
    assert "user name" in no_user.output
