"""/cni why-pending <pod> [-n namespace]: why a pod has no IP, the numbers that prove it, and the fix."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from bot import metrics
from bot.domain import names
from bot.domain.access import Action
from bot.errors import UsageError
from commands.base import CommandContext, CommandParser, CommandResult, DiagnosisNote, Outcome, Subcommand, always

if TYPE_CHECKING:
    from bot.domain.diagnosis import Diagnosis


USAGE = "/cni why-pending <pod | namespace/pod> [-n namespace] [--cluster NAME]"
DEFAULT_NAMESPACE = "default"


def namespace_name(value: str) -> str:
    """A namespace is a DNS-1123 label (checked in full: `$` alone would let a trailing newline through)."""
    try:
        return names.namespace(value)
    except names.InvalidName as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pod_ref(value: str) -> tuple[str | None, str]:
    """`pod` or `namespace/pod`, checked as Kubernetes names (so bad input is answered in the ack)."""
    namespace, _, name = value.strip().rpartition("/")
    if namespace:
        namespace_name(namespace)
    if not names.is_subdomain(name):
        raise argparse.ArgumentTypeError(
            f"`{names.shown(name)}` is not a pod name (lowercase letters, digits, '-', '.')"
        )
    return namespace or None, name


def _build(p: CommandParser) -> None:
    p.add_argument("pod", type=pod_ref, metavar="POD", help="pod name, or namespace/name")
    p.add_argument("-n", "--namespace", type=namespace_name, metavar="NAMESPACE", help=f"default: {DEFAULT_NAMESPACE}")


def pod_target(args: argparse.Namespace) -> tuple[str, str]:
    """(namespace, name) from `ns/pod` or `pod -n ns`."""
    given, name = args.pod
    if given and args.namespace and given != args.namespace:
        raise UsageError(f"`{given}/{name}` says namespace `{given}` but -n says `{args.namespace}`.", USAGE)
    return given or args.namespace or DEFAULT_NAMESPACE, name


def ack_text(args: argparse.Namespace, ctx: CommandContext) -> str:
    namespace, name = pod_target(args)
    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    return f"Looking at {namespace}/{name} on cluster {cluster.name}..."


def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
    from bot.domain.diagnosis import diagnose
    from bot.gather.pod import gather_pod_evidence
    from bot.render.diagnosis import render_diagnosis

    namespace, name = pod_target(args)
    cluster = ctx.services.clusters.resolve(args.cluster, ctx.channel_id)
    conn = ctx.services.connections.get(cluster)
    started = time.perf_counter()
    evidence = gather_pod_evidence(conn, namespace, name, now=ctx.now)
    diagnosis = diagnose(evidence, now=ctx.now)
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    for code in diagnosis.codes:
        metrics.DIAGNOSIS_CAUSES.labels(code).inc()
    return CommandResult(
        "why-pending",
        render_diagnosis(diagnosis, elapsed_ms=elapsed_ms),
        data=result_data(diagnosis),
        outcome=_outcome(diagnosis),
        cluster=cluster.name,
        detail={"codes": diagnosis.codes},
        # Recorded by the runner with the command, once the answer is out.
        diagnosis=DiagnosisNote(
            namespace=namespace,
            pod=name,
            node=diagnosis.node,
            codes=list(diagnosis.codes),
            duration_ms=elapsed_ms,
            could_not_check=[{"what": u.what, "api": u.api, "reason": u.reason} for u in diagnosis.could_not_check],
        ),
    )


def result_data(diagnosis: Diagnosis) -> dict[str, object]:
    """The --json shape scripts rely on: pod, node, ranked causes, what was and was not checked."""
    return diagnosis.as_dict()


def _outcome(diagnosis: Diagnosis) -> Outcome:
    from bot.domain.diagnosis import CauseCode

    if diagnosis.primary.code is CauseCode.POD_NOT_FOUND:
        return "user_error"
    return "partial" if diagnosis.could_not_check else "ok"


SUBCOMMAND = Subcommand(
    access=always(Action.READ),
    name="why-pending",
    summary="why a pod has no IP: the cause, the numbers that prove it, and the fix",
    usage=USAGE,
    build_parser=_build,
    run=run,
    ack_text=ack_text,
    aliases=("why",),
)
