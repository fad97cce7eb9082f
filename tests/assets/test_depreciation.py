"""Straight-line depreciation the Chinese way: from the month after commissioning,
booked at month end, stopping after the month of retirement."""

from datetime import date
from decimal import Decimal

from maintenance.assets.depreciation import book_value

# 120,000 元, 5% salvage, 10 years → 114,000 depreciable, 950.00 a month.
PUMP = {"original_value_cny": Decimal("120000.00"), "salvage_rate": Decimal("0.05"), "useful_life_years": 10}


def test_nothing_is_depreciated_in_the_month_of_commissioning() -> None:
    value = book_value(**PUMP, commission_date=date(2024, 3, 5), as_of=date(2024, 3, 31))
    assert value.months_depreciated == 0
    assert value.net_book_value_cny == Decimal("120000.00")


def test_depreciation_starts_the_month_after_and_is_booked_at_month_end() -> None:
    mid_april = book_value(**PUMP, commission_date=date(2024, 3, 5), as_of=date(2024, 4, 15))
    end_april = book_value(**PUMP, commission_date=date(2024, 3, 5), as_of=date(2024, 4, 30))
    assert mid_april.months_depreciated == 0
    assert end_april.months_depreciated == 1
    assert end_april.monthly_depreciation_cny == Decimal("950.00")
    assert end_april.net_book_value_cny == Decimal("119050.00")


def test_year_end_value_counts_every_month_end_up_to_december() -> None:
    value = book_value(**PUMP, commission_date=date(2024, 3, 5), as_of=date(2025, 12, 31))
    assert value.months_depreciated == 21  # April 2024 … December 2025
    assert value.accumulated_depreciation_cny == Decimal("19950.00")
    assert value.net_book_value_cny == Decimal("100050.00")


def test_fully_depreciated_asset_stops_at_its_salvage_value() -> None:
    value = book_value(**PUMP, commission_date=date(2000, 1, 10), as_of=date(2026, 11, 23))
    assert value.months_depreciated == 120
    assert value.net_book_value_cny == Decimal("6000.00")


def test_rounding_remainder_lands_in_the_last_month() -> None:
    # 100,000 × 0.97 / 36 = 2,694.444… a month; the total must still be exactly 97,000.
    value = book_value(
        original_value_cny=Decimal("100000"),
        salvage_rate=Decimal("0.03"),
        useful_life_years=3,
        commission_date=date(2020, 1, 1),
        as_of=date(2024, 1, 1),
    )
    assert value.accumulated_depreciation_cny == Decimal("97000.00")
    assert value.net_book_value_cny == Decimal("3000.00")


def test_retired_asset_is_depreciated_in_its_retirement_month_and_not_after() -> None:
    value = book_value(
        **PUMP, commission_date=date(2024, 3, 5), retired_date=date(2024, 6, 10), as_of=date(2025, 12, 31)
    )
    assert value.months_depreciated == 3  # April, May, June


def test_asset_without_commissioning_date_or_value_is_not_depreciated() -> None:
    assert book_value(**PUMP, commission_date=None, as_of=date(2026, 1, 31)).months_depreciated == 0
    free = book_value(
        original_value_cny=Decimal("0"),
        salvage_rate=Decimal("0.05"),
        useful_life_years=10,
        commission_date=date(2020, 1, 1),
        as_of=date(2026, 1, 31),
    )
    assert free.net_book_value_cny == Decimal("0.00")
