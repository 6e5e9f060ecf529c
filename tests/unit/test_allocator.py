"""The served bot fixes glibc's mmap threshold and bounds its arenas, unless the operator set MALLOC_*."""

from __future__ import annotations

import os
import platform
import sys

import pytest

from bot.allocator import tune_allocator


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's"
)
def test_tuned_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("MALLOC_")]:
        monkeypatch.delenv(key)
    assert tune_allocator() is True


def test_an_operators_malloc_settings_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert tune_allocator() is False
