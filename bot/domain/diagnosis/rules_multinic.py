"""Multi-NIC pods (VPC CNI v1.20.0+): a pod annotated k8s.amazonaws.com/nicConfig: multi-nic-attachment asks ipamd
for one address on every network card it manages (pkg/ipamd/rpc_handler.go AddNetwork), which it does only with
ENABLE_MULTI_NIC=true (ipamd.go markUnmanagedNetworkCards: otherwise every card but the default one is
unmanaged)."""

from __future__ import annotations

from bot.domain.diagnosis.model import Cause, CauseCode, ProposedChange
from bot.domain.diagnosis.signals import SandboxFailure
from bot.domain.diagnosis.view import View
from bot.domain.facts import Unchecked
from bot.domain.wording import plural

MULTI_NIC_ANNOTATION = "k8s.amazonaws.com/nicConfig"
MULTI_NIC_ATTACHMENT = "multi-nic-attachment"
# ipamd's log line when it refuses (rpc_handler.go AddNetwork)
REFUSED = "enable multi-nic feature on CNI for creating multi-nic-attachment pods"


def wants_multi_nic(v: View) -> bool:
    """cni.go: only the exact value multi-nic-attachment asks for an address per card."""
    pod = v.ev.pod
    return pod is not None and pod.annotations.get(MULTI_NIC_ANNOTATION) == MULTI_NIC_ATTACHMENT


def multi_nic_disabled(v: View) -> Cause | None:
    if not wants_multi_nic(v) or not v.settings_known or v.settings.flag("ENABLE_MULTI_NIC"):
        return None
    failures = v.signals.count(SandboxFailure.NO_IP)
    evidence = [
        f"pod annotation {MULTI_NIC_ANNOTATION}: {MULTI_NIC_ATTACHMENT}",
        f'aws-node ENABLE_MULTI_NIC=false: ipamd answers such a pod with a failure (ipamd.log: "{REFUSED}")',
    ]
    if failures:
        evidence.append(f"'failed to assign an IP address to container' {plural(failures, 'time')}")
    evidence.append(f"pool {v.pool_line()}")
    return Cause(
        CauseCode.MULTI_NIC_DISABLED,
        0.9 if failures else 0.75,
        "The pod asks for an address on every network card (multi-nic-attachment), and aws-node runs without "
        "ENABLE_MULTI_NIC, so ipamd refuses it whatever its pool holds.",
        tuple(evidence),
        (
            "Set ENABLE_MULTI_NIC=true (VPC CNI v1.20.0 or later); ipamd then manages every network card of "
            "multi-card instances and gives such pods one address per card.",
            f"Or remove the {MULTI_NIC_ANNOTATION} annotation if the pod needs only one interface.",
        ),
        change=ProposedChange.aws_node(ENABLE_MULTI_NIC="true"),
    )


def multi_nic_unchecked(v: View) -> Unchecked | None:
    """With ENABLE_MULTI_NIC a multi-NIC pod needs a free address on every managed card; the pool figures here are
    the default card's, so say what was not checked rather than judge the other cards."""
    if not wants_multi_nic(v) or not v.settings.flag("ENABLE_MULTI_NIC"):
        return None
    cards = v.instance.network_cards if v.instance is not None else None
    if cards == 1:
        return None
    return Unchecked(
        "free IPs on network cards other than the default one",
        "model",
        "multi-NIC pools are counted for the default card only",
    )
