"""What the load phases count: request latencies, statuses, and the ids the server acknowledged
(checked against the database after the run)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[rank]


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Acked:
    """Every order id and trade id the server acknowledged to the generator, over all phases."""

    order_ids: set[int] = field(default_factory=set)
    trade_ids: set[int] = field(default_factory=set)

    def reply(self, result: dict[str, object]) -> None:
        """Note the ids of an order-entry reply (``OrderPlaced``, ``OrderAmended``, ...)."""
        order_id = result.get("order_id")
        # placeOrder's reply (it alone tells ``repeated``), whatever its status
        if isinstance(order_id, int) and "repeated" in result:
            self.order_ids.add(order_id)
        fills = result.get("fills")
        if isinstance(fills, list):
            for fill in fills:
                self.trade_ids.add(fill["trade_id"])


@dataclass
class PhaseStats:
    """One timed phase: operations by kind (and ``orders_acked``: order ops answered 2xx or
    ``ok``), HTTP statuses (or WS reply codes), latencies."""

    ops: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))

    def per_s(self, count: int) -> float:
        return count / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, object]:
        total = sum(n for op, n in self.ops.items() if op != "orders_acked")
        return {
            "seconds": round(self.seconds, 3),
            "requests": total,
            "requests_per_s": round(self.per_s(total), 1),
            "ops": dict(self.ops),
            "statuses": dict(self.statuses),
            "latency_ms_p50": rounded(percentile(self.latencies_ms, 0.50)),
            "latency_ms_p99": rounded(percentile(self.latencies_ms, 0.99)),
            "latency_ms_max": rounded(max(self.latencies_ms, default=None)),
        }
