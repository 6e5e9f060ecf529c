"""Small pure parts of the change flow: what people type, the request form, add-on values, manual commands,
the approval message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.changes.interactions import ENICONFIG, ENV, proposal_from, read_form, request_form
from bot.changes.manual import manual_commands
from bot.changes.parse import parse_assignments, parse_change_id, parse_eniconfig, parse_unsets, parse_zone_subnets
from bot.changes.render import request_doc
from bot.changes.state import addon_config_with, container_edits, parse_addon_config
from bot.domain.change_records import ApprovalEntry, ChangeRecord
from bot.domain.changes import BaseRevision, ChangeKind, ChangeSpec, EniConfigEdit, EniConfigState, Status, Target
from bot.domain.knobs import Risk
from bot.domain.settings_change import EnvChange
from bot.errors import UsageError
from bot.render.doc import Actions, render_text

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


# --- typed words -----------------------------------------------------------------------------------------


def test_assignments_set_and_unset() -> None:
    assert parse_assignments(["warm_ip_target=5", "WARM_ENI_TARGET-", "X=a=b"]) == {
        "WARM_IP_TARGET": "5",
        "WARM_ENI_TARGET": None,
        "X": "a=b",
    }
    for bad in (["WARM_IP_TARGET"], ["1X=2"], ["A=1", "a=2"], []):
        with pytest.raises(UsageError):
            parse_assignments(bad)
    assert parse_unsets(["warm_ip_target"]) == {"WARM_IP_TARGET": None}


def test_names_are_written_as_aws_node_spells_them() -> None:
    """aws-node reads ENABLE_IPv4 / ENABLE_IPv6 (case-sensitive os.LookupEnv): never ENABLE_IPV6."""
    assert parse_assignments(["ENABLE_IPV6=true", "enable_ipv4=false", "host_cni_bin_path=/x"]) == {
        "ENABLE_IPv6": "true",
        "ENABLE_IPv4": "false",
        "HOST_CNI_BIN_PATH": "/x",
    }
    assert parse_unsets(["ENABLE_IPV6"]) == {"ENABLE_IPv6": None}


def test_eniconfig_words_and_options() -> None:
    assert parse_eniconfig(["subnet=subnet-0a", "sg=sg-1,sg-2"]) == EniConfigState("subnet-0a", ("sg-1", "sg-2"))
    assert parse_eniconfig([], "subnet-0b", "sg-3") == EniConfigState("subnet-0b", ("sg-3",))
    with pytest.raises(UsageError):
        parse_eniconfig(["sg=sg-1"])
    with pytest.raises(UsageError):
        parse_eniconfig(["vpc=vpc-1", "subnet=subnet-0a"])
    assert parse_zone_subnets(["us-east-2a=subnet-0a"]) == {"us-east-2a": "subnet-0a"}
    with pytest.raises(UsageError):
        parse_zone_subnets(["us-east-2a:subnet-0a"])
    assert parse_change_id("#12") == 12
    with pytest.raises(UsageError):
        parse_change_id("twelve")


# --- the request form -------------------------------------------------------------------------------------


def test_proposal_from_why_pending_json_prefills_change_and_reason() -> None:
    value = json.dumps(
        {"kind": "aws-node-env", "env": {"WARM_IP_TARGET": "2"}, "pod": "shop/web-5", "cause": "X", "cluster": "demo"}
    )
    proposal = proposal_from(value)
    assert (proposal.kind, proposal.env, proposal.cluster) == (ENV, {"WARM_IP_TARGET": "2"}, "demo")
    assert proposal.reason == "why-pending shop/web-5: X"
    eni = proposal_from(
        json.dumps(
            {"kind": "eniconfig", "eniconfig": {"name": "us-east-2a", "subnet": "subnet-1", "securityGroups": ["sg-1"]}}
        )
    )
    assert (eni.kind, eni.eniconfig) == (ENICONFIG, ("us-east-2a", "subnet-1", ("sg-1",)))


def test_proposal_from_a_command_or_garbage() -> None:
    command = proposal_from(
        "/cni eniconfig set us-east-2a --subnet subnet-1 --security-groups sg-1,sg-2 --reason 'x y'"
    )
    assert command.eniconfig == ("us-east-2a", "subnet-1", ("sg-1", "sg-2"))
    assert proposal_from("/cni set WARM_IP_TARGET=2 --cluster prod").env == {"WARM_IP_TARGET": "2"}
    assert proposal_from("{not json").env == {}


def _submitted(view: dict[str, object], values: dict[str, str | None]) -> dict[str, object]:
    state = {block: {"value": {"type": "plain_text_input", "value": value}} for block, value in values.items()}
    return {**view, "state": {"values": state}}


def test_form_round_trip_and_inline_errors() -> None:
    view = request_form(proposal_from(json.dumps({"kind": "aws-node-env", "env": {"A": "1"}})), "C1")
    ok = read_form(_submitted(view, {"settings": "WARM_IP_TARGET=2", "duration": "2h", "reason": "pods pending"}))
    assert ok.errors == {} and ok.channel == "C1" and ok.reason == "pods pending"
    bad = read_form(_submitted(view, {"settings": "WARM_IP_TARGET", "duration": "2x", "reason": ""}))
    assert set(bad.errors) == {"settings", "duration", "reason"}
    eni_view = request_form(proposal_from(json.dumps({"kind": "eniconfig", "eniconfig": {"name": "z"}})), None)
    eni = read_form(
        _submitted(eni_view, {"eniconfig_name": "z", "subnet": "", "security_groups": "", "reason": "why not"})
    )
    assert set(eni.errors) == {"subnet"}


# --- add-on configuration values and container edits ------------------------------------------------------


def test_addon_values_keep_everything_else() -> None:
    current = json.dumps({"env": {"MINIMUM_IP_TARGET": "10", "X": "1"}, "init": {"env": {"Y": "2"}}})
    merged = json.loads(addon_config_with(current, {"aws-node": {"WARM_IP_TARGET": "2", "X": None}}))
    assert merged == {"env": {"MINIMUM_IP_TARGET": "10", "WARM_IP_TARGET": "2"}, "init": {"env": {"Y": "2"}}}
    assert json.loads(addon_config_with("", {"aws-node": {"A": "1"}})) == {"env": {"A": "1"}}
    assert json.loads(addon_config_with('{"env": {"A": "1"}}', {"aws-node": {"A": None}})) == {}


def test_addon_values_put_init_container_settings_under_init_env() -> None:
    """charts/aws-vpc-cni values: `init.env` is aws-vpc-cni-init's env, `env` the aws-node container's."""
    spec = ChangeSpec(
        env=(EnvChange("DISABLE_TCP_EARLY_DEMUX", None, "true"), EnvChange("ENABLE_IPv6", "false", "true"))
    )
    merged = json.loads(addon_config_with('{"init": {"image": {"tag": "v1"}}}', container_edits(spec)))
    assert merged == {
        "env": {"ENABLE_IPv6": "true"},
        "init": {"image": {"tag": "v1"}, "env": {"DISABLE_TCP_EARLY_DEMUX": "true", "ENABLE_IPv6": "true"}},
    }
    back = container_edits(spec.inverse())
    assert json.loads(addon_config_with(json.dumps(merged), back)) == {
        "env": {"ENABLE_IPv6": "false"},
        "init": {"image": {"tag": "v1"}, "env": {"ENABLE_IPv6": "false"}},
    }
    assert parse_addon_config("env:\n  A: '1'\n") == {"env": {"A": "1"}}  # YAML is accepted too


def test_container_edits_follow_the_knob_catalogue() -> None:
    spec = ChangeSpec(env=(EnvChange("WARM_IP_TARGET", None, "5"), EnvChange("DISABLE_TCP_EARLY_DEMUX", None, "true")))
    assert container_edits(spec) == {
        "aws-node": {"WARM_IP_TARGET": "5"},
        "aws-vpc-cni-init": {"DISABLE_TCP_EARLY_DEMUX": "true"},
    }


def test_manual_commands_for_read_only_installs() -> None:
    spec = ChangeSpec(
        env=(EnvChange("WARM_IP_TARGET", None, "5"), EnvChange("WARM_ENI_TARGET", "1", None)),
        eniconfigs=(
            EniConfigEdit("us-east-2a", None, EniConfigState("subnet-1", ("sg-1",))),
            EniConfigEdit("us-east-2b", EniConfigState("subnet-2"), None),
        ),
    )
    env, create, delete = manual_commands(spec)
    assert env == "kubectl -n kube-system set env daemonset/aws-node -c aws-node WARM_IP_TARGET=5 WARM_ENI_TARGET-"
    assert "name: us-east-2a" in create and "subnet: subnet-1" in create and "- sg-1" in create
    assert delete == "kubectl delete eniconfig us-east-2b"


# --- the approval message ----------------------------------------------------------------------------------


def record(status: Status, **detail: object) -> ChangeRecord:
    spec = ChangeSpec(env=(EnvChange("WARM_IP_TARGET", None, "5"),))
    return ChangeRecord(
        id=7,
        cluster="demo",
        kind=ChangeKind.SET,
        status=status,
        version=1,
        requester_id="U0ALICE",
        requester_name="alice",
        reason="fewer warm IPs",
        risk=Risk.HIGH,
        approvals_needed=2,
        spec=spec,
        diff_hash="ab" * 32,
        base=BaseRevision(),
        target=Target.DAEMONSET,
        summary="set `WARM_IP_TARGET=5`",
        detail=detail,
        duration=timedelta(hours=2),
        rollback_of=None,
        created_at=T0,
        expires_at=T0 + timedelta(hours=24),
        updated_at=T0,
        applied_at=None,
        revert_at=None,
        finished_at=None,
        origin_channel_id=None,
        channel_id="C1",
        message_ts="1.1",
        tracking_nodes=False,
    )


def test_pending_message_has_buttons_carrying_only_the_id() -> None:
    doc = request_doc(record(Status.PENDING, warnings=["careful"]), [ApprovalEntry("U0BOB", T0)], T0)
    (actions,) = [e for e in doc.elements if isinstance(e, Actions)]
    assert [(b.action_id, b.value) for b in actions.buttons] == [("change_approve", "7"), ("change_reject", "7")]
    text = render_text(doc)
    assert "Pending: 1/2 approvals (approved by <@U0BOB>)" in text
    assert "needs 2 different approvers" in text and "reverts by itself 2h after it is applied" in text
    assert "careful" in text and "expires 2026-12-01 09:00 UTC (in 24h)" in text


def test_decided_message_has_no_buttons_and_says_the_result() -> None:
    doc = request_doc(record(Status.VERIFIED, result="aws-node is ready."), [ApprovalEntry("U0BOB", T0)], T0)
    assert not [e for e in doc.elements if isinstance(e, Actions)]
    assert "Verified; approved by <@U0BOB>. aws-node is ready." in render_text(doc)
