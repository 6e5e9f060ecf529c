"""The digest, built from stored samples and the approval records: a pure function of its inputs.

Headline (healthy, watch, or at risk with the reason), a row per subnet, nodes at their limits, pods that
failed to get an IP since the last digest, aws-node settings drifted from the last approved change, change
requests waiting, and recommendations. `summary` is what the next digest compares with to say "no change".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.digests.forecast import EXHAUSTED, humane_days
from bot.digests.outlook import Level, SubnetOutlook, subnet_outlook
from bot.digests.recommend import Recommendation, recommendations
from bot.domain.capacity_samples import CapacitySample, FailedPod, NodeSample, SubnetHistory
from bot.domain.cni_settings import effective_settings
from bot.domain.settings_change import EnvChange, settings_drift
from bot.domain.versions import VersionReport

NEAR_LIMIT = 0.9  # a node using this share of its IPs or max-pods is "near" its limit
# Free counts within this many addresses (or 1% of the subnet) of the last digest's count are "unchanged".
UNCHANGED_SLACK = 16


@dataclass(frozen=True)
class PendingChange:
    """A change request waiting for approval (from the approvals store)."""

    change_id: str
    summary: str  # e.g. "WARM_IP_TARGET=5, MINIMUM_IP_TARGET=20"
    requested_by: str
    requested_at: datetime | None = None


@dataclass(frozen=True)
class ApprovedSettings:
    """The aws-node env as the last approved (and applied) change left it."""

    env: Mapping[str, str]
    change_id: str | None = None
    approved_at: datetime | None = None


@dataclass(frozen=True)
class DigestSummary:
    """What one digest said, stored with its claim so the next one can tell whether anything changed."""

    level: str
    free: Mapping[str, int]
    failed_pods: int
    drift: tuple[str, ...]
    pending: tuple[str, ...]
    settings_hash: str | None
    latest_version: str | None = None  # the newest VPC CNI version EKS offered then

    def to_json(self) -> dict[str, Any]:
        return {
            "latest_version": self.latest_version,
            "level": self.level,
            "free": dict(self.free),
            "failed_pods": self.failed_pods,
            "drift": list(self.drift),
            "pending": list(self.pending),
            "settings_hash": self.settings_hash,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DigestSummary:
        return cls(
            level=str(data.get("level", "")),
            free={str(k): int(v) for k, v in (data.get("free") or {}).items()},
            failed_pods=int(data.get("failed_pods", 0)),
            drift=tuple(data.get("drift") or ()),
            pending=tuple(data.get("pending") or ()),
            settings_hash=data.get("settings_hash"),
            latest_version=data.get("latest_version"),
        )


@dataclass(frozen=True)
class DataState:
    """How the sampling went around the newest sample: what a digest admits before anything else."""

    failed_slots: int = 0  # sampling slots that failed after the newest stored sample
    last_error: str | None = None  # the newest failure's error
    stale_after: timedelta | None = None  # the newest sample is stale when older than this
    events_unread: tuple[datetime, ...] = ()  # samples in the window that could not read the sandbox events
    fresh_events_problem: str | None = None  # reading the events at the cut-off failed: why


@dataclass(frozen=True)
class DigestInputs:
    cluster: str
    now: datetime
    latest: CapacitySample | None  # the newest sample, with its node rows
    histories: Sequence[SubnetHistory]  # free addresses per subnet, at least the last 7 days
    failed_pods: Sequence[FailedPod] = ()  # since the last digest
    since: datetime | None = None  # the previous digest's cut-off (None: a first digest or a preview)
    approved: ApprovedSettings | None = None
    pending: Sequence[PendingChange] = ()
    previous: DigestSummary | None = None
    window_start: datetime | None = None  # failures are counted in (window_start, until]
    until: datetime | None = None  # this digest's cut-off (None = now)
    data: DataState = field(default_factory=DataState)
    previous_posted_at: datetime | None = None  # when the previous digest actually went out
    version: VersionReport | None = None  # None: not read (no EKS access, or a preview without it)


@dataclass(frozen=True)
class NodeAtLimit:
    node: NodeSample
    reason: str  # "all 3 ENIs and 27 of 27 pod IPs" ...


@dataclass(frozen=True)
class FailedPodGroup:
    """One pod's failures in the window: the root cause a diagnosis found, else what the kubelet said."""

    ref: str
    causes: tuple[str, ...]  # diagnosed cause codes first, then sandbox failure kinds
    message: str  # the newest event's message
    count: int  # sandbox failures (events count cumulatively: the largest count seen)
    last_seen: datetime
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Digest:
    cluster: str
    now: datetime
    level: Level
    headline: str
    subnets: tuple[SubnetOutlook, ...]
    nodes_at_limit: tuple[NodeAtLimit, ...]
    nodes_total: int
    failed_pods: tuple[FailedPodGroup, ...]
    drift: tuple[EnvChange, ...] | None  # None = no approved change to compare with
    approved: ApprovedSettings | None
    pending: tuple[PendingChange, ...]
    recommendations: tuple[Recommendation, ...]
    summary: DigestSummary
    unchanged: bool
    sampled_at: datetime | None
    since: datetime | None
    could_not_check: tuple[str, ...] = field(default=())
    caveats: tuple[str, ...] = ()  # why the data may be wrong: failed, partial or stale samples
    events_problem: str | None = None  # why the failed-pod list may be incomplete
    window_start: datetime | None = None
    until: datetime | None = None
    previous_posted_at: datetime | None = None
    ipv6: bool = False  # pods take IPv6 addresses: the IPv4 figures are nodes' and ENIs', not pods'
    other_shape_subnets: Mapping[str, str] = field(default_factory=dict)  # subnet id -> shape label
    version_line: str | None = None  # the VPC CNI is behind, or EKS offers a version new since the last digest

    @property
    def has_data(self) -> bool:
        return self.sampled_at is not None

    @property
    def total_free(self) -> int:
        return sum(s.free for s in self.subnets)


def build_digest(inputs: DigestInputs) -> Digest:
    latest = inputs.latest
    histories = {h.subnet_id: h for h in inputs.histories}
    outlooks = (
        tuple(
            sorted(
                (subnet_outlook(s, histories.get(s.subnet_id), inputs.now) for s in latest.subnets),
                key=lambda o: (o.az, o.subnet_id),
            )
        )
        if latest
        else ()
    )
    nodes_at_limit = tuple(_nodes_at_limit(latest.nodes)) if latest else ()
    failed = tuple(group_failed_pods(inputs.failed_pods))
    drift = _drift(latest, inputs.approved)
    ipv6 = latest is not None and latest.aws_node_env is not None and effective_settings(latest.aws_node_env).ipv6
    # IPv6: pods take addresses from each node's /80; the IPv4 remedies (warm pools, prefixes, secondary CIDRs) miss.
    other_shapes = dict(latest.other_shape_subnets) if latest else {}
    # Fargate, Auto Mode and Windows subnets: no ipamd pool there, so ipamd's remedies would not give them any.
    ipamd_outlooks = tuple(o for o in outlooks if o.subnet_id not in other_shapes)
    recs = tuple(recommendations(latest, ipamd_outlooks)) if latest and not ipv6 else ()
    caveats = data_caveats(latest, inputs.data, inputs.now)
    events_problem = _events_problem(latest, inputs.data)
    level, headline = _headline(
        inputs.cluster, outlooks, failed, latest is not None, caveats, inputs.data, events_problem
    )
    summary = DigestSummary(
        level=level.value,
        free={o.subnet_id: o.free for o in outlooks},
        failed_pods=len(failed),
        drift=tuple(sorted(c.key for c in drift or ())),
        pending=tuple(sorted(p.change_id for p in inputs.pending)),
        settings_hash=latest.settings_hash if latest else None,
        latest_version=inputs.version.latest if inputs.version else None,
    )
    return Digest(
        cluster=inputs.cluster,
        now=inputs.now,
        level=level,
        headline=headline,
        subnets=outlooks,
        nodes_at_limit=nodes_at_limit,
        nodes_total=len(latest.nodes) if latest else 0,
        failed_pods=failed,
        drift=drift,
        approved=inputs.approved,
        pending=tuple(inputs.pending),
        recommendations=recs,
        summary=summary,
        unchanged=(
            latest is not None
            and not caveats
            and events_problem is None
            and _unchanged(summary, inputs.previous, outlooks)
        ),
        sampled_at=latest.taken_at if latest else None,
        since=inputs.since,
        could_not_check=latest.could_not_check if latest else (),
        caveats=caveats,
        events_problem=events_problem,
        window_start=inputs.window_start,
        until=inputs.until,
        previous_posted_at=inputs.previous_posted_at,
        ipv6=ipv6,
        other_shape_subnets=other_shapes,
        version_line=version_news(inputs.version, inputs.previous),
    )


def version_news(report: VersionReport | None, previous: DigestSummary | None) -> str | None:
    """One line when the VPC CNI is behind, saying too when EKS started offering a newer version since the last
    digest (compared with the newest version that digest saw)."""
    if report is None or report.latest is None:
        return None
    seen = previous.latest_version if previous else None
    new = seen is not None and report.latest != seen
    if not report.minors_behind and not new:
        return None
    parts = []
    if report.minors_behind:
        s = "s" if report.minors_behind != 1 else ""
        parts.append(
            f"VPC CNI {report.installed} is {report.minors_behind} minor version{s} behind {report.latest}"
            + (f"; next step: {report.next_minor}" if report.next_minor else "")
        )
    if new:
        parts.append(f"EKS offers {report.latest}, new since the last digest")
    return "; ".join(parts) + "."


def data_caveats(latest: CapacitySample | None, data: DataState, now: datetime) -> tuple[str, ...]:
    """What is wrong with the data a digest shows, most telling first; empty when it is complete and fresh."""
    caveats = []
    if data.failed_slots:
        n = data.failed_slots
        error = f" ({_short_error(data.last_error)})" if data.last_error else ""
        caveats.append(
            f"the last {n} sample{'s' if n != 1 else ''} failed{error}" if n > 1 else f"the last sample failed{error}"
        )
    if latest is not None and not latest.complete:
        missing = ", ".join(sorted(dict.fromkeys(i.split(" (", 1)[0] for i in latest.could_not_check), key=_weight))
        caveats.append(f"the newest sample could not read {missing}")
    if latest is not None and (
        data.failed_slots or (data.stale_after is not None and now - latest.taken_at > data.stale_after)
    ):
        caveats.append(f"its figures are from {age_text(latest.taken_at, now)}")
    return tuple(caveats)


# What decides which subnets a sample sees comes first: without it the subnet table itself is wrong.
_FIRST = ("nodes", "ENIConfigs", "subnets of the VPC", "ENIs of the VPC", "VPC of the cluster", "AWS region")


def _weight(what: str) -> tuple[int, str]:
    return (_FIRST.index(what) if what in _FIRST else len(_FIRST), what)


def _events_problem(latest: CapacitySample | None, data: DataState) -> str | None:
    problems = []
    if data.events_unread:
        n = len(data.events_unread)
        problems.append(f"{n} sample{'s' if n != 1 else ''} in this window could not read the pod events")
    if data.fresh_events_problem:
        problems.append(f"the pod events could not be read at the cut-off ({data.fresh_events_problem})")
    elif latest is not None and not latest.events_read and not data.events_unread:
        problems.append("the newest sample could not read the pod events")
    return "; ".join(problems) or None


def age_text(then: datetime, now: datetime) -> str:
    """ "7 min ago", "3 h ago": how old a figure is, for the reader."""
    secs = max(0, int((now - then).total_seconds()))
    if secs < 90:
        return "just now"
    if secs < 3600:
        return f"{secs // 60} min ago"
    if secs < 2 * 86400:
        return f"{secs // 3600} h ago"
    return f"{secs // 86400} days ago"


def _short_error(error: str, width: int = 120) -> str:
    error = " ".join(error.split())
    return error if len(error) <= width else error[: width - 1] + "…"


def _headline(
    cluster: str,
    outlooks: Sequence[SubnetOutlook],
    failed: Sequence[FailedPodGroup],
    data: bool,
    caveats: Sequence[str] = (),
    state: DataState | None = None,
    events_problem: str | None = None,
) -> tuple[Level, str]:
    if not data:
        if state is not None and state.failed_slots:
            error = f": {_short_error(state.last_error)}" if state.last_error else ""
            n = state.failed_slots
            return Level.UNKNOWN, f"{cluster}: no capacity sample yet, {n} attempt{'s' if n != 1 else ''} failed{error}"
        return Level.WATCH, f"{cluster}: no capacity sample yet, so nothing to report"
    if not outlooks and not failed:
        # Subnets are found through the nodes' ENIs and the ENIConfigs: none at all is nothing to call healthy.
        why = "; ".join(caveats) or "the sample found no subnet that the cluster's nodes or ENIConfigs use"
        return Level.UNKNOWN, f"{cluster}: health unknown: {why}"
    worst = max((o.level for o in outlooks), key=lambda lv: lv.rank, default=Level.HEALTHY)
    level = Level.AT_RISK if failed else worst
    if level == Level.HEALTHY and (caveats or events_problem):
        # Nothing wrong was seen, but not everything could be seen: that is not "healthy".
        unseen = "; ".join(caveats) if caveats else events_problem
        return Level.UNKNOWN, f"{cluster}: health unknown: {unseen}"
    headline = _plain_headline(cluster, level, outlooks, failed)
    return level, headline + (f" (data incomplete: {'; '.join(caveats)})" if caveats else "")


def _plain_headline(
    cluster: str, level: Level, outlooks: Sequence[SubnetOutlook], failed: Sequence[FailedPodGroup]
) -> str:
    reasons = []
    ranked = sorted(
        (o for o in outlooks if o.level != Level.HEALTHY),
        key=lambda o: (-o.level.rank, o.forecast.days_left if o.forecast.days_left is not None else 1e9),
    )
    if ranked:
        reasons.append(_subnet_reason(ranked[0]))
        if len(ranked) > 1:
            reasons[-1] += f" (and {len(ranked) - 1} more subnet{'s' if len(ranked) > 2 else ''})"
    if failed:
        reasons.append(f"{len(failed)} pod{'s' if len(failed) != 1 else ''} failed to get an IP")
    if level == Level.HEALTHY:
        free = sum(o.free for o in outlooks)
        return f"{cluster} is healthy: {free:,} free IPs in {len(outlooks)} subnets, none runs out within 30 days"
    return f"{cluster} {'is at risk' if level == Level.AT_RISK else 'needs watching'}: " + "; ".join(reasons)


def _subnet_reason(outlook: SubnetOutlook) -> str:
    name = f"{outlook.subnet_id} ({outlook.az})"
    forecast = outlook.forecast
    if forecast.reason == EXHAUSTED or outlook.free <= 0:
        return f"{name} has no free IPs left"
    if forecast.days_left is not None:
        return f"{name} runs out in {humane_days(forecast.days_left)}"
    return f"{name} is {outlook.percent_used:.0f}% used"


def _nodes_at_limit(nodes: Sequence[NodeSample]) -> list[NodeAtLimit]:
    found = []
    for node in nodes:
        reasons = []
        if node.ip_capacity and node.assigned_ips >= NEAR_LIMIT * node.ip_capacity:
            enis = f"{node.enis} of {node.max_enis} ENIs, " if node.max_enis else ""
            reasons.append(f"{enis}{node.assigned_ips} of {node.ip_capacity} pod IPs")
        if node.max_pods and node.pods >= NEAR_LIMIT * node.max_pods:
            reasons.append(f"{node.pods} of {node.max_pods} max-pods")
        if reasons:
            found.append(NodeAtLimit(node, "; ".join(reasons)))
    # Fullest first: the share of the tighter limit in use.
    return sorted(found, key=lambda n: (-_fullness(n.node), n.node.name))


def _fullness(node: NodeSample) -> float:
    shares = [node.assigned_ips / node.ip_capacity if node.ip_capacity else 0.0]
    shares.append(node.pods / node.max_pods if node.max_pods else 0.0)
    return max(shares)


def group_failed_pods(pods: Sequence[FailedPod]) -> list[FailedPodGroup]:
    """One line per pod, newest first: a pod seen in several samples and diagnosed too is still one pod."""
    groups: dict[str, list[FailedPod]] = {}
    for pod in pods:
        groups.setdefault(pod.ref, []).append(pod)
    result = []
    for ref, members in groups.items():
        diagnosed = [p.cause for p in members if p.source == "diagnosis"]
        seen = [p.cause for p in members if p.source != "diagnosis"]
        events = [p for p in members if p.source != "diagnosis"]
        newest_event = max(events, key=lambda p: p.last_seen) if events else None
        result.append(
            FailedPodGroup(
                ref=ref,
                causes=tuple(dict.fromkeys(diagnosed + seen)),
                message=newest_event.message if newest_event else "",
                count=max((p.count for p in events), default=0),
                last_seen=max(p.last_seen for p in members),
                sources=tuple(sorted({p.source for p in members})),
            )
        )
    return sorted(result, key=lambda g: (g.last_seen, g.ref), reverse=True)


def _drift(latest: CapacitySample | None, approved: ApprovedSettings | None) -> tuple[EnvChange, ...] | None:
    """What drifted from the last approved change (None: nothing to compare with)."""
    if approved is None or latest is None or latest.aws_node_env is None:
        return None
    return settings_drift(latest.aws_node_env, approved.env)


def _unchanged(summary: DigestSummary, previous: DigestSummary | None, outlooks: Sequence[SubnetOutlook]) -> bool:
    if previous is None:
        return False
    same_facts = (
        summary.level == previous.level
        and summary.failed_pods == 0
        and summary.drift == previous.drift
        and summary.pending == previous.pending
        and summary.settings_hash == previous.settings_hash
        and summary.latest_version == previous.latest_version
        and set(summary.free) == set(previous.free)
    )
    if not same_facts:
        return False
    return all(abs(o.free - previous.free[o.subnet_id]) <= max(UNCHANGED_SLACK, o.usable // 100) for o in outlooks)
