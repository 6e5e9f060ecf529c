"""argparse `type=` checks shared by the subcommands: names against their grammar, numbers in ASCII digits.

Each raises argparse.ArgumentTypeError with a message fit for the user, so a bad word is answered at once with
the usage line (and never reaches a gateway).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.domain import names
from bot.domain.numbers import InvalidNumber, bounded_int


def _checked(check: Callable[[str], str]) -> Callable[[str], str]:
    def convert(value: str) -> str:
        try:
            return check(value)
        except names.InvalidName as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def node_query(value: str) -> str:
    """A node name, an EC2 instance id, or the start of a node name."""
    value = value.strip()
    if names.is_instance_id(value) or names.is_subdomain_prefix(value):
        return value
    raise argparse.ArgumentTypeError(
        f"`{names.shown(value)}` is not a node name, instance id (i-...) or the start of a node name"
    )


namespace = _checked(names.namespace)
zone = _checked(lambda v: names.zone(v.strip().lower()))
eniconfig_name = _checked(lambda v: names.object_name(v.strip(), "ENIConfig"))


def int_between(low: int, high: int, what: str) -> Callable[[str], int]:
    """A whole number in ASCII digits between low and high."""

    def convert(value: str) -> int:
        try:
            return bounded_int(value, low, high, what)
        except InvalidNumber as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert
