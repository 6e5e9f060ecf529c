"""Take one capacity sample of a cluster: the shared cluster gather (one DescribeSubnets, one paginated
DescribeNetworkInterfaces sweep of the VPC, cached instance types; nodes, pods, aws-node, ENIConfigs) plus
the kubelet's FailedCreatePodSandBox events since the previous sample, read in parallel."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from bot.digests.measure import measure
from bot.domain.capacity_samples import CapacitySample, FailedPod
from bot.domain.diagnosis.signals import SandboxFailure, classify_sandbox
from bot.domain.facts import EventFact, Unchecked
from bot.errors import UpstreamError
from bot.gateways.connections import ClusterConnection
from bot.gateways.kube import KubeGateway, event_from_core
from bot.gather.cluster import Wants, gather_cluster

log = logging.getLogger("cnibot.digests.observe")

SANDBOX_REASON = "FailedCreatePodSandBox"
# Sandbox failures that mean "no IP for this pod"; network-policy and veth setup failures are not ours.
IP_FAILURES = frozenset({SandboxFailure.NO_IP, SandboxFailure.IPAMD_UNREACHABLE, SandboxFailure.NETWORK_NOT_READY})
EVENTS_PAGE = 500


def take_sample(conn: ClusterConnection, *, now: datetime, since: datetime) -> CapacitySample:
    """Raises UpstreamError when not even the subnets could be read: such a sample would only mislead."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-events") as pool:
        events_f = pool.submit(_failed_pods_or_note, conn, since, now)
        snapshot = gather_cluster(conn, Wants(pods=True, instance_limits=True, shapes=True))
        failed, note = events_f.result()
    if snapshot.subnets is None:
        reason = "; ".join(f"{u.what}: {u.reason}" for u in snapshot.could_not_check) or "no subnets read"
        raise UpstreamError("ec2:DescribeSubnets", reason)
    if note is not None:
        snapshot.could_not_check.append(note)
    return measure(snapshot, now, failed, events_read=note is None)


def _failed_pods_or_note(
    conn: ClusterConnection, since: datetime, until: datetime
) -> tuple[list[FailedPod], Unchecked | None]:
    try:
        events = sandbox_events(conn.kube)
    except UpstreamError as exc:
        return [], Unchecked("pod sandbox events", exc.api, exc.reason)
    return failed_pods(events, since, until), None


def recent_failed_pods(conn: ClusterConnection, since: datetime, until: datetime) -> list[FailedPod]:
    """Failures the samples have not seen yet (since the newest one): what a digest reads at its cut-off.
    Raises UpstreamError when the events cannot be read."""
    return failed_pods(sandbox_events(conn.kube), since, until)


def failed_pods(events: list[tuple[str, EventFact]], since: datetime, until: datetime) -> list[FailedPod]:
    """Pods whose sandbox failed for lack of an IP, last seen in (since, until]."""
    found = []
    for namespace, event in events:
        if event.object_kind != "Pod" or event.last_seen is None or not since < event.last_seen <= until:
            continue
        cause = classify_sandbox(event.message)
        if cause not in IP_FAILURES:
            continue
        found.append(
            FailedPod(
                namespace=namespace,
                name=event.object_name,
                cause=cause.value,
                message=event.message,
                last_seen=event.last_seen,
                count=event.count,
            )
        )
    return found


def sandbox_events(kube: KubeGateway) -> list[tuple[str, EventFact]]:
    """Every FailedCreatePodSandBox event of the cluster as (namespace, event): one paginated LIST."""
    items = kube.list_items(
        "kube:LIST events", "/api/v1/events", {"fieldSelector": f"reason={SANDBOX_REASON}"}, page=EVENTS_PAGE
    )
    return [(str((obj.get("metadata") or {}).get("namespace") or ""), event_from_core(obj)) for obj in items]
