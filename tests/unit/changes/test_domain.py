"""The pure decisions of approved changes: model, hash, status machine, approval policy, staleness, rollback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.changes import (
    ApprovalRules,
    AwsNodeRevision,
    BaseRevision,
    ChangeSpec,
    Click,
    EniConfigEdit,
    EniConfigState,
    InvalidTransition,
    Refusal,
    RequestState,
    Status,
    approvals_needed,
    can_transition,
    check_transition,
    decide_approval,
    decide_rejection,
    describe_duration,
    parse_duration,
    reason_problem,
    rollback_plan,
    rollback_preapproved,
    sources_of,
    spec_hash,
    what_changed,
)
from bot.domain.knobs import Risk
from bot.domain.settings_change import EnvChange

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
RULES = ApprovalRules(users=frozenset({"U1", "U2", "U3"}), usergroups=frozenset({"S0NET"}))
SPEC = ChangeSpec(
    env=(EnvChange("WARM_IP_TARGET", None, "5"), EnvChange("WARM_ENI_TARGET", "1", None)),
    eniconfigs=(EniConfigEdit("us-east-1a", None, EniConfigState("subnet-a", ("sg-1",))),),
)


def pending(requester: str = "U9", approved_by: frozenset[str] = frozenset()) -> RequestState:
    return RequestState(requester, Status.PENDING, T0 + timedelta(hours=24), approved_by)


def click(user: str, groups: frozenset[str] = frozenset(), at: datetime = T0) -> Click:
    return Click(user, groups, at)


# --- model and hash -------------------------------------------------------------------------------------


def test_spec_round_trips_through_json_and_hash_is_stable() -> None:
    again = ChangeSpec.from_json(SPEC.to_json())
    assert again == SPEC
    assert spec_hash(again) == spec_hash(SPEC)
    assert len(spec_hash(SPEC)) == 64


def test_hash_changes_with_any_part_of_the_diff() -> None:
    other = ChangeSpec(env=(EnvChange("WARM_IP_TARGET", None, "6"),) + SPEC.env[1:], eniconfigs=SPEC.eniconfigs)
    assert spec_hash(other) != spec_hash(SPEC)
    old_differs = ChangeSpec(env=(EnvChange("WARM_IP_TARGET", "2", "5"),) + SPEC.env[1:], eniconfigs=SPEC.eniconfigs)
    assert spec_hash(old_differs) != spec_hash(SPEC)


def test_inverse_swaps_old_and_new_everywhere() -> None:
    inverse = SPEC.inverse()
    assert inverse.env == (EnvChange("WARM_IP_TARGET", "5", None), EnvChange("WARM_ENI_TARGET", None, "1"))
    assert inverse.eniconfigs[0].verb == "delete"
    assert inverse.inverse() == SPEC


def test_lines_show_old_and_new() -> None:
    lines = SPEC.lines()
    assert lines[0] == "`WARM_IP_TARGET`: _unset_ -> `5`"
    assert lines[1] == "`WARM_ENI_TARGET`: `1` -> _unset_"
    assert lines[2] == "ENIConfig `us-east-1a`: create with subnet subnet-a, security groups sg-1"


# --- status machine ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (Status.PENDING, Status.APPROVED, True),
        (Status.PENDING, Status.APPLYING, False),  # never skip approval
        (Status.APPROVED, Status.APPLYING, True),
        (Status.APPLYING, Status.APPLIED, True),
        (Status.APPLIED, Status.VERIFIED, True),
        (Status.VERIFIED, Status.ROLLED_BACK, True),
        (Status.REJECTED, Status.APPROVED, False),
        (Status.EXPIRED, Status.APPROVED, False),
        (Status.STALE, Status.APPLYING, False),
        (Status.APPROVED, Status.APPROVED, False),  # a second approval click is no transition
        (Status.ROLLED_BACK, Status.REVERTED, False),
    ],
)
def test_transitions(current: Status, target: Status, allowed: bool) -> None:
    assert can_transition(current, target) is allowed


def test_check_transition_raises_and_sources_are_exact() -> None:
    with pytest.raises(InvalidTransition):
        check_transition(Status.VERIFIED, Status.APPLYING)
    assert sources_of(Status.APPROVED) == {Status.PENDING}
    assert sources_of(Status.STALE) == {Status.PENDING, Status.APPROVED, Status.APPLYING}
    assert sources_of(Status.ROLLED_BACK) == {Status.APPLIED, Status.VERIFIED, Status.FAILED}


# --- approval policy --------------------------------------------------------------------------------------


def test_approver_by_user_id_or_group() -> None:
    assert decide_approval(click("U1"), pending(), RULES).allowed
    assert decide_approval(click("U7", frozenset({"S0NET"})), pending(), RULES).allowed


def test_non_approver_is_refused() -> None:
    decision = decide_approval(click("U7", frozenset({"S0OTHER"})), pending(), RULES)
    assert decision.refusal is Refusal.NOT_APPROVER


def test_requester_cannot_approve_own_request_unless_allowed() -> None:
    assert decide_approval(click("U1"), pending(requester="U1"), RULES).refusal is Refusal.SELF_APPROVAL
    dev = ApprovalRules(users=frozenset({"U1"}), allow_self_approval=True)
    assert decide_approval(click("U1"), pending(requester="U1"), dev).allowed


def test_same_approver_twice_is_refused() -> None:
    decision = decide_approval(click("U1"), pending(approved_by=frozenset({"U1"})), RULES)
    assert decision.refusal is Refusal.ALREADY_APPROVED


def test_expired_and_decided_requests_refuse_clicks() -> None:
    late = click("U1", at=T0 + timedelta(hours=24))
    assert decide_approval(late, pending(), RULES).refusal is Refusal.EXPIRED
    rejected = RequestState("U9", Status.REJECTED, T0 + timedelta(hours=1))
    assert decide_approval(click("U1"), rejected, RULES).refusal is Refusal.NOT_PENDING


def test_no_approvers_configured_means_nobody_approves() -> None:
    decision = decide_approval(click("U1"), pending(), ApprovalRules())
    assert decision.refusal is Refusal.NO_APPROVERS
    assert "approvals.users" in decision.message


def test_high_risk_needs_configured_count_of_approvers() -> None:
    assert approvals_needed(Risk.HIGH, RULES) == 2
    assert approvals_needed(Risk.MEDIUM, RULES) == 1
    assert approvals_needed(Risk.LOW, ApprovalRules(high_risk_approvals=3)) == 1
    assert approvals_needed(Risk.HIGH, ApprovalRules(high_risk_approvals=3)) == 3


def test_rejection_by_approver_or_requester_only() -> None:
    assert decide_rejection(click("U2"), pending(), RULES).allowed
    assert decide_rejection(click("U9"), pending(requester="U9"), RULES).allowed
    assert decide_rejection(click("U8"), pending(), RULES).refusal is Refusal.NOT_APPROVER


def test_rollback_at_once_only_when_policy_allows_and_by_original_approver() -> None:
    assert not rollback_preapproved("U1", {"U1"}, RULES)
    quick = ApprovalRules(users=frozenset({"U1"}), original_approvers_may_roll_back=True)
    assert rollback_preapproved("U1", {"U1", "U2"}, quick)
    assert not rollback_preapproved("U3", {"U1", "U2"}, quick)


# --- staleness --------------------------------------------------------------------------------------------


def revision(generation: int = 3, **env: str) -> BaseRevision:
    return BaseRevision(aws_node=AwsNodeRevision(generation, {"WARM_ENI_TARGET": "1", **env}, "cni:v1.19.2"))


def test_unchanged_revision_is_not_stale() -> None:
    assert what_changed(revision(), revision()) == []


def test_outside_env_edit_is_named() -> None:
    reasons = what_changed(revision(), revision(4, WARM_IP_TARGET="8"))
    assert reasons == ["aws-node `WARM_IP_TARGET` changed meanwhile: _unset_ -> `8`"]


def test_spec_edit_without_env_change_still_makes_stale() -> None:
    reasons = what_changed(revision(3), revision(4))
    assert reasons == ["the aws-node DaemonSet spec changed meanwhile (generation 3 -> 4)"]


def test_eniconfig_changes_are_named() -> None:
    base = BaseRevision(eniconfigs={"us-east-1a": None, "us-east-1b": EniConfigState("subnet-b")})
    now = BaseRevision(eniconfigs={"us-east-1a": EniConfigState("subnet-x"), "us-east-1b": None})
    reasons = what_changed(base, now)
    assert reasons == [
        "ENIConfig `us-east-1a` was created meanwhile (subnet subnet-x)",
        "ENIConfig `us-east-1b` was deleted meanwhile",
    ]


def test_revision_round_trips() -> None:
    base = BaseRevision(
        aws_node=AwsNodeRevision(7, {"A": "1"}, "img", addon_config='{"env":{}}'),
        eniconfigs={"z": None, "y": EniConfigState("subnet-1", ("sg-1",))},
    )
    assert BaseRevision.from_json(base.to_json()) == base


# --- rollback ---------------------------------------------------------------------------------------------


def test_rollback_restores_previous_values_from_today() -> None:
    env_now = {"WARM_IP_TARGET": "5"}  # WARM_ENI_TARGET was unset by the change
    plan = rollback_plan(SPEC, env_now, {"us-east-1a": EniConfigState("subnet-a", ("sg-1",))})
    assert plan.drift == ()
    assert plan.spec.env == (EnvChange("WARM_IP_TARGET", "5", None), EnvChange("WARM_ENI_TARGET", None, "1"))
    assert plan.spec.eniconfigs == (EniConfigEdit("us-east-1a", EniConfigState("subnet-a", ("sg-1",)), None),)


def test_rollback_reports_drift_and_skips_what_is_already_back() -> None:
    env_now = {"WARM_IP_TARGET": "8", "WARM_ENI_TARGET": "1"}
    plan = rollback_plan(SPEC, env_now, {"us-east-1a": None})
    assert plan.spec.env == (EnvChange("WARM_IP_TARGET", "8", None),)
    assert plan.spec.eniconfigs == ()
    # WARM_ENI_TARGET=1, set again after the change unset it, is its default: no drift (one drift definition).
    assert len(plan.drift) == 2
    assert "`WARM_IP_TARGET` is `8` now, not `5` as the change set it" in plan.drift


# --- input checks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("1d", 86400), (" 90M ", 5400)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "2", "2x", "h", "30s", "8d", "-1h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_describe_duration() -> None:
    assert describe_duration(timedelta(hours=1, minutes=30)) == "1h30m"
    assert describe_duration(timedelta(days=1)) == "1d"


def test_reason_is_required_and_bounded() -> None:
    assert reason_problem(None) is not None
    assert reason_problem("  ") is not None
    assert reason_problem("ok") is not None
    assert reason_problem("pods pending in 2b") is None
    assert reason_problem("x" * 501) is not None
