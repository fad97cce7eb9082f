"""Reading the demo plant's data files in ``seed/`` (CSV, UTF-8, edited by hand)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a seed file, each a dict by its header."""
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)
