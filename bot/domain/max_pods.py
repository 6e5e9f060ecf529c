"""kubelet max-pods as each EKS tool computes it, and how to set it on the node's OS.

Three sources disagree and users meet all three, so a recommendation always names its source:
- AL2's ``max-pods-calculator.sh`` (amazon-eks-ami, templates/al2/runtime, removed with AL2 support): ENIs of the
  default card (lowered by ``--cni-max-eni``, one less with ``--cni-custom-networking-enabled``) x (IPs per ENI - 1),
  x16 with ``--cni-prefix-delegation-enabled`` on Nitro, + 2; then capped at 110 (<= 30 vCPUs) or 250 in both modes
  unless ``--show-max-allowed``.
- AL2023's nodeadm (nodeadm/internal/kubelet/eni_max_pods.go ``CalcMaxPods``): default-card ENIs x (IPs per ENI - 1)
  + 2, uncapped and blind to the CNI mode, unless ``spec.kubelet.maxPodsExpression`` (CEL over ``default_enis``,
  ``ips_per_eni``, ``max_pods``) or ``spec.kubelet.config.maxPods`` says otherwise.
- ``eni-max-pods.txt`` (amazon-vpc-cni-k8s misc/): the same uncapped secondary-IP formula per type (737 for
  m5.24xlarge), what AL2's bootstrap.sh applies by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.capacity import HOST_NETWORK_PODS, IPS_PER_PREFIX, attachable_enis, pd_max_pods_cap
from bot.domain.instance_limits import InstanceLimits
from bot.domain.karpenter import NODEPOOL_LABEL, karpenter_fix

CALCULATOR = "max-pods-calculator.sh (AL2)"
NODEADM = "nodeadm (AL2023)"
ENI_MAX_PODS = "eni-max-pods.txt"

AL2, AL2023, BOTTLEROCKET, UNKNOWN_OS = "al2", "al2023", "bottlerocket", "unknown"


@dataclass(frozen=True)
class MaxPodsValue:
    source: str
    value: int
    detail: str  # the flags or expression that produce it


def calculator_max_pods(
    limits: InstanceLimits, *, custom_networking: bool, prefix_delegation: bool, max_eni: int | None
) -> MaxPodsValue:
    enis = limits.max_enis if not max_eni or max_eni < 1 else min(max_eni, limits.max_enis)
    flags = []
    if max_eni and max_eni >= 1:
        flags.append(f"--cni-max-eni {max_eni}")
    if custom_networking:
        enis -= 1
        flags.append("--cni-custom-networking-enabled")
    per_eni = limits.secondary_ips_per_eni
    if prefix_delegation:
        flags.append("--cni-prefix-delegation-enabled")
        if limits.supports_prefix_delegation:
            per_eni *= IPS_PER_PREFIX
    value = max(enis, 0) * per_eni + HOST_NETWORK_PODS
    value = min(value, pd_max_pods_cap(limits.vcpus)) if limits.vcpus else value
    return MaxPodsValue(CALCULATOR, value, " ".join(flags) or "no CNI flags")


def standard_max_pods(limits: InstanceLimits) -> int:
    """nodeadm's calculateStandardMaxPods and eni-max-pods.txt: the default card's ENIs, secondary IPs, + 2."""
    return limits.max_enis * limits.secondary_ips_per_eni + HOST_NETWORK_PODS


def addressable_max_pods(
    limits: InstanceLimits, *, custom_networking: bool, prefix_delegation: bool, max_eni: int | None
) -> int:
    """Pods the node can really give an IP to in this CNI mode (uncapped), + the 2 hostNetwork pods."""
    enis = attachable_enis(limits, max_eni) - (1 if custom_networking else 0)
    per_eni = limits.secondary_ips_per_eni * (
        IPS_PER_PREFIX if prefix_delegation and limits.supports_prefix_delegation else 1
    )
    return max(enis, 0) * per_eni + HOST_NETWORK_PODS


def max_pods_sources(
    limits: InstanceLimits, *, custom_networking: bool, prefix_delegation: bool, max_eni: int | None
) -> tuple[MaxPodsValue, ...]:
    """What each tool would set for this type and CNI mode."""
    standard = standard_max_pods(limits)
    return (
        calculator_max_pods(
            limits, custom_networking=custom_networking, prefix_delegation=prefix_delegation, max_eni=max_eni
        ),
        MaxPodsValue(NODEADM, standard, "no maxPodsExpression"),
        MaxPodsValue(ENI_MAX_PODS, standard, limits.instance_type),
    )


def node_os(os_image: str | None) -> str:
    """The node's OS family from status.nodeInfo.osImage."""
    image = (os_image or "").lower()
    if "bottlerocket" in image:
        return BOTTLEROCKET
    if "amazon linux 2023" in image:
        return AL2023
    if "amazon linux 2" in image:
        return AL2
    return UNKNOWN_OS


def setting_for_node(
    os_image: str | None,
    labels: dict[str, str],
    value: int,
    *,
    custom_networking: bool,
    prefix_delegation: bool,
    limits: InstanceLimits | None = None,
) -> str:
    """Where max-pods is set for this node: Karpenter's EC2NodeClass (or its reservedENIs) for the nodes it launched
    (it writes the user data, whatever the OS), else the OS's own setting."""
    if labels.get(NODEPOOL_LABEL):
        return karpenter_fix(labels, value, limits, custom_networking=custom_networking)
    return how_to_set(
        node_os(os_image), value, custom_networking=custom_networking, prefix_delegation=prefix_delegation
    )


def how_to_set(os: str, value: int, *, custom_networking: bool, prefix_delegation: bool) -> str:
    """The setting that gives kubelet ``value`` max-pods on this OS."""
    if os == AL2023:
        expression = _nodeadm_expression(custom_networking=custom_networking, prefix_delegation=prefix_delegation)
        return f"nodeadm NodeConfig `spec.kubelet.config.maxPods: {value}`" + (
            f' (or `spec.kubelet.maxPodsExpression: "{expression}"`)' if expression else ""
        )
    if os == AL2:
        return f"bootstrap.sh `--use-max-pods false --kubelet-extra-args '--max-pods={value}'`"
    if os == BOTTLEROCKET:
        return f"Bottlerocket `settings.kubernetes.max-pods = {value}`"
    return (
        f"kubelet max-pods {value} (AL2: bootstrap.sh --kubelet-extra-args '--max-pods={value}'; AL2023: nodeadm "
        f"spec.kubelet.config.maxPods; Bottlerocket: settings.kubernetes.max-pods)"
    )


def _nodeadm_expression(*, custom_networking: bool, prefix_delegation: bool) -> str:
    enis = "(default_enis - 1)" if custom_networking else "default_enis"
    per_eni = "(ips_per_eni - 1) * 16" if prefix_delegation else "(ips_per_eni - 1)"
    if not custom_networking and not prefix_delegation:
        return ""
    return f"{enis} * {per_eni} + 2"


def sources_line(values: tuple[MaxPodsValue, ...]) -> str:
    """One evidence line: each source and its number."""
    return "; ".join(f"{v.source} {v.value:,}" + (f" ({v.detail})" if v.source == CALCULATOR else "") for v in values)
