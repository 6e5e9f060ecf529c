"""/cni config as a Slack document and as data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.config_view import ConfigView
from bot.domain.facts import Unchecked
from bot.domain.knob_catalogue import MANIFEST_OWNED_ENV
from bot.domain.state import MIGRATED, NO_ENICONFIG, NOT_CHECKED, ON_PRIMARY_SUBNET
from bot.domain.wording import plural
from bot.render.doc import Bullets, Doc, Element, Para, Table
from bot.render.state import (
    SEVERITY_ICON,
    TABLE_ROWS,
    finish_with_unchecked,
    optional_text,
    problem_bullets,
    problems_data,
)


def config_doc(view: ConfigView, *, show_all: bool, ip_knobs: Sequence[str], unchecked: Sequence[Unchecked]) -> Doc:
    changed = [s for s in view.settings if s.non_default]
    version = f"aws-node v{view.cni_version}" if view.cni_version else "aws-node (version unknown)"
    cn = "custom networking on" if view.custom_networking else "custom networking off"
    doc = Doc(f"{version} · {_addon_short(view)} · {cn} · {plural(len(changed), 'non-default setting')}.")
    if view.rollout is not None:
        desired, updated, ready = view.rollout
        if updated < desired or ready < desired:
            doc.add(
                Para(f":hourglass: Rolling out: {updated:,} of {desired:,} aws-node pods updated, {ready:,} ready.")
            )
    shown = [s for s in view.settings if show_all or s.non_default or s.name in ip_knobs]
    doc.add(
        Table(
            ("setting", "value", "default"),
            [(f"{s.name} *" if s.non_default else s.name, s.value, s.default) for s in shown],
            align="lll",
            limit=len(shown) if show_all else 24,
            title="*Effective settings* (* = differs from a stock install)"
            + ("" if show_all else "; `/cni config --all` shows every knob"),
        )
    )
    issues = [f":red_circle: aws-node exits at start: {e}" for e in view.startup_errors]
    issues += [
        f"{SEVERITY_ICON[p.severity]} {p.message}" + (f" _Fix:_ {p.fix}" if p.fix else "") for p in view.problems
    ]
    issues += [f"ℹ️ {note}" for note in view.notes]
    if view.unrecognised:
        issues.append(f"ℹ️ Env not known to the bot: {', '.join(view.unrecognised)}.")
    hidden = [name for name in view.env_from_refs if name not in MANIFEST_OWNED_ENV]
    if hidden:
        issues.append(f"ℹ️ Set from secrets or config maps, so not shown: {', '.join(hidden)}.")
    if issues:
        doc.add(Bullets(issues, limit=8))
    doc.add(Para(_addon_line(view)))
    if view.eniconfigs or view.custom_networking:
        doc.add(*_eniconfig_elements(view))
    doc.add(Para(_drift_line(view)))
    return finish_with_unchecked(doc, unchecked)


def _addon_short(view: ConfigView) -> str:
    if not view.addon_checked:
        return "add-on not checked"
    return "EKS managed add-on" if view.addon else "self-managed"


def _addon_line(view: ConfigView) -> str:
    if not view.addon_checked:
        return "*Installed as* unknown: the EKS add-on could not be checked."
    if view.addon is None:
        return "*Installed as* self-managed (no EKS add-on `vpc-cni`): changes patch the aws-node DaemonSet."
    addon = view.addon
    values = " with configuration values" if addon.configuration_values else ""
    return (
        f"*Installed as* EKS managed add-on `vpc-cni` {addon.version} ({addon.status}){values}: changes go through "
        "the add-on's configuration values, or an add-on update would overwrite them."
    )


def _eniconfig_elements(view: ConfigView) -> list[Element]:
    elements: list[Element] = []
    if view.eniconfigs:
        elements.append(
            Table(
                ("ENIConfig", "subnet", "AZ", "free", "nodes"),
                [
                    (c.name, c.subnet_id or "none", c.az or "?", optional_text(c.free_ips), c.nodes)
                    for c in view.eniconfigs
                ],
                align="lllrr",
                limit=TABLE_ROWS,
                more_hint="`--json` lists them all",
                title="*ENIConfigs* (custom networking)",
            )
        )
        problems = [p for c in view.eniconfigs for p in c.problems]
        if problems:
            elements.append(problem_bullets(problems))
    if not view.custom_networking:
        elements.append(Para("ENIConfigs exist, but custom networking is off: they are not used."))
        return elements
    elements.append(Para(_migration_summary(view)))
    pending = [m for m in view.migration if m.status in (ON_PRIMARY_SUBNET, NO_ENICONFIG)]
    if pending:
        items = [
            f"`{m.node}` "
            + (
                f"no ENIConfig `{m.eniconfig}`"
                if m.status == NO_ENICONFIG
                else f"{m.pods_outside:,} pods on {', '.join(m.subnets_outside)}"
            )
            + (f", created {m.created_at:%Y-%m-%d}" if m.created_at else "")
            for m in pending
        ]
        elements.append(Bullets(items, limit=8, more_hint="`/cni config --json` lists them all"))
    return elements


def _migration_summary(view: ConfigView) -> str:
    statuses = [m.status for m in view.migration]
    done, old = statuses.count(MIGRATED), statuses.count(ON_PRIMARY_SUBNET)
    missing, unknown = statuses.count(NO_ENICONFIG), statuses.count(NOT_CHECKED)
    text = f"*Custom networking* {done:,} of {len(statuses):,} nodes take pod IPs from their ENIConfig subnet."
    if old:
        text += (
            f" {old:,} still allocate from the primary subnet (created before custom networking was enabled): "
            "replace them (cordon, drain, terminate)."
        )
    if missing:
        text += f" {missing:,} resolve to an ENIConfig that does not exist: ipamd cannot add ENIs there."
    if unknown:
        text += f" {unknown:,} not checked (their ENIs could not be read)."
    return text


def _drift_line(view: ConfigView) -> str:
    if view.drift is None:
        return "*Drift* not tracked yet: once changes go through approvals, this compares with the last approved one."
    if not view.drift.changes:
        return "*Drift* none: aws-node matches the last approved change."
    changes = ", ".join(f"{c.key} {c.old or 'unset'} → {c.new or 'unset'}" for c in view.drift.changes[:5])
    return f":warning: *Drift* from the last approved change: {changes}."


def config_data(view: ConfigView) -> dict[str, Any]:
    return {
        "cni_version": view.cni_version,
        "image": view.image,
        "rollout": None
        if view.rollout is None
        else dict(zip(("desired", "updated", "ready"), view.rollout, strict=True)),
        "managed_addon": None
        if view.addon is None
        else {
            "version": view.addon.version,
            "status": view.addon.status,
            "configuration_values": view.addon.configuration_values,
        },
        "addon_checked": view.addon_checked,
        "settings": [
            {"name": s.name, "value": s.value, "default": s.default, "non_default": s.non_default, "set": s.set_in_env}
            for s in view.settings
        ],
        "startup_errors": list(view.startup_errors),
        "problems": problems_data(view.problems),
        "notes": list(view.notes),
        "unrecognised_env": list(view.unrecognised),
        "custom_networking": view.custom_networking,
        "eniconfigs": [
            {
                "name": c.name,
                "subnet_id": c.subnet_id,
                "availability_zone": c.az,
                "free_ips": c.free_ips,
                "security_groups": list(c.security_groups),
                "nodes": c.nodes,
                "problems": problems_data(c.problems),
            }
            for c in view.eniconfigs
        ],
        "migration": [
            {
                "node": m.node,
                "eniconfig": m.eniconfig,
                "status": m.status,
                "pod_addresses_outside": m.addresses_outside,
                "pods_outside": m.pods_outside,
                "subnets_outside": list(m.subnets_outside),
                "created_at": m.created_at.isoformat() if m.created_at else None,
            }
            for m in view.migration
        ],
        "drift": None
        if view.drift is None
        else [{"key": c.key, "approved": c.old, "running": c.new} for c in view.drift.changes],
    }
