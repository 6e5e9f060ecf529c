"""Effective aws-node settings, the start-up checks aws-node would fail on, and warm-pool problems
(cni-reference section 1).

What a knob is and how aws-node parses it: bot/domain/knobs.py; the catalogue: bot/domain/knob_catalogue.py;
validation of a proposed change: bot/domain/settings_change.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.capacity import WarmSettings
from bot.domain.knob_catalogue import KNOBS, MANIFEST_OWNED_ENV, knob_for
from bot.domain.knobs import Knob, SettingValue, Severity, parse_go_bool, parse_go_int, parse_value


@dataclass(frozen=True)
class EffectiveSettings:
    """Typed values of every knob for one aws-node env, defaults filled in."""

    values: Mapping[str, SettingValue]
    non_defaults: tuple[str, ...]  # knobs whose value differs from a stock install's
    notes: tuple[str, ...]  # unparsable or ignored values, as aws-node would log them
    unrecognised: tuple[str, ...] = ()  # env names that are neither knobs nor manifest-owned

    def __getitem__(self, name: str) -> SettingValue:
        return self.values[name]

    def flag(self, name: str) -> bool:
        return bool(self.values[name])

    def number(self, name: str) -> int:
        value = self.values[name]
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    @property
    def prefix_delegation(self) -> bool:
        return self.flag("ENABLE_PREFIX_DELEGATION")

    @property
    def custom_networking(self) -> bool:
        return self.flag("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG")

    @property
    def pod_eni(self) -> bool:
        return self.flag("ENABLE_POD_ENI")

    @property
    def ipv6(self) -> bool:
        return self.flag("ENABLE_IPv6")

    @property
    def max_eni(self) -> int | None:
        value = self.values["MAX_ENI"]
        return value if isinstance(value, int) else None

    def warm(self) -> WarmSettings:
        return WarmSettings(
            warm_eni_target=self.number("WARM_ENI_TARGET"),
            warm_ip_target=self.number("WARM_IP_TARGET"),
            minimum_ip_target=self.number("MINIMUM_IP_TARGET"),
            warm_prefix_target=self.number("WARM_PREFIX_TARGET"),
            prefix_delegation=self.prefix_delegation,
            custom_networking=self.custom_networking,
            max_eni=self.max_eni,
            sgp_trunk=self.pod_eni,
        )


def effective_settings(env: Mapping[str, str]) -> EffectiveSettings:
    """What aws-node runs with for this container env (present-but-empty counts as set, as in Go)."""
    values: dict[str, SettingValue] = {}
    notes: list[str] = []
    for name, knob in KNOBS.items():
        if name in env:
            value, note = parse_value(knob, env[name])
            if note:
                notes.append(note)
        else:
            value = knob.code_default
        values[name] = value
    if "POD_MTU" not in env:
        values["POD_MTU"] = values["AWS_VPC_ENI_MTU"]  # main.go: GetEnv(POD_MTU, eniMTU)

    non_defaults = tuple(name for name, knob in KNOBS.items() if values[name] != _stock_value(knob, values))
    unrecognised = tuple(sorted(name for name in env if knob_for(name) is None and name not in MANIFEST_OWNED_ENV))
    return EffectiveSettings(values, non_defaults, tuple(notes), unrecognised)


def _stock_value(knob: Knob, values: Mapping[str, SettingValue]) -> SettingValue:
    if knob.name == "POD_MTU":
        return values["AWS_VPC_ENI_MTU"]
    return knob.default


# --- start-up failures --------------------------------------------------------------------------------

_RESERVED_VETH_PREFIXES = frozenset({"eth", "vlan", "lo"})
_MTU_RANGES = {False: (576, "IPv4"), True: (1280, "IPv6")}
_MAX_MTU = 9001


def startup_errors(env: Mapping[str, str]) -> list[str]:
    """Every env combination that makes aws-node exit at start, with the exact upstream message.

    The entrypoint (cmd/aws-vpc-cni) and ipamd each stop at their first failure; all are listed here.
    """
    errors: list[str] = []

    def go_bool(name: str, default: bool) -> bool:
        flag = parse_go_bool(env[name]) if name in env else None
        return default if flag is None else flag

    if env.get("AWS_VPC_K8S_PLUGIN_LOG_FILE") == "stdout":
        errors.append("AWS_VPC_K8S_PLUGIN_LOG_FILE cannot be set to stdout")
    veth_prefix = env.get("AWS_VPC_K8S_CNI_VETHPREFIX", "eni")
    if len(veth_prefix) > 4:
        errors.append("AWS_VPC_K8S_CNI_VETHPREFIX cannot be longer than 4 characters")
    if veth_prefix in _RESERVED_VETH_PREFIXES:
        errors.append("AWS_VPC_K8S_CNI_VETHPREFIX cannot be set to reserved values 'eth', 'vlan', or 'lo'")
    if go_bool("ENABLE_POD_ENI", False) and env.get("POD_SECURITY_GROUP_ENFORCING_MODE", "strict") not in (
        "strict",
        "standard",
    ):
        errors.append("POD_SECURITY_GROUP_ENFORCING_MODE must be set to either 'strict' or 'standard'")
    if "IP_COOLDOWN_PERIOD" in env:
        raw = env["IP_COOLDOWN_PERIOD"]
        cooldown = parse_go_int(raw)
        if cooldown is None or cooldown < 0:
            errors.append(f"IP_COOLDOWN_PERIOD MUST be a valid positive integer. {raw} is invalid")
    ipv6 = go_bool("ENABLE_IPv6", False)
    errors += [message for name in ("AWS_VPC_ENI_MTU", "POD_MTU") if (message := _mtu_error(env, name, ipv6))]
    if go_bool("ENABLE_PREFIX_DELEGATION", False) and all(
        # Upstream compares the raw strings with "0" (Go string order); reproduced on purpose.
        env.get(name, "0") <= "0"
        for name in ("WARM_IP_TARGET", "WARM_PREFIX_TARGET", "MINIMUM_IP_TARGET")
    ):
        errors.append(
            "Setting WARM_PREFIX_TARGET = 0 is not supported while WARM_IP_TARGET/MINIMUM_IP_TARGET is not set. "
            "Please configure either one of the WARM_{PREFIX/IP}_TARGET or MINIMUM_IP_TARGET env variables"
        )

    # ipamd (cmd/aws-k8s-agent -> ipamd.New)
    mode = env.get("NETWORK_POLICY_ENFORCING_MODE")
    if mode is not None and mode.lower() not in ("none", "strict", "standard"):
        errors.append("Initialization failure: invalid Network policy mode, supported modes: none, strict, standard")
    ipv4 = go_bool("ENABLE_IPv4", False)
    if ipv4 and ipv6:
        errors.append("IPv4 and IPv6 are both enabled. VPC CNI currently does not support dual stack mode")
    elif not ipv4 and not ipv6:
        errors.append("IPv4 and IPv6 are both disabled. One of them have to be enabled")
    elif ipv6 and (_custom_networking(env) or not go_bool("ENABLE_PREFIX_DELEGATION", False)):
        errors.append(
            "IPv6 is supported only in Prefix Delegation mode. Custom Networking is not supported in IPv6 mode. "
            "Please set the env variables accordingly."
        )
    return errors


def instance_startup_errors(env: Mapping[str, str], instance_type: str, supports_prefix_delegation: bool) -> list[str]:
    """What makes ipamd exit on one instance type (ipamd.go isConfigValid): IPv6 needs prefix delegation, which
    exists on Nitro and bare-metal types only (elsewhere it falls back in IPv4, but is fatal in IPv6)."""
    settings = effective_settings(env)
    if settings.ipv6 and settings.prefix_delegation and not supports_prefix_delegation:
        return [
            f"Prefix Delegation is not supported on non-nitro instance {instance_type}. IPv6 is only supported in "
            "Prefix delegation Mode. "
        ]
    return []


def _custom_networking(env: Mapping[str, str]) -> bool:
    # ipamd's parseBoolEnvVar: empty or unparsable -> false.
    return parse_go_bool(env.get("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "")) is True


def _mtu_error(env: Mapping[str, str], name: str, ipv6: bool) -> str | None:
    if name not in env:
        return None
    raw = env[name]
    mtu = parse_go_int(raw)
    if mtu is None:
        return f"{name} MUST be a valid integer. {raw} is invalid"
    minimum, family = _MTU_RANGES[ipv6]
    if not minimum <= mtu <= _MAX_MTU:
        return f"{name} cannot be less than {minimum} or greater than {_MAX_MTU} in {family}. {raw} is invalid"
    return None


# --- warm-pool problems (cni-reference 3.2 #10) --------------------------------------------------------

WARM_TARGET_MISCONFIG = "WARM_TARGET_MISCONFIG"
WARM_TARGET_IGNORED = "WARM_TARGET_IGNORED"
TINY_WARM_IP_TARGET = 2  # at or below this, every pod start/stop tends to trigger EC2 calls


@dataclass(frozen=True)
class Problem:
    code: str
    severity: Severity
    message: str
    fix: str = ""
    suggested: tuple[tuple[str, str], ...] = ()  # env values that would fix it

    @property
    def suggested_env(self) -> dict[str, str]:
        return dict(self.suggested)


def warm_pool_problems(settings: EffectiveSettings, *, pods_per_node: int | None = None) -> list[Problem]:
    """Warm-target settings that starve pods, slow them down or multiply EC2 calls.

    ``pods_per_node`` (typical pods on a node) makes the suggested MINIMUM_IP_TARGET concrete.
    """
    if settings.ipv6:
        return []  # warm targets are ignored in IPv6 mode (one /80 per node)
    warm_ip = settings.number("WARM_IP_TARGET")
    minimum = settings.number("MINIMUM_IP_TARGET")
    floor = str(pods_per_node if pods_per_node else max(minimum, 10))
    problems: list[Problem] = []
    if minimum > 0 and warm_ip == 0:
        problems.append(
            Problem(
                WARM_TARGET_MISCONFIG,
                Severity.ERROR,
                f"MINIMUM_IP_TARGET={minimum} without WARM_IP_TARGET freezes each node's pool at {minimum} IPs: "
                "pods beyond that get no IP (failed to assign an IP address to container).",
                "Set WARM_IP_TARGET as well (README pairing: MINIMUM_IP_TARGET near the usual pod count, "
                "WARM_IP_TARGET=2).",
                (("WARM_IP_TARGET", "2"),),
            )
        )
    elif 0 < warm_ip <= TINY_WARM_IP_TARGET and minimum == 0:
        problems.append(
            Problem(
                WARM_TARGET_MISCONFIG,
                Severity.WARNING,
                f"WARM_IP_TARGET={warm_ip} without MINIMUM_IP_TARGET: nearly every pod start or stop makes ipamd "
                "call EC2 (Assign/UnassignPrivateIpAddresses), which throttles the account under churn.",
                "Add MINIMUM_IP_TARGET near the usual pods per node so the pool is pre-scaled.",
                (("MINIMUM_IP_TARGET", floor),),
            )
        )
    elif warm_ip > 0 and minimum == 0:
        problems.append(
            Problem(
                WARM_TARGET_MISCONFIG,
                Severity.INFO,
                f"WARM_IP_TARGET={warm_ip} is set without MINIMUM_IP_TARGET; the README strongly suggests both.",
                "Add MINIMUM_IP_TARGET near the usual pods per node.",
                (("MINIMUM_IP_TARGET", floor),),
            )
        )
    ip_targets = warm_ip > 0 or minimum > 0
    if not ip_targets and not settings.prefix_delegation and settings.number("WARM_ENI_TARGET") == 0:
        problems.append(
            Problem(
                WARM_TARGET_MISCONFIG,
                Severity.WARNING,
                "WARM_ENI_TARGET=0 with no IP targets: a node's pool grows only once it is empty, so the next pod "
                "waits for EC2 (a new ENI takes up to ~10 s).",
                "Keep one ENI warm, or use WARM_IP_TARGET with MINIMUM_IP_TARGET for finer control.",
                (("WARM_ENI_TARGET", "1"),),
            )
        )
    problems += _ignored_targets(settings, ip_targets)
    return problems


def _ignored_targets(settings: EffectiveSettings, ip_targets: bool) -> list[Problem]:
    ignored: list[tuple[str, str]] = []
    if "WARM_ENI_TARGET" in settings.non_defaults and (ip_targets or settings.prefix_delegation):
        why = "WARM_IP_TARGET/MINIMUM_IP_TARGET" if ip_targets else "prefix delegation (WARM_PREFIX_TARGET)"
        ignored.append(("WARM_ENI_TARGET", why))
    if settings.prefix_delegation and ip_targets and settings.number("WARM_PREFIX_TARGET") > 0:
        ignored.append(("WARM_PREFIX_TARGET", "WARM_IP_TARGET/MINIMUM_IP_TARGET"))
    return [
        Problem(WARM_TARGET_IGNORED, Severity.INFO, f"{name} is ignored: {why} takes precedence.")
        for name, why in ignored
    ]
