"""The classroom (issue 7): class markets made from scenarios and their compliance cycle.

A class is an ordinary market plus its own state (``state``: seats, phase, abatement; stored by
``store``), made from a scenario (``setup``) whose agents trade as bots (``bots``). The
instructor moves it through its compliance cycle, one phase at a time along a table
(``lifecycle``), each step submitting ordinary market commands (``phases``); ``views`` are what
the console reads (phase, dashboard, results), ``scenarios`` the shipped scenarios' summaries,
and ``service`` the operations the gateway calls. Refusals are ``ClassroomError``s with stable
codes (``errors``).

Nothing here knows HTTP: the package imports neither FastAPI nor ``exchange.api``
(tests/test_layering.py checks it); the gateway (``exchange.api.routes.classroom``) maps requests to
these calls and refusals to problem documents.
"""
