"""Render `/cni version`, and the one version line `/cni config` and digests add."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.facts import Unchecked
from bot.domain.versions import VersionReport, release_notes
from bot.render.doc import Bullets, Doc, Para, Table, escape
from bot.render.state import unchecked_context


def _code(text: str | None) -> str:
    return f"`{escape(text)}`" if text else "unknown"


def how_installed(report: VersionReport) -> str:
    if report.managed is None:
        return "add-on not checked"
    return "EKS managed add-on" if report.managed else "self-managed"


def version_line(report: VersionReport) -> str:
    """One line: installed, EKS's default and latest, how far behind, whether it is still offered."""
    if report.installed is None:
        return "*VPC CNI version* unknown: neither the add-on nor the aws-node image tag could be read."
    head = f"*VPC CNI* {_code(report.installed)} ({how_installed(report)})"
    if report.offered is None:
        return f"{head}; the versions EKS offers could not be checked."
    k8s = escape(report.kubernetes_version or "?")
    parts = [f"EKS offers {_code(report.default)} as default and {_code(report.latest)} as latest for Kubernetes {k8s}"]
    if report.minors_behind:
        s = "s" if report.minors_behind != 1 else ""
        parts.append(f":arrow_up: {report.minors_behind} minor version{s} behind")
    elif report.minors_behind == 0:
        parts.append("on the latest minor version")
    if report.still_offered is False:
        parts.append(f":warning: {_code(report.installed)} is no longer offered for Kubernetes {k8s}")
    if report.next_minor and report.minors_behind:
        parts.append(f'next step: `/cni upgrade --to {escape(report.next_minor)} --reason "..."`')
    return f"{head}: " + "; ".join(parts) + "."


def version_doc(report: VersionReport, unchecked: Sequence[Unchecked]) -> Doc:
    summary = f"VPC CNI {report.installed or 'version unknown'} ({how_installed(report)})"
    if report.minors_behind:
        summary += f", {report.minors_behind} minor behind the latest {report.latest}"
    elif report.minors_behind == 0:
        summary += ", on the latest minor"
    doc = Doc(summary + ".")
    doc.add(Para(version_line(report)))
    if report.images:
        doc.add(
            Table(
                ("container", "image tag"),
                sorted(report.images.items()),
                align="ll",
                title="*Images of the aws-node DaemonSet*",
            )
        )
    if report.offered:
        rows = [(o.version, "default" if o.default else "") for o in report.offered]
        doc.add(Table(("offered version", ""), rows, align="ll", limit=8, more_hint="`--json` lists them all"))
    notes = []
    if report.next_minor and report.minors_behind:
        notes.append(f"Release notes of {escape(report.next_minor)}: {release_notes(report.next_minor)}")
    if notes:
        doc.add(Bullets(notes))
    context = unchecked_context(unchecked)
    if context is not None:
        doc.add(context)
    return doc


def version_data(report: VersionReport) -> dict[str, Any]:
    return {
        "installed": report.installed,
        "managed_addon": report.managed,
        "images": dict(report.images),
        "kubernetes_version": report.kubernetes_version,
        "default": report.default,
        "latest": report.latest,
        "minors_behind": report.minors_behind,
        "still_offered": report.still_offered,
        "next_minor": report.next_minor,
        "offered": None
        if report.offered is None
        else [{"version": o.version, "default": o.default} for o in report.offered],
    }
