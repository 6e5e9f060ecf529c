"""A Digest as a Doc (Block Kit in Slack, text in the terminal): the full digest, or one line when nothing
changed since the last one."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.digests.content import Digest, age_text
from bot.digests.outlook import Level, SubnetOutlook
from bot.render.doc import Bullets, Context, Doc, Heading, Para, Table, escape

_ICON = {
    Level.HEALTHY: ":large_green_circle:",
    Level.WATCH: ":large_yellow_circle:",
    Level.AT_RISK: ":red_circle:",
    Level.UNKNOWN: ":warning:",
}


def digest_doc(digest: Digest, *, one_line_when_unchanged: bool = True, preview: bool = False) -> Doc:
    icon = _ICON[digest.level]
    if not digest.has_data:
        return Doc(f"{icon} {digest.headline}").add(
            Para("Samples are taken every few minutes once a digest is subscribed; try again shortly.")
        )
    if digest.unchanged and one_line_when_unchanged and not preview:
        # "posted 8 min ago" is when the reader saw it, not the period it was for (late posts differ).
        posted = digest.previous_posted_at or digest.since
        since = f" since the last digest (posted {_when(posted, digest.now)})" if posted else ""
        sampled = f"; figures from {_when(digest.sampled_at, digest.now)}" if digest.sampled_at else ""
        return Doc(f"{icon} {digest.headline}. No change{since}{sampled}.")
    doc = Doc(f"{icon} *{digest.headline}*")
    if digest.caveats and digest.sampled_at:
        doc.add(
            Para(
                f":warning: {_sentence_case('; '.join(digest.caveats))}. The figures below are from the sample taken "
                f"{digest.sampled_at:%Y-%m-%d %H:%M} UTC ({_when(digest.sampled_at, digest.now)})."
            )
        )
    if digest.ipv6:
        doc.add(
            Para(
                "IPv6 cluster: pods take IPv6 addresses from each node's /80 prefix, so the IPv4 figures and forecasts "
                "below are for node and ENI addresses, not pods."
            )
        )
    if digest.subnets:
        doc.add(_subnet_table(digest))
    else:
        # Subnets are found through the nodes' ENIs and the ENIConfigs: without them there is no table to show.
        doc.add(Para("*Subnets*: none could be attributed to the cluster in this sample."))
    if digest.nodes_at_limit:
        doc.add(
            Bullets(
                [f"`{n.node.name}` ({n.node.instance_type}, {n.node.az}): {n.reason}" for n in digest.nodes_at_limit],
                title=f"*Nodes at or near their ENI/IP limits* ({len(digest.nodes_at_limit)} of {digest.nodes_total})",
                limit=8,
                more_hint="`/cni capacity` lists them",
            )
        )
    doc.add(_failed_pods(digest))
    drift = _drift(digest)
    if drift is not None:
        doc.add(drift)
    if digest.version_line:
        doc.add(Para(f":arrow_up: {escape(digest.version_line)} `/cni version` shows more."))
    if digest.pending:
        doc.add(
            Bullets(
                [
                    f"#{p.change_id} {p.summary}, asked by <@{p.requested_by}>"
                    + (f" {_when(p.requested_at, digest.now)}" if p.requested_at else "")
                    for p in digest.pending
                ],
                title=f"*Change requests waiting for approval* ({len(digest.pending)})",
                limit=5,
                more_hint="`/cni changes` lists them",
            )
        )
    if digest.recommendations:
        doc.add(Heading("Recommendations"))
        for index, rec in enumerate(digest.recommendations, start=1):
            doc.add(Para(f"*{index}. {rec.title}*\n{rec.action}\nEffect: {rec.effect}"))
    doc.add(Context(_footer(digest, preview)))
    return doc


def _subnet_table(digest: Digest) -> Table:
    others = digest.other_shape_subnets
    rows = [_subnet_row(o, others.get(o.subnet_id, "")) for o in digest.subnets]
    shown = sorted({others[o.subnet_id] for o in digest.subnets if o.subnet_id in others})
    shapes = (
        " " + ", ".join(f"{_SHAPE_MARK.get(label, '?')} = {label}" for label in shown) + ": pods there take addresses "
        "without aws-node's warm pools."
        if shown
        else ""
    )
    return Table(
        ("AZ", "subnet", "free", "used", "24h", "7d", "days left", "warm idle"),
        rows,
        align="llrrrrrr",
        limit=20,
        more_hint="`/cni subnets` shows every subnet",
        title="*Subnets* (free IPs, change in free IPs, forecast, share of used IPs idle in warm pools)." + shapes,
    )


_SHAPE_MARK = {"Fargate": "F", "EKS Auto Mode": "A", "Windows": "W", "EKS Hybrid": "H"}


def _subnet_row(o: SubnetOutlook, shape: str = "") -> tuple[str, str, str, str, str, str, str, str]:
    marker = {Level.AT_RISK: " !", Level.WATCH: " ~"}.get(o.level, "")
    if shape:
        marker += f" {_SHAPE_MARK.get(shape, '?')}"
    return (
        o.az,
        o.subnet_id + marker,
        f"{o.free:,}",
        percent(o.percent_used),
        _signed(o.change_24h),
        _signed(o.change_7d),
        o.forecast.text,
        "n/a" if o.warm_share is None or shape else f"{o.warm_share:.0f}%",
    )


def _signed(value: int | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:+,}" if value else "0"


def _window(digest: Digest) -> str:
    until = digest.until or digest.now
    cut = f", up to {until:%H:%M} UTC" if digest.now - until > timedelta(minutes=1) else ""
    if digest.since is not None:
        return f"since the last digest ({digest.since:%Y-%m-%d %H:%M} UTC{cut})"
    if digest.window_start is not None:
        return f"in the {_span(until - digest.window_start)} before this digest{cut}"
    return "recently"


def _span(span: timedelta) -> str:
    hours = round(span.total_seconds() / 3600)
    return f"{hours // 24} days" if hours >= 48 and hours % 24 == 0 else f"{hours} h"


def _failed_pods(digest: Digest) -> Para | Bullets:
    window = _window(digest)
    if not digest.failed_pods:
        if digest.events_problem:
            return Para(f"*Pods that failed to get an IP* {window}: none seen, but {digest.events_problem}.")
        return Para(f"*Pods that failed to get an IP* {window}: none.")
    items = [
        f"`{g.ref}`: {', '.join(g.causes)}{f' x{g.count}' if g.count > 1 else ''}, {_when(g.last_seen, digest.now)}"
        + (f" ({_short(cni_cause(g.message))})" if g.message else "")
        for g in digest.failed_pods
    ]
    unsure = f" (more may be missing: {digest.events_problem})" if digest.events_problem else ""
    return Bullets(
        items,
        title=f"*Pods that failed to get an IP* {window}: {len(items)}{unsure}",
        limit=8,
        more_hint="`/cni why-pending <pod>` explains one",
    )


def _drift(digest: Digest) -> Para | Bullets | None:
    if digest.drift is None:
        return None
    ref = f" (change #{digest.approved.change_id})" if digest.approved and digest.approved.change_id else ""
    if not digest.drift:
        return Para(f"*aws-node settings* match the last approved change{ref}.")
    items = [f"`{c.key}`: running {c.new or 'unset'}, approved {c.old or 'unset'}" for c in digest.drift]
    return Bullets(items, title=f"*aws-node settings drifted from the last approved change*{ref}", limit=8)


def _footer(digest: Digest, preview: bool) -> str:
    parts = []
    if preview:
        parts.append("Preview, only you can see it")
    if digest.sampled_at:
        parts.append(f"sampled {_when(digest.sampled_at, digest.now)}")
    parts.append("forecasts fit a line through the last 7 days of samples; n/a = too little data or no growth")
    if digest.could_not_check:
        # Every entry: a cut list reads as "that was all".
        parts.append("could not check: " + "; ".join(digest.could_not_check))
    return " · ".join(parts)


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def percent(value: float) -> str:
    """As `/cni subnets` shows it: a few used addresses in a big subnet read "<1%", not "0%"."""
    return f"{value:.0f}%" if value >= 1 or value == 0 else "<1%"


def cni_cause(message: str) -> str:
    """What the CNI plugin said, without the kubelet's and containerd's wrapping: the text after containerd's
    `failed (add): ` (the plugin's own error), else after the last gRPC `desc = `."""
    for marker in ("failed (add): ", "desc = "):
        if marker in message:
            return message.rsplit(marker, 1)[1].strip()
    return message


def _when(then: datetime | None, now: datetime) -> str:
    return "never" if then is None else age_text(then, now)


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
