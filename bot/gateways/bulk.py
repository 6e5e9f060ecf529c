"""Decoding big API responses without the cyclic garbage collector in the way.

Parsing a 15,000-ENI sweep or 100,000 pods allocates millions of small dicts and lists; each allocation burst
triggers collections that rescan every long-lived object (the watch caches included), which more than doubled
the parse time measured on the simulator. The decoded data holds no reference cycles, so reference counting
frees it; pausing the collector only defers cyclic collection until the last decoder finishes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0  # decoders running now, across threads
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _active, _was_enabled
    with _lock:
        if _active == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _was_enabled:
                gc.enable()
