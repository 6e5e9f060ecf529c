"""/cni config's view: effective settings, ENIConfigs per zone, custom-networking migration, the drift seam."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.config_view import config_view
from bot.domain.eniconfig import ENICONFIG_SG_NOT_FOUND, ENICONFIG_SUBNET_WRONG_AZ
from bot.domain.settings_change import settings_drift
from bot.domain.snapshot import ManagedAddon
from bot.domain.state import MIGRATED, NO_ENICONFIG, NOT_CHECKED, ON_PRIMARY_SUBNET, StateModel
from tests.factories import (
    eniconfig,
    ips,
    placement,
    snapshot,
    snapshot_daemonset,
    snapshot_eni,
    snapshot_node,
    snapshot_subnet,
)

CN = {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"}
SUBNETS = {
    "subnet-a": snapshot_subnet("subnet-a", "10.0.0.0/20"),
    "subnet-pods-a": snapshot_subnet("subnet-pods-a", "100.64.0.0/18", free=16000),
    "subnet-pods-b": snapshot_subnet("subnet-pods-b", "100.64.64.0/18", az="us-east-2b", free=16300),
}


def _half_migrated(enis_read: bool = True) -> StateModel:
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    nodes = [
        snapshot_node("old", "i-old", created=old),
        snapshot_node("new", "i-new", created=new),
        snapshot_node("nowhere", "i-c", az="us-east-2c"),
    ]
    enis = [
        snapshot_eni(
            "eni-o0", "subnet-a", instance="i-old", device=0, primary="10.0.0.4", secondary=ips("10.0.0", 5, 9)
        ),
        snapshot_eni("eni-n0", "subnet-a", instance="i-new", device=0, primary="10.0.0.30"),
        snapshot_eni(
            "eni-n1", "subnet-pods-a", instance="i-new", device=1, primary="100.64.0.4", secondary=ips("100.64.0", 5, 9)
        ),
        snapshot_eni("eni-c0", "subnet-a", instance="i-c", device=0, primary="10.0.0.40"),
    ]
    return StateModel(
        snapshot(
            nodes=nodes,
            enis=enis if enis_read else None,
            pods=[placement("web-old", "old", "10.0.0.5"), placement("web-new", "new", "100.64.0.5")],
            subnets=SUBNETS,
            daemonset=snapshot_daemonset(**CN, WARM_IP_TARGET="1"),
            eniconfigs=[
                eniconfig("us-east-2a", "subnet-pods-a", "sg-pods"),
                eniconfig("us-east-2b", "subnet-pods-a", "sg-gone"),  # subnet of the wrong zone
            ],
            existing_security_groups={"sg-pods"},
            addon=ManagedAddon("v1.19.2-eksbuild.1", "ACTIVE", '{"env":{"WARM_IP_TARGET":"1"}}'),
            addon_checked=True,
        )
    )


def test_settings_have_defaults_filled_in_and_non_defaults_marked() -> None:
    view = config_view(_half_migrated())
    rows = {s.name: s for s in view.settings}
    assert (
        rows["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"].value == "true"
        and rows["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"].non_default
    )
    assert rows["WARM_ENI_TARGET"].value == "1" and not rows["WARM_ENI_TARGET"].non_default
    assert rows["MAX_ENI"].value == "unset" and not rows["MAX_ENI"].set_in_env
    assert view.cni_version == "1.19.2" and view.addon is not None and view.addon.status == "ACTIVE"
    # WARM_IP_TARGET=1 without MINIMUM_IP_TARGET makes ipamd call EC2 on nearly every pod start.
    assert any("WARM_IP_TARGET=1 without MINIMUM_IP_TARGET" in p.message for p in view.problems)


def test_migration_lists_nodes_still_on_the_primary_subnet() -> None:
    view = config_view(_half_migrated())
    status = {m.node: m for m in view.migration}
    assert status["old"].status == ON_PRIMARY_SUBNET
    assert (status["old"].pods_outside, status["old"].subnets_outside) == (1, ("subnet-a",))
    assert status["new"].status == MIGRATED
    assert status["nowhere"].status == NO_ENICONFIG and status["nowhere"].eniconfig == "us-east-2c"
    unread = config_view(_half_migrated(enis_read=False))
    assert {m.node: m.status for m in unread.migration}["old"] == NOT_CHECKED


def test_eniconfig_rows_show_free_ips_users_and_problems() -> None:
    rows = {r.name: r for r in config_view(_half_migrated()).eniconfigs}
    assert (rows["us-east-2a"].free_ips, rows["us-east-2a"].nodes, rows["us-east-2a"].problems) == (16000, 2, ())
    codes = {p.code for p in rows["us-east-2b"].problems}
    assert codes == {ENICONFIG_SUBNET_WRONG_AZ, ENICONFIG_SG_NOT_FOUND}


def test_drift_is_a_seam_until_approvals_exist() -> None:
    assert config_view(_half_migrated()).drift is None
    approved = {**CN, "WARM_IP_TARGET": "5", "ENABLE_IPv4": "true"}
    drift = config_view(_half_migrated(), approved_env=approved).drift
    assert drift is not None and [(c.key, c.old, c.new) for c in drift.changes] == [("WARM_IP_TARGET", "5", "1")]
    assert settings_drift({"WARM_IP_TARGET": "1"}, {"WARM_IP_TARGET": "1"}) == ()


def test_no_migration_view_without_custom_networking() -> None:
    model = StateModel(snapshot(nodes=[snapshot_node("n1", "i-1")], subnets=SUBNETS))
    view = config_view(model)
    assert not view.custom_networking and view.migration == ()
