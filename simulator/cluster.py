"""The simulated EKS cluster: the EC2 model, one ipamd per node, the scheduler and the Kubernetes objects,
kept consistent with each other.

`SimCluster.build()` lays out the VPC, launches the nodes, starts aws-node on each, schedules the pods and
gives them addresses through ipamd, then writes every Kubernetes object into the `KubeStore`. Writes that
arrive over HTTP (the aws-node DaemonSet, ENIConfigs, node labels) re-converge the model.

The behaviour is layered in mixins, each in its own module: `cluster_objects` (the Kubernetes objects rendered
from the state), `cluster_layout` (VPC, nodes, declared pods, aws-node start), `cluster_placement` (scheduling and
CNI ADD), `cluster_rollout` (aws-node revisions and reconvergence) and `cluster_reactions` (writes over HTTP).
This module holds the state they share and the build order.
"""

from __future__ import annotations

import contextlib
import gc
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.addresses import ip_to_int
from simulator.awsnode import AwsNodeConfig, parse_env
from simulator.cluster_reactions import StoreReactions
from simulator.cluster_state import Rollout, SimNode, SimPod
from simulator.egress_v4 import EgressV4Store
from simulator.karpenter import EC2NODECLASS_TYPE, NODEPOOL_TYPE
from simulator.kube.store import KubeStore
from simulator.model import Ec2Model, NetworkInterface, Subnet
from simulator.scenarios import Scenario
from simulator.scheduler import NodeCapacity

__all__ = ["SimCluster"]
JsonObject = dict[str, Any]


class SimCluster(StoreReactions):
    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 0,
        store: KubeStore | None = None,
        rollout_seconds: float = 2.0,
        now: datetime | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.rollout_seconds = rollout_seconds
        self.now = now or datetime.now(UTC).replace(microsecond=0)
        self.model = Ec2Model(region=scenario.region, seed=seed)
        self.model.clock = self.now - timedelta(days=3)
        self.store = store or KubeStore()
        self.nodes: dict[str, SimNode] = {}
        self.egress_v4: dict[str, EgressV4Store] = {}  # node name -> egress-cni's host-local store (IPv6)
        if scenario.karpenter is not None:  # Karpenter's CRDs are served only where it is installed
            self.store.registry.register(NODEPOOL_TYPE)
            self.store.registry.register(EC2NODECLASS_TYPE)
        self.pods: dict[str, SimPod] = {}
        self.subnets: dict[str, Subnet] = {}
        self.security_groups: dict[str, str] = {}  # name -> id
        self.env: dict[str, str] = {}
        self.config: AwsNodeConfig = parse_env({})
        self.generation = 1
        self.revision = ""
        self.rollout: Rollout | None = None
        self.lock = threading.RLock()
        self._clock = 0.0  # seconds of rollout time that have passed (ticker-driven)
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self.addon_env: dict[str, str] = {}
        self.aws_node_images: dict[str, str] = {}
        self.node_images: dict[str, dict[str, str]] = {}
        self.node_events: list[JsonObject] = []
        self._scheduled: dict[str, NodeCapacity] = {}
        self._reserved_names: set[str] = set()
        self._uid_rng = random.Random(seed)
        self._late_faults = False  # NodeGroupSpec.ipamd_faults_later are on

    # --- build -------------------------------------------------------------------------------------------
    def build(self) -> None:
        with self.lock, self.model.lock, _gc_paused(freeze=self._large()):
            self._build_vpc()
            self._set_env(self._initial_env())
            # ENIConfigs exist before the nodes start: ipamd reads them from the API server.
            for spec in self.scenario.eniconfigs:
                self.store.put(self._eniconfig_object(spec.name, spec.subnet, spec.security_groups))
            groups = self._launch_nodes()
            self._declare_pods()
            self._bind_daemon_pods()
            # Phase 1: nodes start aws-node with the env they first had, then take the pods that predate changes.
            for node in self.aws_node_nodes():
                self._start_aws_node(node, self._config_for_start(node), first=True)
            self._attach_trunks()
            self._place_pods(created_after=False)
            # Phase 2: nodes that predate the current settings restart aws-node with them (and get cordoned).
            for node in self.aws_node_nodes():
                if node.group.previous_env is not None:
                    self._start_aws_node(node, self.config)
            self._apply_churn()
            self._converge_pools()
            self._late_faults = True
            self._place_pods(created_after=True)
            self._converge_pools()
            self.store.bulk_load(self._all_objects(groups))

    def _large(self) -> bool:
        return sum(g.count * max(g.pods_per_node, 1) for g in self.scenario.node_groups) > 2_000

    def pod(self, key: str) -> SimPod:
        return self.pods[key]

    def node_by_group(self, group: str, index: int = 0) -> SimNode:
        return self._resolve_node(f"{group}/{index}")

    def subnet_free(self, name: str) -> int:
        return self.subnets[name].available_ip_count

    def eni(self, eni_id: str) -> NetworkInterface:
        return self.model.eni(eni_id)

    @staticmethod
    def ip(value: str) -> int:
        return ip_to_int(value)


@contextlib.contextmanager
def _gc_paused(*, freeze: bool) -> Iterator[None]:
    """Building allocates millions of long-lived objects: with the cyclic GC on, each full collection rescans
    them all and the build turns quadratic. Freezing afterwards keeps later collections from scanning them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
