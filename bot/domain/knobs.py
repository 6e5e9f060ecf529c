"""What an aws-node knob is (type, risk, effect, defaults) and how aws-node parses its value.

Parsing follows the Go code of aws/amazon-vpc-cni-k8s: booleans with ``strconv.ParseBool``, integers with
``strconv.Atoi`` and each knob's own fallback, so that what is reported is what aws-node would do.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from enum import StrEnum

AWS_NODE = "aws-node"
INIT_CONTAINER = "aws-vpc-cni-init"

SettingValue = bool | int | str | tuple[str, ...] | dict[str, str] | None


class KnobType(StrEnum):
    BOOL = "bool"
    INT = "int"
    STR = "str"
    ENUM = "enum"
    CIDR_LIST = "cidr-list"
    JSON = "json"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(Risk).index(self)


class Effect(StrEnum):
    ROLLOUT = "rollout"  # effective once aws-node has rolled out
    MAX_PODS = "max-pods"  # also needs kubelet max-pods changed (new launch template / node group)
    NEW_ENIS = "new-enis"  # only ENIs created afterwards follow it
    REPLACE_NODES = "replace-nodes"  # existing nodes keep the old behaviour until replaced


class KnobGroup(StrEnum):
    """What a knob is about, for the views that list a kind of knob (one source: the catalogue entry)."""

    WARM_POOL = "warm-pool"  # how many free IPs/ENIs/prefixes ipamd keeps (the /cni capacity what-if)
    NODE_CAPACITY = "node-capacity"  # changes a node's pod IP capacity, so kubelet max-pods must follow
    IP_ALLOCATION = "ip-allocation"  # how pods get addresses: shown by /cni config even at its default


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Knob:
    name: str
    kind: KnobType
    code_default: SettingValue  # what aws-node uses when the variable is absent
    manifest_default: str | None  # what the shipped manifest sets (None = not set there)
    description: str
    risk: Risk = Risk.LOW
    effect: Effect = Effect.ROLLOUT
    container: str = AWS_NODE
    minimum: int | None = None
    maximum: int | None = None
    allowed: tuple[str, ...] = ()
    case_sensitive: bool = True
    empty_is_default: bool = False  # an empty value means "use the default" (string knobs)
    since: str | None = None
    also_in_init: bool = False  # the manifest sets it on aws-vpc-cni-init too (ENABLE_IPv6)
    unset_at_or_below: int | None = None  # values up to this mean "unset" upstream (MAX_ENI: getMaxENI)
    bad_int_exits: bool = False  # an Atoi error makes aws-node exit (validateEnvVars) instead of a fallback
    modelled: bool = True  # False: a real aws-node setting the bot passes through without modelling it
    groups: frozenset[KnobGroup] = frozenset()

    @property
    def containers(self) -> tuple[str, ...]:
        """Containers whose env carries the knob; a change must patch all of them."""
        return (self.container, INIT_CONTAINER) if self.also_in_init else (self.container,)

    @property
    def default(self) -> SettingValue:
        """The value a stock install runs with: the manifest's when it sets one, else the code default."""
        if self.manifest_default is None:
            return self.code_default
        value, _ = parse_value(self, self.manifest_default)
        return value


# --- parsing as upstream ----------------------------------------------------------------------------

_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_GO_INT = re.compile(r"[+-]?[0-9]+")


def parse_go_bool(raw: str) -> bool | None:
    """Go ``strconv.ParseBool``: None when the text is not one of its accepted forms."""
    if raw in _GO_TRUE:
        return True
    if raw in _GO_FALSE:
        return False
    return None


GO_INT64 = (-(2**63), 2**63 - 1)  # strconv.Atoi's range on the 64-bit builds aws-node ships


def parse_go_int(raw: str) -> int | None:
    """Go ``strconv.Atoi``: optional sign and decimal digits only (no spaces, no underscores), within int64
    (beyond it Atoi returns "value out of range")."""
    if not _GO_INT.fullmatch(raw):
        return None
    number = int(raw)
    return number if GO_INT64[0] <= number <= GO_INT64[1] else None


_GO_LEGACY_OCTAL = re.compile(r"[+-]?0[0-7_]+")


def parse_connmark(raw: str) -> int | None:
    """pkg/networkutils getConnmark: strconv.ParseInt(raw, 0, 64) within 1..2^32-1, else None (the default)."""
    try:
        mark = int(raw, 8) if _GO_LEGACY_OCTAL.fullmatch(raw) else int(raw, 0)
    except ValueError:
        return None
    return mark if 0 < mark <= 2**32 - 1 else None


def beyond_int64(raw: str) -> bool:
    """Digits Go's strconv.Atoi refuses only for their size."""
    return bool(_GO_INT.fullmatch(raw)) and parse_go_int(raw) is None


def parse_value(knob: Knob, raw: str) -> tuple[SettingValue, str | None]:
    """(effective value, note) for a raw env value; unusable values fall back to the code default."""
    default = knob.code_default
    if raw == "" and knob.empty_is_default:
        return default, None
    match knob.kind:
        case KnobType.BOOL:
            flag = parse_go_bool(raw)
            if flag is None:
                return default, f"Failed to parse variable {knob.name} with value {raw} as boolean; using {default}"
            return flag, None
        case KnobType.INT:
            number = parse_go_int(raw)
            if number is None:
                return default, f"{knob.name}={raw!r} is not an integer; aws-node uses {_show(default)}"
            if knob.unset_at_or_below is not None and number <= knob.unset_at_or_below:
                return default, unset_note(knob, number)
            if not _in_range(knob, number):
                return (
                    default,
                    f"{knob.name}={number} is out of range ({_range_text(knob)}); aws-node uses {_show(default)}",
                )
            return number, None
        case KnobType.ENUM:
            if _enum_match(knob, raw) is None:
                return default, f"{knob.name}={raw!r} is not one of {', '.join(knob.allowed)}"
            return raw, None
        case KnobType.CIDR_LIST:
            return _parse_cidrs(knob, raw)
        case KnobType.JSON:
            return _parse_tags(knob, raw)
        case _:
            return raw, None


def unset_note(knob: Knob, number: int) -> str:
    """What a value that upstream treats as unset means (MAX_ENI <= 0: ipamd.go getMaxENI ignores it)."""
    return (
        f"{knob.name}={number} means unset: ipamd ignores {knob.unset_at_or_below} or below (getMaxENI), so the "
        "instance type's ENI limit applies"
    )


def _show(value: SettingValue) -> str:
    return "unset" if value is None else str(value)


def _in_range(knob: Knob, number: int) -> bool:
    return (knob.minimum is None or number >= knob.minimum) and (knob.maximum is None or number <= knob.maximum)


def _range_text(knob: Knob) -> str:
    if knob.maximum is None:
        return f">= {knob.minimum}"
    return f"{knob.minimum}-{knob.maximum}"


def _enum_match(knob: Knob, raw: str) -> str | None:
    for allowed in knob.allowed:
        if raw == allowed or (not knob.case_sensitive and raw.lower() == allowed.lower()):
            return allowed
    return None


def _parse_cidrs(knob: Knob, raw: str) -> tuple[tuple[str, ...], str | None]:
    good: list[str] = []
    bad: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            good.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            bad.append(item)
    note = f"{knob.name}: skipped invalid CIDRs {', '.join(bad)}" if bad else None
    return tuple(good), note


def _parse_tags(knob: Knob, raw: str) -> tuple[dict[str, str], str | None]:
    try:
        loaded = json.loads(raw)
    except json.JSONDecodeError:
        return {}, f"{knob.name} is not valid JSON; no extra tags are added"
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        return {}, f"{knob.name} must be a JSON object of string values; no extra tags are added"
    reserved = sorted(key for key in loaded if "k8s.amazonaws.com" in key)
    tags = {key: value for key, value in loaded.items() if key not in reserved}
    note = f"{knob.name}: keys containing k8s.amazonaws.com are ignored ({', '.join(reserved)})" if reserved else None
    return tags, note
