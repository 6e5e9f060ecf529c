"""How change requests read in Slack and the terminal: the approvers' message, thread lines, lists, details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.change_records import ApprovalEntry, AuditEntry, AuditKind, ChangeRecord
from bot.domain.changes import ChangeKind, Status, Target, describe_duration
from bot.domain.knobs import Risk
from bot.domain.wording import ago
from bot.render.doc import Actions, Bullets, Button, Context, Doc, Para, Table, escape

APPROVE_ACTION = "change_approve"
REJECT_ACTION = "change_reject"
MARK_APPLIED_ACTION = "change_mark_applied"

STATUS_ICON = {
    Status.PENDING: ":large_yellow_circle:",
    Status.APPROVED: ":large_blue_circle:",
    Status.APPLYING: ":hourglass:",
    Status.APPLIED: ":hourglass:",
    Status.VERIFIED: ":white_check_mark:",
    Status.FAILED: ":x:",
    Status.REJECTED: ":no_entry_sign:",
    Status.EXPIRED: ":clock3:",
    Status.STALE: ":warning:",
    Status.ROLLED_BACK: ":leftwards_arrow_with_hook:",
    Status.REVERTED: ":leftwards_arrow_with_hook:",
    Status.BY_HAND: ":raised_hand:",
}
_TARGET_TEXT = {
    Target.DAEMONSET: "patch of the aws-node DaemonSet",
    Target.ADDON: "UpdateAddon of the vpc-cni managed add-on",
    Target.NONE: "ENIConfig writes",
}


def when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def in_words(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{max(seconds // 60, 1)}m"
    if seconds < 2 * 86400:
        minutes = (seconds % 3600) // 60
        return f"{seconds // 3600}h{minutes:02d}m" if minutes else f"{seconds // 3600}h"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600}h"


def title(record: ChangeRecord) -> str:
    return f"#{record.id} on `{record.cluster}`: {escape(record.summary)}"


def diff_lines(record: ChangeRecord) -> list[str]:
    """The diff as mrkdwn lines; values are what the requester typed, so they are made inert."""
    return record.spec.lines(escape)


def status_line(record: ChangeRecord, approvals: Sequence[ApprovalEntry]) -> str:
    icon = STATUS_ICON[record.status]
    who = ", ".join(f"<@{a.user_id}>" for a in approvals)
    if record.status is Status.PENDING:
        count = f"{len(approvals)}/{record.approvals_needed} approvals"
        return f"{icon} *Pending*: {count}" + (f" (approved by {who})" if who else "")
    text = f"{icon} *{record.status.value.replace('-', ' ').capitalize()}*"
    if who:
        text += f"; approved by {who}"
    result = record.detail.get("result")
    if result:
        text += f". {result}"
    return text


def request_doc(
    record: ChangeRecord,
    approvals: Sequence[ApprovalEntry],
    now: datetime,
    *,
    buttons: bool = True,
) -> Doc:
    """The approvers' message: who and why, the exact diff, risk and impact, the status, the buttons."""
    risk = record.risk
    doc = Doc(f"{STATUS_ICON[record.status]} Change request {title(record)} ({risk.value} risk)")
    who = f"<@{record.requester_id}>" if not record.requester_id.startswith("cli:") else record.requester_id
    # The reason is free text from the requester: escaped, it can neither @channel approvers nor plant a link.
    doc.add(Para(f"*Requested by* {who}: _{escape(record.reason)}_"))
    if record.kind in (ChangeKind.ROLLBACK, ChangeKind.REVERT) and record.rollback_of:
        verb = "Rolls back" if record.kind is ChangeKind.ROLLBACK else "Automatically reverts"
        doc.add(Para(f"{verb} change #{record.rollback_of}."))
    doc.add(Bullets(diff_lines(record), limit=30, title="*Diff* (old -> new)"))
    doc.add(Para(_risk_text(record)))
    doc.add(*_impact(record.detail))
    warnings = list(record.detail.get("warnings") or [])
    if warnings:
        doc.add(Bullets([f":warning: {w}" for w in warnings], limit=10, title="*Warnings*"))
    disabled = record.detail.get("apply_disabled")
    if disabled:
        doc.add(Para(f":lock: *Apply is disabled here:* {disabled}. Approving records the decision; apply it by hand."))
    doc.add(Para(status_line(record, approvals)))
    doc.add(Context(_footer(record, now)))
    if buttons and record.status is Status.PENDING:
        doc.add(approval_buttons(record))
    if buttons and record.status is Status.BY_HAND:
        doc.add(mark_applied_button(record))
    return doc


def mark_applied_button(record: ChangeRecord) -> Actions:
    return Actions(
        [
            Button(
                "Mark applied",
                MARK_APPLIED_ACTION,
                str(record.id),
                style="primary",
                confirm=(
                    f"Mark change #{record.id} as applied?",
                    "Only once the commands in the thread have run: cnibot then checks aws-node carries the change.",
                ),
            )
        ]
    )


def approval_buttons(record: ChangeRecord) -> Actions:
    value = str(record.id)  # the id only: content is always read from the database
    diff = "\n".join(diff_lines(record)[:8])  # the renderer cuts it to the dialog's 300 characters
    return Actions(
        [
            Button(
                "Approve",
                APPROVE_ACTION,
                value,
                style="primary",
                confirm=(f"Approve change #{record.id}?", f"This applies to `{record.cluster}`:\n{diff}"),
            ),
            Button(
                "Reject",
                REJECT_ACTION,
                value,
                style="danger",
                confirm=(f"Reject change #{record.id}?", "The request is closed and nothing is applied."),
            ),
        ]
    )


def _risk_text(record: ChangeRecord) -> str:
    needed = record.approvals_needed
    people = "1 approver" if needed == 1 else f"{needed} different approvers"
    text = f"*Risk:* {record.risk.value}; needs {people}."
    effect = record.detail.get("effect")
    if effect:
        text += f"\n{effect}"
    if record.spec.replace_nodes:
        pass  # the change is the node replacement itself
    elif record.detail.get("needs_node_replacement"):
        text += "\n*Nodes must be replaced* for this to take effect everywhere."
    elif record.risk is Risk.HIGH and record.detail.get("needs_max_pods"):
        text += "\n*kubelet max-pods must change* (new launch template or node group)."
    else:
        text += "\nNo node replacement needed."
    if record.duration:
        text += f"\nTemporary: reverts by itself {describe_duration(record.duration)} after it is applied."
    return text


def _impact(detail: Mapping[str, Any]) -> list[Any]:
    out: list[Any] = []
    estimate = detail.get("estimate") or {}
    if estimate.get("error"):
        out.append(Para(f"_Impact estimate unavailable: {estimate['error']}_"))
    rows = [
        (s["subnet"], s["nodes"], s["now"], s["after"], _delta(s["after"] - s["now"]))
        for s in estimate.get("subnets") or []
    ]
    unknown = estimate.get("unknown_types") or []
    if unknown:
        out.append(Para(f"_Not estimated for nodes of instance types {', '.join(unknown)} (limits unknown)._"))
    if rows:
        out.append(
            Table(
                ("subnet", "nodes", "IPs held now", "after", "change"),
                rows,
                align="lrrrr",
                title="*Impact estimate* (warm-pool model, steady state)",
            )
        )
    max_pods = detail.get("max_pods") or []
    if max_pods:
        out.append(
            Table(
                ("instance type", "nodes", "max pods now", "after"),
                [(m["instance_type"], m["nodes"], m["now"], m["after"]) for m in max_pods],
                align="lrrr",
                title="*Pods per node* (kubelet max-pods to use on the new nodes)",
            )
        )
    images = detail.get("images") or []
    if images:
        out.append(
            Table(
                ("container", "image tag now", "after"),
                [(i["container"], i["now"], i["after"]) for i in images],
                align="lll",
                title="*Images*",
            )
        )
    subnets = detail.get("pod_subnets") or []
    if subnets:
        out.append(
            Table(
                ("zone", "ENIConfig subnet", "CIDR", "free IPs"),
                [(s["zone"], s["subnet"], s["cidr"], s["free"]) for s in subnets],
                align="lllr",
                title="*Pod subnets*",
            )
        )
    return out


def _delta(n: int) -> str:
    if n < 0:
        return f"{-n:,} freed"
    return f"{n:,} more" if n > 0 else "none"


def _footer(record: ChangeRecord, now: datetime) -> str:
    parts = [f"requested {when(record.created_at)}"]
    if record.status is Status.PENDING:
        left = (record.expires_at - now).total_seconds()
        parts.append(f"expires {when(record.expires_at)} (in {in_words(left)})")
    if record.base.aws_node is not None:
        parts.append(f"base: aws-node generation {record.base.aws_node.generation}")
    how = "node replacements through Auto Scaling groups" if record.spec.replace_nodes else _TARGET_TEXT[record.target]
    parts.append(f"applied by {how}")
    parts.append(f"diff sha256 `{record.diff_hash[:12]}`")
    return " · ".join(parts)


# --- lists and details -----------------------------------------------------------------------------------


def changes_doc(records: Sequence[ChangeRecord], now: datetime, *, open_only: bool) -> Doc:
    what = "open change requests" if open_only else "change requests"
    if not records:
        return Doc(f"No {what}.")
    rows = [
        (
            f"#{r.id}",
            r.status.value,
            r.cluster,
            _short(r.summary.replace("`", "")),
            r.requester_id,
            ago(r.created_at, now),
        )
        for r in records
    ]
    count = f"1 {what.removesuffix('s')}" if len(records) == 1 else f"{len(records)} {what}"
    return Doc(f"{count}, newest first:").add(
        Table(("id", "status", "cluster", "change", "by", "when"), rows, align="llllll", limit=len(rows)),
        Para("`/cni change ID` shows one with its history."),
    )


def change_doc(
    record: ChangeRecord, approvals: Sequence[ApprovalEntry], events: Sequence[AuditEntry], now: datetime
) -> Doc:
    doc = request_doc(record, approvals, now, buttons=False)
    nodes = record.detail.get("nodes_to_replace") or []
    if nodes:
        doc.add(Bullets([f"`{n}`" for n in nodes], limit=20, title="*Nodes still to replace*"))
    # Tables are code blocks, where a mention would not render: they show user ids.
    rows = history_rows(events)
    left_out = max(len(rows) - HISTORY_ROWS, 0)
    title = "*History*" + (f" (the latest {HISTORY_ROWS} rows; {left_out} earlier left out)" if left_out else "")
    doc.add(Table(("when", "who", "event", "detail"), rows[left_out:], align="llll", limit=HISTORY_ROWS, title=title))
    return doc


HISTORY_ROWS = 40


def history_rows(events: Sequence[AuditEntry]) -> list[tuple[str, str, str, str]]:
    """One row per event, except that refused clicks in a row collapse into one: a flood of them must not
    push the decisions (approved, rejected, applied, verified...) out of view."""
    rows: list[tuple[str, str, str, str]] = []
    run: list[AuditEntry] = []

    def flush() -> None:
        if not run:
            return
        if len(run) == 1:
            rows.append((when(run[0].at), run[0].actor, run[0].kind, _event_detail(run[0])))
        else:
            people = sorted({e.actor for e in run})
            who = ", ".join(people[:3]) + (f" +{len(people) - 3}" if len(people) > 3 else "")
            reasons = " ".join(dict.fromkeys(_event_detail(e) or "refused" for e in run))
            span = f"{when(run[0].at)[:16]}-{when(run[-1].at)[11:16]}"
            rows.append((span, who, f"{run[0].kind} x{len(run)}", _short(reasons, 70)))
        run.clear()

    for event in events:
        if event.kind == AuditKind.REFUSED_CLICK:
            run.append(event)
            continue
        flush()
        rows.append((when(event.at), event.actor, event.kind, _event_detail(event)))
    flush()
    return rows


def _event_detail(event: AuditEntry) -> str:
    detail = event.detail
    for key in ("message", "reason", "result"):
        if detail.get(key):
            return _short(str(detail[key]), 70)
    if "approvals" in detail:
        return f"{detail['approvals']}/{detail['needed']}"
    if "status" in detail:
        return str(detail["status"])
    return ""


def _short(text: str, width: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def nodes_left_text(nodes: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in nodes[:10]) + (f" and {len(nodes) - 10} more" if len(nodes) > 10 else "")
    return (
        f"{len(nodes)} node(s) still take pod addresses from the old subnets; replace them (cordon, drain, "
        f"terminate): {shown}"
    )
