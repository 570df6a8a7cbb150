"""The engine benchmark's baseline: the least an order book loop can do with the same stream.

A ``SortedDict`` of price to a ``deque`` of ``[order_id, qty]`` per side, lazy cancellation,
no validation, no events, no self-trade prevention, no queries. It is what the engine's
bookkeeping is measured against.
"""

from __future__ import annotations

from collections import deque

from sortedcontainers import SortedDict

from matching import AmendOrder, CancelOrder, Command, NewOrder, OrderType, Side

_Entry = list[int]  # [order_id, open qty]; qty 0 marks a cancelled entry


class BaselineBook:
    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()
        self.live: dict[int, tuple[bool, int, _Entry]] = {}  # id -> (is_buy, price, entry)

    def apply(self, cmd: Command) -> None:
        if type(cmd) is NewOrder:
            self.new(cmd)
        elif type(cmd) is CancelOrder:
            self.cancel(cmd.order_id)
        elif type(cmd) is AmendOrder:
            found = self.live.get(cmd.order_id)
            if found is not None:
                is_buy, price, entry = found
                qty = entry[1] if cmd.qty_t is None else cmd.qty_t
                self.cancel(cmd.order_id)
                self.limit(cmd.order_id, is_buy, cmd.price_fen or price, qty, rest=True)

    def new(self, cmd: NewOrder) -> None:
        is_buy = cmd.side is Side.BUY
        order_type = cmd.order_type
        if order_type is OrderType.MARKET:
            price = 1 << 62 if is_buy else 0
        else:
            assert cmd.price_fen is not None
            price = cmd.price_fen
        if order_type is OrderType.FOK and self.available(is_buy, price) < cmd.qty_t:
            return
        self.limit(cmd.order_id, is_buy, price, cmd.qty_t, rest=order_type is OrderType.LIMIT)

    def available(self, is_buy: bool, limit: int) -> int:
        total = 0
        book = self.asks if is_buy else self.bids
        prices = book.irange(maximum=limit) if is_buy else book.irange(minimum=limit, reverse=True)
        for price in prices:
            for entry in book[price]:
                total += entry[1]
        return total

    def limit(self, order_id: int, is_buy: bool, price: int, qty: int, *, rest: bool) -> None:
        book = self.asks if is_buy else self.bids
        while qty and book:
            best_price, queue = book.peekitem(0 if is_buy else -1)
            if (best_price > price) if is_buy else (best_price < price):
                break
            while queue and qty:
                entry = queue[0]
                fill = min(qty, entry[1])
                qty -= fill
                entry[1] -= fill
                if not entry[1]:
                    queue.popleft()
                    self.live.pop(entry[0], None)
            if not queue:
                del book[best_price]
        if qty and rest:
            own = self.bids if is_buy else self.asks
            queue = own.get(price)
            if queue is None:
                queue = own[price] = deque()
            entry = [order_id, qty]
            queue.append(entry)
            self.live[order_id] = (is_buy, price, entry)

    def cancel(self, order_id: int) -> None:
        found = self.live.pop(order_id, None)
        if found is not None:
            found[2][1] = 0
