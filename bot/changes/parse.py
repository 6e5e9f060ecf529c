"""Words people type for a change, shared by the slash commands and the request form."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.domain import names
from bot.domain.changes import EniConfigState
from bot.domain.knob_catalogue import KNOBS, UNMODELLED_KNOBS
from bot.domain.numbers import ascii_digits, int64_problem
from bot.domain.settings_change import value_error
from bot.errors import UsageError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_ZONE_SUBNET = re.compile(r"^([a-z0-9-]+)=(subnet-[0-9a-zA-Z]+)$")
# aws-node's names are case-sensitive and not all upper case (ENABLE_IPv4, ENABLE_IPv6): typed in any case,
# a known name is written as upstream spells it.
_SPELLING = {name.upper(): name for name in (*KNOBS, *UNMODELLED_KNOBS)}


def env_name(key: str) -> str:
    return _SPELLING.get(key.upper(), key.upper())


def parse_assignments(words: Sequence[str]) -> dict[str, str | None]:
    """`KEY=VALUE` sets, `KEY-` unsets (as `kubectl set env` writes it)."""
    updates: dict[str, str | None] = {}
    for word in words:
        if "=" in word:
            key, value = word.split("=", 1)
        elif word.endswith("-"):
            key, value = word[:-1], None
        else:
            raise UsageError(f"`{word[:40]}` is not KEY=VALUE (or KEY- to unset).")
        if not _KEY.fullmatch(key):
            raise UsageError(f"`{names.shown(key, 40)}` is not an environment variable name.")
        key = env_name(key)
        if key in updates:
            raise UsageError(f"{key} is given twice.")
        if value is not None:
            _check_value(key, value)
        updates[key] = value
    if not updates:
        raise UsageError("Say what to change: KEY=VALUE ...")
    return updates


def _check_value(key: str, value: str) -> None:
    """Refuse at parse time what aws-node could never read: numbers beyond Go's int64, values out of a knob's
    range (so no change request is ever drafted from them)."""
    too_big = int64_problem(value)
    if too_big:
        raise UsageError(f"{key}: {too_big}.")
    knob = KNOBS.get(key)
    problem = value_error(knob, value) if knob is not None else None
    if problem:
        raise UsageError(names.shown(problem, 200))


def parse_unsets(words: Sequence[str]) -> dict[str, str | None]:
    updates: dict[str, str | None] = {}
    for word in words:
        if not _KEY.fullmatch(word):
            raise UsageError(f"`{names.shown(word, 40)}` is not an environment variable name.")
        updates[env_name(word)] = None
    return updates


def parse_eniconfig(
    words: Sequence[str], subnet: str | None = None, security_groups: str | None = None
) -> EniConfigState:
    """`subnet=subnet-... [sg=sg-1,sg-2]` (or the --subnet / --security-groups options)."""
    for word in words:
        key, _, value = word.partition("=")
        if key == "subnet" and value:
            subnet = value
        elif key in ("sg", "sgs", "security-groups", "securityGroups") and value:
            security_groups = value
        else:
            raise UsageError(f"`{word[:40]}` is not subnet=subnet-... or sg=sg-...,sg-...")
    if not subnet:
        raise UsageError("Give the ENIConfig's subnet: subnet=subnet-...")
    return EniConfigState(_checked(names.subnet_id, subnet.strip()), parse_security_groups(security_groups))


def parse_security_groups(text: str | None) -> tuple[str, ...]:
    """`sg-1,sg-2`, each checked against the security group id grammar."""
    return tuple(_checked(names.security_group_id, g.strip()) for g in (text or "").split(",") if g.strip())


def _checked(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except names.InvalidName as exc:
        raise UsageError(f"{exc}.") from None


def parse_zone_subnets(values: Sequence[str]) -> dict[str, str]:
    """`--subnet us-east-2a=subnet-...` (repeatable) for custom networking."""
    out: dict[str, str] = {}
    for value in values:
        zone, sep, subnet = value.strip().partition("=")
        if not sep:
            raise UsageError(f"`{names.shown(value)}` is not ZONE=subnet-...")
        out[_checked(names.zone, zone)] = _checked(names.subnet_id, subnet)
    return out


def parse_change_id(text: str) -> int:
    digits = text.strip().lstrip("#")
    if not ascii_digits(digits) or len(digits) > 12:
        raise UsageError(f"`{names.shown(text, 20)}` is not a change id (a number in digits 0-9, e.g. 12).")
    return int(digits)
