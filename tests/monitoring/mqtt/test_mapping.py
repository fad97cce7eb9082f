"""Topic and payload → reading, without a broker or a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from maintenance.monitoring.mqtt.mapping import Mapper, Refused, Rule, parse_time, rule_errors, subscription_filter
from maintenance.monitoring.readings.ingest import ReadingIn

RECEIVED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PLANT = Rule("plant/{workshop}/{point}/reading")


def test_a_named_level_gives_the_point_and_the_payload_value_and_time() -> None:
    mapped = Mapper([PLANT]).map(
        "plant/W1/P-101/reading", b'{"value": 12.3, "ts": "2026-01-05T08:00:00Z"}', RECEIVED, 7
    )
    assert mapped == ReadingIn("P-101", datetime(2026, 1, 5, 8, 0, tzinfo=UTC), 12.3, 7)


def test_a_message_without_time_gets_the_receipt_time() -> None:
    mapper = Mapper([PLANT])
    assert mapper.map("plant/W1/P-1/reading", b'{"value": 1}', RECEIVED) == ReadingIn("P-1", RECEIVED, 1.0)
    assert mapper.map("plant/W1/P-1/reading", b"2.5", RECEIVED) == ReadingIn("P-1", RECEIVED, 2.5)


def test_template_payload_fields_scale_and_offset() -> None:
    rules = [
        Rule(
            "site/{area}/{tag}",
            point_template="{area}-{tag}",
            value_field="data.v",
            time_field="t",
            scale=0.1,
            offset=-2,
        ),
        Rule("bus/#", point_field="id", value_field="v"),
    ]
    mapper = Mapper(rules)
    assert mapper.map("site/A/7", b'{"data": {"v": 50}, "t": 1767600000}', RECEIVED) == ReadingIn(
        "A-7", datetime(2026, 1, 5, 8, 0, tzinfo=UTC), 3.0
    )
    assert mapper.map("bus/x/y/z", b'{"id": " P-9 ", "v": "4.5"}', RECEIVED) == ReadingIn("P-9", RECEIVED, 4.5)
    assert mapper.filters() == ["site/+/+", "bus/#"]


def test_the_first_matching_rule_decides() -> None:
    mapper = Mapper([Rule("a/{point}", scale=2), Rule("a/+", scale=3), Rule("+/{point}", scale=5)])
    assert mapper.map("a/P", b"1", RECEIVED) == ReadingIn("P", RECEIVED, 2.0)
    assert mapper.map("b/P", b"1", RECEIVED) == ReadingIn("P", RECEIVED, 5.0)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("other/P", b"1", "No mapping rule matches the topic."),
        ("plant/W/P/reading/extra", b"1", "No mapping rule matches the topic."),
        ("plant/W/P/reading", b"{", "The payload is not JSON."),
        ("plant/W/P/reading", b'{"v": 1}', "The payload has no field value."),
        ("plant/W/P/reading", b'{"value": "abc"}', "The value is not a number."),
        ("plant/W/P/reading", b'{"value": true}', "The value is not a number."),
        ("plant/W/P/reading", b'{"value": [1]}', "The value is not a number."),
        ("plant/W/P/reading", b'{"value": "NaN"}', "The value is not a number."),
        (
            "plant/W/P/reading",
            b'{"value": 1, "ts": "yesterday"}',
            "The time yesterday is neither ISO 8601 nor Unix seconds.",
        ),
        ("plant/W/P/reading", b'{"value": 1, "ts": 1e300}', "The time 1e+300 is neither ISO 8601 nor Unix seconds."),
    ],
)
def test_refusals_say_why(english: None, topic: str, payload: bytes, reason: str) -> None:
    assert Mapper([PLANT]).map(topic, payload, RECEIVED) == Refused(reason)


def test_times_iso_with_offset_naive_seconds_and_milliseconds() -> None:
    assert parse_time("2026-01-05T16:00:00+08:00") == datetime(2026, 1, 5, 16, tzinfo=timezone(timedelta(hours=8)))
    assert parse_time("2026-01-05T08:00:00").tzinfo is None  # plant time: ingest places it
    assert parse_time(1767600000) == datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert parse_time(1767600000500) == datetime(2026, 1, 5, 8, 0, 0, 500000, tzinfo=UTC)
    assert parse_time("1767600000") == datetime(2026, 1, 5, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (Rule("a/#/b"), "topic"),
        (Rule("a/x+"), "topic"),
        (Rule("a/{p}/{p}", point_template="{p}"), "topic"),
        (Rule(" a/{point}"), "topic"),
        (Rule("a/{p}"), "point_template"),  # {point} is not a name of the topic
        (Rule("a/{point}", point_template="x}"), "point_template"),
        (Rule("a/{point}", point_template=""), "point_template"),
        (Rule("a/{point}", scale=0), "scale"),
    ],
)
def test_bad_rules_are_named(rule: Rule, field: str) -> None:
    assert [error.field for error in rule_errors(rule)] == [field]


def test_good_rules_have_no_errors() -> None:
    assert rule_errors(PLANT) == []
    assert rule_errors(Rule("bus/#", point_field="id", point_template="")) == []
    assert subscription_filter("plant/{w}/+/x/#") == "plant/+/+/x/#"
