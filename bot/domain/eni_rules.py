"""Which ENIs and subnets ipamd uses, as upstream decides it.

Each function restates one upstream decision of aws/amazon-vpc-cni-k8s and names it; the conformance table
(tests/conformance/test_pool.py) pins each against the simulator too, and docs/upstream.md lists them.
Plain values in, plain values out: the diagnosis view, capacity and digests call these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from bot.domain.cni_settings import EffectiveSettings

NO_MANAGE_TAG = "node.k8s.amazonaws.com/no_manage"
INSTANCE_ID_TAG = "node.k8s.amazonaws.com/instance_id"
CREATED_AT_TAG = "node.k8s.amazonaws.com/createdAt"
ENI_CLUSTER_TAG = "cluster.k8s.amazonaws.com/name"
CNI_ROLE_TAG = "kubernetes.io/role/cni"
SUBNET_CLUSTER_TAG_PREFIX = "cni.networking.k8s.aws/cluster/"
CNI_ENI_DESCRIPTION_PREFIX = "aws-K8S-"
EXCLUDED = "0"

# awsutils.go: eniDeleteCooldownTime, and the sweep's period (wait.Forever(..., time.Hour)).
LEAKED_ENI_MIN_AGE_SECONDS = 5 * 60
LEAKED_ENI_SWEEP_SECONDS = 60 * 60

# EC2 error codes ipamd treats as "the subnet is out of addresses" (ipamd.go: containsInsufficientCIDRsOrSubnetIPs)
# and as "this ENI is full" (containsPrivateIPAddressLimitExceededError).
INSUFFICIENT_SUBNET_ERRORS = ("InsufficientCidrBlocks", "InsufficientFreeAddressesInSubnet")
ENI_FULL_ERROR = "PrivateIpAddressLimitExceeded"


def eni_unmanaged(
    tags: Mapping[str, str], *, is_primary: bool, instance_id: str | None, manage_untagged: bool = True
) -> bool:
    """ipamd.go setUnmanagedENIs: no_manage=true makes an ENI unmanaged (any other value keeps it managed); an ENI
    tagged with this instance's id is managed; an untagged one is managed unless MANAGE_UNTAGGED_ENI=false. The
    primary ENI is always managed."""
    if is_primary:
        return False
    if NO_MANAGE_TAG in tags:
        return tags[NO_MANAGE_TAG] == "true"
    if instance_id is not None and tags.get(INSTANCE_ID_TAG) == instance_id:
        return False
    return not manage_untagged


def subnet_belongs_to_cluster(tags: Mapping[str, str], cluster_name: str) -> bool:
    """awsutils.go ValidSubnetTagsMatchingClusterName: with CLUSTER_NAME set, a subnet carrying any
    cni.networking.k8s.aws/cluster/* tag is used only when one of them names this cluster."""
    if not cluster_name:
        return True
    keys = [key for key in tags if key.startswith(SUBNET_CLUSTER_TAG_PREFIX)]
    return not keys or SUBNET_CLUSTER_TAG_PREFIX + cluster_name in keys


def subnet_valid_for_new_eni(tags: Mapping[str, str], *, is_primary_subnet: bool, cluster_name: str) -> bool:
    """awsutils.go isSubnetValidForENICreation (subnet discovery): kubernetes.io/role/cni=0 excludes any subnet;
    an untagged primary subnet is used, an untagged secondary one is not; any other non-empty value opts in,
    subject to the cluster tags."""
    role = tags.get(CNI_ROLE_TAG, "")
    if role == EXCLUDED:
        return False
    if role == "":
        return is_primary_subnet
    return subnet_belongs_to_cluster(tags, cluster_name)


def subnet_excluded(tags: Mapping[str, str], *, cluster_name: str) -> bool:
    """awsutils.go IsSubnetExcluded: tagged 0, or tagged (any other value) but scoped to other clusters. An
    untagged subnet is never excluded."""
    role = tags.get(CNI_ROLE_TAG, "")
    if role == "":
        return False
    if role == EXCLUDED:
        return True
    return not subnet_belongs_to_cluster(tags, cluster_name)


def has_room_for_eni(*, max_eni: int, unmanaged: int, trunk_pending: bool, datastore_enis: int, excluded: int) -> bool:
    """ipamd.go hasRoomForEni: currentENIs - excluded < maxENI - unmanaged - trunk - excluded.

    ``datastore_enis`` are the managed ENIs attached on the card (unmanaged ones never enter the datastore;
    excluded ones and an attached trunk do); ``trunk_pending`` holds a slot while ENABLE_POD_ENI waits for the
    trunk ENI. Excluded ENIs sit on both sides, so they take an ENI slot like any other.
    """
    trunk = 1 if trunk_pending else 0
    return datastore_enis - excluded < max_eni - unmanaged - trunk - excluded


T = TypeVar("T")


def discovery_order(subnets: Iterable[T], free: Callable[[T], int]) -> list[T]:
    """awsutils.go GetVpcSubnets: the zone's subnets, most free addresses (AvailableIpAddressCount) first; a
    stable sort, so ties keep DescribeSubnets' order."""
    return sorted(subnets, key=lambda s: -free(s))


def leaked_eni_sweep_runs(
    *, ipv6: bool, disable_provisioning: bool, imds_only: bool, disable_cleanup: bool
) -> tuple[bool, str]:
    """ipamd.go disableLeakedENICleanup: the hourly sweep does not run with ENABLE_IPv6,
    DISABLE_NETWORK_RESOURCE_PROVISIONING, ENABLE_IMDS_ONLY_MODE or DISABLE_LEAKED_ENI_CLEANUP. Returns (runs,
    the setting that stops it)."""
    for on, name in (
        (ipv6, "ENABLE_IPv6"),
        (disable_provisioning, "DISABLE_NETWORK_RESOURCE_PROVISIONING"),
        (imds_only, "ENABLE_IMDS_ONLY_MODE"),
        (disable_cleanup, "DISABLE_LEAKED_ENI_CLEANUP"),
    ):
        if on:
            return False, name
    return True, ""


def leaked_eni_sweep_for(settings: EffectiveSettings) -> tuple[bool, str]:
    """leaked_eni_sweep_runs for an aws-node env's effective settings."""
    return leaked_eni_sweep_runs(
        ipv6=settings.ipv6,
        disable_provisioning=settings.flag("DISABLE_NETWORK_RESOURCE_PROVISIONING"),
        imds_only=settings.flag("ENABLE_IMDS_ONLY_MODE"),
        disable_cleanup=settings.flag("DISABLE_LEAKED_ENI_CLEANUP"),
    )


def eni_is_leaked(
    *, status: str, description: str, tags: Mapping[str, str], cluster_name: str, vpc_matches: bool = True
) -> bool:
    """awsutils.go getLeakedENIs: an ENI the sweep may delete is detached (status available), carries the
    instance_id tag AND an aws-K8S- description, is in the node's VPC and, with CLUSTER_NAME set, carries the
    cluster.k8s.amazonaws.com/name tag of this cluster. (Its createdAt tag must also be 5 minutes old; an ENI
    without one is tagged on this sweep and deleted on the next.)"""
    if status != "available" or not vpc_matches or INSTANCE_ID_TAG not in tags:
        return False
    if not description.startswith(CNI_ENI_DESCRIPTION_PREFIX):
        return False
    return not cluster_name or tags.get(ENI_CLUSTER_TAG) == cluster_name
