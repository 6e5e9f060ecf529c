"""Legacy (non-aggregated) discovery documents built from the resource registry.

kubectl asks for aggregated discovery first and falls back to these plain JSON documents.
"""

from __future__ import annotations

from typing import Any

from simulator.kube.resources import ResourceRegistry, ResourceType

# An EKS 1.31 control plane; kubectl's version dispatcher then runs its 1.31 client.
VERSION_INFO: dict[str, Any] = {
    "major": "1",
    "minor": "31",
    "emulationMajor": "1",
    "emulationMinor": "31",
    "gitVersion": "v1.31.9-eks-5d4a308",
    "gitCommit": "a3f0a32e5ba3ab7a2f3d91c4b3c86a4b8f9ef2f1",
    "gitTreeState": "clean",
    "buildDate": "2025-05-27T19:05:12Z",
    "goVersion": "go1.23.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions(server_address: str) -> dict[str, Any]:
    """/api"""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{version}", "version": version} for version in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: ResourceRegistry) -> dict[str, Any]:
    """/apis"""
    groups = [_group(name, versions) for name, versions in sorted(registry.group_versions().items())]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: ResourceRegistry, name: str) -> dict[str, Any] | None:
    """/apis/{group}"""
    versions = registry.group_versions().get(name)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def api_resource_list(registry: ResourceRegistry, group: str, version: str) -> dict[str, Any] | None:
    """/api/v1 and /apis/{group}/{version}"""
    types = sorted((t for t in registry.all() if t.group == group and t.version == version), key=lambda t: t.plural)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rtype in types:
        resources.append(_resource(rtype))
        resources.extend(_subresource(rtype, sub.name, sub.kind, sub.verbs) for sub in rtype.subresources)
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


def _resource(rtype: ResourceType) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "name": rtype.plural,
        "singularName": rtype.singular,
        "namespaced": rtype.namespaced,
        "kind": rtype.kind,
        "verbs": list(rtype.verbs),
    }
    if rtype.short_names:
        resource["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        resource["categories"] = list(rtype.categories)
    return resource


def _subresource(rtype: ResourceType, name: str, kind: str, verbs: tuple[str, ...]) -> dict[str, Any]:
    return {
        "name": f"{rtype.plural}/{name}",
        "singularName": "",
        "namespaced": rtype.namespaced,
        "kind": kind or rtype.kind,
        "verbs": list(verbs),
    }
