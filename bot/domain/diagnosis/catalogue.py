"""The cause-code catalogue: one entry per stable code, with what it means in one line (for readers of
`--json`, MCP clients and the README) and whether it says "this pod has no IP" (digests count those).

A new code is a CauseCode member (model.py), its entry here, and the rule that finds it (rules_*.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.diagnosis.model import CauseCode


@dataclass(frozen=True)
class _Cause:
    meaning: str
    # False: the pod has an IP, was never scheduled, or the cause is not the CNI's, so digests do not count it
    # among pods that failed to get an IP.
    ip_failure: bool = True


CAUSES: dict[CauseCode, _Cause] = {
    CauseCode.POD_HAS_IP: _Cause(
        "the pod already has an IP; its problem is elsewhere (containers, probes)", ip_failure=False
    ),
    CauseCode.HOST_NETWORK: _Cause(
        "the pod uses its node's address (hostNetwork); the CNI gives it none", ip_failure=False
    ),
    CauseCode.POD_NOT_FOUND: _Cause(
        "no pod of that name in that namespace; close names are suggested", ip_failure=False
    ),
    CauseCode.NOT_SCHEDULED: _Cause(
        "the scheduler placed the pod on no node (resources, affinity, taints)", ip_failure=False
    ),
    CauseCode.MAX_PODS_REACHED: _Cause("every node the pod may use is at kubelet max-pods", ip_failure=False),
    CauseCode.SGP_BRANCH_CAPACITY: _Cause(
        "no free branch ENI (vpc.amazonaws.com/pod-eni) for a security-groups-for-pods pod", ip_failure=False
    ),
    CauseCode.AWS_NODE_NOT_READY: _Cause("aws-node is down or crash-looping on the node, so no pod there gets an IP"),
    CauseCode.SUBNET_EXHAUSTED: _Cause(
        "the subnets ipamd may use (on EKS Auto Mode nodes: the node's subnets) cannot give the node even one more "
        "address"
    ),
    CauseCode.PREFIX_FRAGMENTATION: _Cause("prefix delegation needs a free aligned /28 and the subnet has none"),
    CauseCode.NODE_IP_CAPACITY: _Cause("the node uses every pod IP its ENIs can hold (often max-pods set too high)"),
    CauseCode.ATTACHMENT_LIMIT: _Cause("EC2 refuses to attach another ENI to the instance"),
    CauseCode.IAM_PERMISSION_MISSING: _Cause("aws-node's IAM role lacks an EC2 permission ipamd needs"),
    CauseCode.EC2_THROTTLED: _Cause("the account's EC2 API rate limit stops ipamd's calls"),
    CauseCode.ENICONFIG_MISSING: _Cause("custom networking: the ENIConfig the node looks up does not exist"),
    CauseCode.ENICONFIG_INVALID: _Cause(
        "custom networking: the node's ENIConfig names a wrong subnet or security group"
    ),
    CauseCode.SUBNET_EXCLUDED: _Cause(
        "the node's subnets are excluded from pod IPs (kubernetes.io/role/cni=0 or tags)"
    ),
    CauseCode.WARM_TARGET_MISCONFIG: _Cause("the warm-pool settings keep the node's pool from growing"),
    CauseCode.IP_COOLDOWN: _Cause("free addresses are in their cooldown after pod churn"),
    CauseCode.NODE_CORDONED: _Cause("the node is cordoned and aws-node does not grow pools on cordoned nodes"),
    CauseCode.LEAKED_ENIS: _Cause("detached CNI ENIs hold addresses of a short subnet"),
    CauseCode.NETWORK_POLICY_AGENT: _Cause(
        "not an IP shortage: the network policy agent failed the pod", ip_failure=False
    ),
    CauseCode.MULTI_NIC_DISABLED: _Cause("a multi-nic-attachment pod on aws-node without ENABLE_MULTI_NIC"),
    CauseCode.FARGATE_POD: _Cause("a Fargate pod: its profile, its subnets or Fargate, never aws-node"),
    CauseCode.AUTO_MODE_NODE: _Cause("an EKS Auto Mode node: EKS manages its pod networking, not aws-node"),
    CauseCode.HYBRID_NODE: _Cause("an EKS Hybrid node: its own CNI gives pod addresses, not the VPC CNI"),
    CauseCode.WINDOWS_NODE: _Cause("a Windows node: the VPC resource controller gives pod IPs, not ipamd"),
    CauseCode.IPV6_PREFIX_MISSING: _Cause("an IPv6 cluster's node has no /80 prefix, so ipamd exits at start"),
    CauseCode.EGRESS_V4_PLUGIN: _Cause(
        "an IPv6 cluster's egress-cni plugin (IPv4 egress, ENABLE_V4_EGRESS) failed the pod after aws-cni gave it "
        "its IPv6 address, e.g. its 169.254.172.0/22 range is used up"
    ),
    CauseCode.UNKNOWN: _Cause("nothing matched; every fact read is listed", ip_failure=False),
}

MEANING: dict[CauseCode, str] = {code: cause.meaning for code, cause in CAUSES.items()}


def is_ip_failure(code: CauseCode | str) -> bool:
    """Whether a diagnosis with this primary code means the pod failed to get an IP. A stored code this
    version does not know counts, as any code not marked otherwise."""
    known = code in CauseCode._value2member_map_
    return CAUSES[CauseCode(code)].ip_failure if known else True
