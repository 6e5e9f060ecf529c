"""How Karpenter sets the max-pods of the nodes it launches, and how to change it.

aws/karpenter-provider-aws (commit 1d92708):
- pkg/providers/instancetype/types.go `pods`: EC2NodeClass `spec.kubelet.maxPods` when set; else, for AMI families
  with `SupportsENILimitedPodDensity` (all but Windows), `ENILimitedPods`; else 110. Then, when
  `spec.kubelet.podsPerCore` > 0 and the family has `PodsPerCoreEnabled` (all but Bottlerocket), the smaller of
  that and podsPerCore x vCPUs.
- `ENILimitedPods`: (default card's MaximumNetworkInterfaces - reservedENIs - EFA-only ENIs) x (IPv4 per ENI - 1)
  + 2, or 0 when no ENI is left.
- pkg/operator/options/options.go: reservedENIs is Karpenter's own setting (`--reserved-enis`, env RESERVED_ENIS,
  Helm `settings.reservedENIs`), "most often used in the VPC CNI custom networking setup", not an EC2NodeClass field.
"""

from __future__ import annotations

from bot.domain.instance_limits import InstanceLimits

BOTTLEROCKET, WINDOWS = "bottlerocket", "windows"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
NODECLASS_LABEL = "karpenter.k8s.aws/ec2nodeclass"
DEFAULT_MAX_PODS = 110


def eni_limited_pods(limits: InstanceLimits, reserved_enis: int, efa_only: int = 0) -> int:
    usable = max(limits.max_enis - reserved_enis - efa_only, 0)
    return 0 if usable == 0 else usable * (limits.ipv4_per_eni - 1) + 2


def karpenter_max_pods(
    limits: InstanceLimits,
    *,
    ami_family: str,
    max_pods: int | None = None,
    pods_per_core: int | None = None,
    reserved_enis: int = 0,
) -> int:
    family = ami_family.lower()
    if max_pods is not None:
        count = max_pods
    elif not family.startswith(WINDOWS):  # Windows2019, Windows2022, Windows2025
        count = eni_limited_pods(limits, reserved_enis)
    else:
        count = DEFAULT_MAX_PODS
    if pods_per_core and pods_per_core > 0 and family != BOTTLEROCKET:
        count = min(pods_per_core * limits.vcpus, count)
    return count


def reserved_enis_for(custom_networking: bool) -> int:
    """With custom networking the primary ENI gives pods no address: one ENI to leave out of the formula."""
    return 1 if custom_networking else 0


def karpenter_fix(labels: dict[str, str], value: int, limits: InstanceLimits | None, *, custom_networking: bool) -> str:
    """Where to set max-pods for a node Karpenter launched: its EC2NodeClass, or Karpenter's reservedENIs."""
    pool = labels.get(NODEPOOL_LABEL, "")
    nodeclass = labels.get(NODECLASS_LABEL)
    where = f"EC2NodeClass {nodeclass}" if nodeclass else f"the EC2NodeClass of NodePool {pool}"
    text = f"{where} `spec.kubelet.maxPods: {value}` (NodePool {pool})"
    reserved = reserved_enis_for(custom_networking)
    if limits is not None and reserved and eni_limited_pods(limits, reserved) == value:
        text += (
            f", or leave maxPods unset and run Karpenter with reservedENIs {reserved} (`--reserved-enis`, env "
            f"RESERVED_ENIS, Helm `settings.reservedENIs`): it then computes ({limits.max_enis} - {reserved}) x "
            f"({limits.ipv4_per_eni} - 1) + 2 = {value} for {limits.instance_type}"
        )
    else:
        text += "; without maxPods Karpenter derives max-pods from the ENI limits minus its reservedENIs setting"
    return text
