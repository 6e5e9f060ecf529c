"""One rule for which container a knob lives on, shared by the writer, verification and the read-only
instructions."""

from __future__ import annotations

import json
import shlex

from bot.changes.manual import manual_commands
from bot.changes.rollout import env_matches
from bot.domain.changes import ChangeSpec, EnvChange, Target
from bot.domain.facts import DaemonSetFact


def daemonset(env: dict[str, str], init_env: dict[str, str]) -> DaemonSetFact:
    return DaemonSetFact(env, init_env, "img", "1.19.2", 2, 2, 3, 3, 3, "10")


def test_an_unset_is_verified_on_aws_node_even_when_the_init_container_keeps_a_copy() -> None:
    ds = daemonset({"WARM_ENI_TARGET": "1"}, {"IP_COOLDOWN_PERIOD": "40", "DISABLE_TCP_EARLY_DEMUX": "false"})
    assert env_matches(ds, {"IP_COOLDOWN_PERIOD": None}) == []
    assert env_matches(daemonset({"IP_COOLDOWN_PERIOD": "40"}, {}), {"IP_COOLDOWN_PERIOD": None}) == [
        "IP_COOLDOWN_PERIOD"
    ]


def test_an_init_only_knob_is_verified_on_the_init_container_whatever_aws_node_carries() -> None:
    ds = daemonset({"DISABLE_TCP_EARLY_DEMUX": "false"}, {"DISABLE_TCP_EARLY_DEMUX": "true"})
    assert env_matches(ds, {"DISABLE_TCP_EARLY_DEMUX": "true"}) == []
    assert env_matches(ds, {"DISABLE_TCP_EARLY_DEMUX": "false"}) == ["DISABLE_TCP_EARLY_DEMUX"]


def test_a_knob_on_both_containers_must_be_on_both() -> None:
    assert env_matches(daemonset({"ENABLE_IPv6": "true"}, {"ENABLE_IPv6": "false"}), {"ENABLE_IPv6": "true"}) == [
        "ENABLE_IPv6"
    ]


def test_manual_commands_follow_the_writer() -> None:
    spec = ChangeSpec(
        env=(
            EnvChange("DISABLE_TCP_EARLY_DEMUX", None, "true"),
            EnvChange("IP_COOLDOWN_PERIOD", "40", None),
            EnvChange("ADDITIONAL_ENI_TAGS", None, '{"team": "a b"}'),
        )
    )
    init, main = manual_commands(spec)  # in the order of the spec
    assert main == (
        "kubectl -n kube-system set env daemonset/aws-node -c aws-node "
        '\'ADDITIONAL_ENI_TAGS={"team": "a b"}\' IP_COOLDOWN_PERIOD-'
    )
    assert init == "kubectl -n kube-system set env daemonset/aws-node -c aws-vpc-cni-init DISABLE_TCP_EARLY_DEMUX=true"
    assert shlex.split(main)[-2] == 'ADDITIONAL_ENI_TAGS={"team": "a b"}'


def test_manual_commands_for_a_managed_addon_update_its_configuration() -> None:
    spec = ChangeSpec(env=(EnvChange("WARM_IP_TARGET", None, "2"), EnvChange("WARM_ENI_TARGET", "1", None)))
    current = json.dumps({"env": {"WARM_ENI_TARGET": "1", "MINIMUM_IP_TARGET": "10"}})
    (command,) = manual_commands(
        spec, target=Target.ADDON, addon_config=current, eks_cluster="prod", region="us-east-2"
    )
    words = shlex.split(command)
    assert words[:7] == ["aws", "eks", "update-addon", "--cluster-name", "prod", "--addon-name", "vpc-cni"]
    options = dict(zip(words[3::2], words[4::2], strict=True))
    assert options["--region"] == "us-east-2" and options["--resolve-conflicts"] == "PRESERVE"
    assert json.loads(options["--configuration-values"]) == {"env": {"MINIMUM_IP_TARGET": "10", "WARM_IP_TARGET": "2"}}
