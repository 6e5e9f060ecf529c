"""Conformance: the egress-cni plugin of an IPv6 cluster (IPv4 egress for IPv6 pods), run against the bot and the
simulator.

Upstream (aws/amazon-vpc-cni-k8s at b52188387): cmd/aws-vpc-cni/main.go generateJSON (egress-cni enabled when
ENABLE_IPv6 and ENABLE_V4_EGRESS, each by utils.GetBoolAsStringEnvVar = strconv.ParseBool with the default on
error; host-local over egressPluginIpamSubnetV4 169.254.172.0/22, data dir egressPluginIpamDataDirV4);
cmd/egress-cni-plugin/egressContext.go hostLocalIpamAdd ("running IPAM plugin failed: %v"); and
containernetworking/plugins plugins/ipam/host-local (main.go "failed to allocate for range %d: %v",
backend/allocator/allocator.go "no IP addresses available in range set: %s", range.go Canonicalize: RangeStart =
network + 1, RangeEnd = broadcast - 1, the gateway network + 1 never handed out).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.cni_settings import effective_settings
from bot.domain.diagnosis import CauseCode, diagnose
from bot.domain.diagnosis import rules_egress as bot
from bot.domain.diagnosis.signals import SandboxFailure, classify_sandbox, failing_plugin, plugin_error_text
from bot.domain.evidence import PodEvidence
from simulator import egress_v4 as sim
from simulator.cluster_state import sandbox_message
from tests import factories as f

IPV6_ENV = {"ENABLE_IPv6": "true", "ENABLE_IPv4": "false", "ENABLE_PREFIX_DELEGATION": "true"}

# (ENABLE_IPv6, ENABLE_V4_EGRESS or None for unset, egress-cni enabled) as generateJSON decides.
ENABLED_ROWS = [
    ("true", None, True),  # defaultEnableIPv4Egress = true
    ("true", "false", False),
    ("true", "0", False),  # ParseBool
    ("true", "F", False),
    ("true", "maybe", True),  # unparsable: the default
    ("false", None, False),  # an IPv4 cluster chains IPv6 egress instead (ENABLE_V6_EGRESS), not this
]


@pytest.mark.parametrize(("ipv6", "v4_egress", "enabled"), ENABLED_ROWS)
def test_egress_v4_enabled_in_the_simulator_and_the_bot(ipv6: str, v4_egress: str | None, enabled: bool) -> None:
    env = {"ENABLE_IPv6": ipv6, **({"ENABLE_V4_EGRESS": v4_egress} if v4_egress is not None else {})}
    assert sim.egress_v4_enabled(env) is enabled
    settings = effective_settings(env)
    assert (settings.ipv6 and settings.values["ENABLE_V4_EGRESS"] is True) is enabled


def test_host_local_range_of_the_egress_subnet() -> None:
    assert sim.EGRESS_V4_SUBNET == bot.EGRESS_V4_SUBNET == "169.254.172.0/22"
    assert sim.EGRESS_V4_DATA_DIR == bot.EGRESS_V4_DATA_DIR == "/run/cni/v6pd/egress-v4-ipam"
    assert sim.EGRESS_V4_RANGE.text == "169.254.172.1-169.254.175.254"
    assert sim.EGRESS_V4_RANGE.capacity == bot.EGRESS_V4_ADDRESSES == 1021


def test_the_store_fails_the_pod_after_1021_reservations_and_a_delete_frees_one() -> None:
    store = sim.EgressV4Store(leaked=1019)
    assert store.add("shop/a") is None and store.add("shop/b") is None
    assert store.add("shop/c") == sim.range_full_error()
    store.delete("shop/a")
    assert store.add("shop/c") is None


def test_the_simulators_failure_is_egress_cnis_and_not_the_ip_path() -> None:
    message = sandbox_message("shop/web-1", sim.range_full_error(), sim.EGRESS_PLUGIN)
    assert failing_plugin(message) == bot.EGRESS_PLUGIN == sim.EGRESS_PLUGIN
    text = plugin_error_text(message)
    assert text.startswith(bot.IPAM_FAILED_TEXT + ": failed to allocate for range 0: " + bot.RANGE_FULL_TEXT)
    assert classify_sandbox(message) is SandboxFailure.OTHER  # never "ipamd had no IP"


def _evidence(env: dict[str, str], message: str) -> PodEvidence:
    ev = f.evidence(env=env, events=[f.event("FailedCreatePodSandBox", message, count=4)])
    primary = next(e for e in ev.node_enis or [] if e.device_index == 0)
    with_80 = replace(primary, ipv6_prefixes=("2600:1f14:abc:2000:7a1e::/80",))
    ev.node_enis = [with_80 if e is primary else e for e in ev.node_enis or []]
    return ev


def test_bot_names_the_egress_range_in_an_ipv6_cluster_and_nothing_in_an_ipv4_one() -> None:
    message = sandbox_message("shop/web-1", sim.range_full_error(), sim.EGRESS_PLUGIN)
    diagnosis = diagnose(_evidence(IPV6_ENV, message), now=f.NOW)
    top = diagnosis.causes[0]
    assert top.code is CauseCode.EGRESS_V4_PLUGIN
    assert "169.254.172.0/22" in top.summary and any("/run/cni/v6pd/egress-v4-ipam" in r for r in top.remedy)
    ipv4 = diagnose(_evidence({}, message), now=f.NOW)
    assert CauseCode.EGRESS_V4_PLUGIN not in {c.code for c in ipv4.causes}


def test_another_egress_cni_error_names_the_plugins_log() -> None:
    message = sandbox_message("shop/web-1", "could not enable IP forwarding: permission denied", sim.EGRESS_PLUGIN)
    top = diagnose(_evidence(IPV6_ENV, message), now=f.NOW).causes[0]
    assert top.code is CauseCode.EGRESS_V4_PLUGIN
    assert any("/var/log/aws-routed-eni/egress-v4-plugin.log" in r for r in top.remedy)
