"""/cni digest subscribe|unsubscribe|list|now: scheduled capacity digests for a channel."""

from __future__ import annotations

import argparse
import re
from datetime import datetime

from bot.digests.render import digest_doc
from bot.digests.schedule import ScheduleError, parse_schedule, schedule_from_text, zone
from bot.domain import names
from bot.domain.access import Action
from bot.domain.digest_records import CLAIMED, FAILED, POSTED, SKIPPED, UNCERTAIN, Subscription
from bot.errors import UsageError
from bot.render.doc import Context, Doc, Para, Table
from commands.base import CommandContext, CommandParser, CommandResult, Subcommand

_CLAIM_TEXT = {
    CLAIMED: "being posted",
    FAILED: "not posted (Slack refused it)",
    SKIPPED: "skipped (no sample)",
    UNCERTAIN: "may not have been posted",
}

USAGE = (
    "/cni digest subscribe [#channel] [daily HH:MM | weekdays HH:MM | weekly DAY HH:MM] [--tz ZONE] | "
    "unsubscribe [#channel] | list | now"
)
ACTIONS = ("subscribe", "unsubscribe", "list", "now")

_ESCAPED_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
_CHANNEL_NAME = re.compile(r"^#[a-z0-9][a-z0-9_-]{0,79}$")


def _build(p: CommandParser) -> None:
    # Checked in run(), so that the answer names the actions rather than argparse's internal names.
    p.add_argument("action", nargs="?")
    p.add_argument("words", nargs="*")
    p.add_argument(
        "--tz", type=_time_zone, metavar="ZONE", default=None, help="IANA time zone of the schedule (default UTC)"
    )


def _time_zone(value: str) -> str:
    """Canonical IANA names only: `localtime` and friends mean something else on every replica."""
    if not names.is_canonical_time_zone(value):
        raise argparse.ArgumentTypeError(
            f"`{names.shown(value)}` is not an IANA time zone "
            "(its canonical name, e.g. Europe/Berlin, America/New_York, UTC)"
        )
    return value


def _access(args: argparse.Namespace) -> Action | None:
    """Subscribing posts to a channel (the digests rule); a preview is a read; the list names no cluster data."""
    return {"subscribe": Action.DIGEST, "unsubscribe": Action.DIGEST, "now": Action.READ}.get(args.action or "")


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    if args.action is None:
        raise UsageError("Say what to do: `subscribe`, `unsubscribe`, `list` or `now`.", USAGE)
    if args.action not in ACTIONS:
        raise UsageError(
            f"`{args.action[:30]}` is not a digest action: use subscribe, unsubscribe, list or now.", USAGE
        )
    action = {"subscribe": _subscribe, "unsubscribe": _unsubscribe, "list": _list, "now": _now}[args.action]
    return action(args, ctx)


# --- subscribe / unsubscribe --------------------------------------------------------------------------------


def _subscribe(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:

    channel, words = _channel_and_rest(args.words, ctx)
    try:
        schedule = parse_schedule(words, args.tz or "UTC")
    except ScheduleError as exc:
        raise UsageError(str(exc), USAGE) from None
    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    # The digest is posted there for everyone in it: the channel must be one the cluster's digests rule accepts,
    # whoever subscribes it (the caller was checked before the command ran).
    ctx.services.access.require_channel(cluster, Action.DIGEST, channel)
    stores = ctx.services.repos
    sub, created = stores.digests.subscribe(
        cluster=cluster.name,
        channel=channel,
        schedule=schedule.text,
        timezone=schedule.timezone,
        user_id=ctx.user_id,
        now=ctx.now,
    )
    due = schedule.next_after(ctx.now)
    verb = "Subscribed" if created else "Rescheduled"
    doc = Doc(
        f":white_check_mark: {verb}: {_show_channel(channel)} gets the capacity digest of `{cluster.name}` "
        f"{_describe(schedule.text)} ({schedule.timezone})."
    ).add(
        Para(
            f"Next one: {_local(due, schedule.timezone)} ({due:%H:%M} UTC). Capacity is sampled every "
            f"{ctx.services.settings.digests.sample_interval_minutes} minutes; forecasts need about 6 hours of "
            "samples. Invite the bot to the channel if it is private."
        )
    )
    return CommandResult(
        "digest",
        doc,
        data={"subscription": _sub_data(sub), "created": created, "next_due": due.isoformat()},
        cluster=cluster.name,
    )


def _unsubscribe(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:

    channel, rest = _channel_and_rest(args.words, ctx)
    if rest:
        raise UsageError(f"unexpected `{' '.join(rest)[:40]}`", USAGE)
    if args.cluster:
        ctx.services.clusters.resolve(args.cluster, ctx.channel_id)  # an unknown name is an error, not a no-op
    removed = ctx.services.repos.digests.unsubscribe(channel=channel, cluster=args.cluster)
    if not removed:
        which = f" to `{args.cluster}`" if args.cluster else ""
        doc = Doc(f"{_show_channel(channel)} has no digest subscription{which}; `/cni digest list` shows them all.")
    else:
        clusters = ", ".join(f"`{s.cluster}`" for s in removed)
        doc = Doc(f":white_check_mark: Unsubscribed {_show_channel(channel)} from the digest of {clusters}.")
    return CommandResult("digest", doc, data={"removed": [_sub_data(s) for s in removed]}, cluster=args.cluster)


def _channel_and_rest(words: list[str], ctx: CommandContext) -> tuple[str, list[str]]:
    """The channel (first word when it names one, else the channel the command was typed in) and the rest."""
    if words:
        channel = parse_channel(words[0])
        if channel is not None:
            return channel, words[1:]
        if words[0].startswith(("#", "<#")):
            raise UsageError(f"`{words[0][:40]}` is not a channel; pick one with # from the list", USAGE)
    if not ctx.channel_id:
        raise UsageError("Name the channel: /cni digest subscribe #channel ...", USAGE)
    return ctx.channel_id, words


def parse_channel(word: str) -> str | None:
    """A channel as Slack sends it: <#C123|name> (escaped), C123 (id), or #name (unescaped)."""
    escaped = _ESCAPED_CHANNEL.fullmatch(word)
    if escaped:
        return escaped.group(1)
    # fullmatch: `$` alone would let a trailing newline into the stored channel.
    if _CHANNEL_ID.fullmatch(word) or _CHANNEL_NAME.fullmatch(word.lower()):
        return word if not word.startswith("#") else word.lower()
    return None


# --- list / now ---------------------------------------------------------------------------------------------


def _list(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:

    if args.words:
        raise UsageError(f"unexpected `{' '.join(args.words)[:40]}`", USAGE)
    if args.cluster:
        ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    digests = ctx.services.repos.digests
    subs = digests.subscriptions(cluster=args.cluster)
    if not subs:
        doc = Doc("No digest subscriptions yet. `/cni digest subscribe` adds one for this channel.")
        return CommandResult("digest", doc, data={"subscriptions": []}, cluster=args.cluster)
    rows, data = [], []
    for sub in subs:
        schedule = schedule_from_text(sub.schedule, sub.timezone)
        due = schedule.next_after(ctx.now)
        last = digests.last_posted(sub.id, before=ctx.now)
        latest = digests.last_claim(sub.id, before=ctx.now)
        shown = _local(last.period, sub.timezone) if last else "not yet"
        if latest is not None and latest.status != POSTED:
            # A newer period that did not (or may not) go out: say so rather than show an old "last posted".
            shown += f"; {_local(latest.period, sub.timezone)} {_CLAIM_TEXT.get(latest.status, latest.status)}"
        rows.append(
            (
                _show_channel(sub.channel),
                sub.cluster,
                f"{_describe(sub.schedule)} {sub.timezone}",
                _local(due, sub.timezone),
                shown,
            )
        )
        data.append(
            {
                **_sub_data(sub),
                "next_due": due.isoformat(),
                "last_posted": last.period.isoformat() if last else None,
                "last_run": {"period": latest.period.isoformat(), "status": latest.status} if latest else None,
            }
        )
    doc = Doc(f"{len(subs)} digest subscription{'s' if len(subs) != 1 else ''}:").add(
        Table(("channel", "cluster", "schedule", "next", "last posted"), rows, align="lllll", limit=50)
    )
    return CommandResult("digest", doc, data={"subscriptions": data}, cluster=args.cluster)


def _now(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.digests.service import Sampling, digest_builder
    from bot.digests.sources import sources_for

    if args.words:
        raise UsageError(f"unexpected `{' '.join(args.words)[:40]}`", USAGE)
    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    stores = ctx.services.repos
    problem = Sampling(ctx.services, stores.samples).ensure_recent(cluster.name)
    builder = digest_builder(ctx.services, stores.samples, sources_for(ctx.services.repos))
    digest = builder.build(cluster.name, ctx.now, since=None)
    doc = digest_doc(digest, preview=True)
    if problem:
        doc.add(Context(f":warning: Could not take a fresh sample ({problem}); this preview uses the stored ones."))
    data = {
        "level": digest.level.value,
        "headline": digest.headline,
        "subnets": [
            {
                "subnet_id": o.subnet_id,
                "az": o.az,
                "free": o.free,
                "percent_used": round(o.percent_used, 1),
                "change_24h": o.change_24h,
                "change_7d": o.change_7d,
                "days_left": None if o.forecast.days_left is None else round(o.forecast.days_left, 2),
                "forecast": o.forecast.reason or "ok",
            }
            for o in digest.subnets
        ],
        "recommendations": [r.code for r in digest.recommendations],
        "sample_problem": problem,
        "caveats": list(digest.caveats),
        "events_problem": digest.events_problem,
        "could_not_check": list(digest.could_not_check),
    }
    partial = bool(digest.could_not_check or problem or digest.caveats or digest.events_problem)
    return CommandResult("digest", doc, data=data, cluster=cluster.name, outcome="partial" if partial else "ok")


# --- shared ------------------------------------------------------------------------------------------------


def _show_channel(channel: str) -> str:
    return channel if channel.startswith("#") else f"<#{channel}>"


def _describe(schedule_text: str) -> str:
    """ "weekly mon 09:00" -> "weekly on mon at 09:00"."""
    words = schedule_text.split()
    if words[0] == "weekly":
        return f"weekly on {words[1]} at {words[2]}"
    return f"{words[0]} at {words[1]}"


def _local(instant: datetime, tz: str) -> str:
    return instant.astimezone(zone(tz)).strftime("%a %Y-%m-%d %H:%M")


def _sub_data(sub: Subscription) -> dict[str, object]:
    return {
        "id": sub.id,
        "cluster": sub.cluster,
        "channel": sub.channel,
        "schedule": sub.schedule,
        "timezone": sub.timezone,
        "created_by": sub.created_by,
    }


def _ack(args: argparse.Namespace, ctx: CommandContext) -> str:
    return "Sampling the cluster and building the digest preview..." if args.action == "now" else ""


SUBCOMMAND = Subcommand(
    access=_access,
    name="digest",
    summary="scheduled capacity digests: subscribe a channel, list, unsubscribe, preview now",
    usage=USAGE,
    build_parser=_build,
    run=run,
    writes=True,
    ack_text=_ack,
)
