"""The catalogues carry what views used to keep in hand lists: a knob's groups, a cause code's "is an IP
failure". These pin the groups to what the views showed before, and the digest's counting to the codes."""

from __future__ import annotations

from bot.domain.capacity_view import WARM_KNOBS
from bot.domain.config_view import IP_KNOBS
from bot.domain.diagnosis.catalogue import CAUSES, is_ip_failure
from bot.domain.diagnosis.model import CauseCode
from bot.domain.knob_catalogue import KNOBS, knobs_in
from bot.domain.knobs import KnobGroup
from bot.domain.settings_change import validate_change


def test_warm_pool_knobs_in_catalogue_order() -> None:
    assert WARM_KNOBS == ("WARM_ENI_TARGET", "WARM_IP_TARGET", "MINIMUM_IP_TARGET", "WARM_PREFIX_TARGET")


def test_node_capacity_knobs() -> None:
    assert set(knobs_in(KnobGroup.NODE_CAPACITY)) == {
        "ENABLE_PREFIX_DELEGATION",
        "MAX_ENI",
        "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",
        "ENABLE_POD_ENI",
    }


def test_ip_allocation_knobs_are_the_ones_config_always_shows() -> None:
    assert set(IP_KNOBS) == {
        *WARM_KNOBS,
        *knobs_in(KnobGroup.NODE_CAPACITY),
        "ENI_CONFIG_LABEL_DEF",
        "ENABLE_SUBNET_DISCOVERY",
        "IP_COOLDOWN_PERIOD",
        "AWS_MANAGE_ENIS_NON_SCHEDULABLE",
    }
    assert all(name in KNOBS for name in IP_KNOBS)


def test_a_node_capacity_knob_change_says_max_pods_must_follow() -> None:
    assert validate_change({}, {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"}).needs_max_pods
    assert not validate_change({}, {"WARM_IP_TARGET": "5"}).needs_max_pods


def test_every_cause_code_has_a_catalogue_entry() -> None:
    assert set(CAUSES) == set(CauseCode)


def test_ip_failures_are_what_the_catalogue_says() -> None:
    not_failures = {code for code in CauseCode if not is_ip_failure(code)}
    assert not_failures == {
        CauseCode.POD_HAS_IP,
        CauseCode.HOST_NETWORK,
        CauseCode.POD_NOT_FOUND,
        CauseCode.NOT_SCHEDULED,
        CauseCode.MAX_PODS_REACHED,
        CauseCode.SGP_BRANCH_CAPACITY,
        CauseCode.NETWORK_POLICY_AGENT,
        CauseCode.UNKNOWN,
    }
    assert is_ip_failure("SUBNET_EXHAUSTED")  # stored rows hold plain strings
    assert is_ip_failure("A_CODE_OF_A_NEWER_VERSION")  # counted, as before the catalogue held the flag
