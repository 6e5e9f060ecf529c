"""A why-pending Diagnosis as a Doc: the verdict in one line, the numbers that prove it, the fix, the change
to request (a button in Slack, the command in a terminal), other causes, and what could not be checked."""

from __future__ import annotations

import json

from bot.domain.diagnosis import Cause, CauseCode, Diagnosis, ProposedChange
from bot.render.doc import Actions, Bullets, Button, Context, Doc, Element, Para

REQUEST_CHANGE_ACTION = "request_change"
_BUTTON_VALUE_LIMIT = 2000  # Slack's limit on a button value

# Not a fault: the pod has what it needs from the CNI, or never needs it.
_BENIGN = {CauseCode.POD_HAS_IP, CauseCode.HOST_NETWORK}
_ICON = {CauseCode.POD_NOT_FOUND: ":warning:", CauseCode.UNKNOWN: ":warning:"}


def change_button_value(change: ProposedChange, *, cluster: str, pod: str, cause: str) -> str:
    """Compact JSON carried by the "Request this change" button (what, where, and which diagnosis)."""
    value = json.dumps(
        {**change.as_dict(), "cluster": cluster, "pod": pod, "cause": cause}, separators=(",", ":"), sort_keys=True
    )
    if len(value) > _BUTTON_VALUE_LIMIT:
        raise ValueError(f"change too large for a button value ({len(value)} characters)")
    return value


def request_command(button_value: str) -> str:
    """The /cni command that requests the change a "Request this change" button carries; ValueError if the
    value is not one this module wrote."""
    try:
        data = json.loads(button_value)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a change")
    change = ProposedChange.from_dict(data)
    pod, cause, cluster = (str(data.get(k) or "")[:300] for k in ("pod", "cause", "cluster"))
    return change.command(reason=request_reason(pod, cause), cluster=cluster or None)


def request_reason(pod: str, cause: str) -> str:
    """The reason a "Request this change" request starts with: which pod and cause the change fixes."""
    return f"why-pending {pod}: {cause}"


def render_diagnosis(diagnosis: Diagnosis, *, elapsed_ms: int | None = None) -> Doc:
    primary = diagnosis.primary
    headline = primary.summary if diagnosis.pod in primary.summary else f"*{diagnosis.pod}*: {primary.summary}"
    doc = Doc(f"{_icon(primary)} {headline}")
    doc.add(Context(_context_line(diagnosis, primary)))
    if primary.evidence:
        doc.add(Bullets(primary.evidence, limit=8, title="*Evidence*"))
    if primary.remedy:
        title = "*Fix*" if primary.code not in _BENIGN else "*Next*"
        doc.add(Para("\n".join([title, *(f"{i}. {step}" for i, step in enumerate(primary.remedy, 1))])))
    if primary.change is not None:
        doc.add(*_change_elements(diagnosis, primary.change))
    others = [c for c in diagnosis.causes[1:] if not c.contributing]
    if others:
        doc.add(Bullets([_other_line(c) for c in others], limit=4, title="*Also holds*"))
    contributing = [c for c in diagnosis.causes if c.contributing]
    if contributing:
        doc.add(Bullets([_other_line(c) for c in contributing], limit=4, title="*Contributing*"))
    if diagnosis.could_not_check:
        lines = [f"{u.what}: `{u.api}` {u.reason}" for u in diagnosis.could_not_check]
        doc.add(Bullets(lines, limit=6, title="*Could not check* (the answer above is built without these)"))
    if elapsed_ms is not None:
        doc.add(Context(f"{len(diagnosis.checked)} facts read in {elapsed_ms:,} ms"))
    return doc


def _icon(primary: Cause) -> str:
    if primary.code in _BENIGN:
        return ":white_check_mark:"
    return _ICON.get(primary.code, ":red_circle:")


def _context_line(diagnosis: Diagnosis, primary: Cause) -> str:
    parts = [f"cluster `{diagnosis.cluster}`"]
    if diagnosis.node:
        parts.append(f"node `{diagnosis.node}`")
    parts.append(f"cause `{primary.code.value}`")
    parts.append(f"confidence {primary.confidence:.0%}")
    return " · ".join(parts)


def _change_elements(diagnosis: Diagnosis, change: ProposedChange) -> list[Element]:
    cause = diagnosis.primary.code.value
    command = change.command(reason=request_reason(diagnosis.pod, cause), cluster=diagnosis.cluster)
    if change.eniconfig is not None:
        spec = change.eniconfig
        groups = f", securityGroups {', '.join(spec.security_groups)}" if spec.security_groups else ""
        what = f"ENIConfig `{spec.name}`: subnet `{spec.subnet}`{groups}"
    else:
        what = "aws-node " + " ".join(f"`{key}={value}`" for key, value in change.env.items())
    value = change_button_value(change, cluster=diagnosis.cluster, pod=diagnosis.pod, cause=cause)
    return [
        Para(f"*Proposed change:* {what}"),
        Actions([Button("Request this change", REQUEST_CHANGE_ACTION, value, style="primary")]),
        Context(f"or type `{command}`"),
    ]


def _other_line(cause: Cause) -> str:
    return f"`{cause.code.value}` {cause.confidence:.0%}: {cause.summary}"
