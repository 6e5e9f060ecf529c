"""What each stable cause code means, in one line: for readers of `--json`, MCP clients and the README."""

from __future__ import annotations

from bot.domain.diagnosis.model import CauseCode

MEANING: dict[CauseCode, str] = {
    CauseCode.POD_HAS_IP: "the pod already has an IP; its problem is elsewhere (containers, probes)",
    CauseCode.HOST_NETWORK: "the pod uses its node's address (hostNetwork); the CNI gives it none",
    CauseCode.POD_NOT_FOUND: "no pod of that name in that namespace; close names are suggested",
    CauseCode.NOT_SCHEDULED: "the scheduler placed the pod on no node (resources, affinity, taints)",
    CauseCode.MAX_PODS_REACHED: "every node the pod may use is at kubelet max-pods",
    CauseCode.SGP_BRANCH_CAPACITY: "no free branch ENI (vpc.amazonaws.com/pod-eni) for a security-groups-for-pods pod",
    CauseCode.AWS_NODE_NOT_READY: "aws-node is down or crash-looping on the node, so no pod there gets an IP",
    CauseCode.SUBNET_EXHAUSTED: (
        "the subnets ipamd may use (on EKS Auto Mode nodes: the node's subnets) cannot give the node even one more "
        "address"
    ),
    CauseCode.PREFIX_FRAGMENTATION: "prefix delegation needs a free aligned /28 and the subnet has none",
    CauseCode.NODE_IP_CAPACITY: "the node uses every pod IP its ENIs can hold (often max-pods set too high)",
    CauseCode.ATTACHMENT_LIMIT: "EC2 refuses to attach another ENI to the instance",
    CauseCode.IAM_PERMISSION_MISSING: "aws-node's IAM role lacks an EC2 permission ipamd needs",
    CauseCode.EC2_THROTTLED: "the account's EC2 API rate limit stops ipamd's calls",
    CauseCode.ENICONFIG_MISSING: "custom networking: the ENIConfig the node looks up does not exist",
    CauseCode.ENICONFIG_INVALID: "custom networking: the node's ENIConfig names a wrong subnet or security group",
    CauseCode.SUBNET_EXCLUDED: "the node's subnets are excluded from pod IPs (kubernetes.io/role/cni=0 or tags)",
    CauseCode.WARM_TARGET_MISCONFIG: "the warm-pool settings keep the node's pool from growing",
    CauseCode.IP_COOLDOWN: "free addresses are in their cooldown after pod churn",
    CauseCode.NODE_CORDONED: "the node is cordoned and aws-node does not grow pools on cordoned nodes",
    CauseCode.LEAKED_ENIS: "detached CNI ENIs hold addresses of a short subnet",
    CauseCode.NETWORK_POLICY_AGENT: "not an IP shortage: the network policy agent failed the pod",
    CauseCode.MULTI_NIC_DISABLED: "a multi-nic-attachment pod on aws-node without ENABLE_MULTI_NIC",
    CauseCode.FARGATE_POD: "a Fargate pod: its profile, its subnets or Fargate, never aws-node",
    CauseCode.AUTO_MODE_NODE: "an EKS Auto Mode node: EKS manages its pod networking, not aws-node",
    CauseCode.HYBRID_NODE: "an EKS Hybrid node: its own CNI gives pod addresses, not the VPC CNI",
    CauseCode.WINDOWS_NODE: "a Windows node: the VPC resource controller gives pod IPs, not ipamd",
    CauseCode.IPV6_PREFIX_MISSING: "an IPv6 cluster's node has no /80 prefix, so ipamd exits at start",
    CauseCode.EGRESS_V4_PLUGIN: (
        "an IPv6 cluster's egress-cni plugin (IPv4 egress, ENABLE_V4_EGRESS) failed the pod after aws-cni gave it "
        "its IPv6 address, e.g. its 169.254.172.0/22 range is used up"
    ),
    CauseCode.UNKNOWN: "nothing matched; every fact read is listed",
}
