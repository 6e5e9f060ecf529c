"""/cni node <node>: one node's ENIs and IPs against its instance limits and kubelet max-pods."""

from __future__ import annotations

import argparse

from bot.domain.access import Action
from bot.errors import NotFound
from commands import args as arg
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand, always

_SHOWN_CANDIDATES = 3


def _build(p: CommandParser) -> None:
    p.add_argument(
        "node", type=arg.node_query, metavar="NODE", help="node name, EC2 instance id, or a unique prefix of the name"
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.domain.node_report import node_report
    from bot.domain.state import StateModel
    from bot.gather.cluster import find_node, gather_node
    from bot.render.node import node_data, node_doc
    from bot.render.state import unchecked_data

    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    conn = ctx.services.connections.get(cluster)
    match = find_node(conn, args.node)
    if match.node is None:
        raise NotFound(_not_found_message(args.node, match.candidates))
    snapshot = gather_node(conn, match.node)
    report = node_report(StateModel(snapshot), match.node.name)
    data = {
        **node_data(report),
        "could_not_check": unchecked_data(snapshot.could_not_check),
        "read_seconds": snapshot.seconds,
    }
    return CommandResult(
        "node",
        node_doc(report, snapshot.could_not_check),
        data=data,
        outcome="partial" if snapshot.could_not_check else "ok",
        cluster=cluster.name,
        detail={"problems": [p.code for p in report.problems]},
    )


def _not_found_message(query: str, candidates: tuple[str, ...]) -> str:
    shown = ", ".join(f"`{c}`" for c in candidates[:_SHOWN_CANDIDATES])
    more = f" and {len(candidates) - _SHOWN_CANDIDATES} more" if len(candidates) > _SHOWN_CANDIDATES else ""
    if len(candidates) > 1 and all(c.startswith(query) for c in candidates):
        return f"`{query[:64]}` matches {len(candidates)} nodes: {shown}{more}. Give more of the name."
    hint = f"; did you mean {shown}?" if candidates else "."
    return f"No node named `{query[:64]}`{hint}"


SUBCOMMAND = Subcommand(
    access=always(Action.READ),
    name="node",
    summary="one node's ENIs and IPs against its limits and max-pods",
    usage="/cni node <node name | instance id | name prefix>",
    build_parser=_build,
    run=run,
    ack_text=lambda args, ctx: f"Looking at node `{args.node[:64]}`...",
)
