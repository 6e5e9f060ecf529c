"""The egress-cni plugin of an IPv6 cluster: IPv4 egress for IPv6 pods, chained after aws-cni in 10-aws.conflist.

Upstream (aws/amazon-vpc-cni-k8s): cmd/aws-vpc-cni/main.go generateJSON writes the plugin's config with
`enabled` = ENABLE_V4_EGRESS (default true) when ENABLE_IPv6 is true, and host-local IPAM over
169.254.172.0/22 with its data in /run/cni/v6pd/egress-v4-ipam. cmd/egress-cni-plugin/main.go add passes the
previous result through when not enabled; otherwise hostLocalIpamAdd takes one address per pod and wraps a
host-local failure as "running IPAM plugin failed: %v". host-local (containernetworking/plugins
plugins/ipam/host-local) hands out RangeStart = network + 1 to RangeEnd = broadcast - 1, skipping the gateway
(network + 1), and when none is left fails with "failed to allocate for range 0: no IP addresses available in
range set: <start>-<end>". Reservations are files in the data directory: a pod whose DEL never reached the
plugin keeps its address until the node reboots (/run is a tmpfs).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from simulator.awsnode import go_bool

EGRESS_PLUGIN = "egress-cni"
EGRESS_V4_SUBNET = "169.254.172.0/22"  # egressPluginIpamSubnetV4
EGRESS_V4_DATA_DIR = "/run/cni/v6pd/egress-v4-ipam"  # egressPluginIpamDataDirV4


@dataclass(frozen=True)
class HostLocalRange:
    start: str
    end: str
    capacity: int  # addresses host-local can hand out (the gateway excluded)

    @property
    def text(self) -> str:
        return f"{self.start}-{self.end}"


def host_local_range(cidr: str) -> HostLocalRange:
    """host-local's Range.Canonicalize defaults for an IPv4 subnet."""
    net = ipaddress.ip_network(cidr)
    start, end = net.network_address + 1, net.broadcast_address - 1
    return HostLocalRange(str(start), str(end), int(end) - int(start))  # + 1 for the range, - 1 for the gateway


EGRESS_V4_RANGE = host_local_range(EGRESS_V4_SUBNET)


def range_full_error(range_: HostLocalRange = EGRESS_V4_RANGE) -> str:
    """egress-cni's error when host-local has nothing left (hostLocalIpamAdd wrapping host-local's)."""
    return (
        "running IPAM plugin failed: failed to allocate for range 0: no IP addresses available in range set: "
        f"{range_.text}"
    )


@dataclass
class EgressV4Store:
    """One node's host-local store: live pods' reservations and leaked ones (pods deleted without a DEL)."""

    leaked: int = 0
    pods: set[str] = field(default_factory=set)

    def add(self, pod_key: str) -> str | None:
        """CNI ADD: None when the pod got its 169.254.172.x address, else egress-cni's error text."""
        if pod_key in self.pods:
            return None
        if self.leaked + len(self.pods) >= EGRESS_V4_RANGE.capacity:
            return range_full_error()
        self.pods.add(pod_key)
        return None

    def delete(self, pod_key: str) -> None:
        self.pods.discard(pod_key)


def egress_v4_enabled(env: Mapping[str, str]) -> bool:
    """generateJSON: ENABLE_IPv6 (default false) and ENABLE_V4_EGRESS (default true), each read with
    utils.GetBoolAsStringEnvVar (strconv.ParseBool, the default when unparsable)."""
    return go_bool(env, "ENABLE_IPv6", False) and go_bool(env, "ENABLE_V4_EGRESS", True)
