"""Watching a rollout, and custom networking's node tracking (which nodes still use the old subnets)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.changes import service as service_module
from bot.changes.nodes import nodes_not_migrated
from bot.changes.notify import SlackNotifier
from bot.changes.rollout import Backoff, Progress, watch_rollout
from bot.changes.service import ChangeService
from bot.clusters import ClusterDirectory
from bot.config import load_settings
from bot.domain.change_records import AuditKind, NewChange
from bot.domain.changes import BaseRevision, ChangeKind, ChangeSpec, EniConfigState, Status, Target
from bot.domain.cni_settings import effective_settings
from bot.domain.facts import DaemonSetFact, EniFact, NodeFact
from bot.domain.knobs import Risk
from bot.domain.settings_change import EnvChange
from bot.render.doc import Doc
from bot.services import Services
from storage import migrate
from storage.db import make_engine
from storage.repositories import Repositories

# --- rollout -------------------------------------------------------------------------------------------------


def ds(generation: int, observed: int, updated: int, ready: int, desired: int = 3, **env: str) -> DaemonSetFact:
    return DaemonSetFact(
        env=dict(env),
        init_env={},
        image="cni:v1.19.2",
        cni_version="1.19.2",
        generation=generation,
        observed_generation=observed,
        desired=desired,
        ready=ready,
        updated=updated,
        resource_version="1",
    )


class FakeKube:
    def __init__(self, states: list[DaemonSetFact]) -> None:
        self.states = states

    def aws_node_daemonset(self) -> DaemonSetFact:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rollout_reports_each_step_until_every_pod_is_updated_and_ready() -> None:
    kube = FakeKube([ds(2, 1, 0, 3), ds(2, 2, 1, 2), ds(2, 2, 3, 2), ds(2, 2, 3, 3)])
    clock, seen = Clock(), []
    result = watch_rollout(
        kube,  # type: ignore[arg-type]
        wanted_env={},
        generation=2,
        timeout=60,
        backoff=Backoff(1, 4, clock.sleep),
        on_progress=seen.append,
        clock=clock,
    )
    assert result.done and result.message == "3/3 aws-node pods updated, 3/3 ready"
    assert [p.updated for p in seen] == [0, 1, 3, 3]
    assert clock.now == 1 + 2 + 4  # quick at first, then slower


def test_rollout_times_out_with_where_it_stopped() -> None:
    clock = Clock()
    result = watch_rollout(
        FakeKube([ds(2, 2, 1, 1)]),  # type: ignore[arg-type]
        wanted_env={},
        generation=2,
        timeout=10,
        backoff=Backoff(1, 4, clock.sleep),
        on_progress=lambda p: None,
        clock=clock,
    )
    assert not result.done and result.message == "timed out after 10s: 1/3 aws-node pods updated, 1/3 ready"


def test_addon_rollout_waits_for_eks_to_write_the_env_first() -> None:
    clock, seen = Clock(), []
    kube = FakeKube([ds(1, 1, 3, 3), ds(2, 1, 0, 3, WARM_IP_TARGET="2"), ds(2, 2, 3, 3, WARM_IP_TARGET="2")])
    result = watch_rollout(
        kube,  # type: ignore[arg-type]
        wanted_env={"WARM_IP_TARGET": "2"},
        generation=None,
        timeout=60,
        backoff=Backoff(1, 1, clock.sleep),
        on_progress=seen.append,
        clock=clock,
    )
    assert result.done and seen[0] == Progress(3, 0, 3, 2, 1)


# --- which nodes still use the old subnets ----------------------------------------------------------------


def node(name: str, zone: str, instance: str) -> NodeFact:
    return NodeFact(
        name=name,
        instance_id=instance,
        az=zone,
        instance_type="m5.large",
        capacity_pods=20,
        allocatable_pod_eni=None,
        labels={"topology.kubernetes.io/zone": zone},
        annotations={},
        taints=(),
        unschedulable=False,
        ready=("True", "", ""),
        created_at=None,
    )


def eni(instance: str, device: int, subnet: str, kind: str = "interface") -> EniFact:
    return EniFact(
        eni_id=f"eni-{instance}-{device}",
        subnet_id=subnet,
        vpc_id="vpc-1",
        az="",
        status="in-use",
        interface_type=kind,
        description="",
        instance_id=instance,
        device_index=device,
        network_card=0,
        primary_ip=None,
        secondary_ips=(),
        prefixes=(),
        tags={},
    )


def test_nodes_move_over_when_every_pod_eni_is_in_their_eniconfig_subnet() -> None:
    settings = effective_settings(
        {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"}
    )
    configs = {"a": EniConfigState("subnet-pods-a"), "b": EniConfigState("subnet-pods-b")}
    nodes = [node("old", "a", "i-1"), node("new", "a", "i-2"), node("mixed", "b", "i-3"), node("bare", "b", "i-4")]
    enis = [
        eni("i-1", 0, "subnet-a"),
        eni("i-1", 1, "subnet-a"),  # an ENI from before the change
        eni("i-2", 0, "subnet-a"),  # the primary ENI stays in the node's subnet: that is fine
        eni("i-2", 1, "subnet-pods-a"),
        eni("i-2", 2, "subnet-a", kind="trunk"),  # not a pod ENI
        eni("i-3", 1, "subnet-pods-b"),
        eni("i-3", 2, "subnet-b"),
    ]
    assert nodes_not_migrated(nodes, enis, configs, settings) == ["bare", "mixed", "old"]


# --- the tracking job -------------------------------------------------------------------------------------------


class RecordingNotifier(SlackNotifier):
    def __init__(self) -> None:
        super().__init__(None)
        self.replies: list[str] = []

    def reply(self, channel: str, thread_ts: str, text: str) -> str | None:
        self.replies.append(text)
        return "2.2"

    def update(self, channel: str, ts: str, doc: Doc) -> bool:
        return True


@pytest.fixture
def tracked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ChangeService, int, list[list[str]]]]:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'c.db'}", clusters=[{"name": "demo"}])
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    services = Services(settings, Repositories.open(engine), ClusterDirectory(settings))
    svc = ChangeService(services, RecordingNotifier())
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    spec = ChangeSpec(env=(EnvChange("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "false", "true"),))
    record = svc.repo.create(
        NewChange(
            cluster="demo",
            kind=ChangeKind.CUSTOM_NETWORKING,
            requester_id="U0ALICE",
            requester_name=None,
            reason="pods on 100.64",
            risk=Risk.HIGH,
            approvals_needed=2,
            spec=spec,
            diff_hash="x",
            base=BaseRevision(),
            target=Target.DAEMONSET,
            summary="enable custom networking",
            created_at=at,
            expires_at=at + timedelta(hours=1),
            status=Status.APPROVED,
        )
    )
    svc.repo.set_message(record.id, "C1", "1.1")
    for target, event in ((Status.APPLYING, AuditKind.APPLYING), (Status.APPLIED, AuditKind.APPLIED)):
        svc.repo.transition(record.id, target, actor="cnibot", at=at, event=event)
    svc.repo.transition(
        record.id,
        Status.VERIFIED,
        actor="cnibot",
        at=at,
        event=AuditKind.VERIFIED,
        values={"tracking_nodes": True, "detail": {"nodes_to_replace": ["n1", "n2"]}},
    )
    answers: list[list[str]] = []

    def fake_nodes_to_replace(conn: Any) -> list[str]:
        return answers.pop(0)

    monkeypatch.setattr(service_module, "nodes_to_replace", fake_nodes_to_replace)
    yield svc, record.id, answers
    engine.dispose()


def test_tracking_says_only_what_changed_and_stops_when_done(
    tracked: tuple[ChangeService, int, list[list[str]]],
) -> None:
    svc, change_id, answers = tracked
    notifier = svc.notifier
    assert isinstance(notifier, RecordingNotifier)
    answers += [["n1", "n2"], ["n2"], []]
    svc.track_nodes()  # nothing new
    assert notifier.replies == []
    svc.track_nodes()  # one node replaced
    assert notifier.replies[-1].endswith(
        "1 node(s) still take pod addresses from the old subnets; replace them (cordon, drain, terminate): `n2`"
    )
    assert svc.get(change_id).detail["nodes_to_replace"] == ["n2"]
    svc.track_nodes()  # all replaced
    assert "Every node now takes pod addresses from the ENIConfig subnets" in notifier.replies[-1]
    record = svc.get(change_id)
    assert not record.tracking_nodes and record.detail["nodes_to_replace"] == []
    assert [e.kind for e in svc.repo.events(change_id)][-1] == "nodes-replaced"
    svc.track_nodes()  # no longer tracked: not asked again
    assert answers == []
