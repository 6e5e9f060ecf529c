"""/cni version and the version line of /cni config, end to end: signed Slack requests, the bot reading the
simulator's EKS DescribeAddon/DescribeCluster/DescribeAddonVersions and the aws-node DaemonSet over HTTP."""

from __future__ import annotations

from typing import Any

from simulator.faults import FaultRule
from tests.e2e.test_state_commands import run_json


def test_version_of_a_self_managed_cni_reads_image_tags_and_eks_offers(make_sim: Any) -> None:
    sb = make_sim("healthy")
    answer = sb.ask("version")
    assert answer["text"].startswith("VPC CNI v1.19.2-eksbuild.1 (self-managed), 2 minor behind the latest")
    blocks = str(answer["blocks"])
    assert "aws-eks-nodeagent" in blocks and "v1.1.6-eksbuild.1" in blocks and "v1.19.6-eksbuild.1" in blocks
    assert "/cni upgrade --to v1.20.5-eksbuild.1" in blocks
    assert sb.sim.counter.count("eks", "DescribeAddonVersions") == 1
    data = run_json(sb, "version").data
    assert data["managed_addon"] is False and data["minors_behind"] == 2 and data["still_offered"] is True
    assert data["default"] == "v1.19.6-eksbuild.1" and data["kubernetes_version"] == "1.31"
    config = sb.ask("config")
    assert "2 minor versions behind" in str(config["blocks"])


def test_version_of_the_managed_addon_and_what_it_says_when_eks_cannot_be_asked(make_sim: Any) -> None:
    sb = make_sim("warm-target-misconfig")
    result = run_json(sb, "version")
    assert result.outcome == "ok" and result.data["managed_addon"] is True
    assert result.data["installed"] == "v1.19.2-eksbuild.1"
    sb.bot.cnibot.services.connections.close()
    sb2 = make_sim("warm-target-misconfig")
    sb2.sim.faults.add(
        FaultRule(api="eks", operation="DescribeAddonVersions", code="AccessDeniedException", status=403)
    )
    denied = run_json(sb2, "version")
    assert denied.outcome == "partial" and denied.data["minors_behind"] is None
    assert any(u["what"] == "versions EKS offers" for u in denied.data["could_not_check"])
    answer = sb2.ask("version")
    assert "could not be checked" in str(answer["blocks"])
