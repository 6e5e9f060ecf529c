"""The fault matrix of issue 14: each dependency down, slow, hanging, refusing and failing mid-command, and
what every command must still do (answer, by its deadline, saying what it could not check).

Shared by tests/e2e/test_fault_matrix.py (a short deadline) and bench/fault_matrix.py (the default one).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from commands.base import CommandResult
from simulator.faults import FaultRule
from tests.support.asker import Asker, asker
from tests.support.kubeconfig import kubeconfig

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused
COMMANDS = (
    "capacity",
    "subnets",
    "config",
    "node ip-10-0-0-47.us-east-2.compute.internal",
    "why-pending shop/checkout-7",
)


@dataclass(frozen=True)
class Fault:
    name: str
    rules: tuple[FaultRule, ...] = ()
    ec2_down: bool = False
    kube_down: bool = False
    database: str = ""  # "sqlite-missing" | "postgres-closed"
    hangs: bool = False  # the answer comes at the deadline, not before
    expect_ok: bool = field(default=False)  # an answer with nothing missing is right (e.g. only history is off)


def faults(hang_seconds: float) -> list[Fault]:
    return [
        Fault("EC2 down", ec2_down=True),
        Fault("EC2 slow (1 s a call)", (FaultRule(api="ec2", kind="latency", latency=1.0),), expect_ok=True),
        Fault("EC2 hanging", (FaultRule(api="ec2", hang=hang_seconds),), hangs=True),
        Fault("EC2 refusing (403)", (FaultRule(api="ec2", code="UnauthorizedOperation", status=403),)),
        Fault(
            "EC2 failing mid-command (ENI sweep 500)",
            (FaultRule(api="ec2", operation="DescribeNetworkInterfaces", code="InternalError", status=500),),
        ),
        Fault("Kubernetes down", kube_down=True),
        Fault("Kubernetes slow (1 s a call)", (FaultRule(api="kube", kind="latency", latency=1.0),), expect_ok=True),
        Fault("Kubernetes hanging", (FaultRule(api="kube", hang=hang_seconds),), hangs=True),
        Fault("Kubernetes refusing (403)", (FaultRule(api="kube", status=403),)),
        Fault(
            "Kubernetes failing mid-command (aws-node 500)",
            (FaultRule(api="kube", operation="GET daemonsets", status=500),),
        ),
        Fault("SQLite unavailable", database="sqlite-missing", expect_ok=True),
        Fault("Postgres down", database="postgres-closed", expect_ok=True),
    ]


@contextmanager
def faulty(fault: Fault, tmp: Path, deadline: float) -> Iterator[Asker]:
    settings: dict[str, object] = {"command_deadline_seconds": deadline}
    if fault.database == "sqlite-missing":
        settings["database_url"] = f"sqlite:///{tmp / 'missing' / 'cnibot.db'}"
    elif fault.database == "postgres-closed":
        settings["database_url"] = "postgresql+psycopg://cnibot@127.0.0.1:9/cnibot"
    env = {"AWS_ENDPOINT_URL": CLOSED} if fault.ec2_down else None
    cluster = None
    if fault.kube_down:
        (tmp / "kube").mkdir()
        cluster = {"auth": {"mode": "kubeconfig", "kubeconfig": str(kubeconfig(tmp / "kube", server=CLOSED))}}
    with asker("demo", tmp, env=env, cluster=cluster, **settings) as running:  # type: ignore[arg-type]
        for rule in fault.rules:
            running.sim.faults.add(rule)
        yield running


def timed(running: Asker, command: str) -> tuple[CommandResult, float]:
    started = time.monotonic()
    result = running.ask(command)
    return result, time.monotonic() - started


def problems(fault: Fault, command: str, result: CommandResult, seconds: float, deadline: float) -> list[str]:
    """What is wrong with one answer under one fault (empty: right)."""
    found = []
    text = result.doc.summary + " " + str(result.doc.elements)
    if seconds > deadline + 1.0:
        found.append(f"answered in {seconds:.1f} s, past the {deadline:g} s deadline")
    if result.data.get("error") == "internal error" or "something went wrong" in text:
        found.append("an internal error")
    if not result.doc.summary.strip():
        found.append("an empty answer")
    if not fault.expect_ok and result.outcome == "ok":
        found.append("answered as if everything had been read")
    if result.outcome == "error" and not any(s in text for s in ("Try again", "Waiting will not help", "Fix ")):
        found.append(f"an error without a next step: {result.doc.summary[:120]}")
    return found
