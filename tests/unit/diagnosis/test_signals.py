"""The recognisers of scheduler verdicts, sandbox failures and aws-node events, on the exact upstream strings."""

from __future__ import annotations

import pytest

from bot.domain.diagnosis.signals import (
    SandboxFailure,
    Unfit,
    classify_sandbox,
    missing_permissions,
    parse_scheduler_message,
    pod_signals,
)
from tests import factories as f


def test_scheduler_message_with_taints_and_preemption() -> None:
    verdict = parse_scheduler_message(
        "0/6 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, "
        "2 Insufficient cpu, 3 Too many pods. preemption: 0/6 nodes are available: 6 No preemption victims found."
    )
    assert verdict.total_nodes == 6
    assert [(n, g) for n, _, g in verdict.reasons] == [(1, Unfit.TAINTS), (2, Unfit.RESOURCES), (3, Unfit.MAX_PODS)]
    assert verdict.groups == [Unfit.MAX_PODS, Unfit.RESOURCES, Unfit.TAINTS]


@pytest.mark.parametrize(
    "text, group",
    [
        ("Insufficient vpc.amazonaws.com/pod-eni", Unfit.POD_ENI),
        ("Insufficient memory", Unfit.RESOURCES),
        ("node(s) didn't match Pod's node affinity/selector", Unfit.AFFINITY),
        ("node(s) didn't match pod topology spread constraints", Unfit.AFFINITY),
        ("node(s) were unschedulable", Unfit.UNSCHEDULABLE),
        ("node(s) had volume node affinity conflict", Unfit.VOLUMES),
        ("node(s) didn't have free ports for the requested pod ports", Unfit.PORTS),
        ("something new", Unfit.OTHER),
    ],
)
def test_unfit_groups(text: str, group: Unfit) -> None:
    assert parse_scheduler_message(f"0/4 nodes are available: 4 {text}.").reasons[0][2] is group


def test_no_nodes_at_all() -> None:
    assert parse_scheduler_message("no nodes available to schedule pods").groups == [Unfit.NO_NODES]


@pytest.mark.parametrize(
    "message, kind",
    [
        (f.NO_IP, SandboxFailure.NO_IP),
        (
            "add cmd: Error received from AddNetwork gRPC call: rpc error: code = Unavailable",
            SandboxFailure.IPAMD_UNREACHABLE,
        ),
        ("add cmd: failed to connect to backend server", SandboxFailure.IPAMD_UNREACHABLE),
        ("add cmd: failed to setup network policy", SandboxFailure.NETWORK_POLICY),
        ("add command: failed to setup network: link not found", SandboxFailure.NETWORK_SETUP),
        (
            "network is not ready: container runtime network not ready: cni plugin not initialized",
            SandboxFailure.NETWORK_NOT_READY,
        ),
        ("image pull failed", SandboxFailure.OTHER),
    ],
)
def test_sandbox_failures(message: str, kind: SandboxFailure) -> None:
    assert classify_sandbox(message) is kind


def test_pod_signals_count_repeats_and_keep_the_newest() -> None:
    signals = pod_signals(
        [
            f.event("FailedCreatePodSandBox", f.NO_IP, count=5, age=10),
            f.event("NetworkNotReady", "network is not ready", count=2, age=100),
            f.event("FailedScheduling", "0/1 nodes are available: 1 Too many pods.", source="default-scheduler"),
        ]
    )
    assert signals.count(SandboxFailure.NO_IP) == 5
    assert signals.count(SandboxFailure.NETWORK_NOT_READY) == 2
    assert signals.sandbox_failures == 7
    assert signals.sandbox_latest is not None and signals.sandbox_latest.count == 5
    assert signals.scheduling is not None


def test_missing_permissions_names_the_api() -> None:
    note = "Unauthorized operation: failed to call ec2:CreateNetworkInterface due to missing permissions."
    events = [f.event("MissingIAMPermissions", note, count=2, source="aws-node"), f.event("Other", "x")]
    assert missing_permissions(events) == {"CreateNetworkInterface": 2}
