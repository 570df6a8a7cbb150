"""What a market is made of. Kept out of the compiled modules (docs/adr/0002): a market's
spec is pickled with its day-end snapshots, and a compiled frozen dataclass does not unpickle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What a market is made of: a rule set with overrides and the listed instruments with
    their first reference prices. Every instrument's symbol is the registry unit code it
    trades (``CEA2025``, ``CCER:P001:2024``)."""

    market_id: str
    rules: str
    instruments: tuple[tuple[str, int], ...]  # (symbol, first reference price in fen)
    overrides: Mapping[str, Any] = field(default_factory=dict)
