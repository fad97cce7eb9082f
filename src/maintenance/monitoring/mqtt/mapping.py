"""From an MQTT message (topic, payload) to a reading: pure functions, no database.

A rule's ``topic`` is an MQTT topic filter whose single-level wildcards may carry a name:
``plant/{workshop}/{point}/reading`` matches ``plant/W1/P-101/reading`` with
``{"workshop": "W1", "point": "P-101"}``; ``+`` is an unnamed level and ``#`` (last only) any
number of levels. The rules are tried in order; the first whose topic matches decides.

The payload is JSON: an object (``{"value": 12.3, "ts": "2026-12-06T01:00:00Z"}``; fields may
be dotted paths into nested objects) or a bare number (the value; the time is the receipt
time). Times are ISO 8601 (without an offset: plant time, as everywhere) or Unix seconds
(milliseconds when larger than :data:`_MILLISECONDS_FROM`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from maintenance.exceptions import FieldError
from maintenance.i18n import gettext as _
from maintenance.monitoring.readings.ingest import ReadingIn

_NAMED_LEVEL = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_TEMPLATE_NAME = re.compile(r"\{([^{}]*)\}")
# Unix times above this are milliseconds (1e11 s is the year 5138).
_MILLISECONDS_FROM = 1e11
# Topics remembered with the rule they matched (a plant has a few thousand points).
_TOPIC_CACHE_SIZE = 100_000
PAYLOAD_SHOWN = 500  # characters of a refused payload kept
# NUL and the other control characters: PostgreSQL refuses NUL in text, and none belongs in a
# point code or on the refusals page.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Rule:
    """A mapping rule as the consumer uses it (from :class:`models.MqttMapping` or a file)."""

    topic: str
    point_template: str = "{point}"
    point_field: str = ""
    value_field: str = "value"
    time_field: str = "ts"
    scale: float = 1.0
    offset: float = 0.0

    @classmethod
    def of(cls, fields: Any) -> Rule:
        return cls(
            topic=fields.topic,
            point_template=fields.point_template,
            point_field=fields.point_field,
            value_field=fields.value_field,
            time_field=fields.time_field,
            scale=fields.scale,
            offset=fields.offset,
        )


@dataclass(frozen=True)
class Refused:
    """A message that makes no reading, and why."""

    reason: str


def topic_levels(topic: str) -> list[str | None]:
    """The levels of a rule's topic: a literal level as itself, a wildcard as its name (``""``
    for ``+``), ``#`` as None. Raises ValueError naming what is wrong."""
    if not topic or topic != topic.strip():
        raise ValueError(_("Enter a topic without surrounding spaces."))
    levels: list[str | None] = []
    parts = topic.split("/")
    for index, part in enumerate(parts):
        named = _NAMED_LEVEL.match(part)
        if named:
            levels.append(named[1])
        elif part == "+":
            levels.append("")
        elif part == "#":
            if index != len(parts) - 1:
                raise ValueError(_("# may only be the last level of a topic."))
            levels.append(None)
        elif any(char in part for char in "+#{}"):
            raise ValueError(
                _("The level “%(level)s” mixes text and a wildcard: a level is text, + , # or {name}.", level=part)
            )
        else:
            levels.append(part)
    names = [level for level in levels if level]
    if len(names) != len(set(names)):
        raise ValueError(_("Each wildcard name may be used once in a topic."))
    return levels


def subscription_filter(topic: str) -> str:
    """The MQTT filter to subscribe to for a rule's topic: names become ``+``."""
    return "/".join("+" if level == "" or _NAMED_LEVEL.match(level) else level for level in topic.split("/"))


def rule_errors(rule: Rule) -> list[FieldError]:
    """What is wrong with a rule (empty when nothing): its topic, and a point code template that
    names a wildcard the topic does not have (when the code is not taken from the payload)."""
    errors: list[FieldError] = []
    try:
        names = {level for level in topic_levels(rule.topic) if level}
    except ValueError as error:
        return [FieldError("topic", str(error))]
    if not rule.point_field:
        if not rule.point_template:
            errors.append(FieldError("point_template", _("Enter a point code template or a point code field.")))
        else:
            used = _TEMPLATE_NAME.findall(rule.point_template)
            unknown = sorted(set(used) - names)
            if unknown:
                errors.append(
                    FieldError(
                        "point_template",
                        _(
                            "The topic has no wildcard named %(names)s.",
                            names=", ".join("{" + name + "}" for name in unknown),
                        ),
                    )
                )
            elif "{" in _TEMPLATE_NAME.sub("", rule.point_template) or "}" in _TEMPLATE_NAME.sub(
                "", rule.point_template
            ):
                errors.append(FieldError("point_template", _("Braces must enclose a wildcard name.")))
    if rule.scale == 0:
        errors.append(FieldError("scale", _("A scale of 0 would make every value 0.")))
    return errors


# A compiled level: (literal text, None) for a literal, (None, name) for a wildcard ("" unnamed),
# None for "#".
_Level = tuple[str | None, str | None] | None


def _compile(topic: str) -> list[_Level]:
    compiled: list[_Level] = []
    for level, part in zip(topic_levels(topic), topic.split("/"), strict=True):
        if level is None:
            compiled.append(None)
        elif level == "" or part != level:
            compiled.append((None, level))
        else:
            compiled.append((level, None))
    return compiled


def _match(levels: Sequence[_Level], topic: list[str]) -> dict[str, str] | None:
    names: dict[str, str] = {}
    for index, level in enumerate(levels):
        if level is None:  # "#": the rest, however long
            return names
        if index >= len(topic):
            return None
        literal, name = level
        if literal is not None:
            if topic[index] != literal:
                return None
        elif name:
            names[name] = topic[index]
    return names if len(levels) == len(topic) else None


def _field(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


_ABSENT = object()


def parse_time(value: Any) -> datetime:
    """A payload's time: ISO 8601 text or Unix seconds (or milliseconds). Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise ValueError(value)
        if abs(seconds) >= _MILLISECONDS_FROM:
            seconds /= 1000
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            return parse_time(float(text))
        except ValueError:
            return datetime.fromisoformat(text)
    raise ValueError(value)


class Mapper:
    """The rules, compiled once; :meth:`map` turns a message into a reading or a refusal."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = list(rules)
        self._compiled = [(rule, _compile(rule.topic)) for rule in self.rules]
        self._by_topic: dict[str, tuple[Rule, dict[str, str]] | None] = {}

    def filters(self) -> list[str]:
        """The distinct subscription filters of the rules, in order."""
        return list(dict.fromkeys(subscription_filter(rule.topic) for rule in self.rules))

    def rule_for(self, topic: str) -> tuple[Rule, dict[str, str]] | None:
        found = self._by_topic.get(topic, _ABSENT)
        if found is not _ABSENT:
            return found  # type: ignore[return-value]
        parts = topic.split("/")
        result = None
        for rule, levels in self._compiled:
            names = _match(levels, parts)
            if names is not None:
                result = (rule, names)
                break
        if len(self._by_topic) >= _TOPIC_CACHE_SIZE:
            self._by_topic.clear()
        self._by_topic[topic] = result
        return result

    def map(self, topic: str, payload: bytes, received_at: datetime, row: int | None = None) -> ReadingIn | Refused:
        matched = self.rule_for(topic)
        if matched is None:
            return Refused(_("No mapping rule matches the topic."))
        rule, names = matched
        try:
            document = json.loads(payload)
        except (ValueError, RecursionError):
            return Refused(_("The payload is not JSON."))
        taken_at: Any = _ABSENT
        if isinstance(document, dict):
            raw_value = _field(document, rule.value_field)
            if raw_value is _ABSENT:
                return Refused(_("The payload has no field %(field)s.", field=rule.value_field))
            if rule.time_field:
                taken_at = _field(document, rule.time_field)
            if rule.point_field:
                code = _field(document, rule.point_field)
                if not isinstance(code, str) or not code.strip():
                    return Refused(_("The payload has no point code in field %(field)s.", field=rule.point_field))
            else:
                code = _TEMPLATE_NAME.sub(lambda name: names.get(name[1], ""), rule.point_template)
        else:
            raw_value = document
            if rule.point_field:
                return Refused(_("The payload has no point code in field %(field)s.", field=rule.point_field))
            code = _TEMPLATE_NAME.sub(lambda name: names.get(name[1], ""), rule.point_template)
        if isinstance(raw_value, bool) or not isinstance(raw_value, int | float | str):
            return Refused(_("The value is not a number."))
        try:
            value = float(raw_value)
        except ValueError:
            return Refused(_("The value is not a number."))
        if not math.isfinite(value):
            return Refused(_("The value is not a number."))
        if taken_at is _ABSENT or taken_at is None:
            moment = received_at
        else:
            try:
                moment = parse_time(taken_at)
            except (ValueError, OverflowError, OSError):
                return Refused(_("The time %(time)s is neither ISO 8601 nor Unix seconds.", time=str(taken_at)[:40]))
        code = code.strip()
        if _CONTROL.search(code):
            return Refused(_("Unknown measurement point %(code)s.", code=printable(code)))
        return ReadingIn(code, moment, value * rule.scale + rule.offset, row)


def payload_text(payload: bytes) -> str:
    """A payload as kept beside a refusal: text, cut short."""
    return payload[: PAYLOAD_SHOWN * 4].decode("utf-8", errors="replace")[:PAYLOAD_SHOWN].replace("\x00", "\ufffd")


def printable(text: str) -> str:
    """``text`` with NUL and other control characters replaced (a topic or reason kept)."""
    return _CONTROL.sub("\ufffd", text)
