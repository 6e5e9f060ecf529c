"""The approval details users trip on: an unset of a key `kubectl set env` wrote to every container, the
read-only instructions (managed add-on, init-container knobs), why a request went stale, and an end state
for approved changes on read-only installs. Against the simulated cluster over HTTP, as in test_changes."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import boto3
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.domain.changes import Status
from tests.e2e.test_changes import (
    FINAL,
    approval_message,
    ask,
    aws_node_env,
    block_action,
    button,
    click,
    cnibot_patches,
    ephemeral,
    make_bot,  # noqa: F401  (the fixture)
    request,
    service,
    set_env_outside_cnibot,
    text_of,
    wait_for,
    wait_status,
    wait_thread,
)
from tests.support.simbot import SimBot


def kubectl_set_env_without_c(sb: SimBot, key: str, value: str) -> None:
    """`kubectl -n kube-system set env ds/aws-node KEY=VALUE` without `-c`: every container gets the key."""
    api = k8s_config.new_client_from_config(config_file=str(sb.sim.kubeconfig_path))
    env = [{"name": key, "value": value}]
    spec = {
        "containers": [{"name": "aws-node", "env": env}, {"name": "aws-eks-nodeagent", "env": env}],
        "initContainers": [{"name": "aws-vpc-cni-init", "env": env}],
    }
    try:
        k8s.AppsV1Api(api).patch_namespaced_daemon_set(
            "aws-node", "kube-system", {"spec": {"template": {"spec": spec}}}
        )
    finally:
        api.close()


def init_env(sb: SimBot) -> dict[str, str]:
    services = sb.bot.cnibot.services
    cluster = services.clusters.get(sb.sim.cluster_name)
    assert cluster is not None
    ds = services.connections.get(cluster).kube.aws_node_daemonset()
    assert ds is not None
    return ds.init_env


# --- item 1 -----------------------------------------------------------------------------------------------


def test_an_unset_of_a_key_on_every_container_and_a_rollback_to_unset_are_verified(
    make_bot: Callable[..., SimBot],  # noqa: F811
) -> None:
    sb = make_bot()
    kubectl_set_env_without_c(sb, "IP_COOLDOWN_PERIOD", "40")

    unset_id, answer = request(sb, 'unset IP_COOLDOWN_PERIOD --reason "back to the default"')
    # What an unset means here is said up front: aws-node loses the key, the init container's copy stays.
    assert "`IP_COOLDOWN_PERIOD` is also set on the aws-vpc-cni-init container, which does not read it" in answer
    click(sb, unset_id, "U0BOB")
    record = wait_status(sb, unset_id, FINAL)
    assert record.status is Status.VERIFIED, record.detail
    assert "IP_COOLDOWN_PERIOD" not in aws_node_env(sb) and init_env(sb)["IP_COOLDOWN_PERIOD"] == "40"

    # A change, then its rollback, which restores "unset" on aws-node while the init container keeps 40.
    set_id, _ = request(sb, 'set IP_COOLDOWN_PERIOD=20 --reason "shorter"')
    click(sb, set_id, "U0BOB")
    assert wait_status(sb, set_id, FINAL).status is Status.VERIFIED
    rollback_id, _ = request(sb, f'rollback {set_id} --reason "undo"', user="U0CAROL")
    click(sb, rollback_id, "U0BOB")
    rolled_back = wait_status(sb, rollback_id, FINAL)
    assert rolled_back.status is Status.VERIFIED, rolled_back.detail
    assert "IP_COOLDOWN_PERIOD" not in aws_node_env(sb)


# --- items 2, 3, 5: read-only installs ------------------------------------------------------------------------


def test_read_only_managed_addon_gets_the_update_addon_command_and_it_works_as_given(
    make_bot: Callable[..., SimBot],  # noqa: F811
) -> None:
    sb = make_bot("warm-target-misconfig", write_enabled=False)  # vpc-cni is the EKS managed add-on here
    change_id, _ = request(sb, 'set WARM_IP_TARGET=2 --reason "pods beyond the minimum get no IP"')
    click(sb, change_id, "U0BOB")
    line = wait_thread(sb.bot.slack, f"Change #{change_id} is approved, but cnibot does not apply it here")
    assert "kubectl" not in line  # EKS would overwrite a hand edit of the DaemonSet
    command = line.split("```")[1]
    words = shlex.split(command)
    assert words[:3] == ["aws", "eks", "update-addon"]
    options = dict(zip(words[3::2], words[4::2], strict=True))
    assert options["--cluster-name"] == sb.sim.cluster_name and options["--addon-name"] == "vpc-cni"
    assert options["--resolve-conflicts"] == "PRESERVE"
    config = json.loads(options["--configuration-values"])
    assert config == {"env": {"MINIMUM_IP_TARGET": "10", "WARM_IP_TARGET": "2"}}  # merged, as cnibot sends it
    assert cnibot_patches(sb.sim) == 0

    # The command does what it says: run it (through the SDK, as the CLI would) and aws-node follows.
    eks = boto3.client("eks", region_name=options.get("--region", sb.sim.region))
    eks.update_addon(
        clusterName=options["--cluster-name"],
        addonName=options["--addon-name"],
        resolveConflicts=options["--resolve-conflicts"],
        configurationValues=options["--configuration-values"],
    )
    assert aws_node_env(sb)["WARM_IP_TARGET"] == "2"


def test_read_only_instructions_put_each_knob_on_its_container_without_stray_spaces(
    make_bot: Callable[..., SimBot],  # noqa: F811
) -> None:
    sb = make_bot(write_enabled=False)
    set_env_outside_cnibot(sb, "WARM_ENI_TARGET", "2")
    change_id, _ = request(sb, 'unset WARM_ENI_TARGET --reason "default"')
    click(sb, change_id, "U0BOB")
    line = wait_thread(sb.bot.slack, f"Change #{change_id} is approved, but cnibot does not apply it here")
    assert "```kubectl -n kube-system set env daemonset/aws-node -c aws-node WARM_ENI_TARGET-```" in line

    demux_id, _ = request(sb, 'set DISABLE_TCP_EARLY_DEMUX=true --reason "kubelet probes in strict mode"')
    click(sb, demux_id, "U0BOB")
    line = wait_thread(sb.bot.slack, f"Change #{demux_id} is approved, but cnibot does not apply it here")
    assert (
        "```kubectl -n kube-system set env daemonset/aws-node -c aws-vpc-cni-init DISABLE_TCP_EARLY_DEMUX=true```"
        in line
    )
    assert "-c aws-node" not in line


def test_the_approvers_message_of_a_stale_request_says_why(make_bot: Callable[..., SimBot]) -> None:  # noqa: F811
    sb = make_bot()
    change_id, _ = request(sb, 'set WARM_IP_TARGET=5 --reason "stale test"')
    set_env_outside_cnibot(sb, "WARM_ENI_TARGET", "2")
    click(sb, change_id, "U0BOB")
    assert wait_status(sb, change_id, FINAL).status is Status.STALE

    def latest_message() -> str:
        updates = [c for c in sb.bot.slack.api_calls("chat.update") if "Stale" in text_of(c.args)]
        return text_of(updates[-1].args) if updates else ""

    message = wait_for(latest_message, what="the approvers' message to show Stale")
    assert "aws-node `WARM_ENI_TARGET` changed meanwhile: `1` -> `2`. Nothing was applied." in message
    assert approval_message(sb.bot.slack, change_id)  # the message it updated is the request's own


def test_an_approved_change_on_a_read_only_install_ends_by_hand_and_is_verified_once_marked_applied(
    make_bot: Callable[..., SimBot],  # noqa: F811
) -> None:
    sb = make_bot(write_enabled=False)
    change_id, _ = request(sb, 'set WARM_IP_TARGET=5 --reason "read only"')
    click(sb, change_id, "U0BOB")
    assert wait_status(sb, change_id, {Status.BY_HAND}).status is Status.BY_HAND
    line = wait_thread(sb.bot.slack, f"Change #{change_id} is approved, but cnibot does not apply it here")
    assert "click *Mark applied*" in line

    def by_hand_message() -> dict[str, Any] | None:
        updates = [c.args for c in sb.bot.slack.api_calls("chat.update") if "*By hand*" in text_of(c.args)]
        return updates[-1] if updates else None

    message = wait_for(by_hand_message, what="the approvers' message to show By hand")
    assert "apply it by hand, then click *Mark applied*" in text_of(message)
    blocks = message["blocks"] if isinstance(message["blocks"], list) else json.loads(message["blocks"])
    (mark,) = [
        e
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == "change_mark_applied"
    ]

    # Someone who neither asked nor approves may not say it is done.
    stranger = sb.bot.slack.response_url("mark-stranger")
    assert sb.bot.action(block_action("U0MALLORY", mark, stranger)).status_code == 200
    assert "Only the requester or an approver" in ephemeral(sb, stranger.removeprefix(sb.bot.slack.url))
    assert service(sb).get(change_id).status is Status.BY_HAND

    # The operator runs the command from the thread, then marks it applied: cnibot checks it took.
    set_env_outside_cnibot(sb, "WARM_IP_TARGET", "5")
    bob = sb.bot.slack.response_url("mark-bob")
    assert sb.bot.action(block_action("U0BOB", mark, bob)).status_code == 200
    record = wait_status(sb, change_id, FINAL)
    assert record.status is Status.VERIFIED, record.detail
    kinds = [e.kind for e in service(sb).repo.events(change_id)]
    assert kinds[-4:] == ["apply-disabled", "marked-applied", "rollout-done", "verified"]
    assert cnibot_patches(sb.sim) == 0


# --- item 4 -------------------------------------------------------------------------------------------------


def test_change_history_keeps_the_outcome_in_view_after_a_flood_of_refused_clicks(
    make_bot: Callable[..., SimBot],  # noqa: F811
) -> None:
    sb = make_bot()
    change_id, _ = request(sb, 'set WARM_IP_TARGET=5 --reason "flood"')
    element = button(approval_message(sb.bot.slack, change_id), "change_approve")
    for n in range(55):  # someone who may not approve keeps clicking
        url = sb.bot.slack.response_url(f"flood-{n}")
        assert sb.bot.action(block_action("U0MALLORY", element, url)).status_code == 200
    wait_for(
        lambda: sum(e.kind == "refused-click" for e in service(sb).repo.events(change_id)) == 55,
        what="55 refused clicks recorded",
    )
    click(sb, change_id, "U0BOB", "change_reject")
    assert wait_status(sb, change_id, FINAL).status is Status.REJECTED

    history = ask(sb, f"change {change_id}").split("History", 1)[1]
    assert "refused-click x55" in history and "You are not an approver" in history
    assert "rejected" in history and "requested" in history
    assert "more" not in history  # nothing cut: one row stands for the whole flood
