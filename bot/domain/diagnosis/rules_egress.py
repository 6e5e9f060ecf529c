"""IPv6 clusters: the chained egress-cni plugin (IPv4 egress for IPv6 pods) failing a pod's CNI ADD.

Upstream (aws/amazon-vpc-cni-k8s): misc/10-aws.conflist chains aws-cni, egress-cni and portmap;
cmd/aws-vpc-cni/main.go generateJSON enables egress-cni in an IPv6 cluster unless ENABLE_V4_EGRESS=false (v1.15.1+),
with host-local IPAM over 169.254.172.0/22 (data in /run/cni/v6pd/egress-v4-ipam). cmd/egress-cni-plugin/main.go
add -> egressContext.go hostLocalIpamAdd wraps a host-local failure as "running IPAM plugin failed: %v"; host-local
(containernetworking/plugins) says "no IP addresses available in range set: 169.254.172.1-169.254.175.254" when its
1,021 addresses are reserved. aws-cni gave the pod its IPv6 address first, so ipamd and the node's /80 are fine.
"""

from __future__ import annotations

from bot.domain.diagnosis.model import Cause, CauseCode
from bot.domain.diagnosis.signals import failing_plugin, plugin_error_text
from bot.domain.diagnosis.view import View
from bot.domain.wording import ago, plural

EGRESS_PLUGIN = "egress-cni"
EGRESS_V4_SUBNET = "169.254.172.0/22"  # cmd/aws-vpc-cni/main.go egressPluginIpamSubnetV4
EGRESS_V4_ADDRESSES = 1021  # host-local: .1 to .254 of the last /24, less the gateway (.1)
EGRESS_V4_DATA_DIR = "/run/cni/v6pd/egress-v4-ipam"  # egressPluginIpamDataDirV4
EGRESS_V4_LOG = "/var/log/aws-routed-eni/egress-v4-plugin.log"  # defaultEgressV4PluginLogFile
RANGE_FULL_TEXT = "no IP addresses available in range set"  # host-local allocator.Get
IPAM_FAILED_TEXT = "running IPAM plugin failed"  # egressContext.go hostLocalIpamAdd


def egress_v4_plugin(v: View) -> Cause | None:
    if not (v.settings_known and v.settings.ipv6):
        return None
    latest = v.signals.sandbox_latest
    if latest is None or failing_plugin(latest.message) != EGRESS_PLUGIN:
        return None
    text = plugin_error_text(latest.message)
    node = v.ev.node.name if v.ev.node else "its node"
    pods = len(v.ip_pods)
    evidence = [
        f"FailedCreatePodSandBox from plugin egress-cni (IPv4 egress of this IPv6 cluster), last "
        f"{ago(latest.last_seen, v.now)}: {text[:300]}",
        f"ENABLE_IPv6=true, ENABLE_V4_EGRESS={_flag(v.settings.values.get('ENABLE_V4_EGRESS', True))}: aws-cni "
        "assigned the IPv6 address, then egress-cni failed the ADD",
    ]
    pod_ref = v.ev.pod.ref if v.ev.pod else v.ev.ref
    if RANGE_FULL_TEXT in text:
        evidence.append(
            f"pods on {node} with an address: {pods:,}; host-local's {EGRESS_V4_SUBNET} has "
            f"{EGRESS_V4_ADDRESSES:,}: the rest are reservations of pods that are gone"
        )
        return Cause(
            CauseCode.EGRESS_V4_PLUGIN,
            0.9,
            f"{pod_ref} gets no sandbox on {node}: egress-cni's IPv4 egress range {EGRESS_V4_SUBNET} is used up "
            f"({EGRESS_V4_ADDRESSES:,} reservations for {plural(pods, 'live pod')}), not the node's IPv6 /80.",
            tuple(evidence),
            (
                f"Drain and replace (or reboot) {node}: the stale reservations are files in {EGRESS_V4_DATA_DIR} "
                "on a tmpfs, so a reboot clears them.",
                "If the pods need no IPv4 egress, ENABLE_V4_EGRESS=false (VPC CNI v1.15.1+) removes egress-cni from "
                "the chain for new nodes (`/cni set ENABLE_V4_EGRESS=false --reason ...`, then replace the nodes).",
            ),
        )
    return Cause(
        CauseCode.EGRESS_V4_PLUGIN,
        0.85 if IPAM_FAILED_TEXT in text else 0.8,
        f"{pod_ref} gets no sandbox on {node}: the egress-cni plugin (IPv4 egress of this IPv6 cluster) failed "
        "after aws-cni gave the pod its IPv6 address.",
        tuple(evidence),
        (
            f"Read the plugin's log on the node: {EGRESS_V4_LOG}.",
            "If the pods need no IPv4 egress, ENABLE_V4_EGRESS=false (VPC CNI v1.15.1+) removes egress-cni from the "
            "chain for new nodes.",
        ),
    )


def _flag(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
