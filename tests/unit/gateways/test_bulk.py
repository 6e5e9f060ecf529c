"""The collector pause nests across threads and restores what was there."""

from __future__ import annotations

import gc
import threading

from bot.gateways.bulk import gc_paused


def test_paused_while_any_decoder_runs_and_restored_after() -> None:
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def other_decoder() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_decoder)
    with gc_paused():
        thread.start()
        inside.wait(5)
    assert not gc.isenabled()  # the other thread is still decoding
    release.set()
    thread.join()
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
