"""Builders for digest tests: samples, stored histories, a database with the digest tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.domain.capacity_samples import CapacitySample, FailedPod, NodeSample, SubnetSample, VpcSubnet
from bot.domain.instance_limits import InstanceLimits
from storage import load_all_models
from storage.capacity_samples import SampleRepository
from storage.db import make_engine, make_session_factory
from storage.digests import DigestRepository
from storage.models import Base

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
M5_LARGE = InstanceLimits("m5.large", max_enis=3, ipv4_per_eni=10, hypervisor="nitro", vcpus=2, branch_enis=9)
DEFAULT_ENV = {"WARM_ENI_TARGET": "1", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false"}


def node(
    name: str,
    *,
    assigned: int = 10,
    held: int = 18,
    enis: int = 2,
    pods: int | None = None,
    az: str = "us-east-2a",
    subnet: str = "subnet-a",
) -> NodeSample:
    return NodeSample(
        name=name,
        instance_type="m5.large",
        az=az,
        enis=enis,
        max_enis=3,
        assigned_ips=assigned,
        held_ips=held,
        ip_capacity=27,
        pods=assigned + 2 if pods is None else pods,
        max_pods=29,
        allocation_subnet=subnet,
    )


def sample(
    subnets: Sequence[SubnetSample],
    *,
    at: datetime = NOW,
    cluster: str = "prod",
    nodes: Sequence[NodeSample] = (),
    env: dict[str, str] | None = None,
    vpc_subnets: Sequence[VpcSubnet] | None = None,
    failed: Sequence[FailedPod] = (),
) -> CapacitySample:
    if vpc_subnets is None:
        vpc_subnets = [
            VpcSubnet(s.subnet_id, s.az, "10.0.0.0/22", s.usable, s.free, None, used_by_cluster=True) for s in subnets
        ]
    return CapacitySample(
        cluster=cluster,
        taken_at=at,
        subnets=tuple(subnets),
        nodes=tuple(nodes),
        failed_pods=tuple(failed),
        aws_node_env=dict(DEFAULT_ENV if env is None else env),
        cni_version="1.19.2",
        vpc_subnets=tuple(vpc_subnets),
        limits={"m5.large": M5_LARGE},
    )


def draining_history(
    latest: CapacitySample, per_day: dict[str, float], *, days: float = 7, every: timedelta = timedelta(hours=1)
) -> list[CapacitySample]:
    """Samples leading up to `latest`, each subnet's free count falling by per_day[subnet] a day (oldest first)."""
    out = []
    steps = int(days * 86400 / every.total_seconds())
    for step in range(steps, 0, -1):
        at = latest.taken_at - step * every
        age = (latest.taken_at - at).total_seconds() / 86400
        subnets = tuple(
            replace(s, free=max(round(s.free + per_day.get(s.subnet_id, 0) * age), 0)) for s in latest.subnets
        )
        out.append(replace(latest, taken_at=at, subnets=subnets, nodes=(), failed_pods=()))
    return out + [latest]


@contextmanager
def digest_db(tmp_path: Path) -> Iterator[tuple[Engine, DigestRepository, SampleRepository]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'digests.db'}")
    load_all_models()
    Base.metadata.create_all(engine)
    sessions = make_session_factory(engine)
    try:
        yield engine, DigestRepository(sessions), SampleRepository(sessions)
    finally:
        engine.dispose()


def store_all(samples: SampleRepository, history: Sequence[CapacitySample]) -> list[int]:
    return samples.add_many(history)


def subscription(digests: DigestRepository, **overrides: Any) -> int:
    fields: dict[str, Any] = {
        "cluster": "prod",
        "channel": "C0DIGEST",
        "schedule": "daily 09:00",
        "timezone": "UTC",
        "user_id": "U0ALICE",
        "now": NOW - timedelta(days=30),
    }
    fields.update(overrides)
    sub, _ = digests.subscribe(**fields)
    return sub.id
