"""The plant's catalogue for the demo order history: materials and services with their prices
(``seed/orders/materials.csv``, ``services.csv``) and the typical faults of each asset class
(``failures.csv``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from maintenance.demo.seed_files import read_csv
from maintenance.orders.choices import DetectionMethod, FailureCause, FailureMechanism, FailureMode, OrderType


@dataclass(frozen=True)
class Item:
    """A material or a service as ``materials.csv``/``services.csv`` list it."""

    code: str
    name: str
    uom: str
    price: Decimal
    import_price: Decimal | None = None
    refurbish_price: Decimal | None = None
    is_service: bool = False


@dataclass(frozen=True)
class Fault:
    asset_class: str
    types: frozenset[OrderType]
    weight: float
    mode: FailureMode
    mechanism: FailureMechanism
    cause: FailureCause
    detection: DetectionMethod
    title: str
    downtime_hours: tuple[int, int]
    labour_hours: tuple[int, int]
    parts: list[tuple[str, Decimal]]
    services: list[tuple[str, Decimal]]


def _money(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def parse_range(text: str) -> tuple[int, int]:
    """``"4-8"`` → (4, 8); ``"6"`` → (6, 6)."""
    low, _sep, high = text.partition("-")
    return int(low), int(high or low)


def parse_quantities(text: str, sep: str = " ") -> list[tuple[str, Decimal]]:
    """``"SEAL-M50:1 GKT-SW100:2"`` → [("SEAL-M50", 1), ("GKT-SW100", 2)]."""
    pairs = []
    for part in text.split(sep):
        if part.strip():
            code, _colon, quantity = part.strip().partition(":")
            pairs.append((code, Decimal(quantity or "1")))
    return pairs


def read_items(folder: Path) -> dict[str, Item]:
    items = {
        row["code"]: Item(
            row["code"],
            row["name"],
            row["uom"],
            Decimal(row["price_cny"]),
            _money(row["import_price_cny"]),
            _money(row["refurbish_price_cny"]),
        )
        for row in read_csv(folder / "materials.csv")
    }
    for row in read_csv(folder / "services.csv"):
        items[row["code"]] = Item(row["code"], row["name"], row["uom"], Decimal(row["price_cny"]), is_service=True)
    return items


def read_faults(folder: Path) -> list[Fault]:
    return [
        Fault(
            row["asset_class"],
            frozenset(OrderType(code) for code in row["types"].split()),
            float(row["weight"]),
            FailureMode(row["failure_mode"]),
            FailureMechanism(row["failure_mechanism"]),
            FailureCause(row["failure_cause"]),
            DetectionMethod(row["detection"]),
            row["title"],
            parse_range(row["downtime_hours"]),
            parse_range(row["labour_hours"]),
            parse_quantities(row["parts"]),
            parse_quantities(row["services"]),
        )
        for row in read_csv(folder / "failures.csv")
    ]
