"""The collector pause is process-wide: overlapping pauses (threads of one server) end
with the collector back as it was, whichever ends first."""

import gc

from ledger.speed.gc_pause import gc_paused


def test_overlapping_pauses_restore_the_collector_when_the_last_ends() -> None:
    assert gc.isenabled()
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_comes_back_when_the_block_fails() -> None:
    try:
        with gc_paused():
            raise ValueError("a refused row")
    except ValueError:
        pass
    assert gc.isenabled()
