"""Words people type for a change, shared by the slash commands and the request form."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain.changes import EniConfigState
from bot.domain.cni_settings import KNOBS, UNMODELLED_KNOBS
from bot.errors import UsageError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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
        if not _KEY.match(key):
            raise UsageError(f"`{key[:40]}` is not an environment variable name.")
        key = env_name(key)
        if key in updates:
            raise UsageError(f"{key} is given twice.")
        updates[key] = value
    if not updates:
        raise UsageError("Say what to change: KEY=VALUE ...")
    return updates


def parse_unsets(words: Sequence[str]) -> dict[str, str | None]:
    updates: dict[str, str | None] = {}
    for word in words:
        if not _KEY.match(word):
            raise UsageError(f"`{word[:40]}` is not an environment variable name.")
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
    groups = tuple(g.strip() for g in (security_groups or "").split(",") if g.strip())
    return EniConfigState(subnet.strip(), groups)


def parse_zone_subnets(values: Sequence[str]) -> dict[str, str]:
    """`--subnet us-east-2a=subnet-...` (repeatable) for custom networking."""
    out: dict[str, str] = {}
    for value in values:
        match = _ZONE_SUBNET.match(value.strip())
        if not match:
            raise UsageError(f"`{value[:60]}` is not ZONE=subnet-...")
        out[match.group(1)] = match.group(2)
    return out


def parse_change_id(text: str) -> int:
    digits = text.strip().lstrip("#")
    if not digits.isdigit() or len(digits) > 12:
        raise UsageError(f"`{text[:20]}` is not a change id (a number, e.g. 12).")
    return int(digits)
