"""/cni subnets [--az ZONE]: every subnet the cluster uses, its free IPs and who holds the used ones."""

from __future__ import annotations

import argparse

from bot.domain.access import Action
from bot.errors import UsageError
from commands import args as arg
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand, always

USAGE = "/cni subnets [--az ZONE]"


def _build(p: CommandParser) -> None:
    p.add_argument("--az", type=arg.zone, metavar="ZONE", help="only the subnets of this availability zone")


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.domain.shape_view import cluster_ip_family, shapes_view
    from bot.domain.state import StateModel
    from bot.domain.subnet_view import cluster_azs, subnet_views
    from bot.gather.cluster import Wants, gather_cluster
    from bot.render import shapes as shapes_render
    from bot.render.state import unchecked_data
    from bot.render.subnets import subnets_data, subnets_doc

    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    snapshot = gather_cluster(ctx.services.connections.get(cluster), Wants(prefix_reservations=True, shapes=True))
    model = StateModel(snapshot)
    az = args.az or None
    zones = cluster_azs(model)
    if az and zones and az not in zones:
        raise UsageError(f"No zone `{az[:32]}` in this cluster; its zones: {', '.join(zones)}.", USAGE)
    views = subnet_views(model, az)
    shapes = shapes_view(model)
    doc = subnets_doc(views, az, snapshot.could_not_check, ipv6=cluster_ip_family(model) == "ipv6")
    if shapes_render.worth_showing(shapes) and not az:
        doc.elements[1:1] = shapes_render.subnets_elements(shapes)
    data = {
        **subnets_data(views),
        **shapes_render.shapes_data(shapes),
        "could_not_check": unchecked_data(snapshot.could_not_check),
        "read_seconds": snapshot.seconds,
    }
    return CommandResult(
        "subnets",
        doc,
        data=data,
        outcome="partial" if snapshot.could_not_check else "ok",
        cluster=cluster.name,
    )


SUBCOMMAND = Subcommand(
    access=always(Action.READ),
    name="subnets",
    summary="free IPs per subnet and who holds the rest (pods, warm pools, leaked ENIs)",
    usage=USAGE,
    build_parser=_build,
    run=run,
    ack_text=lambda args, ctx: "Reading the cluster's subnets and ENIs...",
)
