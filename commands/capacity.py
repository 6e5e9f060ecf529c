"""/cni capacity [--what-if KEY=VALUE ...]: how many more pods fit, per zone, and which limit binds first."""

from __future__ import annotations

import argparse

from bot.domain.access import Action
from bot.domain.numbers import int64_problem
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand, always

USAGE = "/cni capacity [--what-if KEY=VALUE ...]"


def _warm_setting(word: str) -> dict[str, str]:
    """Checked while parsing, so that a bad value is answered at once with the usage line."""
    from bot.domain.capacity_view import parse_warm_env

    for pair in word.replace(",", " ").split():
        too_big = int64_problem(pair.partition("=")[2])
        if too_big:
            raise argparse.ArgumentTypeError(f"--what-if {pair.partition('=')[0][:40]}: {too_big}")
    try:
        return parse_warm_env([word])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--what-if: {exc}") from None


def _build(p: CommandParser) -> None:
    from bot.domain.capacity_view import WARM_KNOBS

    p.add_argument(
        "--what-if",
        metavar="KEY=VALUE",
        nargs="+",
        type=_warm_setting,
        help=f"warm-pool settings to evaluate ({', '.join(WARM_KNOBS)})",
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.domain.capacity_view import capacity_view
    from bot.domain.shape_view import Ec2Room, shapes_view
    from bot.domain.state import StateModel
    from bot.gather.cluster import Wants, gather_cluster
    from bot.render import shapes as shapes_render
    from bot.render.capacity import capacity_data, capacity_doc, capacity_headline_gaps
    from bot.render.state import LIMIT_NAMES, unchecked_data

    proposed = {k: v for pairs in args.what_if for k, v in pairs.items()} if args.what_if else None
    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    snapshot = gather_cluster(ctx.services.connections.get(cluster), Wants(prefix_reservations=True, shapes=True))
    model = StateModel(snapshot)
    view = capacity_view(model, proposed)
    total = view.total
    shapes = shapes_view(model, Ec2Room(total.fits, LIMIT_NAMES[total.binding], total.subnet_free))
    doc = capacity_doc(view, cluster.name, snapshot.could_not_check)
    if shapes_render.worth_showing(shapes):
        if total.nodes == 0:  # no aws-node node: the ipamd headline would be a misleading "room for 0"
            doc.summary = shapes_render.headline(shapes, cluster.name)
            doc.elements = []
        doc.elements[1:1] = shapes_render.capacity_elements(shapes)
    data = {
        **capacity_data(view),
        **shapes_render.shapes_data(shapes),
        "could_not_check": unchecked_data(snapshot.could_not_check),
        # Inputs of the headline that could not be read: the count is then not the cluster's real room.
        "headline_unread": capacity_headline_gaps(snapshot.could_not_check),
        "read_seconds": snapshot.seconds,
    }
    return CommandResult(
        "capacity",
        doc,
        data=data,
        outcome="partial" if snapshot.could_not_check else "ok",
        cluster=cluster.name,
    )


SUBCOMMAND = Subcommand(
    access=always(Action.READ),
    name="capacity",
    summary="how many more pods fit per zone, the binding limit, and warm-pool what-ifs",
    usage=USAGE,
    build_parser=_build,
    run=run,
    ack_text=lambda args, ctx: "Adding up nodes, pods, ENIs and subnets...",
)
