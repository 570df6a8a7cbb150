"""The fault campaign: a seeded driver in the spirit of a deterministic simulation tester,
against a real ``carbonx serve`` on SQLite and on PostgreSQL (issue 15).

One seed fixes every choice the driver makes: which fault each step injects (``plan``), when it
strikes, which trader does what, how many connections a slow client holds. The server's own
interleaving of concurrent clients is not the driver's to fix, so a replay repeats the same
faults and the same requests, not necessarily the same journal.

``plan``: the seed's choices; ``system``: the database, the server and the operator's hands;
``traders``: the clients; ``ledger``: what they were acknowledged; ``faults``: the faults and
what the server promises of each; ``checks``: the invariants after each; ``campaign``: the
loop and the report; ``python -m tests.faults``: the command line.
"""
