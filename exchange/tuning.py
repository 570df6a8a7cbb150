"""Process settings for a process that runs market sequencers.

The sequencer allocates a few objects per command (orders, events) and keeps a large, long-lived
heap (books, orders, registry). CPython's default collector thresholds (700, 10, 10) then spend
about a quarter of the engine's time walking that heap looking for cycles the engine does not
make. See docs/adr/0002-compile-the-engine-with-mypyc.md for the measurements.
"""

from __future__ import annotations

import gc

SEQUENCER_GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc_for_sequencer() -> None:
    """Move what exists now out of the collector's way and collect young objects less often.

    Call once, after start-up or replay has built the market's state.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SEQUENCER_GC_THRESHOLDS)
