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
    from bot.render.config import config_data, config_doc
    from bot.render.state import unchecked_data

    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    wants = Wants(pods=True, instance_limits=False, eks_addon=True, security_groups=True)
    snapshot = gather_cluster(ctx.services.connections.get(cluster), wants)
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
        "could_not_check": unchecked_data(snapshot.could_not_check),
        "read_seconds": snapshot.seconds,
    }
    return CommandResult(
        "config",
        config_doc(view, show_all=args.all, ip_knobs=IP_KNOBS, unchecked=snapshot.could_not_check),
        data=data,
        outcome="partial" if snapshot.could_not_check else "ok",
        cluster=cluster.name,
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
