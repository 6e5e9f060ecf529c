"""Validation of a proposed aws-node env change: refusals, warnings, and what it takes to take effect."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from bot.domain.cni_settings import EffectiveSettings, effective_settings, startup_errors, warm_pool_problems
from bot.domain.knob_catalogue import KNOBS, MANIFEST_OWNED_ENV, knob_for
from bot.domain.knobs import (
    Effect,
    Knob,
    KnobGroup,
    KnobType,
    Risk,
    Severity,
    _enum_match,
    _in_range,
    _range_text,
    _show,
    beyond_int64,
    parse_connmark,
    parse_go_bool,
    parse_go_int,
    parse_value,
    unset_note,
)


class EnvChange(NamedTuple):
    key: str
    old: str | None
    new: str | None  # None = unset


def settings_drift(running_env: Mapping[str, str], approved_env: Mapping[str, str]) -> tuple[EnvChange, ...]:
    """The one drift definition, used by /cni config, digests and rollbacks: the aws-node settings whose
    running value differs from the approved one (old = approved, new = running). The catalogue's knobs compare
    by effective value, so a default set explicitly is no drift."""
    running, approved = effective_settings(running_env), effective_settings(approved_env)
    keys = sorted((set(running_env) | set(approved_env)) & set(KNOBS))
    return tuple(
        EnvChange(key, approved_env.get(key), running_env.get(key)) for key in keys if running[key] != approved[key]
    )


def setting_drifted(key: str, running_env: Mapping[str, str], wanted: str | None) -> bool:
    """Whether ``key`` runs with another value than ``wanted`` (None = unset) would give (see settings_drift);
    a key the catalogue does not model compares as written."""
    if key not in KNOBS:
        return running_env.get(key) != wanted
    wanted_env = {k: v for k, v in running_env.items() if k != key}
    if wanted is not None:
        wanted_env[key] = wanted
    return any(change.key == key for change in settings_drift(running_env, wanted_env))


@dataclass(frozen=True)
class ChangeCheck:
    diff: tuple[EnvChange, ...]
    errors: tuple[str, ...]  # the change is refused when any
    warnings: tuple[str, ...]
    risk: Risk
    needs_node_replacement: bool
    needs_max_pods: bool
    impact: str  # plain-language sentence on what applying it takes
    containers: tuple[str, ...] = ()  # containers whose env the diff touches

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_change(current_env: Mapping[str, str], changes: Mapping[str, str | None]) -> ChangeCheck:
    """Check a proposed aws-node env change (``None`` = unset the variable) before anyone approves it."""
    diff, errors, warnings = _diff(current_env, changes)
    new_env = _apply(current_env, diff)
    before_errors = set(startup_errors(current_env))
    for message in startup_errors(new_env):
        if message in before_errors:
            warnings.append(f"aws-node already fails to start with the current settings: {message}")
        else:
            errors.append(f"aws-node would exit at start: {message}")

    before, after = effective_settings(current_env), effective_settings(new_env)
    warnings += _new_warm_pool_warnings(before, after)
    warnings += _change_warnings(diff, before, after)

    changed = [knob for change in diff if (knob := knob_for(change.key)) is not None]
    # An unmodelled setting's effect cannot be told apart from a no-op: count it as a change.
    effective = [knob for knob in changed if not knob.modelled or before[knob.name] != after[knob.name]]
    needs_max_pods = any(KnobGroup.NODE_CAPACITY in knob.groups for knob in effective)
    needs_replacement = _needs_node_replacement(effective, before, after)
    return ChangeCheck(
        diff=tuple(diff),
        errors=tuple(errors),
        warnings=tuple(warnings),
        # Rewording a value without changing its meaning ("True" -> "true") only rolls aws-node out.
        risk=max((knob.risk for knob in effective), key=lambda risk: risk.rank, default=Risk.LOW),
        needs_node_replacement=needs_replacement,
        needs_max_pods=needs_max_pods,
        impact=_impact_sentence(changed, effective, needs_replacement, needs_max_pods),
        containers=tuple(sorted({name for knob in changed for name in knob.containers})),
    )


def _diff(
    current_env: Mapping[str, str], changes: Mapping[str, str | None]
) -> tuple[list[EnvChange], list[str], list[str]]:
    """(diff, errors, warnings) of the requested keys: unknown keys and bad values refused, no-ops dropped."""
    diff: list[EnvChange] = []
    errors: list[str] = []
    warnings: list[str] = []
    for key, new in changes.items():
        knob = knob_for(key)
        if knob is None:
            errors.append(_unknown_key_message(key))
            continue
        old = current_env.get(key)
        if new == old:
            warnings.append(f"{key} is already {'unset' if new is None else new!r}; nothing to change.")
        elif new is not None and (problem := value_error(knob, new)):
            errors.append(problem)
        else:
            diff.append(EnvChange(key, old, new))
    if not diff and not errors:
        errors.append("Nothing to change.")
    return diff, errors, warnings


def _new_warm_pool_warnings(before: EffectiveSettings, after: EffectiveSettings) -> list[str]:
    known = {(problem.code, problem.message) for problem in warm_pool_problems(before)}
    return [
        f"{problem.message} {problem.fix}".strip()
        for problem in warm_pool_problems(after)
        if problem.severity != Severity.INFO and (problem.code, problem.message) not in known
    ]


def value_error(knob: Knob, raw: str) -> str | None:
    """Why ``raw`` is not a value the bot should write for ``knob`` (None = acceptable)."""
    match knob.kind:
        case KnobType.BOOL:
            if parse_go_bool(raw) is None:
                return f"{knob.name} must be true or false (got {raw!r})."
        case KnobType.INT:
            number = parse_go_int(raw)
            if number is None and beyond_int64(raw):
                then = "aws-node exits at start" if knob.bad_int_exits else f"aws-node uses {_show(knob.code_default)}"
                return (
                    f"{knob.name}={raw} is beyond Go's int64 range: aws-node's strconv.Atoi refuses it "
                    f"(value out of range) and {then}."
                )
            if number is None:
                return f"{knob.name} must be a whole number (got {raw!r})."
            if knob.unset_at_or_below is not None and number <= knob.unset_at_or_below:
                return None  # accepted: it means unset (validate_change says so)
            if not _in_range(knob, number):
                return f"{knob.name} must be {_range_text(knob)} (got {number})."
        case KnobType.ENUM:
            if _enum_match(knob, raw) is None:
                return f"{knob.name} must be one of {', '.join(knob.allowed)} (got {raw!r})."
        case KnobType.CIDR_LIST | KnobType.JSON:
            _, note = parse_value(knob, raw)
            if note:
                return f"{note}."
        case KnobType.STR:
            if raw == "" and knob.empty_is_default:
                return f"{knob.name} cannot be empty; unset it to use the default."
    return None


def _unknown_key_message(key: str) -> str:
    if key in MANIFEST_OWNED_ENV:
        return f"{key} is set by the aws-node manifest and is not a setting the bot changes."
    close = difflib.get_close_matches(key.upper(), KNOBS, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    return f"Unknown aws-node setting {key}.{hint}"


def _apply(env: Mapping[str, str], diff: list[EnvChange]) -> dict[str, str]:
    result = dict(env)
    for change in diff:
        if change.new is None:
            result.pop(change.key, None)
        else:
            result[change.key] = change.new
    return result


def _change_warnings(diff: list[EnvChange], before: EffectiveSettings, after: EffectiveSettings) -> list[str]:
    warnings: list[str] = []
    keys = {change.key: change for change in diff}
    if "ENABLE_IPv4" in keys and keys["ENABLE_IPv4"].new is None:
        warnings.append("Never remove ENABLE_IPv4 from aws-node: without it ipamd treats IPv4 as disabled.")
    if "IP_COOLDOWN_PERIOD" in keys:
        old, new = before.number("IP_COOLDOWN_PERIOD"), after.number("IP_COOLDOWN_PERIOD")
        if new > old:
            warnings.append(f"A longer IP_COOLDOWN_PERIOD ({old}s -> {new}s) means more EC2 calls under pod churn.")
        elif new == 0:
            warnings.append(
                "IP_COOLDOWN_PERIOD=0 is supported but highly discouraged: kube-proxy may still route to a reused IP."
            )
    for change in diff:
        knob = knob_for(change.key)
        if knob is not None and not knob.modelled and change.new is not None:
            warnings.append(
                f"{change.key} is a real aws-node setting that cnibot does not model ({knob.description}) It is "
                "written as given: the bot cannot check the value or predict its effect."
            )
    connmark = keys.get("AWS_VPC_K8S_CNI_CONNMARK")
    if connmark is not None and connmark.new is not None and parse_connmark(connmark.new) is None:
        warnings.append(
            f"AWS_VPC_K8S_CNI_CONNMARK={connmark.new} is not a mark aws-node accepts (an integer 1 to 4294967295, "
            "decimal, 0x hex or 0 octal): it logs so and uses the default 0x80."
        )
    max_eni = keys.get("MAX_ENI")
    if max_eni is not None and max_eni.new is not None:
        number = parse_go_int(max_eni.new)
        if number is not None and number <= 0:
            warnings.append(unset_note(KNOBS["MAX_ENI"], number) + ".")
    if "MAX_ENI" in keys and (after.max_eni or 0) and after.max_eni != before.max_eni:
        warnings.append("MAX_ENI does not change kubelet max-pods: lower max-pods too or pods will starve for IPs.")
    if after.prefix_delegation and not before.prefix_delegation:
        warnings.append(
            "Prefix delegation needs free, aligned /28 blocks in the subnets and works on Nitro "
            "instances only (others fall back to secondary IPs)."
        )
    for change in diff:
        knob = knob_for(change.key)
        if knob is not None and knob.effect is Effect.NEW_ENIS:
            warnings.append(f"{change.key} applies to ENIs created from now on; existing ENIs keep the old one.")
    return warnings


def _needs_node_replacement(effective: list[Knob], before: EffectiveSettings, after: EffectiveSettings) -> bool:
    for knob in effective:
        if knob.effect is Effect.REPLACE_NODES:
            return True
        if knob.name == "ENABLE_POD_ENI" and before.pod_eni and not after.pod_eni:
            return True  # the trunk ENI stays attached until the instance is recycled
        if knob.name == "ENABLE_PREFIX_DELEGATION":
            return True  # EKS guidance: move to new node groups rather than mixing modes on a node
    return False


def _impact_sentence(changed: list[Knob], effective: list[Knob], needs_replacement: bool, needs_max_pods: bool) -> str:
    if not changed:
        return "No change."
    if not effective:
        return "aws-node rolls out (10% of nodes at a time), but its behaviour stays the same."
    names = ", ".join(knob.name for knob in effective)
    if needs_replacement:
        tail = " and set kubelet max-pods on the new nodes to the new IP capacity" if needs_max_pods else ""
        return (
            f"aws-node rolls out, then existing nodes must be replaced (cordon, drain, terminate) for {names} "
            f"to take effect everywhere{tail}."
        )
    if needs_max_pods:
        return (
            f"aws-node rolls out, and kubelet max-pods must change (new launch template or node group) to "
            f"match the IP capacity under {names}."
        )
    if all(knob.effect is Effect.NEW_ENIS for knob in effective):
        return f"aws-node rolls out; only ENIs created afterwards follow {names}."
    return (
        "aws-node rolls out (10% of nodes at a time); while a node's aws-node restarts, new pods there wait a "
        "few seconds for an IP."
    )
