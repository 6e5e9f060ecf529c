"""VPC CNI versions: what is installed, what EKS offers for the cluster's Kubernetes version, how far behind, and
which version an upgrade may go to (one minor at a time, AWS's guidance).

Pure: the facts come from the aws-node DaemonSet (image tags), EKS DescribeAddon and DescribeAddonVersions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.cni_version import cni_version_from_image, parse_version

# The three images of the aws-node pod, by container name, and their ECR repositories.
CONTAINERS: dict[str, str] = {
    "aws-node": "amazon-k8s-cni",
    "aws-vpc-cni-init": "amazon-k8s-cni-init",
    "aws-eks-nodeagent": "amazon/aws-network-policy-agent",
}

# The network policy agent tag each VPC CNI release ships with: the upstream chart's `nodeAgent.image.tag`
# (aws/amazon-vpc-cni-k8s, charts/aws-vpc-cni/values.yaml at each release tag).
NODE_AGENT_TAG: dict[str, str] = {
    "1.18.6": "v1.1.4",
    "1.19.0": "v1.1.5",
    "1.19.2": "v1.1.6",
    "1.19.3": "v1.2.0",
    "1.19.6": "v1.2.2",
    "1.20.0": "v1.2.3",
    "1.20.1": "v1.2.4",
    "1.20.4": "v1.2.7",
    "1.20.5": "v1.2.7",
    "1.21.0": "v1.3.0",
    "1.21.1": "v1.3.1",
    "1.22.4": "v1.4.0",
    "1.23.0": "v1.4.1",
}

# ECR account of the EKS images per region (awslabs/amazon-eks-ami, templates/al2/runtime/get-ecr-uri.sh, before
# AL2 support was removed). Commercial regions not listed here use 602401143452.
_REGISTRY_ACCOUNT: dict[str, str] = {
    "af-south-1": "877085696533",
    "ap-east-1": "800184023465",
    "ap-east-2": "533267051163",
    "ap-south-2": "900889452093",
    "ap-southeast-3": "296578399912",
    "ap-southeast-4": "491585149902",
    "ap-southeast-5": "151610086707",
    "ap-southeast-6": "333609536671",
    "ap-southeast-7": "121268973566",
    "ca-west-1": "761377655185",
    "cn-north-1": "918309763551",
    "cn-northwest-1": "961992271922",
    "eu-central-2": "900612956339",
    "eu-south-1": "590381155156",
    "eu-south-2": "455263428931",
    "il-central-1": "066635153087",
    "me-central-1": "759879836304",
    "me-south-1": "558608220178",
    "mx-central-1": "730335286997",
    "us-gov-east-1": "151742754352",
    "us-gov-west-1": "013241004608",
}
_DEFAULT_ACCOUNT = "602401143452"
RELEASE_NOTES = "https://github.com/aws/amazon-vpc-cni-k8s/releases/tag/{tag}"


def ecr_registry(region: str) -> str:
    account = _REGISTRY_ACCOUNT.get(region, _DEFAULT_ACCOUNT)
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}"


def release_of(version: str) -> str | None:
    """``v1.19.2-eksbuild.1`` -> ``1.19.2``."""
    return cni_version_from_image(f"x:{version}")


def minor_of(version: str) -> tuple[int, int] | None:
    parsed = parse_version(version)
    return (parsed[0], parsed[1]) if parsed else None


def release_notes(version: str) -> str:
    return RELEASE_NOTES.format(tag=f"v{release_of(version) or version.lstrip('v')}")


def self_managed_images(release: str, region: str) -> dict[str, str] | None:
    """The three images of a release in the region's registry, tagged as the upstream manifest tags them; None when
    the network policy agent's tag for the release is not known (then no guess is made)."""
    agent = NODE_AGENT_TAG.get(release.lstrip("v"))
    if agent is None:
        return None
    base = ecr_registry(region)
    tag = f"v{release.lstrip('v')}"
    return {
        "aws-node": f"{base}/{CONTAINERS['aws-node']}:{tag}",
        "aws-vpc-cni-init": f"{base}/{CONTAINERS['aws-vpc-cni-init']}:{tag}",
        "aws-eks-nodeagent": f"{base}/{CONTAINERS['aws-eks-nodeagent']}:{agent}",
    }


@dataclass(frozen=True)
class OfferedVersion:
    """One DescribeAddonVersions entry for the cluster's Kubernetes version."""

    version: str  # v1.19.2-eksbuild.1
    default: bool


@dataclass(frozen=True)
class VersionReport:
    installed: str | None  # the add-on version, or the aws-node image tag (self-managed)
    managed: bool | None  # None = the add-on could not be checked
    images: Mapping[str, str]  # container -> image tag
    kubernetes_version: str | None
    offered: tuple[OfferedVersion, ...] | None  # None = EKS could not be asked
    default: str | None
    latest: str | None
    minors_behind: int | None
    still_offered: bool | None
    next_minor: str | None  # the newest version of the next minor, what `/cni upgrade` proposes

    @property
    def behind(self) -> bool:
        return bool(self.minors_behind)


def _key(version: str) -> tuple[int, int, int, int]:
    parsed = parse_version(version) or (0, 0, 0)
    build = version.rsplit("eksbuild.", 1)[-1] if "eksbuild." in version else "0"
    return (*parsed, int(build) if build.isdigit() else 0)


def newest(versions: Sequence[str]) -> str | None:
    return max(versions, key=_key) if versions else None


def image_tags(images: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for name, image in images.items():
        reference = image.split("@", 1)[0]
        last = reference.rsplit("/", 1)[-1]
        out[name] = last.rsplit(":", 1)[1] if ":" in last else "(no tag)"
    return out


def next_minor_version(installed: str, offered: Sequence[str]) -> str | None:
    """The newest offered version of the minor after the installed one (or of the same minor, if none newer)."""
    minor = minor_of(installed)
    if minor is None:
        return None
    following = [v for v in offered if minor_of(v) == (minor[0], minor[1] + 1)]
    if following:
        return newest(following)
    same = [v for v in offered if minor_of(v) == minor and _key(v) > _key(installed)]
    return newest(same)


def version_report(
    *,
    addon_version: str | None,
    managed: bool | None,
    images: Mapping[str, str],
    kubernetes_version: str | None,
    offered: Sequence[OfferedVersion] | None,
) -> VersionReport:
    tags = image_tags(images)
    installed = addon_version if managed else tags.get("aws-node")
    default = latest = None
    behind: int | None = None
    still: bool | None = None
    proposal = None
    if offered is not None:
        names = [o.version for o in offered]
        default = next((o.version for o in offered if o.default), None)
        latest = newest(names)
        if installed and latest and minor_of(installed) and minor_of(latest):
            have, top = minor_of(installed), minor_of(latest)
            assert have is not None and top is not None
            behind = max(0, top[1] - have[1]) if have[0] == top[0] else None
            release = release_of(installed)
            still = installed in names if managed else any(release_of(n) == release for n in names)
            proposal = next_minor_version(installed, names)
    return VersionReport(
        installed=installed,
        managed=managed,
        images=tags,
        kubernetes_version=kubernetes_version,
        offered=tuple(offered) if offered is not None else None,
        default=default,
        latest=latest,
        minors_behind=behind,
        still_offered=still,
        next_minor=proposal,
    )


@dataclass(frozen=True)
class UpgradeCheck:
    """Whether `/cni upgrade --to TARGET` may be requested, and what to say."""

    allowed: bool
    target: str | None
    message: str
    downgrade: bool = False


def check_upgrade(report: VersionReport, wanted: str | None) -> UpgradeCheck:
    """One minor at a time: a skip is refused with the next minor proposed; a downgrade is allowed, said plainly."""
    installed = report.installed
    offered = [o.version for o in report.offered or ()]
    if installed is None or minor_of(installed) is None:
        return UpgradeCheck(False, None, "the installed VPC CNI version could not be read, so no upgrade is proposed")
    if report.offered is None:
        return UpgradeCheck(False, None, "EKS could not be asked which versions it offers; nothing was requested")
    if wanted is None:
        target = report.next_minor
        if target is None:
            return UpgradeCheck(False, None, f"{installed} is the newest version EKS offers for this cluster")
    else:
        target = _match_offered(wanted, offered, bool(report.managed))
        if target is None:
            return UpgradeCheck(
                False, None, f"EKS does not offer {wanted} for Kubernetes {report.kubernetes_version or '?'}"
            )
    have, want = minor_of(installed), minor_of(target)
    assert have is not None and want is not None
    if want[0] != have[0] or want[1] > have[1] + 1:
        proposal = report.next_minor
        return UpgradeCheck(
            False,
            proposal,
            f"{target} skips a minor version: AWS's guidance is to upgrade the VPC CNI one minor version at a time"
            + (f"; request {proposal} first" if proposal else ""),
        )
    if _key(target) == _key(installed):
        return UpgradeCheck(False, None, f"{installed} is already installed")
    if _key(target) < _key(installed):
        return UpgradeCheck(
            True,
            target,
            f"{target} is older than {installed}: a downgrade runs the older images on every node and loses "
            "what the newer version fixed or added; settings the older version does not know are ignored",
            downgrade=True,
        )
    return UpgradeCheck(True, target, f"{installed} -> {target}")


def _match_offered(wanted: str, offered: Sequence[str], managed: bool) -> str | None:
    if wanted in offered:
        return wanted
    release = release_of(wanted)
    same = [v for v in offered if release_of(v) == release]
    return newest(same) if release and same else None
