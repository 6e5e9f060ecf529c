"""Runs a /cni command end to end for Slack and the terminal alike: plan, run, record, measure.

History writes never make a command fail or wait: the answer is delivered first, and when the database is
down the user still gets it, with a note that history is off; the lost write is logged and counted. Every
command has a deadline (`command_deadline_seconds`): past it, the answer says what could not be checked.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from bot import deadline as deadlines
from bot import metrics
from bot.access import AccessRefused, caller_of, refusal_doc
from bot.domain.access import Action
from bot.domain.names import InvalidName
from bot.errors import DENIED_CODES, NO_CLUSTER, UpstreamError, UsageError, UserError
from bot.logs import event, log_context
from bot.render.doc import Context, Doc, Para
from commands.base import CommandContext, CommandResult
from commands.registry import Plan, Registry, plan, plan_words, usage_result
from storage.db import database_problem

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

    def plan(self, text: str) -> Plan:
        return plan(self.registry, text)

    def plan_words(self, words: list[str]) -> Plan:
        return plan_words(self.registry, words)

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

    def execute(
        self,
        text: str,
        ctx: CommandContext,
        planned: Plan | None = None,
        deliver: Callable[[CommandResult], None] | None = None,
    ) -> CommandResult:
        """Run the command; hand the answer to `deliver` (when given) before anything is written, then write
        history (the command, and a why-pending diagnosis with it): a slow or locked database never delays an
        answer."""
        started = time.perf_counter()
        planned = planned or self.plan(text)
        with log_context(cid=ctx.correlation_id, user=ctx.user_id, command=planned.name):
            result = planned.immediate or self._run(planned, ctx)
            duration = time.perf_counter() - started
            history_off = ctx.services.database_problem
            if history_off and result.outcome != "user_error":
                result.doc.add(Context(":floppy_disk: History is off: the database is unavailable."))
            if deliver is not None:
                try:
                    deliver(result)
                except Exception:
                    log.exception("delivering the answer failed")
            metrics.COMMANDS.labels(result.subcommand, result.outcome, ctx.source).inc()
            metrics.COMMAND_SECONDS.labels(result.subcommand).observe(duration)
            if history_off:  # the database is off: nothing to wait for
                metrics.HISTORY_WRITE_FAILURES.inc()
            else:
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
        """The command on a thread of its own, so that it answers by its deadline whatever hangs."""
        sub, args = planned.subcommand, planned.args
        assert sub is not None and args is not None
        seconds = _deadline_seconds(ctx)
        box: list[CommandResult] = []
        with deadlines.deadline(seconds) as limit:
            context = contextvars.copy_context()
        worker = threading.Thread(
            target=context.run, args=(lambda: box.append(self._run_here(planned, ctx)),), name="cni-command"
        )
        worker.daemon = True  # a command stuck past its deadline must not keep the process alive
        worker.start()
        worker.join(seconds)
        if box:
            return box[0]
        log.warning("command past its %g s deadline; still waiting for: %s", seconds, ", ".join(limit.pending()))
        return _past_deadline(sub.name, seconds, limit.pending(), ctx.correlation_id, writes=sub.writes)

    def _run_here(self, planned: Plan, ctx: CommandContext) -> CommandResult:
        sub, args = planned.subcommand, planned.args
        assert sub is not None and args is not None
        try:
            notes = self._gate(sub.action(args), args, ctx)
            result = sub.run(args, ctx)
            if notes:
                result.doc.add(*(Context(f":information_source: {note}") for note in notes))
            if getattr(args, "share", False) and result.outcome in ("ok", "partial"):
                result.response_type = "in_channel"
            return result
        except AccessRefused as exc:
            return _refused_result(sub.name, exc)
        except UserError as exc:
            return usage_result(sub.name, exc.message, getattr(exc, "usage", ""))
        except InvalidName as exc:  # a name outside its grammar that got past the parser: refused all the same
            return usage_result(sub.name, str(exc), "")
        except UpstreamError as exc:
            if exc.code == NO_CLUSTER:
                return _no_cluster_result(sub.name, exc)
            log.warning("upstream failure: %s", exc)
            doc = Doc(f":warning: Could not complete `{sub.name}`: {exc.api} failed ({exc.reason}).").add(
                Para(f"{next_step(exc)} Reference: `{ctx.correlation_id}`")
            )
            return CommandResult(sub.name, doc, data={"error": str(exc), "api": exc.api}, outcome="error")
        except SQLAlchemyError as exc:
            log.warning("database unavailable: %s", database_problem(exc))
            doc = Doc(f":warning: The database is unavailable, so `{sub.name}` cannot be done now.").add(
                Para(f"Read commands still answer. Reference: `{ctx.correlation_id}`")
            )
            return CommandResult(sub.name, doc, data={"error": "database unavailable"}, outcome="error")
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

    def _gate(self, action: Action | None, args: object, ctx: CommandContext) -> tuple[str, ...]:
        """Before any cluster read: the cluster's access rule for this command (AccessRefused when it refuses).
        Change requests are gated where the change's cluster is known (bot.changes.requesting)."""
        if getattr(args, "share", False) and action is not Action.READ:
            raise UsageError(
                "--share posts read answers only (why-pending, node, subnets, capacity, config) in the channel."
            )
        if action is None or action is Action.REQUEST:
            return ()
        cluster = ctx.services.clusters.resolve(getattr(args, "cluster", None), ctx.channel_id)
        return ctx.services.access.require(cluster, action, caller_of(ctx)).notes

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
            if result.diagnosis is not None and result.cluster is not None:
                found = result.diagnosis
                ctx.services.repos.diagnoses.record(
                    cluster=result.cluster,
                    namespace=found.namespace,
                    pod=found.pod,
                    node=found.node,
                    codes=found.codes,
                    requester=ctx.user_id,
                    duration_ms=found.duration_ms,
                    correlation_id=ctx.correlation_id,
                    could_not_check=found.could_not_check,
                )
        except Exception as exc:
            metrics.HISTORY_WRITE_FAILURES.inc()
            log.error("history write lost: %s", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))


NO_CLUSTER_HINT = (
    "Point cnibot at a cluster: it reads the current context of your kubeconfig (`$KUBECONFIG`, else "
    "`~/.kube/config`; `aws eks update-kubeconfig --name CLUSTER --region REGION` writes one), or the clusters "
    "listed in the settings file named by `CNIBOT_CONFIG`. To try it without a cluster: `cnibot demo`."
)


def _no_cluster_result(subcommand: str, exc: UpstreamError) -> CommandResult:
    """Not an outage to wait out: nothing tells cnibot where the cluster is, so say how to tell it."""
    headline = (
        f":warning: No cluster is configured, so `{subcommand}` has nothing to read ({exc.reason})."
        if "no kubeconfig" in exc.reason
        else f":warning: The cluster's credentials could not be loaded, so `{subcommand}` has nothing to read "
        f"({exc.reason})."
    )
    doc = Doc(headline).add(Para(NO_CLUSTER_HINT))
    return CommandResult(subcommand, doc, data={"error": str(exc), "api": exc.api}, outcome="user_error")


def _refused_result(subcommand: str, exc: AccessRefused) -> CommandResult:
    data = {"error": "refused", "rule": exc.refused.rule, "action": exc.action.value, "reason": exc.refused.reason}
    return CommandResult(
        subcommand,
        refusal_doc(exc),
        data=data,
        outcome="refused",
        cluster=exc.cluster,
        detail={"refused": exc.refused.rule, "action": exc.action.value},
    )


def next_step(exc: UpstreamError) -> str:
    """What to do about a failed dependency: waiting helps with a timeout or throttling, not with a denial."""
    if exc.code in ("403", "401") or exc.code in DENIED_CODES:
        return "Waiting will not help: grant the bot's role that permission (deploy/ has the RBAC and IAM policy)."
    if exc.code == "config":
        return "Fix the cluster's settings (see the cnibot log at start)."
    return "Try again in a moment."


def _deadline_seconds(ctx: CommandContext) -> float:
    seconds = getattr(ctx.services.settings, "command_deadline_seconds", None)
    return float(seconds) if isinstance(seconds, int | float) else deadlines.DEFAULT_SECONDS


def _past_deadline(
    name: str, seconds: float, pending: list[str], correlation_id: str, *, writes: bool = False
) -> CommandResult:
    doc = Doc(f":hourglass: `{name}` did not finish within {seconds:g} s; its answer is incomplete.")
    lines = [f"• could not check {what}: no answer within {seconds:g} s" for what in pending] or [
        "• could not check: the cluster's APIs did not answer in time"
    ]
    doc.add(Para("\n".join(lines)))
    if writes:
        doc.add(Para("It is still running and may finish: `/cni changes` and `/cni digest list` show what it stored."))
    doc.add(Context(f"Reference: `{correlation_id}`"))
    unchecked = [{"what": what, "api": "deadline", "reason": f"no answer within {seconds:g} s"} for what in pending]
    return CommandResult(name, doc, data={"error": "deadline", "could_not_check": unchecked}, outcome="partial")
