"""The numbers: ISO 10816-3 zones and the evaluation of a value against a point's limits."""

from __future__ import annotations

import pytest

from maintenance.monitoring import rules
from maintenance.monitoring.choices import ConditionState, LimitPreset, Quantity
from maintenance.monitoring.rules import ISO_10816_3, Limits, evaluate

# (preset, A/B, B/C, C/D) as ISO 10816-3 gives them (velocity RMS, mm/s).
BOUNDARIES = [
    (LimitPreset.G1_RIGID, 2.3, 4.5, 7.1),
    (LimitPreset.G1_FLEXIBLE, 3.5, 7.1, 11.0),
    (LimitPreset.G2_RIGID, 1.4, 2.8, 4.5),
    (LimitPreset.G2_FLEXIBLE, 2.3, 4.5, 7.1),
]


@pytest.mark.parametrize(("preset", "ab", "bc", "cd"), BOUNDARIES)
def test_a_value_on_a_zone_boundary_belongs_to_the_upper_zone(
    preset: LimitPreset, ab: float, bc: float, cd: float
) -> None:
    zones = ISO_10816_3[preset]
    assert zones.zone(0.0) == "A"
    assert zones.zone(ab - 0.01) == "A"
    assert zones.zone(ab) == "B"
    assert zones.zone(bc - 0.01) == "B"
    assert zones.zone(bc) == "C"
    assert zones.zone(cd - 0.01) == "C"
    assert zones.zone(cd) == "D"
    assert zones.zone(45.0) == "D"


def test_group_1_rigid_as_the_standard_tabulates_it() -> None:
    zones = ISO_10816_3[LimitPreset.G1_RIGID]
    assert [zones.zone(v) for v in (2.29, 2.3, 4.5, 7.1)] == ["A", "B", "C", "D"]


@pytest.mark.parametrize(("preset", "ab", "bc", "cd"), BOUNDARIES)
def test_a_preset_warns_at_b_c_and_alarms_at_c_d(preset: LimitPreset, ab: float, bc: float, cd: float) -> None:
    limits = Limits.from_preset(preset)
    assert limits == Limits(warning_high=bc, alarm_high=cd)
    assert evaluate(ab, limits) == ConditionState.NORMAL
    assert evaluate(bc - 0.01, limits) == ConditionState.NORMAL
    assert evaluate(bc, limits) == ConditionState.WARNING
    assert evaluate(cd - 0.01, limits) == ConditionState.WARNING
    assert evaluate(cd, limits) == ConditionState.ALARM


def test_no_preset_means_limits_set_by_hand() -> None:
    assert Limits.from_preset(LimitPreset.NONE) is None


def test_low_limits_warn_and_alarm_at_or_below_them() -> None:
    limits = Limits(warning_high=80, alarm_high=95, warning_low=10, alarm_low=5)
    assert evaluate(50, limits) == ConditionState.NORMAL
    assert evaluate(80, limits) == ConditionState.WARNING
    assert evaluate(95, limits) == ConditionState.ALARM
    assert evaluate(10, limits) == ConditionState.WARNING
    assert evaluate(5, limits) == ConditionState.ALARM
    assert evaluate(-3, limits) == ConditionState.ALARM


def test_without_limits_every_value_is_normal() -> None:
    assert evaluate(1e6, Limits()) == ConditionState.NORMAL


def test_physically_impossible_values_are_out_of_range() -> None:
    assert rules.out_of_range(Quantity.VIBRATION, -0.1)
    assert rules.out_of_range(Quantity.VIBRATION, 100.1)
    assert not rules.out_of_range(Quantity.VIBRATION, 100)
    assert rules.out_of_range(Quantity.BEARING_TEMPERATURE, 400)
    assert rules.out_of_range(Quantity.VIBRATION, float("nan"))
