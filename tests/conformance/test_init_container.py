"""Conformance: which settings the aws-vpc-cni-init container reads (cmd/aws-vpc-cni-init/main.go: _main and
configureIPv6Settings read DISABLE_TCP_EARLY_DEMUX, ENABLE_IPv6, ENABLE_V6_EGRESS and HOST_CNI_BIN_PATH), so that
changes write, verify and instruct on the container that reads each one."""

from bot.domain.knob_catalogue import KNOBS, UNMODELLED_KNOBS
from bot.domain.knobs import INIT_CONTAINER

READ_BY_INIT = {"DISABLE_TCP_EARLY_DEMUX", "ENABLE_IPv6", "ENABLE_V6_EGRESS", "HOST_CNI_BIN_PATH"}


def test_the_init_container_settings_are_upstreams() -> None:
    knobs = {**KNOBS, **UNMODELLED_KNOBS}
    assert {name for name, knob in knobs.items() if INIT_CONTAINER in knob.containers} == READ_BY_INIT
