"""EKS REST-JSON API for the simulated cluster: DescribeCluster, ListClusters, the vpc-cni managed add-on.

UpdateAddon applies `configurationValues` ({"env": {...}}) to the aws-node DaemonSet through a callback, keeping
every other env value; keys dropped from the configuration return to the manifest default, as EKS does.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator import addons
from simulator.awsnode import CNI_IMAGE_TAG


class EksError(Exception):
    def __init__(self, code: str, message: str, status: int = 400, **extra: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


@dataclass
class ManagedAddon:
    name: str = "vpc-cni"
    version: str = CNI_IMAGE_TAG
    configuration_values: str = ""
    service_account_role_arn: str = ""
    created_at: float = 1767225600.0
    modified_at: float = 1767225600.0
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    rolling_update: str = ""  # the id of the version update still rolling aws-node


@dataclass
class EksCluster:
    name: str
    region: str
    account_id: str
    version: str
    endpoint: str
    vpc_id: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    certificate_authority: str
    addon: ManagedAddon | None = None
    # Applies env changes to the aws-node DaemonSet: {KEY: value or None (= remove / back to default)} for the aws-node
    # container (configuration values' `env`) and for aws-vpc-cni-init (`init.env`), as the chart's values do.
    apply_env: Callable[[dict[str, str | None], dict[str, str | None]], None] = lambda env, init_env: None
    # Rolls aws-node to an add-on version's images (UpdateAddon addonVersion); `rolling` is True until every
    # aws-node pod runs them, which is when the update turns Successful (simulated time, the rollout's pace).
    roll_version: Callable[[str], None] = lambda version: None
    rolling: Callable[[], bool] = lambda: False
    created_at: float = 1767225600.0
    # Fargate profiles as DescribeFargateProfile returns them ({"fargateProfileName", "subnets", "selectors", ...}).
    fargate_profiles: list[dict[str, Any]] = field(default_factory=list)
    ip_family: str = "ipv4"  # kubernetesNetworkConfig.ipFamily, fixed at creation
    auto_mode: bool = False  # computeConfig.enabled: EKS Auto Mode

    @property
    def arn(self) -> str:
        return f"arn:aws:eks:{self.region}:{self.account_id}:cluster/{self.name}"


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/addons/supported-versions/?$"), "DescribeAddonVersions"),
    ("GET", re.compile(r"^/clusters/?$"), "ListClusters"),
    ("GET", re.compile(r"^/clusters/(?P<cluster>[^/]+)/?$"), "DescribeCluster"),
    ("GET", re.compile(r"^/clusters/(?P<cluster>[^/]+)/addons/?$"), "ListAddons"),
    ("GET", re.compile(r"^/clusters/(?P<cluster>[^/]+)/addons/(?P<addon>[^/]+)/?$"), "DescribeAddon"),
    ("POST", re.compile(r"^/clusters/(?P<cluster>[^/]+)/addons/(?P<addon>[^/]+)/update/?$"), "UpdateAddon"),
    ("GET", re.compile(r"^/clusters/(?P<cluster>[^/]+)/updates/(?P<update>[^/]+)/?$"), "DescribeUpdate"),
    ("GET", re.compile(r"^/clusters/(?P<cluster>[^/]+)/fargate-profiles/?$"), "ListFargateProfiles"),
    (
        "GET",
        re.compile(r"^/clusters/(?P<cluster>[^/]+)/fargate-profiles/(?P<profile>[^/]+)/?$"),
        "DescribeFargateProfile",
    ),
]


def operation_for(method: str, path: str) -> tuple[str, dict[str, str]]:
    """The EKS operation name for a request, and its path parameters."""
    for verb, pattern, operation in _ROUTES:
        match = pattern.match(path)
        if verb == method and match:
            return operation, match.groupdict()
    return "Unknown", {}


class EksService:
    def __init__(self, clusters: list[EksCluster] | None = None) -> None:
        self.clusters = {c.name: c for c in clusters or []}
        self._lock = threading.Lock()

    def handle(self, operation: str, args: dict[str, str], body: bytes) -> dict[str, Any]:
        with self._lock:
            if operation == "ListClusters":
                return {"clusters": sorted(self.clusters)}
            if operation == "Unknown":
                raise EksError("InvalidRequestException", "Unsupported EKS operation", 404)
            if operation == "DescribeAddonVersions":
                return addons.describe_addon_versions(args.get("addonName"), args.get("kubernetesVersion"))
            cluster = self._cluster(args["cluster"])
            if operation == "DescribeCluster":
                return {"cluster": self._describe_cluster(cluster)}
            if operation == "ListAddons":
                return {"addons": [cluster.addon.name] if cluster.addon else []}
            if operation == "DescribeAddon":
                return {"addon": self._describe_addon(cluster, self._addon(cluster, args["addon"]))}
            if operation == "UpdateAddon":
                return {"update": self._update_addon(cluster, self._addon(cluster, args["addon"]), body)}
            if operation == "DescribeUpdate":
                return {"update": self._describe_update(cluster, args["update"])}
            if operation == "ListFargateProfiles":
                return {"fargateProfileNames": [p["fargateProfileName"] for p in cluster.fargate_profiles]}
            if operation == "DescribeFargateProfile":
                for profile in cluster.fargate_profiles:
                    if profile["fargateProfileName"] == args["profile"]:
                        return {"fargateProfile": {**profile, "clusterName": cluster.name}}
                raise EksError(
                    "ResourceNotFoundException",
                    f"No Fargate Profile found with name: {args['profile']}.",
                    404,
                    clusterName=cluster.name,
                    fargateProfileName=args["profile"],
                )
            raise EksError("InvalidRequestException", f"Unsupported EKS operation {operation}", 404)

    def _cluster(self, name: str) -> EksCluster:
        cluster = self.clusters.get(name)
        if cluster is None:
            raise EksError("ResourceNotFoundException", f"No cluster found for name: {name}.", 404, clusterName=name)
        return cluster

    @staticmethod
    def _addon(cluster: EksCluster, name: str) -> ManagedAddon:
        if cluster.addon is None or cluster.addon.name != name:
            raise EksError(
                "ResourceNotFoundException",
                f"No addon: {name} found in cluster: {cluster.name}",
                404,
                clusterName=cluster.name,
                addonName=name,
            )
        return cluster.addon

    @staticmethod
    def _describe_cluster(cluster: EksCluster) -> dict[str, Any]:
        return {
            "name": cluster.name,
            "arn": cluster.arn,
            "createdAt": cluster.created_at,
            "version": cluster.version,
            "endpoint": cluster.endpoint,
            "roleArn": f"arn:aws:iam::{cluster.account_id}:role/{cluster.name}-cluster-role",
            "resourcesVpcConfig": {
                "subnetIds": list(cluster.subnet_ids),
                "securityGroupIds": list(cluster.security_group_ids),
                "clusterSecurityGroupId": cluster.security_group_ids[0] if cluster.security_group_ids else "",
                "vpcId": cluster.vpc_id,
                "endpointPublicAccess": True,
                "endpointPrivateAccess": True,
                "publicAccessCidrs": ["0.0.0.0/0"],
            },
            "kubernetesNetworkConfig": _network_config(cluster),
            **_auto_mode_config(cluster),
            "status": "ACTIVE",
            "certificateAuthority": {"data": cluster.certificate_authority},
            "platformVersion": "eks.20",
            "tags": {},
            "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
        }

    def _describe_addon(self, cluster: EksCluster, addon: ManagedAddon) -> dict[str, Any]:
        self._settle(cluster, addon)
        described: dict[str, Any] = {
            "addonName": addon.name,
            "clusterName": cluster.name,
            "status": "UPDATING" if addon.rolling_update else "ACTIVE",
            "addonVersion": addon.version,
            "health": {"issues": []},
            "addonArn": f"arn:aws:eks:{cluster.region}:{cluster.account_id}:addon/{cluster.name}/{addon.name}/sim",
            "createdAt": addon.created_at,
            "modifiedAt": addon.modified_at,
            "tags": {},
        }
        if addon.service_account_role_arn:
            described["serviceAccountRoleArn"] = addon.service_account_role_arn
        if addon.configuration_values:
            described["configurationValues"] = addon.configuration_values
        return described

    def _update_addon(self, cluster: EksCluster, addon: ManagedAddon, body: bytes) -> dict[str, Any]:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            raise EksError("InvalidParameterException", "The request body is not valid JSON") from None
        params: list[dict[str, str]] = []
        if "configurationValues" in request:
            text = str(request["configurationValues"])
            new_env, new_init = _configured_env(text)
            old_env, old_init = _configured_env(addon.configuration_values) if addon.configuration_values else ({}, {})
            cluster.apply_env(_env_changes(old_env, new_env), _env_changes(old_init, new_init))
            addon.configuration_values = text
            params.append({"type": "ConfigurationValues", "value": text})
        version = str(request.get("addonVersion") or "")
        if version and version != addon.version:
            entry = addons.entry(version)
            if entry is None or cluster.version not in entry.cluster_versions:
                raise EksError(
                    "InvalidParameterException",
                    f"Addon version specified is not supported for cluster version {cluster.version}",
                    clusterName=cluster.name,
                    addonName=addon.name,
                )
        if "resolveConflicts" in request:
            params.append({"type": "ResolveConflicts", "value": str(request["resolveConflicts"])})
        addon.modified_at += 60.0
        update_id = str(uuid.uuid4())
        rolling = False
        if version:
            params.append({"type": "AddonVersion", "value": version})
            if version != addon.version:
                addon.version = version
                cluster.roll_version(version)
                rolling = True
                addon.rolling_update = update_id
        update: dict[str, Any] = {
            "id": update_id,
            "status": "InProgress" if rolling else "Successful",
            "type": "AddonUpdate",
            "params": params,
            "createdAt": addon.modified_at,
            "errors": [],
        }
        addon.updates[update_id] = update
        return update

    def _describe_update(self, cluster: EksCluster, update_id: str) -> dict[str, Any]:
        if cluster.addon and update_id in cluster.addon.updates:
            self._settle(cluster, cluster.addon)
            return cluster.addon.updates[update_id]
        raise EksError("ResourceNotFoundException", f"No update found for ID: {update_id}", 404)

    @staticmethod
    def _settle(cluster: EksCluster, addon: ManagedAddon) -> None:
        """A version update turns Successful once aws-node has rolled to the new images."""
        if addon.rolling_update and not cluster.rolling():
            addon.updates[addon.rolling_update]["status"] = "Successful"
            addon.rolling_update = ""


def _env_changes(old: dict[str, str], new: dict[str, str]) -> dict[str, str | None]:
    changes: dict[str, str | None] = {k: None for k in old if k not in new}
    changes.update(new)
    return changes


def _configured_env(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """The `env` and `init.env` maps of vpc-cni configuration values (charts/aws-vpc-cni values: `env` goes to the
    aws-node container, `init.env` to aws-vpc-cni-init). JSON; EKS also accepts YAML, JSON is what the bot sends."""
    try:
        values = json.loads(text) if text.strip() else {}
    except ValueError:
        raise EksError(
            "InvalidParameterException", "ConfigurationValue provided in request is not supported: invalid JSON"
        ) from None
    if not isinstance(values, dict):
        raise EksError("InvalidParameterException", "ConfigurationValue provided in request is not supported")
    init = values.get("init", {})
    init_env = init.get("env", {}) if isinstance(init, dict) else None
    out = []
    for where, env in (("$.env", values.get("env", {})), ("$.init.env", init_env)):
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise EksError(
                "InvalidParameterException",
                "ConfigurationValue provided in request is not supported: Json schema validation failed with error: "
                f"[{where}: string values expected]",
            )
        out.append({str(k): v for k, v in env.items()})
    return out[0], out[1]


def _network_config(cluster: EksCluster) -> dict[str, Any]:
    """An IPv6 cluster's services get an IPv6 range (serviceIpv6Cidr) as EKS assigns it; IPv4 ones 172.20.0.0/16."""
    if cluster.ip_family == "ipv6":
        return {"serviceIpv6Cidr": "fd30:1c53:5f8a::/108", "ipFamily": "ipv6"}
    return {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"}


def _auto_mode_config(cluster: EksCluster) -> dict[str, Any]:
    """EKS Auto Mode: compute, block storage and load balancing are enabled together (the EKS API requires it)."""
    if not cluster.auto_mode:
        return {}
    return {
        "computeConfig": {
            "enabled": True,
            "nodePools": ["general-purpose", "system"],
            "nodeRoleArn": f"arn:aws:iam::{cluster.account_id}:role/{cluster.name}-auto-node-role",
        },
        "storageConfig": {"blockStorage": {"enabled": True}},
        "kubernetesNetworkConfig": {**_network_config(cluster), "elasticLoadBalancing": {"enabled": True}},
    }
