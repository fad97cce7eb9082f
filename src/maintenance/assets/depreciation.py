"""Straight-line depreciation as Chinese fixed-asset accounting does it.

企业会计准则第4号 / 税法实施条例 practice: an asset added in a month is not
depreciated that month but from the next month on (当月增加当月不提，下月起计提); an
asset removed in a month is still depreciated that month and not after (当月减少当月照提).
Depreciation is booked at each month end, so "as of" a date counts the months whose
last day is on or before it. The monthly charge is
original value × (1 − salvage rate) ÷ (useful life in months), never beyond the
depreciable amount.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

CENT = Decimal("0.01")


@dataclass(frozen=True)
class BookValue:
    months_depreciated: int
    monthly_depreciation_cny: Decimal
    accumulated_depreciation_cny: Decimal
    net_book_value_cny: Decimal


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _last_booked_month(as_of: date) -> int:
    """The latest month whose month-end booking has happened by the end of ``as_of``."""
    month_end = calendar.monthrange(as_of.year, as_of.month)[1]
    return _month_index(as_of) if as_of.day == month_end else _month_index(as_of) - 1


def book_value(
    *,
    original_value_cny: Decimal,
    salvage_rate: Decimal,
    useful_life_years: int,
    commission_date: date | None,
    as_of: date,
    retired_date: date | None = None,
) -> BookValue:
    original = Decimal(original_value_cny)
    life_months = useful_life_years * 12
    if commission_date is None or life_months <= 0 or original <= 0:
        return BookValue(0, Decimal("0.00"), Decimal("0.00"), original.quantize(CENT))
    depreciable = original * (1 - Decimal(salvage_rate))
    monthly = (depreciable / life_months).quantize(CENT, ROUND_HALF_UP)
    first_month = _month_index(commission_date) + 1
    last_month = _last_booked_month(as_of)
    if retired_date is not None:
        last_month = min(last_month, _month_index(retired_date))
    months = max(0, min(life_months, last_month - first_month + 1))
    # The final month takes the rounding remainder so the total is exactly the depreciable amount.
    accumulated = depreciable.quantize(CENT, ROUND_HALF_UP) if months == life_months else monthly * months
    return BookValue(months, monthly, accumulated, (original - accumulated).quantize(CENT, ROUND_HALF_UP))


class HasBookValueFields(Protocol):
    original_value_cny: Decimal
    salvage_rate: Decimal
    useful_life_years: int
    commission_date: date | None
    retired_date: date | None


def book_value_of(asset: HasBookValueFields, as_of: date) -> BookValue:
    """Book value of an asset or of one of its versions."""
    return book_value(
        original_value_cny=asset.original_value_cny,
        salvage_rate=asset.salvage_rate,
        useful_life_years=asset.useful_life_years,
        commission_date=asset.commission_date,
        retired_date=asset.retired_date,
        as_of=as_of,
    )
