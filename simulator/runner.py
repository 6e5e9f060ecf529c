"""Run a simulated EKS cluster: the EC2/EKS/STS endpoint and the Kubernetes API server on loopback.

    sim = SimulatedCluster.from_scenario("subnet-exhausted")
    with sim:                      # start() ... stop()
        os.environ.update(sim.env())

`cnibot sim --scenario NAME` runs one in the foreground and prints the environment to point the bot,
kubectl or the AWS CLI at it.
"""

from __future__ import annotations

import argparse
import base64
import shlex
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulator import addons, evictions, objects
from simulator.autoscaling import AutoScaling
from simulator.cluster import SimCluster
from simulator.counters import RequestCounter
from simulator.ec2.server import AwsApiServer
from simulator.eks import EksCluster, EksService, ManagedAddon
from simulator.faults import FaultPlan
from simulator.kube.server import KubeApiServer
from simulator.kube.store import KubeStore
from simulator.model import Ec2Model
from simulator.scenarios import Expectation, Scenario, list_scenarios, load_scenario

_FAKE_CA = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nTUlJQ1NpbXVsYXRlZENsdXN0ZXJDQQ==\n-----END CERTIFICATE-----\n"
).decode()


class SimulatedCluster:
    def __init__(self, scenario: Scenario, *, seed: int = 0, rollout_seconds: float = 0.0) -> None:
        self.scenario = scenario
        self.faults = FaultPlan(seed=seed)
        self.counter = RequestCounter()
        self.store = KubeStore()
        self.cluster = SimCluster(scenario, seed=seed, store=self.store, rollout_seconds=rollout_seconds)
        self.cluster.build()
        self.store.add_listener(self.cluster.on_store_write)
        # Replacements join after the rollout's pace (simulated time); at once when rollouts are instant.
        self.autoscaling = AutoScaling(self.cluster, launch_delay=rollout_seconds)
        self._aws: AwsApiServer | None = None
        self._kube: KubeApiServer | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.ec2_url = ""
        self.kube_url = ""
        self.kubeconfig_path: Path | None = None

    @classmethod
    def from_scenario(
        cls,
        name: str,
        nodes: int | None = None,
        seed: int = 0,
        rollout_seconds: float = 0.0,
        *,
        pods_per_node: int | None = None,
    ) -> SimulatedCluster:
        """A built (not yet started) cluster. `nodes` replaces the scenario's fleet by a generated one."""
        scenario = load_scenario(name)
        if nodes is not None:
            from simulator.generator import scale_scenario

            scenario = scale_scenario(scenario, nodes=nodes, pods_per_node=pods_per_node, seed=seed)
        return cls(scenario, seed=seed, rollout_seconds=rollout_seconds)

    # --- convenience views ---------------------------------------------------------------------------------
    @property
    def model(self) -> Ec2Model:
        return self.cluster.model

    @property
    def cluster_name(self) -> str:
        return self.scenario.cluster_name

    @property
    def region(self) -> str:
        return self.scenario.region

    @property
    def expect(self) -> list[Expectation]:
        return self.scenario.expect

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self, *, ec2_port: int = 0, kube_port: int = 0) -> SimulatedCluster:
        self._kube = KubeApiServer(
            self.store, faults=self.faults, counter=self.counter, proxy_handler=self.cluster.proxy
        )
        self.kube_url = self._kube.start("127.0.0.1", kube_port)
        self._kube.api.eviction_handler = self._evict
        self._aws = AwsApiServer(self.model, EksService([self._eks_cluster()]), self.faults, self.counter)
        self._aws.autoscaling = self.autoscaling.serve
        self.ec2_url = self._aws.start("127.0.0.1", ec2_port)
        self._tmp = tempfile.TemporaryDirectory(prefix="cnibot-sim-")
        self.kubeconfig_path = Path(self._tmp.name) / "kubeconfig"
        self._kube.write_kubeconfig(self.kubeconfig_path, cluster_name=self.cluster_name)
        return self

    def _evict(self, namespace_name: str, pod_name: str) -> tuple[int, dict[str, Any]]:
        try:
            return 201, evictions.evict(self.cluster, namespace_name, pod_name)
        except evictions.EvictionRefused as refused:
            body: dict[str, Any] = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": refused.message,
                "reason": refused.reason,
                "details": {"name": pod_name, "kind": "pods", "causes": refused.causes},
                "code": refused.status,
            }
            return refused.status, body

    def warm_list_cache(self) -> int:
        """Encode the stored pods and nodes now (the API server's LIST cache), rather than on the first LIST."""
        if self._kube is None:
            raise RuntimeError("start() the simulated cluster first")
        return self._kube.api.warm_encodings()

    def stop(self) -> None:
        self.cluster.stop()
        if self._aws is not None:
            self._aws.stop()
            self._aws = None
        if self._kube is not None:
            self._kube.stop()
            self._kube = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SimulatedCluster:
        if self._kube is None:
            self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment that points boto3, the AWS CLI and the kubernetes client at this cluster."""
        if self.kubeconfig_path is None:
            raise RuntimeError("start() the simulated cluster first")
        return {
            "AWS_ENDPOINT_URL": self.ec2_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
            "KUBECONFIG": str(self.kubeconfig_path),
        }

    def _eks_cluster(self) -> EksCluster:
        sc = self.scenario
        addon = None
        if sc.managed_addon is not None:
            import json

            values = sc.managed_addon.configuration_values
            addon = ManagedAddon(
                version=sc.managed_addon.version or f"{sc.cni_version}-eksbuild.1",
                configuration_values=json.dumps(values) if values else "",
                service_account_role_arn=sc.managed_addon.service_account_role_arn,
            )
        sim = self.cluster
        return EksCluster(
            name=sc.cluster_name,
            region=sc.region,
            account_id=self.model.account_id,
            version=sc.kubernetes_version,
            endpoint=self.kube_url,
            vpc_id=sim.vpc_id,
            subnet_ids=[s.id for s in sim.subnets.values()],
            security_group_ids=[sim.security_groups["eks-cluster-sg"]],
            certificate_authority=_FAKE_CA,
            addon=addon,
            apply_env=sim.set_aws_node_env,
            ip_family="ipv6" if sc.aws_node_env.get("ENABLE_IPv6", "").lower() == "true" else "ipv4",
            auto_mode=sc.auto_mode,
            roll_version=lambda version: addons.roll_aws_node(sim, version),
            rolling=lambda: sim.rollout is not None,
            fargate_profiles=[
                {
                    "fargateProfileName": p.name,
                    "fargateProfileArn": f"arn:aws:eks:{sc.region}:{self.model.account_id}:fargateprofile/"
                    f"{sc.cluster_name}/{p.name}/{objects.uuid_like('fargate', p.name)}",
                    "status": "ACTIVE",
                    "subnets": [sim.subnets[name].id for name in p.subnets if name in sim.subnets],
                    "selectors": [{"namespace": s.namespace, "labels": dict(s.labels)} for s in p.selectors],
                    "podExecutionRoleArn": f"arn:aws:iam::{self.model.account_id}:role/eks-fargate-pods",
                }
                for p in sc.fargate_profiles
            ],
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cnibot sim", description="Run a simulated EKS cluster on loopback.")
    parser.add_argument("--scenario", default="healthy", help=f"one of: {', '.join(list_scenarios())}")
    parser.add_argument("--nodes", type=int, default=None, help="replace the scenario's nodes by N generated ones")
    parser.add_argument("--pods-per-node", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ec2-port", type=int, default=0)
    parser.add_argument("--kube-port", type=int, default=0)
    parser.add_argument("--rollout-seconds", type=float, default=2.0)
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.list:
        for name in list_scenarios():
            description = load_scenario(name).description.strip()
            print(f"{name:34} {description.splitlines()[0] if description else ''}")
        return 0
    try:
        sim = SimulatedCluster.from_scenario(
            args.scenario,
            nodes=args.nodes,
            seed=args.seed,
            rollout_seconds=args.rollout_seconds,
            pods_per_node=args.pods_per_node,
        )
    except ValueError as exc:
        print(f"cnibot sim: {exc}", file=sys.stderr)
        return 2
    sim.start(ec2_port=args.ec2_port, kube_port=args.kube_port)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(
        f"# simulated cluster {sim.cluster_name!r} ({args.scenario}): {len(sim.cluster.nodes)} nodes, "
        f"{len(sim.cluster.pods)} pods, {len(sim.model.enis)} ENIs"
    )
    for key, value in sim.env().items():
        print(f"export {key}={shlex.quote(value)}")
    print("# kubectl get pods -A ; aws ec2 describe-subnets ; Ctrl-C to stop", flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0
