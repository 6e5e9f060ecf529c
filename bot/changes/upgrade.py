"""`/cni upgrade`: a VPC CNI version change as an approved request, and its write and check.

The draft goes one minor version at a time (AWS's guidance); a skip is refused with the next minor proposed,
a downgrade is said plainly. Managed add-on: UpdateAddon with the version, the configuration values sent again
and PRESERVE. Self-managed: the three images patched to the version's tag in the region's ECR registry.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.changes.drafts import ChangeRefused, Draft, refuse_without_served_nodes, require_aws_node
from bot.changes.state import AwsNodeState, eks_name, read_state, writer_for
from bot.domain.changes import ChangeKind, ChangeSpec, Target, VersionEdit
from bot.domain.knobs import Risk
from bot.domain.versions import (
    check_upgrade,
    ecr_registry,
    image_tags,
    release_notes,
    release_of,
    self_managed_images,
)
from bot.gateways.connections import ClusterConnection
from bot.gateways.kube import KubeGateway
from bot.gather.versions import gather_versions


def draft_upgrade(conn: ClusterConnection, wanted: str | None) -> Draft:
    facts = gather_versions(conn)
    report = facts.report
    if report.managed is None:
        raise ChangeRefused(["Could not tell whether vpc-cni is an EKS managed add-on, so no upgrade is requested."])
    check = check_upgrade(report, wanted)
    if not check.allowed or check.target is None or report.installed is None:
        raise ChangeRefused([check.message[:1].upper() + check.message[1:] + "."])
    state = read_state(conn, eniconfigs=False)
    node = require_aws_node(state, conn)
    refuse_without_served_nodes(conn)
    target = check.target
    current = {k: v for k, v in node.daemonset.images.items() if k in _CONTAINERS}
    if report.managed:
        new_images: dict[str, str] = {}
        shown = {name: f"{_repo(image)}:{target}" for name, image in current.items() if name != "aws-eks-nodeagent"}
        shown["aws-eks-nodeagent"] = "the tag EKS pairs with " + target
        kept = "the add-on's configuration values (sent again with the update) and, with PRESERVE, every setting EKS "
        kept += "does not manage"
    else:
        region = facts.region or ""
        release = release_of(target) or target
        found = self_managed_images(release, region) if region else None
        if found is None:
            raise ChangeRefused([f"cnibot does not know the images of {target}; upgrade with the upstream manifest."])
        new_images = shown = found
        kept = "the aws-node env and every other field of the DaemonSet: only the three images change"
    version = VersionEdit(
        old=report.installed,
        new=target,
        old_images=tuple(sorted(current.items())),
        new_images=tuple(sorted(new_images.items())),
    )
    spec = ChangeSpec(version=version)
    warnings = list(state.notes)
    if check.downgrade:
        warnings.append(check.message[:1].upper() + check.message[1:] + ".")
    if (
        not report.managed
        and facts.region
        and not all(i.startswith(ecr_registry(facts.region)) for i in current.values())
    ):
        warnings.append(
            "aws-node's images come from another registry today; the upgrade moves them to the region's ECR."
        )
    how = "UpdateAddon of the vpc-cni add-on" if report.managed else "a patch of the aws-node DaemonSet's images"
    detail: dict[str, Any] = {
        "warnings": warnings,
        "effect": (
            f"{report.installed} -> {target} through {how}; aws-node restarts node by node with the new images. "
            f"Kept: {kept}. Release notes: {release_notes(target)}"
        ),
        "needs_node_replacement": False,
        "images": [
            {"container": name, "now": image_tags({name: current.get(name, "")}).get(name, "?"), "after": shown[name]}
            for name in sorted(shown)
        ],
        "release_notes": release_notes(target),
        "kubernetes_version": report.kubernetes_version,
    }
    verb = "downgrade" if check.downgrade else "upgrade"
    return Draft(
        kind=ChangeKind.UPGRADE,
        spec=spec,
        risk=Risk.HIGH,
        summary=f"{verb} the VPC CNI {report.installed} -> {target}",
        base=state.revision(spec),
        target=node.target,
        detail=detail,
    )


_CONTAINERS = ("aws-node", "aws-vpc-cni-init", "aws-eks-nodeagent")


def _repo(image: str) -> str:
    reference = image.split("@", 1)[0]
    head, _, last = reference.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def write_version(
    conn: ClusterConnection,
    node: AwsNodeState,
    version: VersionEdit,
    target: Target,
    *,
    change_id: int,
    guard: Callable[[str], None],
    follow: Callable[[dict[str, Any]], None],
) -> tuple[str, int | None]:
    """Write the version; returns what was written and, for a DaemonSet patch, the new generation."""
    if target is Target.ADDON:
        aws = conn.aws()
        guard("UpdateAddon")
        update = aws.update_addon_version(
            eks_name(conn.cluster),
            version.new,
            node.addon_config or "",
            request_token=f"cnibot-change-{change_id}-version",
        )
        written = f"vpc-cni add-on updated to {version.new} (update {update.get('id', '?')})"
        follow(update)
        return written, None
    guard("aws-node image patch")
    stored = writer_for(conn).patch_aws_node_images(dict(version.new_images), node.daemonset.resource_version)
    generation = int((stored.get("metadata") or {}).get("generation") or 0)
    return f"aws-node images set to {version.new} (generation {generation})", generation


def image_problems(kube: KubeGateway, version: VersionEdit) -> list[str]:
    """aws-node pods not running the new version: by the images written (self-managed), else by the aws-node
    container's tag (the managed add-on's images carry its version as their tag)."""
    wanted: Mapping[str, str] = dict(version.new_images) or {"aws-node": version.new}
    behind = []
    for pod in kube.aws_node_pods():
        for name, image in wanted.items():
            have = pod.images.get(name, "")
            ok = have == image if "/" in image else image_tags({name: have}).get(name) == image
            if not ok:
                behind.append(pod.node_name or pod.name)
                break
    if not behind:
        return []
    listed = ", ".join(sorted(behind)[:5]) + (f" and {len(behind) - 5} more" if len(behind) > 5 else "")
    return [f"{len(behind)} aws-node pod(s) do not run {version.new} yet: {listed}"]


def version_commands(version: VersionEdit, target: Target, eks_cluster: str, region: str | None) -> list[str]:
    """The version change as commands, for installs where cnibot may not write."""
    if target is Target.ADDON:
        where = f" --region {shlex.quote(region)}" if region else ""
        return [
            f"aws eks update-addon --cluster-name {shlex.quote(eks_cluster)} --addon-name vpc-cni{where} "
            f"--addon-version {shlex.quote(version.new)} --resolve-conflicts PRESERVE"
        ]
    images = " ".join(shlex.quote(f"{name}={image}") for name, image in version.new_images)
    return [f"kubectl -n kube-system set image daemonset/aws-node {images}"]


def wait_for_update(
    poll: Callable[[], dict[str, Any]], update: dict[str, Any], *, timeout: float, wait: Callable[[], None]
) -> dict[str, Any]:
    """Follow DescribeUpdate until it leaves InProgress (or the time is up: the status then says InProgress)."""
    deadline = time.monotonic() + timeout
    while str(update.get("status")) == "InProgress" and time.monotonic() < deadline:
        wait()
        update = poll()
    return update
