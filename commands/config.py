"""/cni config [--all]: the effective aws-node settings, how the VPC CNI is installed, ENIConfigs, and how far
custom networking has got."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.access import Action
from bot.domain.facts import Unchecked
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand, always

if TYPE_CHECKING:
    from bot.domain.snapshot import ClusterSnapshot
    from bot.services import Services


def approved_baseline(services: Services, cluster: str) -> tuple[Mapping[str, str], datetime | None] | None:
    """The aws-node env as the last approved and applied change left it, and when: the baseline for drift."""
    from bot.digests.sources import sources_for

    approved = sources_for(services.repos).approved_settings(cluster)
    return (approved.env, approved.approved_at) if approved else None


def _build(p: CommandParser) -> None:
    p.add_argument("--all", action="store_true", help="show every aws-node knob, not only the IP-related ones")


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.domain.config_view import IP_KNOBS, config_view
    from bot.domain.state import StateModel
    from bot.gather.cluster import Wants, gather_cluster
    from bot.gather.versions import gather_versions
    from bot.render.config import config_data, config_doc
    from bot.render.doc import Para
    from bot.render.state import unchecked_data
    from bot.render.versions import version_data, version_line

    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    wants = Wants(pods=True, instance_limits=False, eks_addon=True, security_groups=True, shapes=True)
    snapshot = gather_cluster(ctx.services.connections.get(cluster), wants)
    if (no_aws_node := _without_aws_node(snapshot, cluster.name)) is not None:
        return no_aws_node
    versions = gather_versions(ctx.services.connections.get(cluster))
    snapshot.could_not_check.extend(u for u in versions.could_not_check if u not in snapshot.could_not_check)
    try:
        baseline = approved_baseline(ctx.services, cluster.name)
    except SQLAlchemyError as exc:  # the database only adds drift; the cluster's settings still answer
        baseline = None
        snapshot.could_not_check.append(
            Unchecked("drift against the last approved change", "database", f"unavailable ({type(exc).__name__})")
        )
    view = config_view(
        StateModel(snapshot),
        approved_env=baseline[0] if baseline else None,
        approved_at=baseline[1] if baseline else None,
    )
    data = {
        **config_data(view),
        "version": version_data(versions.report),
        "could_not_check": unchecked_data(snapshot.could_not_check),
        "read_seconds": snapshot.seconds,
    }
    doc = config_doc(view, show_all=args.all, ip_knobs=IP_KNOBS, unchecked=snapshot.could_not_check)
    # The version line goes above the "could not check" note that ends the answer.
    at = len(doc.elements) - (1 if snapshot.could_not_check else 0)
    doc.elements.insert(at, Para(version_line(versions.report)))
    return CommandResult(
        "config",
        doc,
        data=data,
        outcome="partial" if snapshot.could_not_check else "ok",
        cluster=cluster.name,
    )


def _without_aws_node(snapshot: ClusterSnapshot, cluster: str) -> CommandResult | None:
    """No aws-node DaemonSet: say so (and that EKS runs the CNI on Auto Mode) instead of showing defaults."""
    from bot.domain.shape_view import cluster_managed_by_eks
    from bot.domain.state import StateModel
    from bot.render.doc import Doc, Para
    from bot.render.shapes import MANAGED_BY_EKS
    from bot.render.state import unchecked_data

    if snapshot.daemonset is not None or any(u.what == "aws-node DaemonSet" for u in snapshot.could_not_check):
        return None
    managed = cluster_managed_by_eks(StateModel(snapshot))
    summary = (
        MANAGED_BY_EKS if managed else "There is no aws-node DaemonSet in kube-system: no VPC CNI settings to show."
    )
    doc = Doc(summary)
    names = [c.name for c in snapshot.eniconfigs or []]
    if names:
        doc.add(Para(f"ENIConfigs present but unused without aws-node: {', '.join(f'`{n}`' for n in names[:6])}."))
    doc.add(Para("`/cni subnets`, `/cni capacity` and `/cni node NAME` show what can still be read."))
    return CommandResult(
        "config",
        doc,
        data={
            "vpc_cni_managed_by_eks": managed,
            "aws_node": None,
            "eniconfigs": names,
            "could_not_check": unchecked_data(snapshot.could_not_check),
        },
        outcome="partial" if snapshot.could_not_check else "ok",
        cluster=cluster,
    )


SUBCOMMAND = Subcommand(
    access=always(Action.READ),
    name="config",
    summary="effective aws-node settings, add-on, ENIConfigs and custom-networking status",
    usage="/cni config [--all]",
    build_parser=_build,
    run=run,
    ack_text=lambda args, ctx: "Reading aws-node, ENIConfigs and the nodes' ENIs...",
)
