"""/cni version: the installed VPC CNI version, what EKS offers for the cluster's Kubernetes version, how far
behind, and the next minor version an upgrade may go to."""

from __future__ import annotations

import argparse

from bot.domain.access import Action
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand, always

USAGE = "/cni version"


def _build(p: CommandParser) -> None:
    del p  # no arguments beyond --cluster


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.gather.versions import gather_versions
    from bot.render.state import unchecked_data
    from bot.render.versions import version_data, version_doc

    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    facts = gather_versions(ctx.services.connections.get(cluster))
    return CommandResult(
        "version",
        version_doc(facts.report, facts.could_not_check),
        data={**version_data(facts.report), "could_not_check": unchecked_data(facts.could_not_check)},
        outcome="partial" if facts.could_not_check else "ok",
        cluster=cluster.name,
    )


SUBCOMMAND = Subcommand(
    access=always(Action.READ),
    name="version",
    summary="installed VPC CNI version, EKS's default and latest, how many minor versions behind",
    usage=USAGE,
    build_parser=_build,
    run=run,
    ack_text=lambda args, ctx: "Reading the VPC CNI version and what EKS offers...",
)
