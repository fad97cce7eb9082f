"""The numbers behind condition monitoring: units, physically possible ranges, ISO 10816-3 zones,
and the evaluation of a value against a point's limits. Pure functions, no database."""

from __future__ import annotations

from dataclasses import dataclass

from maintenance.monitoring.choices import ConditionState, LimitPreset, Quantity


@dataclass(frozen=True)
class QuantitySpec:
    unit: str
    minimum: float  # values outside [minimum, maximum] cannot be measured: refused at ingest
    maximum: float


QUANTITIES: dict[Quantity, QuantitySpec] = {
    Quantity.VIBRATION: QuantitySpec("mm/s", 0, 100),
    Quantity.BEARING_TEMPERATURE: QuantitySpec("°C", -50, 250),
    Quantity.TEMPERATURE: QuantitySpec("°C", -200, 1500),
    Quantity.PRESSURE: QuantitySpec("MPa", -0.1, 100),
    Quantity.FLOW: QuantitySpec("m³/h", 0, 100_000),
    Quantity.CURRENT: QuantitySpec("A", 0, 10_000),
    Quantity.WALL_THICKNESS: QuantitySpec("mm", 0, 300),
    Quantity.OIL_PARTICLES: QuantitySpec("ppm", 0, 1_000_000),
    Quantity.LEAK_COUNT: QuantitySpec("个", 0, 100_000),
    Quantity.RUNTIME_HOURS: QuantitySpec("h", 0, 1_000_000),
}


@dataclass(frozen=True)
class VibrationZones:
    """ISO 10816-3 zone boundaries (velocity RMS, mm/s): A/B, B/C (warning), C/D (alarm)."""

    ab: float
    bc: float
    cd: float

    def zone(self, value: float) -> str:
        """A, B, C or D; a value on a boundary belongs to the upper zone."""
        if value >= self.cd:
            return "D"
        if value >= self.bc:
            return "C"
        if value >= self.ab:
            return "B"
        return "A"


ISO_10816_3: dict[LimitPreset, VibrationZones] = {
    LimitPreset.G1_RIGID: VibrationZones(2.3, 4.5, 7.1),
    LimitPreset.G1_FLEXIBLE: VibrationZones(3.5, 7.1, 11.0),
    LimitPreset.G2_RIGID: VibrationZones(1.4, 2.8, 4.5),
    LimitPreset.G2_FLEXIBLE: VibrationZones(2.3, 4.5, 7.1),
}


@dataclass(frozen=True)
class Limits:
    warning_high: float | None = None
    alarm_high: float | None = None
    warning_low: float | None = None
    alarm_low: float | None = None

    @classmethod
    def from_preset(cls, preset: LimitPreset) -> Limits | None:
        zones = ISO_10816_3.get(preset)
        return None if zones is None else cls(warning_high=zones.bc, alarm_high=zones.cd)


def evaluate(value: float, limits: Limits) -> ConditionState:
    """Alarm beyond an alarm limit, warning beyond a warning limit, else normal. Reaching a limit
    counts as beyond it (as a value on an ISO 10816 boundary belongs to the upper zone)."""
    if (limits.alarm_high is not None and value >= limits.alarm_high) or (
        limits.alarm_low is not None and value <= limits.alarm_low
    ):
        return ConditionState.ALARM
    if (limits.warning_high is not None and value >= limits.warning_high) or (
        limits.warning_low is not None and value <= limits.warning_low
    ):
        return ConditionState.WARNING
    return ConditionState.NORMAL


@dataclass(frozen=True)
class Breach:
    """The limit a value has reached: ``high`` for an upper limit (value ≥ limit), else lower."""

    limit: float
    high: bool

    @property
    def sign(self) -> str:
        return "≥" if self.high else "≤"


def breached_limit(value: float, state: ConditionState, limits: Limits) -> Breach | None:
    """The limit ``value`` has reached in ``state``: an alarm limit for an alarm, a warning limit
    for a warning (high before low); None when normal or no such limit is set."""
    if state == ConditionState.ALARM:
        candidates = [(limits.alarm_high, True), (limits.alarm_low, False)]
    elif state == ConditionState.WARNING:
        candidates = [(limits.warning_high, True), (limits.warning_low, False)]
    else:
        return None
    for limit, high in candidates:
        if limit is not None and ((high and value >= limit) or (not high and value <= limit)):
            return Breach(limit, high)
    return None


def out_of_range(quantity: Quantity, value: float) -> bool:
    spec = QUANTITIES[quantity]
    return not (spec.minimum <= value <= spec.maximum)
