"""Applying by hand: the commands cnibot would run, for installs that may not write (same containers, same
add-on configuration, same ENIConfigs).
"""

from __future__ import annotations

import shlex

from bot.changes.containers import edits_by_container
from bot.changes.state import addon_config_with, container_edits, eks_name
from bot.changes.upgrade import version_commands
from bot.config import ClusterConfig
from bot.domain.change_records import ChangeRecord
from bot.domain.changes import ChangeSpec, Target


def manual_text(record: ChangeRecord, why: str, cluster: ClusterConfig | None = None) -> str:
    """How to apply an approved change by hand on an install that may not write."""
    lines = [f":lock: Change #{record.id} is approved, but cnibot does not apply it here: {why}. To apply it by hand:"]
    addon_config = record.base.aws_node.addon_config if record.base.aws_node else None
    commands = manual_commands(
        record.spec,
        target=record.target,
        addon_config=addon_config,
        eks_cluster=eks_name(cluster) if cluster else record.cluster,
        region=cluster.region if cluster else None,
    )
    lines += [f"```{command}```" for command in commands]
    lines.append("When it is done, click *Mark applied* on the request: cnibot then checks that it took.")
    return "\n".join(lines)


def manual_commands(
    spec: ChangeSpec,
    *,
    target: Target = Target.DAEMONSET,
    addon_config: str | None = None,
    eks_cluster: str = "",
    region: str | None = None,
) -> list[str]:
    """The writes cnibot would make, as commands: the same containers, the same add-on configuration."""
    commands = []
    updates = spec.env_updates()
    if updates and target is Target.ADDON:
        # EKS overwrites hand edits of a managed add-on's DaemonSet: change its configuration instead.
        config = addon_config_with(addon_config or "", container_edits(spec))
        where = f" --region {shlex.quote(region)}" if region else ""
        commands.append(
            f"aws eks update-addon --cluster-name {shlex.quote(eks_cluster)} --addon-name vpc-cni{where} "
            f"--resolve-conflicts PRESERVE --configuration-values {shlex.quote(config)}"
        )
    elif updates:
        for container, edits in edits_by_container(updates).items():
            words = [shlex.quote(f"{k}={v}") for k, v in edits.items() if v is not None]
            words += [f"{k}-" for k, v in edits.items() if v is None]
            commands.append(f"kubectl -n kube-system set env daemonset/aws-node -c {container} {' '.join(words)}")
    if spec.version is not None:
        commands += version_commands(spec.version, target, eks_cluster, region)
    for edit in spec.eniconfigs:
        if edit.new is None:
            commands.append(f"kubectl delete eniconfig {edit.name}")
        else:
            groups = "".join(f"\n    - {sg}" for sg in edit.new.security_groups)
            sg_block = f"\n  securityGroups:{groups}" if groups else ""
            commands.append(
                "kubectl apply -f - <<EOF\napiVersion: crd.k8s.amazonaws.com/v1alpha1\nkind: ENIConfig\n"
                f"metadata:\n  name: {edit.name}\nspec:\n  subnet: {edit.new.subnet}{sg_block}\nEOF"
            )
    return commands
