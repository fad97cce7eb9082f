"""How a figure or a target reads on the page: money in 万元, shares in %, the accident change as
a signed %. The API gives the exact numbers (see :mod:`maintenance.scorecard.api`)."""

from __future__ import annotations

from decimal import Decimal

from maintenance.i18n import format_number, format_wan_cny
from maintenance.scorecard.states import Kind


def shown(value: Decimal | None, kind: Kind) -> str:
    """``value`` as the tile shows it; "–" for nothing."""
    if value is None:
        return "–"
    if kind is Kind.MONEY:
        return format_wan_cny(value)
    text = f"{format_number(value * 100, 1)} %"
    return f"+{text}" if kind is Kind.CHANGE and value > 0 else text
