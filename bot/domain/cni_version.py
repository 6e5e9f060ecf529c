"""The VPC CNI version of an aws-node image, and comparing versions."""

from __future__ import annotations

import re

# --- versions -----------------------------------------------------------------------------------------

_IMAGE_TAG_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.\-]*)?$")


def cni_version_from_image(image: str) -> str | None:
    """``...amazon-k8s-cni:v1.19.2-eksbuild.1`` -> ``"1.19.2"``; None without a version tag."""
    reference = image.split("@", 1)[0]  # drop a digest
    last_part = reference.rsplit("/", 1)[-1]
    if ":" not in last_part:
        return None
    tag = last_part.rsplit(":", 1)[1]
    match = _IMAGE_TAG_VERSION.match(tag)
    return ".".join(match.groups()) if match else None


def parse_version(version: str) -> tuple[int, int, int] | None:
    match = _IMAGE_TAG_VERSION.match(version.strip())
    if not match:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def version_at_least(version: str, minimum: str) -> bool:
    """Compare release versions (``v`` prefix and ``-eksbuild.N`` suffix allowed); ValueError if unparsable."""
    have, want = parse_version(version), parse_version(minimum)
    if have is None or want is None:
        raise ValueError(f"cannot compare versions {version!r} and {minimum!r}")
    return have >= want
