"""botocore service models cut down to the operations cnibot calls.

botocore keeps a client's whole service model in memory: EC2's has hundreds of operations and thousands of
shapes (16 MB of Python objects per boto3 session) while cnibot calls a handful. `install` puts a data loader
on a boto3 session that, when a client of a listed service is made, loads the installed botocore's own model,
keeps only the listed operations and the shapes they reach, and lets the full model go. Anything unexpected
in the model leaves it whole: a bigger process, never a broken client.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import boto3
from botocore.loaders import Loader, instance_cache

log = logging.getLogger("cnibot.aws")

# Every operation cnibot calls, per service. A call to one not listed here fails as an unknown client method
# (tests/unit/gateways/test_aws_models.py checks bot/ against these lists).
EC2_OPERATIONS = (
    "DescribeInstanceTypes",
    "DescribeNetworkInterfaces",
    "DescribeSecurityGroups",
    "DescribeSubnets",
    "DescribeVpcs",
    "GetSubnetCidrReservations",
)
EKS_OPERATIONS = (
    "DescribeAddon",
    "DescribeAddonVersions",
    "DescribeCluster",
    "DescribeFargateProfile",
    "DescribeUpdate",
    "ListFargateProfiles",
    "UpdateAddon",
)
AUTOSCALING_OPERATIONS = (
    "DescribeAutoScalingGroups",
    "TerminateInstanceInAutoScalingGroup",
)
OPERATIONS_USED: Mapping[str, Collection[str]] = {
    "ec2": EC2_OPERATIONS,
    "eks": EKS_OPERATIONS,
    "autoscaling": AUTOSCALING_OPERATIONS,
}

SERVICE_MODEL = "service-2"
_DOCS = frozenset({"documentation", "documentationUrl"})
_REFS = ("member", "key", "value")  # a list's element, a map's key and value: each {"shape": name, ...}


class ModelLayoutError(ValueError):
    """The model is not laid out as trimming expects (a listed operation or a referenced shape is missing)."""


def trim_service_model(model: Mapping[str, Any], operations: Collection[str]) -> dict[str, Any]:
    """A copy of `model` with only `operations` and the shapes their input, output and errors reach.

    Documentation is dropped from what is kept (botocore reads it only for help text); everything else is
    kept as it is, so botocore builds the same operation models from it.
    """
    all_operations, all_shapes = model["operations"], model["shapes"]
    kept_operations: dict[str, Any] = {}
    roots: list[str] = []
    for name in operations:
        if name not in all_operations:
            raise ModelLayoutError(f"no operation {name}")
        operation = all_operations[name]
        kept_operations[name] = _undocumented(operation)
        roots += [operation[io]["shape"] for io in ("input", "output") if io in operation]
        roots += [error["shape"] for error in operation.get("errors", ())]
    kept_shapes: dict[str, Any] = {}
    pending = roots
    while pending:
        name = pending.pop()
        if name in kept_shapes:
            continue
        if name not in all_shapes:
            raise ModelLayoutError(f"no shape {name}")
        shape = all_shapes[name]
        kept_shapes[name] = _undocumented(shape)
        pending += _referenced(shape)
    # Map the kept shapes in the model's order, so the trimmed model reads like the full one.
    ordered = {name: kept_shapes[name] for name in all_shapes if name in kept_shapes}
    out = {key: value for key, value in model.items() if key not in _DOCS and key not in ("operations", "shapes")}
    return out | {"operations": kept_operations, "shapes": ordered}


def _referenced(shape: Mapping[str, Any]) -> Iterator[str]:
    for member in (shape.get("members") or {}).values():
        yield member["shape"]
    for ref in _REFS:
        if ref in shape:
            yield shape[ref]["shape"]


def _undocumented(node: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an operation or a shape without its documentation (and its members' documentation)."""
    out = {key: value for key, value in node.items() if key not in _DOCS}
    if isinstance(out.get("members"), Mapping):
        out["members"] = {
            name: {key: value for key, value in ref.items() if key not in _DOCS} for name, ref in out["members"].items()
        }
    for ref in _REFS:
        if isinstance(out.get(ref), Mapping):
            out[ref] = {key: value for key, value in out[ref].items() if key not in _DOCS}
    return out


class TrimmingLoader(Loader):
    """botocore's Loader, but a listed service's model is trimmed to the operations cnibot calls."""

    def __init__(self, base: Loader, operations: Mapping[str, Collection[str]] = OPERATIONS_USED) -> None:
        # The same search paths (the list itself: boto3 appends its own to it) and file loader as the loader
        # it replaces, so every other model loads from where it did.
        super().__init__(
            extra_search_paths=base.search_paths,
            file_loader=base.file_loader,
            include_default_search_paths=False,
            include_default_extras=False,
        )
        self._extras_types = list(base.extras_types)
        self._operations = operations
        self._warned: set[str] = set()
        self._warn_lock = threading.Lock()

    @instance_cache
    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        model = super().load_service_model(service_name, type_name, api_version)
        operations = self._operations.get(service_name)
        if type_name != SERVICE_MODEL or operations is None:
            return model
        try:
            trimmed = json.dumps(trim_service_model(model, operations))
        except Exception as exc:  # whatever the model holds, the client still works (untrimmed)
            self._fall_back(service_name, exc)
            return model
        self._forget(model)
        del model
        # Built again from text once the full model is gone: the kept strings would otherwise be the full
        # model's own, scattered over its memory, and keep about half of it resident after it is freed
        # (bench/client_memory.py: +15.7 MB RSS for an EC2 client that way, +8.1 MB like this, +16.8 MB whole).
        return json.loads(trimmed)

    def _forget(self, model: Any) -> None:
        """Drop the loader's cached references to the full model (botocore's instance_cache keeps the parsed
        file, and the model under this very call's key), so it is freed once the trimmed copy is returned."""
        for key, value in list(self._cache.items()):
            if value is model or (isinstance(value, tuple) and value and value[0] is model):
                del self._cache[key]

    def _fall_back(self, service_name: str, exc: Exception) -> None:
        with self._warn_lock:
            if service_name in self._warned:
                return
            self._warned.add(service_name)
        log.info("the %s service model is used whole: it could not be trimmed (%s)", service_name, exc)


def install(session: boto3.session.Session) -> None:
    """Make the clients this session creates from now on use trimmed models (once per session)."""
    core = getattr(session, "_session", None)  # boto3 keeps its botocore session there and has no accessor
    if core is None or not hasattr(core, "get_component"):
        log.info("service models are used whole: this boto3 session has no botocore session to configure")
        return
    base = core.get_component("data_loader")
    if not isinstance(base, TrimmingLoader):
        core.register_component("data_loader", TrimmingLoader(base))
