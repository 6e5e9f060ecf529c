"""One drift definition (effective values) for /cni config, digests and rollbacks: a default set explicitly
is no drift in any of them; a real difference is drift in all of them."""

from __future__ import annotations

from bot.digests.content import ApprovedSettings, DigestInputs, build_digest
from bot.domain.capacity_samples import SubnetSample
from bot.domain.changes import ChangeSpec, rollback_plan
from bot.domain.config_view import config_view
from bot.domain.settings_change import EnvChange, settings_drift
from bot.domain.state import StateModel
from tests.factories import snapshot, snapshot_daemonset
from tests.unit.digests.factories import NOW, sample

RUNNING = {"ENABLE_IPv4": "true", "WARM_IP_TARGET": "5"}
# WARM_ENI_TARGET=1 and AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=false are what aws-node runs with when unset.
APPROVED_WITH_DEFAULTS = {**RUNNING, "WARM_ENI_TARGET": "1", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false"}
APPROVED_OTHER = {**RUNNING, "WARM_IP_TARGET": "8"}


def _config_drift(approved: dict[str, str]) -> list[str]:
    model = StateModel(snapshot(daemonset=snapshot_daemonset(WARM_IP_TARGET="5")))
    drift = config_view(model, approved_env=approved).drift
    assert drift is not None
    return [c.key for c in drift.changes]


def _digest_drift(approved: dict[str, str]) -> list[str]:
    latest = sample([SubnetSample("subnet-a", "us-east-2a", 4091, 3000, 60)], env=RUNNING)
    inputs = DigestInputs("prod", NOW, latest, (), approved=ApprovedSettings(approved, change_id="7"))
    drift = build_digest(inputs).drift
    assert drift is not None
    return [c.key for c in drift]


def _rollback_drift(set_by_change: dict[str, str | None]) -> tuple[str, ...]:
    spec = ChangeSpec(env=tuple(EnvChange(key, "0", value) for key, value in set_by_change.items()))
    return rollback_plan(spec, RUNNING, {}).drift


def test_a_default_set_explicitly_is_not_drift_anywhere() -> None:
    assert settings_drift(RUNNING, APPROVED_WITH_DEFAULTS) == ()
    assert _config_drift(APPROVED_WITH_DEFAULTS) == []
    assert _digest_drift(APPROVED_WITH_DEFAULTS) == []
    # The change set WARM_ENI_TARGET to 1; today it is unset, which aws-node runs as 1.
    assert _rollback_drift({"WARM_ENI_TARGET": "1", "WARM_IP_TARGET": "5"}) == ()


def test_a_different_effective_value_is_drift_everywhere() -> None:
    assert settings_drift(RUNNING, APPROVED_OTHER) == (EnvChange("WARM_IP_TARGET", "8", "5"),)
    assert _config_drift(APPROVED_OTHER) == ["WARM_IP_TARGET"]
    assert _digest_drift(APPROVED_OTHER) == ["WARM_IP_TARGET"]
    assert _rollback_drift({"WARM_IP_TARGET": "8"}) == ("`WARM_IP_TARGET` is `5` now, not `8` as the change set it",)


def test_a_rollback_compares_an_unmodelled_setting_as_written() -> None:
    spec = ChangeSpec(env=(EnvChange("AWS_VPC_K8S_CNI_CONNMARK", None, "0x80"),))
    assert rollback_plan(spec, {"AWS_VPC_K8S_CNI_CONNMARK": "128"}, {}).drift != ()
