"""The digest's VPC CNI line: when the cluster is behind, and when EKS offers a version new since the last digest."""

from __future__ import annotations

from bot.digests.content import DigestSummary, version_news
from bot.domain.versions import OfferedVersion, version_report


def _report(installed: str, latest: str):  # type: ignore[no-untyped-def]
    offered = (OfferedVersion(latest, False), OfferedVersion(installed, True))
    return version_report(addon_version=installed, managed=True, images={}, kubernetes_version="1.31", offered=offered)


def _previous(latest: str | None) -> DigestSummary:
    return DigestSummary("ok", {}, 0, (), (), None, latest_version=latest)


def test_behind_gives_one_line_with_the_next_step() -> None:
    line = version_news(_report("v1.19.2-eksbuild.1", "v1.20.5-eksbuild.1"), _previous("v1.20.5-eksbuild.1"))
    assert (
        line
        == "VPC CNI v1.19.2-eksbuild.1 is 1 minor version behind v1.20.5-eksbuild.1; next step: v1.20.5-eksbuild.1."
    )


def test_a_version_new_since_the_last_digest_is_said_even_when_current() -> None:
    line = version_news(_report("v1.20.0-eksbuild.1", "v1.20.5-eksbuild.1"), _previous("v1.20.0-eksbuild.1"))
    assert line == "EKS offers v1.20.5-eksbuild.1, new since the last digest."


def test_current_and_nothing_new_says_nothing() -> None:
    assert version_news(_report("v1.20.0-eksbuild.1", "v1.20.5-eksbuild.1"), _previous("v1.20.5-eksbuild.1")) is None
    assert version_news(None, None) is None
    assert DigestSummary.from_json(_previous("v1").to_json()).latest_version == "v1"
