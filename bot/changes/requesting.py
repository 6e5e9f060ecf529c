"""One path from "someone asks" to "request posted", for the slash commands and the request form alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.changes.drafts import ChangeRefused, Draft
from bot.changes.render import STATUS_ICON, diff_lines, title, when
from bot.changes.service import Requester, Submitted, change_service
from bot.domain.access import Action
from bot.domain.changes import reason_problem
from bot.errors import UserError
from bot.gateways.connections import ClusterConnection
from bot.render.doc import Bullets, Context, Doc, Para
from bot.services import Services


@dataclass
class Answer:
    doc: Doc
    outcome: Literal["ok", "user_error"]
    cluster: str | None
    data: dict[str, Any] = field(default_factory=dict)


def request_change(
    services: Services,
    requester: Requester,
    cluster_name: str | None,
    reason: str | None,
    build: Callable[[ClusterConnection], Draft],
) -> Answer:
    """Check the reason, draft the change against the cluster as it is, store and post it.

    Refusals (an unknown key, a value aws-node would exit on, a subnet in the wrong zone...) come back as a
    short answer listing every problem; nothing is stored for them.
    """
    cluster = services.clusters.resolve(cluster_name, requester.channel_id)
    # Before the draft reads the cluster: may this person request changes to it from here?
    services.access.require(cluster, Action.REQUEST, requester.caller)
    problem = reason_problem(reason)
    if problem:
        raise UserError(problem)
    assert reason is not None
    try:
        draft = build(services.connections.get(cluster))
    except ChangeRefused as refused:
        doc = Doc(f":no_entry_sign: Not requested: the change cannot be applied to `{cluster.name}` as asked.")
        doc.add(Bullets(list(refused.problems), limit=10))
        return Answer(doc, "user_error", cluster.name, {"refused": list(refused.problems)})
    submitted = change_service(services).submit(draft, cluster, requester, reason)
    return Answer(submitted_doc(submitted), "ok", cluster.name, {"change": change_data(submitted)})


def submitted_doc(submitted: Submitted) -> Doc:
    record = submitted.record
    needed = record.approvals_needed
    who = "1 approver" if needed == 1 else f"{needed} different approvers"
    doc = Doc(f"{STATUS_ICON[record.status]} Requested change {title(record)} ({record.risk.value} risk).")
    if submitted.posted_in:
        where = f"<{submitted.link}|the approval message>" if submitted.link else "the approval message"
        doc.add(Para(f"Posted for approval in <#{submitted.posted_in}>; it needs {who}. Follow {where}."))
    else:
        doc.add(Para(f"Stored, but not posted (no approvers channel, or Slack unreachable). It needs {who}."))
    doc.add(Bullets(diff_lines(record), limit=30, title="*Diff* (old -> new)"))
    warnings = list(record.detail.get("warnings") or [])
    if warnings:
        doc.add(Bullets([f":warning: {w}" for w in warnings], limit=10, title="*Warnings*"))
    disabled = record.detail.get("apply_disabled")
    if disabled:
        doc.add(Para(f":lock: Apply is disabled here: {disabled}. Once approved, it must be applied by hand."))
    if record.status.value == "pending":
        doc.add(Context(f"Expires {when(record.expires_at)} if not approved · `/cni change {record.id}` shows it"))
    return doc


def change_data(submitted: Submitted) -> dict[str, Any]:
    record = submitted.record
    return {
        "id": record.id,
        "cluster": record.cluster,
        "kind": record.kind.value,
        "status": record.status.value,
        "risk": record.risk.value,
        "approvals_needed": record.approvals_needed,
        "diff": record.spec.to_json(),
        "diff_hash": record.diff_hash,
        "warnings": list(record.detail.get("warnings") or []),
        "apply_disabled": record.detail.get("apply_disabled"),
        "posted_in": submitted.posted_in,
        "link": submitted.link,
        "expires_at": record.expires_at.isoformat(),
    }
