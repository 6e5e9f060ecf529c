"""One connection per configured cluster: its Kubernetes client and its region's AWS gateway, made lazily
and shared by every request (so caches and the rate limiter are shared too)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import boto3
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.config import ClusterConfig
from bot.domain.facts import NodeFact
from bot.domain.snapshot import PodPlacement
from bot.errors import NO_CLUSTER, UpstreamError
from bot.gateways.aws import AwsGateway
from bot.gateways.eks_auth import EksApiAccess, EksTokenSource, assumed_role_session
from bot.gateways.kube import ACTIVE_PODS, KubeGateway, active_placement_from_api, node_from_api
from bot.gateways.pod_pages import decode_placements
from bot.gateways.reflector import Reflector

# Parallel gathering opens several connections to the API server at once.
KUBE_POOL = 32


def _kubeconfig_exists(path: str | None) -> bool:
    """Where the kubernetes client looks: the given file, else every file of $KUBECONFIG, else ~/.kube/config."""
    candidates = [path] if path else (os.environ.get("KUBECONFIG") or "").split(os.pathsep)
    candidates = [c for c in candidates if c] or [os.path.expanduser("~/.kube/config")]
    return any(os.path.exists(c) for c in candidates)


def kube_api_client(cluster: ClusterConfig, eks: Callable[[], EksApiAccess] | None = None) -> k8s.ApiClient:
    """The cluster's Kubernetes client. Mode "eks" asks `eks` where the API server is and for its tokens."""
    cfg = k8s.Configuration()
    auth = cluster.auth
    try:
        if auth.mode == "in-cluster":
            k8s_config.load_incluster_config(client_configuration=cfg)
        elif auth.mode == "kubeconfig":
            k8s_config.load_kube_config(config_file=auth.kubeconfig, context=auth.context, client_configuration=cfg)
        else:
            if eks is None:
                raise ValueError("auth mode eks needs the cluster's EKS access")
            eks().configure(cfg)
    except k8s_config.ConfigException as exc:
        if auth.mode == "kubeconfig" and not _kubeconfig_exists(auth.kubeconfig):
            raise UpstreamError("kube:config", "no kubeconfig file was found", code=NO_CLUSTER) from exc
        raise UpstreamError(
            "kube:config", f"cannot load the cluster credentials: {_one_line(exc)}", code=NO_CLUSTER
        ) from exc
    except yaml.YAMLError as exc:
        where = auth.kubeconfig or "the kubeconfig ($KUBECONFIG or ~/.kube/config)"
        raise UpstreamError("kube:config", f"{where} is not valid YAML: {_one_line(exc)}", code="config") from exc
    except (OSError, UnicodeDecodeError, TypeError, AttributeError) as exc:
        where = auth.kubeconfig or "the kubeconfig ($KUBECONFIG or ~/.kube/config)"
        raise UpstreamError("kube:config", f"cannot read {where}: {_one_line(exc)}", code="config") from exc
    cfg.connection_pool_maxsize = KUBE_POOL
    cfg.retries = 1
    return k8s.ApiClient(cfg)


def active_placements(raw: bytes) -> tuple[list[tuple[str, PodPlacement | None]], str]:
    """A pod LIST page decoded as active_placement_from_api reads each pod: finished pods left out (None)."""
    pairs, version = decode_placements(raw)
    return [(key, p if p.active else None) for key, p in pairs], version


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


class ClusterConnection:
    def __init__(self, cluster: ClusterConfig) -> None:
        self.cluster = cluster
        self._kube_lock = threading.Lock()
        self._aws_lock = threading.Lock()
        self._session_lock = threading.Lock()
        self._kube: KubeGateway | None = None
        self._aws: dict[str, AwsGateway] = {}
        self._session: boto3.session.Session | None = None
        self._reflector_lock = threading.Lock()
        self._pods: Reflector[PodPlacement] | None = None
        self._nodes: Reflector[NodeFact] | None = None
        # Discovered once: the VPC does not change under a cluster.
        self.vpc_id: str | None = cluster.vpc_id

    @property
    def eks_name(self) -> str:
        return self.cluster.eks_name or self.cluster.name

    @property
    def kube(self) -> KubeGateway:
        with self._kube_lock:
            if self._kube is None:
                self._kube = KubeGateway(kube_api_client(self.cluster, self.eks_access))
            return self._kube

    @property
    def pods(self) -> Reflector[PodPlacement]:
        """Node and IP of every pod that still counts, kept current by a watch (for cluster-wide views)."""
        with self._reflector_lock:
            if self._pods is None:
                self._pods = Reflector(
                    self.kube,
                    resource="pods",
                    path="/api/v1/pods",
                    convert=active_placement_from_api,
                    decode_page=active_placements,
                    query={"fieldSelector": ACTIVE_PODS},
                )
            return self._pods

    @property
    def nodes(self) -> Reflector[NodeFact]:
        """Every node, kept current by a watch (for cluster-wide views)."""
        with self._reflector_lock:
            if self._nodes is None:
                self._nodes = Reflector(
                    self.kube, resource="nodes", path="/api/v1/nodes", convert=node_from_api, page=500
                )
            return self._nodes

    def refresh_live_state(self) -> None:
        """Sweep again the VPC ENIs that commands read recently (see AwsGateway.refresh_vpc_enis)."""
        with self._aws_lock:
            gateways = list(self._aws.values())
        for gateway in gateways:
            gateway.refresh_vpc_enis()

    def close(self) -> None:
        """Stop the watches (at shutdown)."""
        with self._reflector_lock:
            for reflector in (self._pods, self._nodes):
                if reflector is not None:
                    reflector.stop()

    def default_region(self) -> str | None:
        return (
            self.cluster.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or boto3.session.Session().region_name
        )

    def aws(self, az_hint: str | None = None) -> AwsGateway:
        """The AWS gateway for the cluster's region (configured, from the environment, or from a node's AZ)."""
        region = self.default_region() or (az_hint[:-1] if az_hint else None)
        if not region:
            raise UpstreamError("aws:config", "no AWS region: set `region` for the cluster or AWS_REGION")
        with self._aws_lock:
            gateway = self._aws.get(region)
            if gateway is None:
                gateway = self._aws[region] = AwsGateway(region, session=self._aws_session(region))
            return gateway

    def eks_access(self) -> EksApiAccess:
        """Endpoint, CA and tokens of the cluster's API server, from EKS (auth mode "eks")."""
        region = self.default_region()
        if not region:
            # A node's AZ cannot help here: the nodes are what we cannot list yet.
            raise UpstreamError("aws:config", f"cluster {self.cluster.name}: auth mode eks needs `region`")
        described = self.aws().eks_cluster(self.eks_name)
        if described is None:
            raise UpstreamError(
                "eks:DescribeCluster",
                f"EKS has no cluster named {self.eks_name} in {region} (check `eks_name` and `region`)",
                code="ResourceNotFoundException",
            )
        tokens = EksTokenSource(self._aws_session(region), self.eks_name, region)
        return EksApiAccess.from_description(described, tokens)

    def _aws_session(self, region: str) -> boto3.session.Session:
        """The identity the bot uses for this cluster: its own, or the cluster's role assumed with it."""
        with self._session_lock:
            if self._session is None:
                base = boto3.session.Session()
                role = self.cluster.auth.role_arn
                self._session = assumed_role_session(base, role, region) if role else base
            return self._session


def credentials_problem(cluster: ClusterConfig) -> str | None:
    """Why the cluster's Kubernetes credentials cannot be loaded, with the fix (None: they load).

    Only what is checked without the network: a kubeconfig file and context, or in-cluster config. Mode "eks"
    asks EKS, which the first command does.
    """
    if cluster.auth.mode == "eks":
        return None
    try:
        kube_api_client(cluster).close()
    except UpstreamError as exc:
        if cluster.auth.mode == "in-cluster":
            fix = "in-cluster auth works only in a pod with a service account; elsewhere use auth mode kubeconfig"
        else:
            fix = (
                f"set clusters[{cluster.name}].auth.kubeconfig and .context in CNIBOT_CONFIG "
                "(or KUBECONFIG) to a kubeconfig that has that context"
            )
        return f"{exc.reason.rstrip('.')}. Fix: {fix}"
    return None
