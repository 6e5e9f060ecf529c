"""Generated clusters of any size: N nodes of mixed types over three AZs, M pods each, realistic warm pools.

Used by `cnibot sim --nodes N` (keeping the chosen scenario's aws-node settings) and by the scale benchmark
(5,000 nodes, ~15,000 ENIs, 100,000 pods).
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

from simulator.scenarios import NodeGroupSpec, Scenario, SubnetSpec, WorkloadSpec

AZS = ("a", "b", "c")
# (instance type, share of the fleet): all take 20+ pods at the default max-pods.
FLEET_MIX = (("m5.large", 0.45), ("m5.xlarge", 0.2), ("c5.large", 0.2), ("r5.large", 0.1), ("m6i.xlarge", 0.05))
ADDRESSES_PER_NODE = 40  # pods + warm pool + ENI primaries, a generous average for the mix above
# IPv4 CIDR blocks per VPC: 5 by default, raised on request up to 50. A /16 is the largest block, so a VPC of
# 20,000 such nodes needs 14 of them: the generator builds what such an account would have.
MAX_VPC_CIDRS = 50


def generate(
    nodes: int,
    pods_per_node: int = 20,
    *,
    seed: int = 0,
    name: str = "generated",
    region: str = "us-east-2",
    aws_node_env: dict[str, str] | None = None,
) -> Scenario:
    if nodes < 1:
        raise ValueError("nodes must be at least 1")
    rng = random.Random(seed)
    cidrs = min(MAX_VPC_CIDRS, max(1, math.ceil(nodes * ADDRESSES_PER_NODE / 60_000)))
    subnets = [
        SubnetSpec(
            name=f"private-{region}{AZS[i % 3]}-{i // 3}",
            cidr=f"10.{i}.0.0/16",
            az=f"{region}{AZS[i % 3]}",
            tags={"kubernetes.io/role/internal-elb": "1"},
        )
        for i in range(max(cidrs, min(3, nodes)))
    ]
    # Spread nodes over subnets evenly, then over instance types by the fleet mix.
    groups: list[NodeGroupSpec] = []
    per_subnet = _split(nodes, len(subnets))
    for index, (subnet, count) in enumerate(zip(subnets, per_subnet, strict=True)):
        shares = _split_by_weight(count, [w for _, w in FLEET_MIX], rng)
        for (itype, _), group_count in zip(FLEET_MIX, shares, strict=True):
            if group_count:
                groups.append(
                    NodeGroupSpec(
                        name=f"ng-{itype.replace('.', '-')}-{AZS[index % 3]}{index // 3}",
                        instance_type=itype,
                        subnet=subnet.name,
                        count=group_count,
                        pods_per_node=pods_per_node,
                    )
                )
    return Scenario(
        name=name,
        description=f"Generated: {nodes} nodes x {pods_per_node} pods over {len(subnets)} subnets.",
        region=region,
        vpc_cidr=subnets[0].cidr,
        secondary_cidrs=[s.cidr for s in subnets[1:]],
        subnets=subnets,
        aws_node_env=dict(aws_node_env or {}),
        node_groups=groups,
        namespaces=["default", "shop"],
        workloads=[WorkloadSpec(name="coredns", namespace="kube-system", replicas=2, cpu="100m", memory="70Mi")],
    )


def scale_scenario(base: Scenario, *, nodes: int, pods_per_node: int | None = None, seed: int = 0) -> Scenario:
    """A generated fleet that keeps the base scenario's name, cluster, add-on and aws-node settings.

    Custom networking is dropped (the generated VPC has no pod subnets), and so are the base scenario's named
    pods and expectations, which referred to its own node groups.
    """
    env = {k: v for k, v in base.aws_node_env.items() if k not in ("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",)}
    scaled = generate(nodes, pods_per_node or 20, seed=seed, name=base.name, region=base.region, aws_node_env=env)
    return replace(
        scaled,
        cluster_name=base.cluster_name,
        kubernetes_version=base.kubernetes_version,
        cni_version=base.cni_version,
        managed_addon=base.managed_addon,
        description=f"{base.name} settings on {scaled.description[len('Generated: ') :]}",
    )


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _split_by_weight(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """Largest-remainder split of `total` by `weights` (ties broken by the seeded generator)."""
    raw = [total * w / sum(weights) for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - counts[i], rng.random()), reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts
