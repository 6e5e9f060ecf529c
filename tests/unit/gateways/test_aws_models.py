"""Trimmed botocore models: the operations cnibot calls keep their whole shapes, everything else goes, and every
client method the bot calls is in the lists."""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape

from bot.gateways import aws_models
from bot.gateways.aws_models import OPERATIONS_USED, TrimmingLoader, trim_service_model

ROOT = Path(__file__).resolve().parents[3]
# The attribute each client is kept in, in the bot's code.
CLIENT_ATTRIBUTES = {"_ec2": "ec2", "_eks": "eks", "_autoscaling": "autoscaling"}


def _full(service: str) -> dict[str, Any]:
    model: dict[str, Any] = Loader().load_service_model(service, "service-2")
    return model


def _describe(shape: Shape, seen: frozenset[str] = frozenset()) -> Any:
    """A shape and everything under it, as comparable data (documentation left out)."""
    if shape.name in seen:
        return ("recursive", shape.name)
    seen = seen | {shape.name}
    out: dict[str, Any] = {
        "name": shape.name,
        "type": shape.type_name,
        "serialization": shape.serialization,
        "metadata": {k: v for k, v in shape.metadata.items() if k != "documentation"},
    }
    if shape.type_name == "structure":
        out["members"] = {name: _describe(member, seen) for name, member in shape.members.items()}
        out["required"] = shape.required_members
    elif shape.type_name == "list":
        out["member"] = _describe(shape.member, seen)
    elif shape.type_name == "map":
        out["key"], out["value"] = _describe(shape.key, seen), _describe(shape.value, seen)
    return out


@pytest.mark.parametrize("service", sorted(OPERATIONS_USED))
def test_listed_operations_keep_their_whole_shapes(service: str) -> None:
    full_model = _full(service)
    full = ServiceModel(full_model, service_name=service)
    trimmed = ServiceModel(trim_service_model(full_model, OPERATIONS_USED[service]), service_name=service)
    assert sorted(trimmed.operation_names) == sorted(OPERATIONS_USED[service])
    assert trimmed.metadata == full.metadata
    for name in OPERATIONS_USED[service]:
        want, got = full.operation_model(name), trimmed.operation_model(name)
        assert got.http == want.http and got.metadata == want.metadata
        for io in ("input_shape", "output_shape"):
            a, b = getattr(want, io), getattr(got, io)
            assert (a is None and b is None) or _describe(a) == _describe(b), (name, io)
        assert [_describe(e) for e in got.error_shapes] == [_describe(e) for e in want.error_shapes]


def test_ec2_keeps_a_small_part_of_the_model_without_documentation() -> None:
    full = _full("ec2")
    trimmed = trim_service_model(full, OPERATIONS_USED["ec2"])
    assert "RunInstances" not in trimmed["operations"] and "RunInstancesRequest" not in trimmed["shapes"]
    assert len(trimmed["shapes"]) < len(full["shapes"]) / 5
    # The DescribeNetworkInterfaces reply's ENI shape and its nested address list are there.
    assert "NetworkInterface" in trimmed["shapes"] and "NetworkInterfacePrivateIpAddress" in trimmed["shapes"]
    assert "documentation" not in str(trimmed)
    # The full model is untouched (trimming copies).
    assert "documentation" in full["operations"]["DescribeNetworkInterfaces"]


def test_a_missing_operation_is_a_layout_error() -> None:
    with pytest.raises(aws_models.ModelLayoutError, match="NoSuchOperation"):
        trim_service_model(_full("autoscaling"), ["NoSuchOperation"])


def _client(session: boto3.session.Session, service: str) -> Any:
    return session.client(service, region_name="us-east-2", aws_access_key_id="t", aws_secret_access_key="t")


def test_installed_loader_gives_trimmed_clients_and_keeps_no_full_model() -> None:
    session = boto3.session.Session()
    aws_models.install(session)
    aws_models.install(session)  # once per session: a second call changes nothing
    loader = session._session.get_component("data_loader")
    assert isinstance(loader, TrimmingLoader)
    ec2 = _client(session, "ec2")
    assert sorted(ec2.meta.service_model.operation_names) == sorted(OPERATIONS_USED["ec2"])
    assert hasattr(ec2, "describe_network_interfaces") and not hasattr(ec2, "run_instances")
    # The paginators of kept operations still load (paginators-1 is a separate file, not trimmed).
    assert ec2.can_paginate("describe_network_interfaces")
    assert ec2.get_paginator("describe_subnets") is not None
    # Nothing in the loader's cache holds the full EC2 model any more.
    cached = [v[0] if isinstance(v, tuple) and v else v for v in loader._cache.values()]
    assert not [m for m in cached if isinstance(m, dict) and "RunInstances" in (m.get("operations") or {})]
    # Other services load whole, from the same search paths (sts is not listed).
    assert "AssumeRole" in _client(session, "sts").meta.service_model.operation_names


def test_an_unexpected_model_falls_back_to_the_whole_model_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    session = boto3.session.Session()
    core = session._session
    core.register_component(
        "data_loader", TrimmingLoader(core.get_component("data_loader"), {"autoscaling": ["NoSuchOperation"]})
    )
    with caplog.at_level(logging.INFO, logger="cnibot.aws"):
        first = _client(session, "autoscaling")
        second = _client(session, "autoscaling")
    assert "DescribeAutoScalingGroups" in first.meta.service_model.operation_names
    assert len(second.meta.service_model.operation_names) == len(first.meta.service_model.operation_names)
    notes = [r for r in caplog.records if "autoscaling service model is used whole" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == logging.INFO


def _called_operations(full_names: dict[str, dict[str, str]]) -> Iterator[tuple[str, str, str]]:
    """(service, operation, where) for every client method the bot's code calls: `self._ec2.<method>`, a method
    named to `_pages`, and an API label such as "ec2:DescribeSubnets"."""
    for path in sorted((ROOT / "bot").rglob("*.py")) + sorted((ROOT / "commands").rglob("*.py")):
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(), filename=where)):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                service = CLIENT_ATTRIBUTES.get(node.value.attr)
                if service and node.attr != "meta":
                    yield service, full_names[service].get(node.attr, node.attr), where
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_pages":
                method = node.args[1]
                assert isinstance(method, ast.Constant), f"{where}: _pages takes the method name as a literal"
                yield "ec2", full_names["ec2"].get(method.value, method.value), where
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                service, _, operation = node.value.partition(":")
                if service in OPERATIONS_USED and operation.isidentifier() and operation[:1].isupper():
                    yield service, operation, where


def test_every_client_call_in_the_bot_is_a_listed_operation() -> None:
    # snake_case method -> operation, by botocore's own mapping on the full models.
    full_names = {s: {xform_name(op): op for op in _full(s)["operations"]} for s in OPERATIONS_USED}
    found = list(_called_operations(full_names))
    assert {("ec2", "DescribeNetworkInterfaces"), ("eks", "UpdateAddon")} <= {(s, o) for s, o, _ in found}
    missing = sorted({(s, o, w) for s, o, w in found if o not in OPERATIONS_USED[s]})
    assert not missing, f"add these to bot/gateways/aws_models.py: {missing}"
    # and nothing listed that the full model does not have (a typo would only show as a fallback at run time)
    for service, operations in OPERATIONS_USED.items():
        assert set(operations) <= set(full_names[service].values()), service
