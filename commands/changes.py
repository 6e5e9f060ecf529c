"""/cni changes, /cni change ID, /cni rollback ID: the history of approved changes, and undoing one."""

from __future__ import annotations

import argparse

from bot.changes.parse import parse_change_id
from bot.domain.access import Action
from commands import args as arg
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand
from commands.set import requester_of


def _build_list(p: CommandParser) -> None:
    p.add_argument("--open", action="store_true", help="only requests still pending or being applied")
    p.add_argument("--limit", type=arg.int_between(1, 100, "--limit"), default=20)


def run_list(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.access import readable_clusters
    from bot.changes.render import changes_doc

    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id).name if args.cluster else None
    readable = None if cluster else readable_clusters(ctx)
    fetch = args.limit if readable is None else min(args.limit * 5, 500)
    records = ctx.services.repos.changes.recent(cluster=cluster, open_only=args.open, limit=fetch)
    if readable is not None:  # all clusters: only the requests of those the caller may read
        records = [r for r in records if r.cluster in readable][: args.limit]
    data = {
        "changes": [
            {
                "id": r.id,
                "cluster": r.cluster,
                "kind": r.kind.value,
                "status": r.status.value,
                "summary": r.summary,
                "risk": r.risk.value,
                "requester": r.requester_id,
                "created_at": r.created_at.isoformat(),
            }
            for r in records
        ]
    }
    return CommandResult("changes", changes_doc(records, ctx.now, open_only=args.open), data=data, cluster=cluster)


def _build_show(p: CommandParser) -> None:
    p.add_argument("id", metavar="ID")


def run_show(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.access import require_read
    from bot.changes.render import change_doc
    from bot.changes.service import change_service

    svc = change_service(ctx.services)
    record = svc.get(parse_change_id(args.id))
    require_read(ctx, record.cluster)  # its diff is the cluster's aws-node configuration
    approvals = svc.repo.approvals(record.id)
    events = svc.repo.events(record.id)
    data = {
        "change": {
            "id": record.id,
            "cluster": record.cluster,
            "kind": record.kind.value,
            "status": record.status.value,
            "summary": record.summary,
            "reason": record.reason,
            "risk": record.risk.value,
            "requester": record.requester_id,
            "diff": record.spec.to_json(),
            "diff_hash": record.diff_hash,
            "base": record.base.to_json(),
            "approvers": [a.user_id for a in approvals],
            "detail": dict(record.detail),
            "rollback_of": record.rollback_of,
        },
        "events": [e.to_json() for e in events],
    }
    return CommandResult("change", change_doc(record, approvals, events, ctx.now), data=data, cluster=record.cluster)


def _build_rollback(p: CommandParser) -> None:
    p.add_argument("id", metavar="ID")
    p.add_argument("--reason", metavar='"why"')


def run_rollback(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.changes.drafts import draft_rollback
    from bot.changes.requesting import request_change
    from bot.changes.service import change_service

    svc = change_service(ctx.services)
    original = svc.get(parse_change_id(args.id))
    answer = request_change(
        ctx.services,
        requester_of(ctx),
        original.cluster,
        args.reason,
        lambda conn: draft_rollback(conn, original, automatic=False),
    )
    return CommandResult("rollback", answer.doc, data=answer.data, outcome=answer.outcome, cluster=answer.cluster)


def _ack_rollback(args: argparse.Namespace, ctx: CommandContext) -> str:
    return f"Working out what rolling back change {args.id} restores..."


CHANGES = Subcommand(
    name="changes",
    summary="change requests: pending, applied, rolled back (newest first)",
    usage="/cni changes [--open] [--limit N] [--cluster NAME]",
    build_parser=_build_list,
    run=run_list,
    # Naming a cluster reads its change requests (diffs of its aws-node settings): its reads rule applies.
    access=lambda args: Action.READ if args.cluster else None,
)
CHANGE = Subcommand(
    name="change",
    summary="one change request: diff, approvals, status and its full history",
    usage="/cni change ID",
    build_parser=_build_show,
    run=run_show,
)
ROLLBACK = Subcommand(
    name="rollback",
    summary="request restoring what an applied change replaced (same approval rules)",
    usage='/cni rollback ID --reason "why"',
    build_parser=_build_rollback,
    run=run_rollback,
    writes=True,
    ack_text=_ack_rollback,
)
SUBCOMMANDS = (CHANGES, CHANGE, ROLLBACK)
