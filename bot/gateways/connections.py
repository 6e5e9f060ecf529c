"""One connection per configured cluster: its Kubernetes client and its region's AWS gateway, made lazily
and shared by every request (so caches and the rate limiter are shared too)."""

from __future__ import annotations

import os
import threading

import boto3
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.config import ClusterConfig
from bot.errors import UpstreamError, UserError
from bot.gateways.aws import AwsGateway
from bot.gateways.kube import KubeGateway

# Parallel gathering opens several connections to the API server at once.
KUBE_POOL = 32


def kube_api_client(cluster: ClusterConfig) -> k8s.ApiClient:
    cfg = k8s.Configuration()
    auth = cluster.auth
    try:
        if auth.mode == "in-cluster":
            k8s_config.load_incluster_config(client_configuration=cfg)
        elif auth.mode == "kubeconfig":
            k8s_config.load_kube_config(config_file=auth.kubeconfig, context=auth.context, client_configuration=cfg)
        else:
            raise UserError(f"Cluster `{cluster.name}`: auth mode `{auth.mode}` is not supported by this version.")
    except k8s_config.ConfigException as exc:
        raise UpstreamError("kube:config", f"cannot load the cluster credentials: {exc}") from exc
    cfg.connection_pool_maxsize = KUBE_POOL
    cfg.retries = 1
    return k8s.ApiClient(cfg)


class ClusterConnection:
    def __init__(self, cluster: ClusterConfig) -> None:
        self.cluster = cluster
        self._lock = threading.Lock()
        self._kube: KubeGateway | None = None
        self._aws: dict[str, AwsGateway] = {}
        # Discovered once: the VPC does not change under a cluster.
        self.vpc_id: str | None = cluster.vpc_id

    @property
    def kube(self) -> KubeGateway:
        with self._lock:
            if self._kube is None:
                self._kube = KubeGateway(kube_api_client(self.cluster))
            return self._kube

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
        with self._lock:
            gateway = self._aws.get(region)
            if gateway is None:
                gateway = self._aws[region] = AwsGateway(region)
            return gateway


class Connections:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: dict[str, ClusterConnection] = {}

    def get(self, cluster: ClusterConfig) -> ClusterConnection:
        with self._lock:
            conn = self._by_name.get(cluster.name)
            if conn is None:
                conn = self._by_name[cluster.name] = ClusterConnection(cluster)
            return conn
