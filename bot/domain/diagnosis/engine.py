"""diagnose(): run the ordered rule tables over the evidence, rank what holds, and say UNKNOWN with every fact
gathered when nothing does."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from bot.domain.diagnosis import rules_cni, rules_egress, rules_multinic, rules_pod, rules_pool, rules_shapes
from bot.domain.diagnosis.model import Cause, CauseCode, Diagnosis
from bot.domain.diagnosis.signals import SandboxFailure, classify_sandbox, failing_plugin, plugin_error_text
from bot.domain.diagnosis.text import subnet_line
from bot.domain.diagnosis.view import View
from bot.domain.evidence import PodEvidence
from bot.domain.wording import ago, plural

log = logging.getLogger("cnibot.diagnosis")

Rule = Callable[[View], Cause | None]

# A pod the scheduler has not placed: only the scheduler's verdict matters.
SCHEDULING_RULES: tuple[Rule, ...] = (
    rules_pod.max_pods_reached,
    rules_pod.sgp_branch_capacity_unscheduled,
    rules_pod.not_scheduled,
)

# A pod on a node without an IP. Order breaks ties in confidence: what stops the CNI outright comes first,
# then what stops the pool from growing, then what only slows it.
NODE_RULES: tuple[Rule, ...] = (
    rules_cni.network_policy_agent,
    rules_multinic.multi_nic_disabled,
    rules_cni.eniconfig_missing,
    rules_cni.eniconfig_invalid,
    rules_cni.aws_node_not_ready,
    rules_cni.sgp_branch_not_ready,
    rules_cni.iam_permission_missing,
    rules_pool.node_cordoned,
    rules_pool.warm_target_misconfig,
    rules_pool.node_ip_capacity,
    rules_cni.attachment_limit,
    rules_pool.subnet_excluded,
    rules_pool.prefix_fragmentation,
    rules_pool.subnet_exhausted,
    rules_cni.ec2_throttled,
    rules_pool.ip_cooldown,
    rules_pool.leaked_enis,
)

# An IPv6 cluster: each node has one /80 prefix on its primary ENI, so the IPv4 pool, subnet and ENI-limit rules
# do not apply (ipamd.go isConfigValid: IPv6 runs only with prefix delegation and without custom networking).
IPV6_RULES: tuple[Rule, ...] = (
    rules_shapes.ipv6_prefix_missing,
    rules_egress.egress_v4_plugin,
    rules_cni.network_policy_agent,
    rules_multinic.multi_nic_disabled,
    rules_cni.aws_node_not_ready,
    rules_cni.sgp_branch_not_ready,
    rules_cni.iam_permission_missing,
)

# When the key holds, these are its consequences rather than causes of their own (e.g. with no ENIConfig
# ipamd fails its start-up, so aws-node crash-loops).
CONSEQUENCES: dict[CauseCode, frozenset[CauseCode]] = {
    CauseCode.ENICONFIG_MISSING: frozenset({CauseCode.AWS_NODE_NOT_READY}),
    CauseCode.ENICONFIG_INVALID: frozenset({CauseCode.AWS_NODE_NOT_READY}),
    CauseCode.IPV6_PREFIX_MISSING: frozenset({CauseCode.AWS_NODE_NOT_READY}),
    # An outdated ENI table in ipamd also gave the node a max-pods its ENIs cannot address.
    CauseCode.ATTACHMENT_LIMIT: frozenset({CauseCode.NODE_IP_CAPACITY}),
}


_SANDBOX_MEANING = {
    SandboxFailure.NO_IP: "'failed to assign an IP address to container' (ipamd had no IP for it)",
    SandboxFailure.IPAMD_UNREACHABLE: "ipamd unreachable (aws-node restarting or down)",
    SandboxFailure.NETWORK_POLICY: "'failed to setup network policy' (network policy agent)",
    SandboxFailure.NETWORK_SETUP: "'failed to setup network' (veth/route setup after the IP was assigned, not an "
    "IP shortage)",
    SandboxFailure.NETWORK_NOT_READY: "the node's network plugin was not ready",
    SandboxFailure.OTHER: "an error not from the aws-cni plugin's IP path (see the pod's events)",
}


def diagnose(ev: PodEvidence, *, now: datetime) -> Diagnosis:
    v = View(ev, now)
    pod = ev.pod
    if pod is None:
        pod_read = not any(u.what == "pod" for u in ev.could_not_check)
        causes = [rules_pod.pod_not_found(v)] if pod_read else [_unknown(v)]
    elif pod.host_network:  # before the IP check: a hostNetwork pod's podIP is its node's address
        causes = [rules_pod.host_network(v), *_run(SCHEDULING_RULES if pod.node_name is None else (), v)]
    elif pod.pod_ip:
        causes = [rules_pod.pod_has_ip(v)]
    elif pod.node_name is None:
        fargate = rules_shapes.fargate_unscheduled(v)
        causes = [fargate] if fargate else rank(_run(SCHEDULING_RULES, v), v)
    elif (elsewhere := rules_shapes.node_not_served(v)) is not None:
        causes = [elsewhere]
    else:
        causes = rank(_run(IPV6_RULES if v.settings_known and v.settings.ipv6 else NODE_RULES, v), v)
    unchecked = list(ev.could_not_check)
    if pod is not None and not pod.pod_ip and not pod.host_network:
        unchecked += rules_shapes.unchecked_for_shape(v)
    if pod is not None and pod.node_name and not pod.pod_ip and (extra := rules_multinic.multi_nic_unchecked(v)):
        unchecked.append(extra)
    return Diagnosis(
        cluster=ev.cluster,
        pod=ev.ref,
        node=pod.node_name if pod else None,
        causes=tuple(causes),
        checked=tuple(ev.checked),
        could_not_check=tuple(unchecked),
    )


def _run(rules: Sequence[Rule], v: View) -> list[Cause]:
    causes = []
    for rule in rules:
        try:
            cause = rule(v)
        except Exception:  # one faulty rule must not cost the whole answer
            log.exception("diagnosis rule %s failed", rule.__name__)
            continue
        if cause is not None:
            causes.append(replace(cause, confidence=round(min(max(cause.confidence, 0.0), 1.0), 2)))
    return causes


def rank(causes: list[Cause], v: View) -> list[Cause]:
    """Primary causes by confidence (rule order breaks ties), then contributing ones; UNKNOWN if none."""
    demoted = {code for c in causes if not c.contributing for code in CONSEQUENCES.get(c.code, ())}
    # A cause with a fix of its own (e.g. aws-node's env) is not a mere consequence of another.
    causes = [replace(c, contributing=True) if c.code in demoted and c.change is None else c for c in causes]
    order = {code: i for i, code in enumerate(c.code for c in causes)}

    def key(c: Cause) -> tuple[float, int]:
        return (-c.confidence, order[c.code])

    primary = sorted((c for c in causes if not c.contributing), key=key)
    contributing = sorted((c for c in causes if c.contributing), key=key)
    if not primary:
        primary = [_unknown(v)]
    return primary + contributing


def _sandbox_meaning(v: View, kind: SandboxFailure) -> str:
    """What a kind of sandbox failure means; for OTHER, also who failed and in which words (the newest)."""
    meaning = _SANDBOX_MEANING[kind]
    latest = v.signals.sandbox_latest
    if kind is not SandboxFailure.OTHER or latest is None or classify_sandbox(latest.message) is not kind:
        return meaning
    plugin = failing_plugin(latest.message)
    who = f"CNI plugin {plugin}" if plugin else "the container runtime"
    return f"{meaning}; newest, from {who}: '{plugin_error_text(latest.message)[:200]}'"


def _unknown(v: View) -> Cause:
    """Nothing matched: every fact gathered, and what to look at next."""
    ev, pod = v.ev, v.ev.pod
    facts: list[str] = []
    if pod is not None:
        facts.append(f"pod phase {pod.phase}, node {pod.node_name or 'none'}, created {ago(pod.created_at, v.now)}")
    sandbox = v.signals.sandbox
    if sandbox:
        facts += [f"pod sandbox failed {plural(n, 'time')}: {_sandbox_meaning(v, kind)}" for kind, n in sandbox.items()]
    elif pod is not None:
        facts.append("0 sandbox failures reported for the pod")
    if v.settings_known and v.settings.ipv6:
        prefixes = [p for e in v.card0_enis for p in e.ipv6_prefixes]
        facts.append(
            "IPv6 cluster: pods take addresses from the node's /80 "
            f"({', '.join(prefixes) if prefixes else 'none found'}); the IPv4 pool, subnet and ENI-limit checks do "
            "not apply"
        )
    else:
        facts += [line for line in (v.enis_line(), v.waiting_line()) if line]
        if v.pool is not None:
            facts.append(f"pool {v.pool_line()}")
        facts += [f"{subnet_line(g.subnet)}; {g.asks_text()}" for g in v.growth_subnets]
    awsn = ev.aws_node_pod
    if awsn is not None:
        main = next((c for c in awsn.containers if c.name == "aws-node"), None)
        if main is not None:
            facts.append(f"aws-node {awsn.name}: ready={str(main.ready).lower()}, {main.restarts} restarts")
    if ev.settings is not None and ev.settings.non_defaults:
        changed = ", ".join(f"{k}={ev.settings[k]}" for k in ev.settings.non_defaults[:6])
        facts.append(f"{plural(len(ev.settings.non_defaults), 'aws-node setting')} not at default: {changed}")
    if ev.could_not_check:
        facts.append(f"{plural(len(ev.could_not_check), 'check')} could not run (listed below)")
    where = f" on node {pod.node_name}" if pod is not None and pod.node_name else ""
    starting = pod is not None and pod.node_name and not sandbox
    summary = (
        f"{ev.ref} was placed{where} {ago(pod.created_at, v.now)} and no failure is reported yet: it may still be "
        "starting."
        if starting and pod is not None
        else f"No known cause matched for {ev.ref}{where}; {plural(len(facts), 'fact')} gathered are below."
    )
    node_hint = pod.node_name if pod is not None and pod.node_name else "<node>"
    return Cause(
        CauseCode.UNKNOWN,
        0.2,
        summary,
        tuple(facts),
        (
            f"`kubectl describe pod -n {ev.namespace} {ev.name}`: read the newest events.",
            f"On node {node_hint}, read /var/log/aws-routed-eni/ipamd.log (search 'AssignPodIPAddress' and "
            "'Failed') and plugin.log.",
            "`kubectl logs -n kube-system <aws-node pod on the node> -c aws-node`.",
        ),
    )
