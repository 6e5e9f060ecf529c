"""Approved changes to aws-node and ENIConfigs, as pure decisions.

A change request stores exactly what will be written (the diff), a hash of it, and the revision of what it
was computed against. This module decides everything that needs no I/O: the change model and its hash, the
status machine with its allowed transitions, who may approve or reject, when a request is stale or expired,
and how a change is rolled back.

Just over 500 lines: the change model, its status machine and the approval rules are the one vocabulary the
change flow shares; kept together so each decision has one place.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.knobs import Risk
from bot.domain.settings_change import EnvChange, setting_drifted

# --- the change ----------------------------------------------------------------------------------------


class ChangeKind(StrEnum):
    SET = "set"  # aws-node env values set and/or unset
    ENICONFIG = "eniconfig"
    CUSTOM_NETWORKING = "custom-networking"  # the env knobs plus one ENIConfig per zone
    UPGRADE = "upgrade"  # the VPC CNI version (add-on version, or the three images when self-managed)
    NODES_REPLACE = "nodes-replace"  # cordon, drain, terminate and wait for the replacement, node by node
    ROLLBACK = "rollback"  # restores what another change replaced, through approval
    REVERT = "revert"  # the automatic rollback of a `--for` change


class Target(StrEnum):
    """How aws-node env changes are written."""

    DAEMONSET = "daemonset"  # self-managed: strategic-merge patch of the DaemonSet
    ADDON = "addon"  # EKS managed add-on: UpdateAddon with configuration values
    NONE = "none"  # the change touches no aws-node env


@dataclass(frozen=True)
class EniConfigState:
    subnet: str
    security_groups: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"subnet": self.subnet, "securityGroups": list(self.security_groups)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> EniConfigState | None:
        if data is None:
            return None
        return cls(str(data["subnet"]), tuple(str(sg) for sg in data.get("securityGroups") or ()))

    def describe(self) -> str:
        groups = f", security groups {', '.join(self.security_groups)}" if self.security_groups else ""
        return f"subnet {self.subnet}{groups}"


@dataclass(frozen=True)
class EniConfigEdit:
    name: str
    old: EniConfigState | None  # None: it does not exist
    new: EniConfigState | None  # None: delete it

    @property
    def verb(self) -> str:
        if self.old is None:
            return "create"
        return "delete" if self.new is None else "update"


@dataclass(frozen=True)
class VersionEdit:
    """A VPC CNI version change. `images` (container -> image) are written only when self-managed; the managed
    add-on gets the version and EKS sets the images."""

    old: str
    new: str
    old_images: tuple[tuple[str, str], ...] = ()
    new_images: tuple[tuple[str, str], ...] = ()

    def inverse(self) -> VersionEdit:
        return VersionEdit(self.new, self.old, self.new_images, self.old_images)

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "old_images": dict(self.old_images),
            "new_images": dict(self.new_images),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> VersionEdit | None:
        if not data:
            return None
        return cls(
            str(data["old"]),
            str(data["new"]),
            tuple(sorted((str(k), str(v)) for k, v in (data.get("old_images") or {}).items())),
            tuple(sorted((str(k), str(v)) for k, v in (data.get("new_images") or {}).items())),
        )


@dataclass(frozen=True)
class ChangeSpec:
    """What a change writes: aws-node env edits (new None = unset), ENIConfig edits, a VPC CNI version."""

    env: tuple[EnvChange, ...] = ()
    eniconfigs: tuple[EniConfigEdit, ...] = ()
    version: VersionEdit | None = None
    replace_nodes: tuple[str, ...] = ()  # node names, in the order they are replaced

    @property
    def empty(self) -> bool:
        return not self.env and not self.eniconfigs and self.version is None and not self.replace_nodes

    @property
    def touches_aws_node(self) -> bool:
        return bool(self.env) or self.version is not None

    def env_updates(self) -> dict[str, str | None]:
        return {change.key: change.new for change in self.env}

    def inverse(self) -> ChangeSpec:
        """The change that puts back what this one replaced."""
        return ChangeSpec(
            env=tuple(EnvChange(c.key, c.new, c.old) for c in self.env),
            eniconfigs=tuple(EniConfigEdit(e.name, e.new, e.old) for e in self.eniconfigs),
            version=self.version.inverse() if self.version else None,
        )  # a replaced node is not put back: nothing to invert

    def lines(self, inert: Callable[[str], str] = str) -> list[str]:
        """One line per edit, `old -> new`, for messages and the audit. `inert` makes values (typed by people,
        the only free text here: keys and ENIConfig parts are checked against their grammar) safe for Slack."""
        out = [f"`{c.key}`: {_shown(c.old, inert)} -> {_shown(c.new, inert)}" for c in self.env]
        for name in self.replace_nodes:
            out.append(f"node `{inert(name)}`: cordon, drain, terminate, wait for its replacement")
        if self.version is not None:
            out.append(f"VPC CNI version: `{inert(self.version.old)}` -> `{inert(self.version.new)}`")
            old_images = dict(self.version.old_images)
            for name, image in self.version.new_images:
                out.append(f"image of `{name}`: `{inert(old_images.get(name, '?'))}` -> `{inert(image)}`")
        for edit in self.eniconfigs:
            if edit.verb == "create":
                assert edit.new is not None
                out.append(f"ENIConfig `{edit.name}`: create with {edit.new.describe()}")
            elif edit.verb == "delete":
                assert edit.old is not None
                out.append(f"ENIConfig `{edit.name}`: delete (was {edit.old.describe()})")
            else:
                assert edit.old is not None and edit.new is not None
                out.append(f"ENIConfig `{edit.name}`: {edit.old.describe()} -> {edit.new.describe()}")
        return out

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "env": [{"key": c.key, "old": c.old, "new": c.new} for c in self.env],
            "eniconfigs": [
                {
                    "name": e.name,
                    "old": e.old.to_json() if e.old else None,
                    "new": e.new.to_json() if e.new else None,
                }
                for e in self.eniconfigs
            ],
        }
        if self.version is not None:  # only then: the hash of every other change stays what it was
            out["version"] = self.version.to_json()
        if self.replace_nodes:
            out["replace_nodes"] = list(self.replace_nodes)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeSpec:
        return cls(
            env=tuple(EnvChange(str(c["key"]), c.get("old"), c.get("new")) for c in data.get("env") or ()),
            eniconfigs=tuple(
                EniConfigEdit(
                    str(e["name"]),
                    EniConfigState.from_json(e.get("old")),
                    EniConfigState.from_json(e.get("new")),
                )
                for e in data.get("eniconfigs") or ()
            ),
            version=VersionEdit.from_json(data.get("version")),
            replace_nodes=tuple(str(n) for n in data.get("replace_nodes") or ()),
        )


def _shown(value: str | None, inert: Callable[[str], str] = str) -> str:
    return "_unset_" if value is None else f"`{inert(value)}`"


def spec_hash(spec: ChangeSpec) -> str:
    """SHA-256 of the canonical JSON of the diff: the approval is bound to exactly this."""
    canonical = json.dumps(spec.to_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- the revision a change was computed against --------------------------------------------------------


@dataclass(frozen=True)
class AwsNodeRevision:
    generation: int
    env: Mapping[str, str]  # aws-node container env, plus knobs that live on the init container
    image: str = ""
    addon_config: str | None = None  # the managed add-on's configuration values; None when self-managed

    def to_json(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "env": dict(self.env),
            "image": self.image,
            "addon_config": self.addon_config,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AwsNodeRevision:
        return cls(
            generation=int(data["generation"]),
            env={str(k): str(v) for k, v in (data.get("env") or {}).items()},
            image=str(data.get("image") or ""),
            addon_config=data.get("addon_config"),
        )


@dataclass(frozen=True)
class BaseRevision:
    """What the change was computed against: aws-node (when touched) and each touched ENIConfig."""

    aws_node: AwsNodeRevision | None = None
    eniconfigs: Mapping[str, EniConfigState | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "aws_node": self.aws_node.to_json() if self.aws_node else None,
            "eniconfigs": {name: s.to_json() if s else None for name, s in sorted(self.eniconfigs.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BaseRevision:
        node = data.get("aws_node")
        return cls(
            aws_node=AwsNodeRevision.from_json(node) if node else None,
            eniconfigs={k: EniConfigState.from_json(v) for k, v in (data.get("eniconfigs") or {}).items()},
        )


def what_changed(base: BaseRevision, now: BaseRevision) -> list[str]:
    """Why a request computed against ``base`` no longer applies to ``now`` (empty: it still does).

    Any edit of the aws-node spec after the request (a new generation) makes it stale, even one that
    leaves the env alone: the approvers approved a diff against the spec they saw.
    """
    reasons: list[str] = []
    if base.aws_node is not None:
        reasons += _aws_node_changes(base.aws_node, now.aws_node)
    for name, before in sorted(base.eniconfigs.items()):
        after = now.eniconfigs.get(name)
        if before == after:
            continue
        if before is None:
            assert after is not None
            reasons.append(f"ENIConfig `{name}` was created meanwhile ({after.describe()})")
        elif after is None:
            reasons.append(f"ENIConfig `{name}` was deleted meanwhile")
        else:
            reasons.append(f"ENIConfig `{name}` changed meanwhile: {before.describe()} -> {after.describe()}")
    return reasons


def _aws_node_changes(before: AwsNodeRevision, after: AwsNodeRevision | None) -> list[str]:
    if after is None:
        return ["the aws-node DaemonSet is gone"]
    reasons: list[str] = []
    for key in sorted(set(before.env) | set(after.env)):
        old, new = before.env.get(key), after.env.get(key)
        if old != new:
            reasons.append(f"aws-node `{key}` changed meanwhile: {_shown(old)} -> {_shown(new)}")
    if before.addon_config != after.addon_config:
        reasons.append("the vpc-cni add-on's configuration values changed meanwhile")
    if before.image != after.image:
        reasons.append(f"the aws-node image changed meanwhile: `{before.image}` -> `{after.image}`")
    if not reasons and before.generation != after.generation:
        reasons.append(
            f"the aws-node DaemonSet spec changed meanwhile (generation {before.generation} -> {after.generation})"
        )
    return reasons


# --- rollback --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollbackPlan:
    spec: ChangeSpec  # from the current state back to what the original change replaced
    drift: tuple[str, ...]  # values changed again after the original change; the rollback overwrites them


def rollback_plan(
    original: ChangeSpec,
    env_now: Mapping[str, str],
    eniconfigs_now: Mapping[str, EniConfigState | None],
    version_now: tuple[str, Mapping[str, str]] | None = None,
) -> RollbackPlan:
    """Restore the stored previous state of everything ``original`` touched, diffed against today.
    ``version_now``: the installed version and the images, when ``original`` changed the version."""
    env: list[EnvChange] = []
    drift: list[str] = []
    version: VersionEdit | None = None
    if original.version is not None and version_now is not None:
        installed, images = version_now
        if installed != original.version.new:
            drift.append(f"the VPC CNI is {installed} now, not {original.version.new} as the change left it")
        if installed != original.version.old:
            now_images = tuple(sorted((k, images[k]) for k, _ in original.version.old_images if k in images))
            version = VersionEdit(installed, original.version.old, now_images, original.version.old_images)
    for change in original.env:
        current = env_now.get(change.key)
        if setting_drifted(change.key, env_now, change.new):
            drift.append(f"`{change.key}` is {_shown(current)} now, not {_shown(change.new)} as the change set it")
        if current != change.old:
            env.append(EnvChange(change.key, current, change.old))
    edits: list[EniConfigEdit] = []
    for edit in original.eniconfigs:
        current_state = eniconfigs_now.get(edit.name)
        if current_state != edit.new:
            drift.append(f"ENIConfig `{edit.name}` differs from what the change wrote")
        if current_state != edit.old:
            edits.append(EniConfigEdit(edit.name, current_state, edit.old))
    return RollbackPlan(ChangeSpec(tuple(env), tuple(edits), version), tuple(drift))


# --- status machine --------------------------------------------------------------------------------------


class Status(StrEnum):
    PENDING = "pending"  # waiting for approvals
    APPROVED = "approved"  # enough approvals; waiting to be applied (or applied by hand when writes are off)
    APPLYING = "applying"  # one replica holds the cluster's apply lock and is writing
    APPLIED = "applied"  # written; rollout and verification under way
    VERIFIED = "verified"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    STALE = "stale"  # what it was computed against changed; nothing was applied
    ROLLED_BACK = "rolled-back"
    REVERTED = "reverted"  # a `--for` change whose time was up
    BY_HAND = "by-hand"  # approved where cnibot may not write: a person applies it, then marks it applied


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED, Status.EXPIRED, Status.STALE}),
    # FAILED from APPROVED: the cluster refused the write (RBAC) before anything was written.
    Status.APPROVED: frozenset({Status.APPLYING, Status.STALE, Status.FAILED, Status.BY_HAND}),
    # Marked applied by a person: cnibot then watches and verifies it like its own writes.
    Status.BY_HAND: frozenset({Status.APPLIED}),
    Status.APPLYING: frozenset({Status.APPLIED, Status.STALE, Status.FAILED}),
    Status.APPLIED: frozenset({Status.VERIFIED, Status.FAILED, Status.ROLLED_BACK, Status.REVERTED}),
    Status.VERIFIED: frozenset({Status.ROLLED_BACK, Status.REVERTED}),
    Status.FAILED: frozenset({Status.ROLLED_BACK, Status.REVERTED}),
}
OPEN_STATUSES = frozenset({Status.PENDING, Status.APPROVED, Status.APPLYING, Status.APPLIED, Status.BY_HAND})
# Changes whose writes are in the cluster (so they can be rolled back).
IN_EFFECT = frozenset({Status.APPLIED, Status.VERIFIED, Status.FAILED})


class InvalidTransition(ValueError):
    pass


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def sources_of(target: Status) -> frozenset[Status]:
    """Every status from which ``target`` may be reached (the WHERE of a conditional update)."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


def check_transition(current: Status, target: Status) -> None:
    if not can_transition(current, target):
        raise InvalidTransition(f"a change cannot go from {current} to {target}")


# --- approval policy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalRules:
    users: frozenset[str] = frozenset()
    usergroups: frozenset[str] = frozenset()
    allow_self_approval: bool = False
    high_risk_approvals: int = 2
    expire_after: timedelta = timedelta(hours=24)
    original_approvers_may_roll_back: bool = False

    @property
    def anyone_can_approve(self) -> bool:
        return bool(self.users or self.usergroups)


def approvals_needed(risk: Risk, rules: ApprovalRules) -> int:
    return rules.high_risk_approvals if risk is Risk.HIGH else 1


def is_approver(user_id: str, user_groups: Collection[str], rules: ApprovalRules) -> bool:
    return user_id in rules.users or any(group in rules.usergroups for group in user_groups)


class Refusal(StrEnum):
    NO_APPROVERS = "no-approvers"
    NOT_APPROVER = "not-approver"
    SELF_APPROVAL = "self-approval"
    ALREADY_APPROVED = "already-approved"
    NOT_PENDING = "not-pending"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Click:
    user_id: str
    user_groups: frozenset[str]
    at: datetime


@dataclass(frozen=True)
class RequestState:
    """What the decisions read of a stored request."""

    requester_id: str
    status: Status
    expires_at: datetime
    approved_by: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    refusal: Refusal | None = None
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def decide_approval(click: Click, request: RequestState, rules: ApprovalRules) -> Decision:
    """May this click approve the request? Decided from the clicking user's id, never from the payload."""
    if request.status is not Status.PENDING:
        return Decision(Refusal.NOT_PENDING, f"This request is already {request.status}.")
    if click.at >= request.expires_at:
        return Decision(Refusal.EXPIRED, "This request has expired; ask for the change again.")
    if not rules.anyone_can_approve:
        return Decision(
            Refusal.NO_APPROVERS,
            "No approvers are configured for this cluster (approvals.users or approvals.usergroups).",
        )
    if not is_approver(click.user_id, click.user_groups, rules):
        return Decision(Refusal.NOT_APPROVER, "You are not an approver for this cluster.")
    if click.user_id == request.requester_id and not rules.allow_self_approval:
        return Decision(Refusal.SELF_APPROVAL, "You asked for this change, so someone else must approve it.")
    if click.user_id in request.approved_by:
        return Decision(Refusal.ALREADY_APPROVED, "You already approved this; it needs another approver.")
    return Decision()


def decide_rejection(click: Click, request: RequestState, rules: ApprovalRules) -> Decision:
    """Approvers may reject; the requester may withdraw their own request."""
    if request.status is not Status.PENDING:
        return Decision(Refusal.NOT_PENDING, f"This request is already {request.status}.")
    if click.user_id == request.requester_id or is_approver(click.user_id, click.user_groups, rules):
        return Decision()
    return Decision(Refusal.NOT_APPROVER, "You are not an approver for this cluster.")


def rollback_preapproved(requester_id: str, original_approvers: Collection[str], rules: ApprovalRules) -> bool:
    """A rollback asked for by one of the original approvers applies at once when the policy allows it."""
    return rules.original_approvers_may_roll_back and requester_id in original_approvers


def expiry_of(requested_at: datetime, rules: ApprovalRules) -> datetime:
    return requested_at + rules.expire_after


# --- input checks ----------------------------------------------------------------------------------------

MIN_REASON = 3
MAX_REASON = 500
MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=7)
_DURATION_PART = re.compile(r"([0-9]+)([smhd])", re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def reason_problem(reason: str | None) -> str | None:
    """Why a reason is not acceptable (None: it is). Every change is attributable, with a why."""
    text = (reason or "").strip()
    if not text:
        return 'A reason is required: add --reason "why this change".'
    if len(text) < MIN_REASON:
        return f"The reason is too short; say in a few words why (at least {MIN_REASON} characters)."
    if len(text) > MAX_REASON:
        return f"The reason is too long ({len(text)} characters; at most {MAX_REASON})."
    return None


def parse_duration(text: str) -> timedelta:
    """`90m`, `2h`, `1h30m`, `1d`: how long a `--for` change stays before it reverts by itself."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or _DURATION_PART.sub("", compact):
        raise ValueError(f"`{text[:20]}` is not a duration; use e.g. 30m, 2h or 1d.")
    parts = _DURATION_PART.findall(compact)
    # Compared as whole seconds before timedelta() sees them: a 20-digit count would overflow it.
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in parts) if all(len(n) <= 12 for n, _ in parts) else -1
    if not MIN_DURATION.total_seconds() <= seconds <= MAX_DURATION.total_seconds():
        raise ValueError("--for must be between 1 minute and 7 days.")
    return timedelta(seconds=seconds)


def describe_duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"
