"""glibc's allocator, tuned for a long-running bot that reads multi-megabyte API responses.

A pod LIST page (~3 MB at 1,000 pods) and an ENI sweep page are each one big buffer. glibc serves the first
ones with mmap and hands them back when freed, but then raises its mmap threshold to their size (up to
32 MB), so later ones come from the heap, whose freed memory stays with the process, one heap per thread's
arena. A serving bot at 5,000 nodes measured about 50 MB more RSS that way (bench/serve_memory.py). A fixed
threshold keeps big buffers on mmap, returned as soon as they are freed, and two arenas bound the heaps of
the many reader threads (Python's own small objects do not go through malloc's arenas).

An operator's own MALLOC_* settings win: they are left as they are.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger("cnibot.allocator")

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept fixed
ARENAS = 2


def tune_allocator() -> bool:
    """Fix the mmap threshold and bound the arenas, on glibc; True when both were set."""
    if not sys.platform.startswith("linux") or any(k.startswith("MALLOC_") for k in os.environ):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_ARENA_MAX, ARENAS) == 1
    log.debug("allocator tuned: %s", done)
    return done
