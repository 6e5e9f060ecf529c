"""Gather the evidence for why-pending: Kubernetes and EC2 read in parallel, within the API budget.

Each fact is a future that starts as soon as what it depends on is known, so the answer takes about as long
as the longest chain of dependent calls. EC2: at most six calls, all filtered (instance types (cached for a
day), the node's ENIs, the VPC's subnets, and only when they matter a sweep of the one subnet the node's
next addresses would come from, its prefix reservations and the ENIConfig's security groups). A pod the
scheduler has not placed costs one EC2 call at most (instance types, when the scheduler blames max-pods or
branch ENIs). A failing call is recorded under "could not check" and the rest goes on.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from bot.domain.diagnosis.signals import POD_ENI_RESOURCE
from bot.domain.diagnosis.subnets import subnet_to_sweep
from bot.domain.diagnosis.view import View
from bot.domain.eniconfig import resolve_eniconfig_name
from bot.domain.evidence import PodEvidence
from bot.domain.facts import EniFact, EventFact, PodFact, SubnetFact
from bot.domain.ipamd_metrics import parse_ipamd_metrics
from bot.domain.shapes import FARGATE_SCHEDULER, NodeShape, node_shape
from bot.gateways.aws import AwsGateway
from bot.gateways.connections import ClusterConnection
from bot.gateways.kube import AWS_NODE, KUBE_SYSTEM, merge_events
from bot.gather.reads import Reads, reads_pool

log = logging.getLogger("cnibot.gather")
T = TypeVar("T")

# Scheduler verdicts that are about pod networking: worth reading the nodes and their instance types.
NETWORK_VERDICTS = ("Too many pods", POD_ENI_RESOURCE)


class _Gatherer(Reads):
    def __init__(self, conn: ClusterConnection, evidence: PodEvidence, pool: ThreadPoolExecutor) -> None:
        super().__init__(pool, evidence.checked, evidence.could_not_check)
        self.conn = conn
        self.ev = evidence


def gather_pod_evidence(conn: ClusterConnection, namespace: str, name: str, *, now: datetime) -> PodEvidence:
    ev = PodEvidence(cluster=conn.cluster.name, namespace=namespace, name=name)
    kube = conn.kube
    with reads_pool(16, "gather") as pool:
        g = _Gatherer(conn, ev, pool)
        # Stage 1: everything that needs only the pod's name.
        pod_f = g.later("pod", lambda: kube.read_pod(namespace, name))
        events_f = g.later("pod events (core/v1)", lambda: kube.events_for(namespace, name))
        events_v1_f = g.later("pod events (events.k8s.io/v1)", lambda: kube.events_v1_for(namespace, name))
        ds_f = g.later("aws-node DaemonSet", kube.aws_node_daemonset)
        eniconfigs_f = g.later("ENIConfigs", kube.eniconfigs)

        pod = pod_f.result()
        ev.pod = pod
        if pod is None:
            if not any(u.what == "pod" for u in ev.could_not_check):
                _suggest(g, namespace, name)
            _finish(ev, events_f, events_v1_f, ds_f, eniconfigs_f)
            return ev
        if pod.node_name is None:
            _finish(ev, events_f, events_v1_f, ds_f, eniconfigs_f)
            if pod.scheduler_name == FARGATE_SCHEDULER:
                _fargate_context(g)
            else:
                _scheduling_context(g, pod)
            return ev
        if pod.host_network or pod.pod_ip:
            _finish(ev, events_f, events_v1_f, ds_f, eniconfigs_f)
            return ev

        # Stage 2: the node and what runs on it.
        node_name = pod.node_name
        node_f = g.later("node", lambda: kube.read_node(node_name))
        node_pods_f = g.later("pods on the node", lambda: kube.pods_on_node(node_name))

        def aws_node_pod() -> PodFact | None:
            # It is among the node's pods: a call of its own only when that list could not be read.
            on_node = node_pods_f.result()
            if on_node is not None:
                return next(
                    (p for p in on_node if p.namespace == KUBE_SYSTEM and p.labels.get("k8s-app") == AWS_NODE), None
                )
            return _first(kube.aws_node_pods(node_name))

        aws_node_f = g.later("aws-node pod on the node", aws_node_pod)

        def aws_node_events(read: Callable[[str, str], list[EventFact]]) -> Callable[[], list[EventFact]]:
            def events() -> list[EventFact]:
                awsn = aws_node_f.result()
                return read(KUBE_SYSTEM, awsn.name) if awsn is not None else []

            return events

        def ipamd_metrics() -> Any:
            awsn = aws_node_f.result()
            if awsn is None:
                return None
            return parse_ipamd_metrics(kube.ipamd_metrics(awsn.name))

        # Both event APIs side by side: one after the other would add a round trip to the answer.
        awsn_events_f = g.later("aws-node events (core/v1)", aws_node_events(kube.events_for))
        awsn_events_v1_f = g.later("aws-node events (events.k8s.io/v1)", aws_node_events(kube.events_v1_for))
        metrics_f = g.later("ipamd metrics", ipamd_metrics)

        node = node_f.result()
        ev.node = node
        if node is not None and node_shape(node.labels) is NodeShape.FARGATE:
            _fargate_context(g)
        az = node.az if node else None
        instance_id = node.instance_id if node else None
        aws = g.attempt("AWS region", lambda: conn.aws(az))

        types_f: Future[Any] | None = None
        enis_f: Future[Any] | None = None
        if aws is not None and node is not None and node.instance_type:
            itype = node.instance_type
            types_f = g.later("instance type limits", lambda: aws.instance_limits([itype]).get(itype))
        if aws is not None and instance_id:
            iid = instance_id
            enis_f = g.later("the node's ENIs", lambda: aws.node_enis(iid))

        def vpc_subnets() -> dict[str, SubnetFact] | None:
            vpc = conn.vpc_id
            if vpc is None and enis_f is not None:
                enis: list[EniFact] | None = enis_f.result()
                vpc = next((e.vpc_id for e in enis or [] if e.vpc_id), None)
                conn.vpc_id = vpc
            if vpc is None or aws is None:
                return None
            ev.vpc_id = vpc
            return {s.subnet_id: s for s in aws.vpc_subnets(vpc)}

        subnets_f = g.later("subnets of the VPC", vpc_subnets)

        ev.add_daemonset(ds_f.result())
        ev.eniconfigs = eniconfigs_f.result()
        if ev.settings is not None and ev.settings.custom_networking and node is not None:
            ev.eniconfig_resolution = resolve_eniconfig_name(node.labels, node.annotations, ev.settings)
            wanted = ev.eniconfig_resolution.name
            ev.eniconfig = next((c for c in ev.eniconfigs or [] if c.name == wanted), None)

        sg_f: Future[Any] | None = None
        if aws is not None and ev.eniconfig is not None and ev.eniconfig.security_groups:
            groups = list(ev.eniconfig.security_groups)
            sg_f = g.later("ENIConfig security groups", lambda: aws.existing_security_groups(groups))

        ev.node_enis = enis_f.result() if enis_f else None
        ev.subnets = subnets_f.result()
        ev.instance = types_f.result() if types_f else None
        # In already (its chain is shorter than node -> ENIs -> subnets). The metrics are not awaited here:
        # the pool is judged from EC2 and the node's pods, so the sweep starts without another hop.
        ev.node_pods = node_pods_f.result()

        # Stage 3, only when it matters: the subnet the node's next addresses would come from.
        if aws is not None and ev.subnets is not None:
            target = subnet_to_sweep(View(ev, now))  # the command's clock, as the diagnosis uses
            if target is not None:
                _sweep(g, aws, *target)

        ev.metrics = metrics_f.result()
        ev.aws_node_pod = aws_node_f.result()
        ev.aws_node_events = merge_events(awsn_events_f.result() or [], awsn_events_v1_f.result() or [])
        ev.existing_security_groups = sg_f.result() if sg_f else None
        ev.events = merge_events(events_f.result() or [], events_v1_f.result() or [])
    return ev


def _sweep(g: _Gatherer, aws: AwsGateway, subnet_id: str, fragmentation: bool) -> None:
    """Who holds the subnet's addresses; for a fragmentation question also its /28 reservations, else the
    cluster's pods (to tell addresses in use from warm pools)."""
    enis_f = g.later(f"ENIs in {subnet_id}", lambda: aws.subnet_enis(subnet_id))
    reservations = None
    if fragmentation:
        reservations = g.attempt(
            f"prefix reservations of {subnet_id}", lambda: aws.subnet_prefix_reservations(subnet_id)
        )
    else:
        g.ev.all_pods = g.attempt("pods of the cluster", g.conn.kube.all_pods)
    found = enis_f.result()
    if found is not None:
        g.ev.subnet_enis[subnet_id] = found
    if reservations is not None:
        g.ev.prefix_reservations[subnet_id] = reservations


def _scheduling_context(g: _Gatherer, pod: PodFact) -> None:
    """For a scheduler verdict about max-pods or branch ENIs: the nodes, and their instance types' limits."""
    messages = [e.message for e in g.ev.events if e.reason == "FailedScheduling"]
    messages.append(pod.conditions.get("PodScheduled", ("", "", ""))[2])
    if not any(needle in m for m in messages for needle in NETWORK_VERDICTS):
        return
    nodes = g.attempt("nodes", g.conn.kube.nodes)
    g.ev.nodes = nodes
    types = sorted({n.instance_type for n in nodes or [] if n.instance_type})
    if not types:
        return
    az = next((n.az for n in nodes or [] if n.az), None)
    aws = g.attempt("AWS region", lambda: g.conn.aws(az))
    if aws is not None:
        g.ev.limits_by_type = g.attempt("instance type limits", lambda: aws.instance_limits(types)) or {}


def _fargate_context(g: _Gatherer) -> None:
    """A Fargate pod: the cluster's Fargate profiles, and the subnets of the VPC (where the profiles' subnets are)."""
    conn = g.conn
    aws = g.attempt("AWS region", lambda: conn.aws(None))
    if aws is None:
        return
    g.ev.fargate_profiles = g.attempt("Fargate profiles", lambda: aws.fargate_profiles(conn.eks_name))

    def vpc_subnets() -> dict[str, SubnetFact] | None:
        vpc = conn.vpc_id
        if vpc is None:
            described = aws.eks_cluster(conn.eks_name) or {}
            vpc = (described.get("resourcesVpcConfig") or {}).get("vpcId")
        if not vpc:
            return None
        g.ev.vpc_id = vpc
        return {s.subnet_id: s for s in aws.vpc_subnets(vpc)}

    g.ev.subnets = g.attempt("subnets of the VPC", vpc_subnets)


def _first(items: list[PodFact]) -> PodFact | None:
    return items[0] if items else None


def _finish(
    ev: PodEvidence, events_f: Future[Any], events_v1_f: Future[Any], ds_f: Future[Any], eniconfigs_f: Future[Any]
) -> None:
    ev.events = merge_events(events_f.result() or [], events_v1_f.result() or [])
    ev.add_daemonset(ds_f.result())
    ev.eniconfigs = eniconfigs_f.result()


def _suggest(g: _Gatherer, namespace: str, name: str) -> None:
    kube = g.conn.kube
    names_f = g.later("pod names in the namespace", lambda: kube.pod_names(namespace))
    elsewhere_f = g.later("pods of that name elsewhere", lambda: kube.pods_named(name))
    names = names_f.result() or []
    g.ev.similar_names = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    # Deployment pods: "web" should find "web-7d9f-abcde".
    if not g.ev.similar_names:
        g.ev.similar_names = sorted(n for n in names if n.startswith(name))[:3]
    g.ev.same_name_elsewhere = [p.ref for p in elsewhere_f.result() or [] if p.namespace != namespace]
