"""The Diagnosis as Slack blocks and terminal text: verdict, evidence, fix, the change button, what failed."""

from __future__ import annotations

import json

import pytest

from bot.domain.diagnosis import Cause, CauseCode, Diagnosis, ProposedChange
from bot.domain.facts import Unchecked
from bot.render.diagnosis import REQUEST_CHANGE_ACTION, change_button_value, render_diagnosis, request_command
from bot.render.doc import render_blocks, render_text

CHANGE = ProposedChange.aws_node(WARM_IP_TARGET="2", MINIMUM_IP_TARGET="10")
PRIMARY = Cause(
    CauseCode.SUBNET_EXHAUSTED,
    0.93,
    "Subnet subnet-0a1 (us-east-2b) has too few free IPs for node n1 (0 free of 251; ipamd asks for 10).",
    ("subnet subnet-0a1 (us-east-2b) 0 free of 251; ipamd asks for 10 at a time", "IPs 27/27 assigned, 0 free"),
    ("Shrink the warm pools.", "Tag a subnet kubernetes.io/role/cni=1."),
    change=CHANGE,
)
LEAKED = Cause(CauseCode.LEAKED_ENIS, 0.6, "3 detached CNI ENIs hold 30 addresses.", ("3 ENIs",), ("Delete.",), True)


def _diagnosis(*causes: Cause, unchecked: tuple[Unchecked, ...] = ()) -> Diagnosis:
    return Diagnosis("prod", "shop/web-7d9f", "n1", causes or (PRIMARY, LEAKED), ("pod", "node"), unchecked)


def test_blocks_carry_verdict_numbers_fix_button_and_unchecked() -> None:
    unchecked = (Unchecked("ipamd metrics", "kube:GET pods/proxy", "forbidden (RBAC)"),)
    blocks = render_blocks(render_diagnosis(_diagnosis(unchecked=unchecked), elapsed_ms=240))
    text = json.dumps(blocks)
    assert blocks[0]["text"]["text"].startswith(":red_circle: *shop/web-7d9f*: Subnet subnet-0a1")
    assert "cause `SUBNET_EXHAUSTED`" in text and "confidence 93%" in text
    assert "0 free of 251" in text and "\\n1. Shrink the warm pools.\\n2. Tag" in text
    assert "`LEAKED_ENIS` 60%" in text and "*Contributing*" in text
    assert "ipamd metrics: `kube:GET pods/proxy` forbidden (RBAC)" in text
    assert "2 facts read in 240 ms" in text
    (button,) = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == REQUEST_CHANGE_ACTION and button["text"]["text"] == "Request this change"
    assert json.loads(button["value"]) == {
        "kind": "aws-node-env",
        "env": {"WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "10"},
        "cluster": "prod",
        "pod": "shop/web-7d9f",
        "cause": "SUBNET_EXHAUSTED",
    }


def test_text_shows_the_command_instead_of_the_button() -> None:
    text = render_text(render_diagnosis(_diagnosis()))
    assert "/cni set WARM_IP_TARGET=2 MINIMUM_IP_TARGET=10 --cluster prod --reason" in text
    assert "*" not in text.splitlines()[0]


def test_no_button_without_a_change_and_benign_causes_say_next() -> None:
    has_ip = Cause(CauseCode.POD_HAS_IP, 1.0, "shop/web-7d9f already has IP 10.0.0.5.", ("podIP 10.0.0.5",), ("Ok.",))
    blocks = render_blocks(render_diagnosis(_diagnosis(has_ip)))
    assert not [b for b in blocks if b["type"] == "actions"]
    assert blocks[0]["text"]["text"] == ":white_check_mark: shop/web-7d9f already has IP 10.0.0.5."
    assert "*Next*" in json.dumps(blocks)


def test_request_command_round_trips_the_button() -> None:
    spec = ProposedChange.eniconfig_spec("us-east-2b", "subnet-0123456789abcdef0", ("sg-0123456789abcdef0",))
    value = change_button_value(spec, cluster="prod", pod="shop/web", cause="ENICONFIG_MISSING")
    assert request_command(value) == (
        "/cni eniconfig set us-east-2b --subnet subnet-0123456789abcdef0 --security-groups sg-0123456789abcdef0 "
        "--cluster prod --reason 'why-pending shop/web: ENICONFIG_MISSING'"
    )


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        '{"kind": "aws-node-env", "env": {"NOT_A_KNOB": "1"}}',
        '{"kind": "aws-node-env", "env": {"WARM_IP_TARGET": "2; rm -rf /"}}',
        '{"kind": "eniconfig", "eniconfig": {"name": "x", "subnet": "subnet-zz"}}',
        '{"kind": "delete-everything"}',
    ],
)
def test_request_command_refuses_what_it_did_not_write(value: str) -> None:
    with pytest.raises(ValueError):
        request_command(value)
