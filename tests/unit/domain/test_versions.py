"""Version awareness and the one-minor-at-a-time rule, as pure logic."""

from __future__ import annotations

from bot.domain.versions import (
    OfferedVersion,
    check_upgrade,
    ecr_registry,
    image_tags,
    release_notes,
    self_managed_images,
    version_report,
)

OFFERED = (
    OfferedVersion("v1.21.1-eksbuild.1", False),
    OfferedVersion("v1.20.5-eksbuild.1", False),
    OfferedVersion("v1.20.0-eksbuild.1", False),
    OfferedVersion("v1.19.6-eksbuild.1", True),
    OfferedVersion("v1.19.2-eksbuild.1", False),
)
IMAGES = {
    "aws-node": "602401143452.dkr.ecr.us-east-2.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1",
    "aws-vpc-cni-init": "602401143452.dkr.ecr.us-east-2.amazonaws.com/amazon-k8s-cni-init:v1.19.2-eksbuild.1",
    "aws-eks-nodeagent": "602401143452.dkr.ecr.us-east-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.6",
}


def _report(installed: str = "v1.19.2-eksbuild.1", managed: bool | None = True, offered=OFFERED):  # type: ignore[no-untyped-def]
    return version_report(
        addon_version=installed, managed=managed, images=IMAGES, kubernetes_version="1.31", offered=offered
    )


def test_report_counts_minor_versions_behind_and_finds_default_and_latest() -> None:
    report = _report()
    assert (report.default, report.latest) == ("v1.19.6-eksbuild.1", "v1.21.1-eksbuild.1")
    assert report.minors_behind == 2 and report.still_offered is True
    assert report.next_minor == "v1.20.5-eksbuild.1"


def test_self_managed_reads_the_image_tag_and_matches_offers_by_release() -> None:
    report = _report(installed="ignored", managed=False)
    assert report.installed == "v1.19.2-eksbuild.1"
    assert image_tags(IMAGES)["aws-eks-nodeagent"] == "v1.1.6"
    gone = _report(installed="v1.18.6-eksbuild.1", offered=OFFERED[:3])
    assert gone.still_offered is False and gone.minors_behind == 3


def test_unknown_offers_leave_the_comparison_open() -> None:
    report = _report(offered=None)
    assert report.minors_behind is None and report.still_offered is None and report.latest is None


def test_skipping_a_minor_is_refused_and_the_next_minor_proposed() -> None:
    check = check_upgrade(_report(), "v1.21.1-eksbuild.1")
    assert not check.allowed and check.target == "v1.20.5-eksbuild.1"
    assert "one minor version at a time" in check.message


def test_next_minor_is_the_default_target_and_a_release_matches_its_build() -> None:
    assert check_upgrade(_report(), None).target == "v1.20.5-eksbuild.1"
    check = check_upgrade(_report(), "v1.20.0")
    assert check.allowed and check.target == "v1.20.0-eksbuild.1"


def test_downgrade_is_allowed_but_said_plainly_and_unknown_targets_refused() -> None:
    down = check_upgrade(_report(installed="v1.20.0-eksbuild.1"), "v1.19.6-eksbuild.1")
    assert down.allowed and down.downgrade and "downgrade" in down.message
    assert not check_upgrade(_report(), "v1.99.0").allowed
    assert not check_upgrade(_report(installed="v1.21.1-eksbuild.1"), None).allowed
    assert not check_upgrade(_report(offered=None), None).allowed


def test_images_come_from_the_regions_registry() -> None:
    assert ecr_registry("us-west-2") == "602401143452.dkr.ecr.us-west-2.amazonaws.com"
    assert ecr_registry("ap-east-1") == "800184023465.dkr.ecr.ap-east-1.amazonaws.com"
    assert ecr_registry("cn-northwest-1") == "961992271922.dkr.ecr.cn-northwest-1.amazonaws.com.cn"
    images = self_managed_images("1.20.0", "af-south-1")
    assert images is not None
    assert images["aws-node"] == "877085696533.dkr.ecr.af-south-1.amazonaws.com/amazon-k8s-cni:v1.20.0"
    assert images["aws-eks-nodeagent"].endswith("/amazon/aws-network-policy-agent:v1.2.3")
    assert self_managed_images("1.17.0", "us-east-2") is None  # no guess of the agent's tag
    assert release_notes("v1.20.0-eksbuild.1").endswith("/releases/tag/v1.20.0")
