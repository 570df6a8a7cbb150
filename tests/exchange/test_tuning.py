from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from exchange.tuning import SEQUENCER_GC_THRESHOLDS, tune_gc_for_sequencer


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restore_gc")
def test_sequencer_gc_settings() -> None:
    tune_gc_for_sequencer()
    assert gc.get_threshold() == SEQUENCER_GC_THRESHOLDS
    # what existed at tuning time is out of the collector's way
    assert gc.get_freeze_count() > 0
