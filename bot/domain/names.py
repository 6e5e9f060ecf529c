"""The grammars of the names people type: Kubernetes object names and AWS resource ids.

Every user-typed name is checked here before it goes anywhere near a URL, a selector or an API filter, so a
name like `../namespaces/shop/pods/web-0` or `web?watch=1` is refused at parse time, with a short reason.
"""

from __future__ import annotations

import re

# DNS-1123 label (namespaces): at most 63 characters, lowercase alphanumerics and '-', alphanumeric at both ends.
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", re.ASCII)
# DNS-1123 subdomain (pod, node, ENIConfig names): dot-separated labels, at most 253 characters in all.
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", re.ASCII)
SUBDOMAIN_MAX = 253
# What a prefix of a subdomain can look like (`ip-10-0-1-` while the user has not typed it all).
_SUBDOMAIN_PREFIX = re.compile(r"[a-z0-9][-a-z0-9.]*", re.ASCII)
# AWS zones: us-east-2a, us-gov-west-1b, us-west-2-lax-1a (Local Zone), us-east-1-wl1-bos-wlz-1 (Wavelength).
_ZONE = re.compile(r"[a-z]{2}(-[a-z0-9]+){2,6}", re.ASCII)
ZONE_MAX = 64
_INSTANCE_ID = re.compile(r"i-[0-9a-f]{1,17}", re.ASCII)
_SUBNET_ID = re.compile(r"subnet-[0-9a-f]{1,17}", re.ASCII)
_SECURITY_GROUP_ID = re.compile(r"sg-[0-9a-f]{1,17}", re.ASCII)

SHOWN = 64  # characters of a refused name echoed back


class InvalidName(ValueError):
    """A name outside its grammar; the message is fit for the user."""


def shown(text: str, limit: int = SHOWN) -> str:
    """A short prefix of what the user typed, for echoing it back."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_label(value: str) -> bool:
    return _LABEL.fullmatch(value) is not None


def is_subdomain(value: str) -> bool:
    return len(value) <= SUBDOMAIN_MAX and _SUBDOMAIN.fullmatch(value) is not None


def is_subdomain_prefix(value: str) -> bool:
    return len(value) <= SUBDOMAIN_MAX and _SUBDOMAIN_PREFIX.fullmatch(value) is not None and ".." not in value


def is_zone(value: str) -> bool:
    return len(value) <= ZONE_MAX and _ZONE.fullmatch(value) is not None and any(c.isdigit() for c in value)


def is_instance_id(value: str) -> bool:
    return _INSTANCE_ID.fullmatch(value) is not None


def is_subnet_id(value: str) -> bool:
    return _SUBNET_ID.fullmatch(value) is not None


def is_security_group_id(value: str) -> bool:
    return _SECURITY_GROUP_ID.fullmatch(value) is not None


def namespace(value: str) -> str:
    if not is_label(value):
        raise InvalidName(f"`{shown(value)}` is not a namespace name (lowercase letters, digits, '-'; at most 63)")
    return value


def object_name(value: str, what: str) -> str:
    """A pod, node or ENIConfig name: a DNS-1123 subdomain."""
    if not is_subdomain(value):
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise InvalidName(f"`{shown(value)}` is not {article} {what} name (lowercase letters, digits, '-' and '.')")
    return value


def zone(value: str) -> str:
    if not is_zone(value):
        raise InvalidName(f"`{shown(value)}` is not an availability zone (e.g. us-east-2a)")
    return value


def instance_id(value: str) -> str:
    if not is_instance_id(value):
        raise InvalidName(f"`{shown(value)}` is not an EC2 instance id (i- and hex digits)")
    return value


def subnet_id(value: str) -> str:
    if not is_subnet_id(value):
        raise InvalidName(f"`{shown(value)}` is not a subnet id (subnet- and hex digits)")
    return value


def security_group_id(value: str) -> str:
    if not is_security_group_id(value):
        raise InvalidName(f"`{shown(value)}` is not a security group id (sg- and hex digits)")
    return value


# IANA time zones as the tz database's own zones are named: Area/Location under these areas, or UTC. This
# leaves out what differs between hosts (`localtime`, `posixrules`, `Factory`) and the legacy aliases.
_TZ_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
_TZ = re.compile(
    "(" + "|".join(_TZ_AREAS) + r")(/[A-Za-z][A-Za-z0-9_+-]*){1,2}|Etc/(UTC|GMT([+-][0-9]{1,2})?)", re.ASCII
)


def is_canonical_time_zone(value: str) -> bool:
    return value == "UTC" or (len(value) <= 64 and _TZ.fullmatch(value) is not None)
