"""The REST operations, one module per area, each an ``APIRouter`` with its prefix and tags:

* ``health``: ``/healthz`` and the Prometheus ``/metrics``;
* ``orders``: place, cancel, amend, read and list orders, the kill switch, fills;
* ``participants``: accounts and their keys, balances, deposits and withdrawals;
* ``market_data``: the book, the trade tape, instruments, quotes and bars;
* ``markets``: creating and listing markets, halts and resumes;
* ``replay``: announcements and the replay of a market's journal;
* ``scenarios``: the shipped scenarios a class can be made from;
* ``classroom``: class markets and their compliance cycle (``exchange.classroom``);
* ``logins``: who a key is (``getSession``) and the address trainees open
  (``getPublicAddress``);
* ``registry``, ``registry_operator``: holdings, compliance and surrender; the registry's
  operator operations;
* ``reports``: large-holder reports and daily statements;
* ``retired``: the retired register (voluntary cancellations) and cancellation certificates;
* ``clock``: the market clock and the trading session.

``exchange.api.app`` includes them, in the order requests are matched. Each router carries its
whole prefix, so a route's own path (the access log's) is the full template. Dependencies and
shared parameters are ``exchange.api.deps``'. The WebSocket (``exchange.api.ws``) and the web UI
(``exchange.api.ui``) have routers of their own.
"""
