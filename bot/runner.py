"""Runs a /cni command end to end for Slack and the terminal alike: plan, run, record, measure.

History writes never make a command fail: when the database is down the user still gets the answer, and the
lost write is logged and counted.
"""

from __future__ import annotations

import logging
import time
import uuid

from bot import metrics
from bot.domain.names import InvalidName
from bot.errors import UpstreamError, UserError
from bot.logs import event, log_context
from bot.render.doc import Doc, Para
from commands.base import CommandContext, CommandResult
from commands.registry import Plan, Registry, plan, plan_words, usage_result

log = logging.getLogger("cnibot.runner")


def storable(text: str) -> str:
    """Text any database takes: bytes that were not UTF-8 (surrogate escapes) and NULs shown as escapes."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no byte produced (e.g. from JSON)
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:12]


class CommandRunner:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def plan(self, text: str, ctx: CommandContext) -> Plan:
        return plan(self.registry, text, ctx)

    def plan_words(self, words: list[str], ctx: CommandContext) -> Plan:
        return plan_words(self.registry, words, ctx)

    def ack_text(self, planned: Plan, ctx: CommandContext) -> str | None:
        """The immediate ack for work that takes a moment; None when the answer itself fits in the ack."""
        if planned.immediate is not None or planned.subcommand is None or planned.args is None:
            return None
        if planned.subcommand.ack_text is None:
            return None
        try:
            return planned.subcommand.ack_text(planned.args, ctx)
        except Exception:  # the ack must go out whatever happens
            log.exception("ack text failed")
            return "Working on it..."

    def execute(self, text: str, ctx: CommandContext, planned: Plan | None = None) -> CommandResult:
        started = time.perf_counter()
        planned = planned or self.plan(text, ctx)
        with log_context(cid=ctx.correlation_id, user=ctx.user_id, command=planned.name):
            result = planned.immediate or self._run(planned, ctx)
            duration = time.perf_counter() - started
            metrics.COMMANDS.labels(result.subcommand, result.outcome, ctx.source).inc()
            metrics.COMMAND_SECONDS.labels(result.subcommand).observe(duration)
            self._record(text, ctx, result, duration)
            event(
                log,
                "command handled",
                outcome=result.outcome,
                ms=round(duration * 1000, 1),
                cluster=result.cluster,
            )
        return result

    def _run(self, planned: Plan, ctx: CommandContext) -> CommandResult:
        sub, args = planned.subcommand, planned.args
        assert sub is not None and args is not None
        try:
            return sub.run(args, ctx)
        except UserError as exc:
            return usage_result(sub.name, exc.message, getattr(exc, "usage", ""))
        except InvalidName as exc:  # a name outside its grammar that got past the parser: refused all the same
            return usage_result(sub.name, str(exc), "")
        except UpstreamError as exc:
            log.warning("upstream failure: %s", exc)
            doc = Doc(f":warning: Could not complete `{sub.name}`: {exc.api} failed ({exc.reason}).").add(
                Para(f"Try again in a moment. Reference: `{ctx.correlation_id}`")
            )
            return CommandResult(sub.name, doc, data={"error": str(exc), "api": exc.api}, outcome="error")
        except Exception:
            log.exception("command failed")
            doc = Doc(
                f":boom: Sorry, something went wrong while running `{sub.name}`. "
                f"The error is logged with reference `{ctx.correlation_id}`."
            )
            return CommandResult(
                sub.name,
                doc,
                data={"error": "internal error", "correlation_id": ctx.correlation_id},
                outcome="error",
            )

    def _record(self, text: str, ctx: CommandContext, result: CommandResult, duration: float) -> None:
        try:
            ctx.services.history.record_command(
                correlation_id=ctx.correlation_id,
                source=ctx.source,
                user_id=ctx.user_id,
                user_name=ctx.user_name,
                team_id=ctx.team_id,
                channel_id=ctx.channel_id,
                cluster=result.cluster,
                subcommand=result.subcommand,
                text=storable(text)[:4000],
                outcome=result.outcome,
                duration_ms=round(duration * 1000),
                detail=result.detail,
            )
        except Exception as exc:
            metrics.HISTORY_WRITE_FAILURES.inc()
            log.error("history write lost: %s", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
