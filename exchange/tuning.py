"""Process settings for a process that runs market sequencers.

The sequencer allocates a few objects per command (orders, events) and keeps a large, long-lived
heap (books, orders, registry). CPython's default collector thresholds (700, 10, 10) then spend
about a quarter of the engine's time walking that heap looking for cycles the engine does not
make. See docs/adr/0002-compile-the-engine-with-mypyc.md for the measurements.
"""

from __future__ import annotations

import gc

SEQUENCER_GC_THRESHOLDS = (50_000, 20, 100)


def settle_young_objects() -> None:
    """Freeze what is alive now (cheap: the collector's lists are spliced, nothing is walked).

    The market runtime's sequencer calls this after every slice of commands. What commands
    leave alive (orders, holdings, the registry's records, rows waiting for the commit) then
    never makes a young collection walk it again and again. Freezing does not stop reference
    counting from freeing acyclic garbage; only cycles alive at a freeze wait for
    ``collect_frozen`` at day end (the sequencer's commands make none: a 100,000-command run
    left 0 unreachable objects). Measured with loadtests/bench_journal.py, the collector's
    walks of these survivors took a quarter of the sequencer's time.
    """
    gc.freeze()


def collect_frozen() -> None:
    """Collect everything, frozen objects included, and freeze the survivors again: the
    runtime does this at day end, when a pause does not delay any order."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def tune_gc_for_sequencer() -> None:
    """Move what exists now out of the collector's way and collect young objects less often.

    Call once, after start-up or replay has built the market's state.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SEQUENCER_GC_THRESHOLDS)
