"""The savings ledgers' arithmetic, pure: an entry's saving and the share of a year's target
due by a day.

- saving = (reference price − actual price) × quantity, rounded half-up to the fen (the same
  formula as the orders' refurbished and localised cost lines);
- the target due by ``as_of`` = the year's target × days of the year gone by through ``as_of``
  (1 January counts one day) ÷ days in the year, rounded half-up to the fen: nothing before the
  year starts, all of it from 31 December on.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from maintenance.budget.rules import days_elapsed, days_in_year

FEN = Decimal("0.01")


def saving_of(reference_price_cny: Decimal, actual_price_cny: Decimal, quantity: Decimal) -> Decimal:
    return ((reference_price_cny - actual_price_cny) * quantity).quantize(FEN, rounding=ROUND_HALF_UP)


def target_due(year_target_cny: Decimal, year: int, as_of: date) -> Decimal:
    """The part of the year's target due by the end of ``as_of``."""
    due = year_target_cny * days_elapsed(year, as_of) / days_in_year(year)
    return due.quantize(FEN, rounding=ROUND_HALF_UP)
