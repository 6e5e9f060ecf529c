"""The change store on SQLite and Postgres: exactly-once transitions and approvals, the apply lock, the audit."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.changes.audit import export_audit, parse_since
from bot.domain.change_records import ApprovalOutcome, AuditKind, NewChange
from bot.domain.changes import BaseRevision, ChangeKind, ChangeSpec, Status, Target, spec_hash
from bot.domain.knobs import Risk
from bot.domain.settings_change import EnvChange
from storage import migrate
from storage.changes import ChangeRepository
from storage.db import make_engine, make_session_factory

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SPEC = ChangeSpec(env=(EnvChange("WARM_IP_TARGET", None, "5"),))


@pytest.fixture
def repo(db_url: str) -> Iterator[ChangeRepository]:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    yield ChangeRepository(make_session_factory(engine))
    engine.dispose()


def new_change(needed: int = 1, *, expires: datetime | None = None, status: Status = Status.PENDING) -> NewChange:
    return NewChange(
        cluster="demo",
        kind=ChangeKind.SET,
        requester_id="U0ALICE",
        requester_name="alice",
        reason="fewer warm IPs",
        risk=Risk.LOW if needed == 1 else Risk.HIGH,
        approvals_needed=needed,
        spec=SPEC,
        diff_hash=spec_hash(SPEC),
        base=BaseRevision(),
        target=Target.DAEMONSET,
        summary="set WARM_IP_TARGET=5",
        created_at=T0,
        expires_at=expires or T0 + timedelta(hours=24),
        detail={"warnings": ["w"]},
        duration=timedelta(hours=2),
        status=status,
    )


def test_create_round_trips_and_writes_the_requested_event(repo: ChangeRepository) -> None:
    record = repo.create(new_change())
    again = repo.get(record.id)
    assert again == record
    assert again.spec == SPEC and again.duration == timedelta(hours=2) and again.created_at == T0
    (event,) = repo.events(record.id)
    assert event.kind == AuditKind.REQUESTED and event.actor == "U0ALICE"
    assert event.detail["diff_hash"] == spec_hash(SPEC)


def test_a_transition_happens_once(repo: ChangeRepository) -> None:
    record = repo.create(new_change())
    args = {"actor": "U0BOB", "at": T0, "event": AuditKind.REJECTED}
    assert repo.transition(record.id, Status.REJECTED, **args)
    assert not repo.transition(record.id, Status.REJECTED, **args)
    assert not repo.transition(record.id, Status.APPROVED, actor="U0BOB", at=T0, event=AuditKind.APPROVED)
    assert not repo.transition(record.id, Status.APPLYING, actor="cnibot", at=T0, event=AuditKind.APPLYING)
    assert [e.kind for e in repo.events(record.id)] == ["requested", "rejected"]
    assert repo.get(record.id).status is Status.REJECTED  # type: ignore[union-attr]


def test_two_distinct_approvals_for_high_risk(repo: ChangeRepository) -> None:
    record = repo.create(new_change(needed=2))
    first = repo.approve(record.id, "U0BOB", T0)
    assert first.outcome is ApprovalOutcome.RECORDED and first.status is Status.PENDING
    assert repo.approve(record.id, "U0BOB", T0).outcome is ApprovalOutcome.ALREADY
    second = repo.approve(record.id, "U0CAROL", T0)
    assert second.outcome is ApprovalOutcome.APPROVED and second.approvers == ("U0BOB", "U0CAROL")
    assert repo.approve(record.id, "U0DAVE", T0).outcome is ApprovalOutcome.NOT_PENDING
    assert [a.user_id for a in repo.approvals(record.id)] == ["U0BOB", "U0CAROL"]
    assert [e.kind for e in repo.events(record.id)].count("approved") == 2


def test_approval_after_expiry_is_refused(repo: ChangeRepository) -> None:
    record = repo.create(new_change(expires=T0 + timedelta(minutes=1)))
    assert repo.approve(record.id, "U0BOB", T0 + timedelta(minutes=1)).outcome is ApprovalOutcome.EXPIRED
    assert repo.due_expiries(T0) == []
    assert repo.due_expiries(T0 + timedelta(minutes=1)) == [record.id]
    assert repo.approve(999, "U0BOB", T0).outcome is ApprovalOutcome.GONE


def test_simultaneous_approvals_make_one_approved_transition(repo: ChangeRepository) -> None:
    record = repo.create(new_change())
    outcomes: list[ApprovalOutcome] = []
    start = threading.Barrier(12)

    def click(user: str) -> None:
        start.wait()
        outcomes.append(repo.approve(record.id, user, T0).outcome)

    threads = [threading.Thread(target=click, args=(f"U{i:03d}",)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(ApprovalOutcome.APPROVED) == 1
    assert outcomes.count(ApprovalOutcome.NOT_PENDING) == 11
    assert len(repo.approvals(record.id)) == 1


def test_apply_lock_is_exclusive_and_leased(repo: ChangeRepository) -> None:
    lease = timedelta(minutes=2)
    assert repo.acquire_lock("demo", 1, "replica-a", T0, lease)
    assert not repo.acquire_lock("demo", 2, "replica-b", T0 + timedelta(minutes=1), lease)
    assert repo.acquire_lock("other", 3, "replica-b", T0, lease)  # another cluster is independent
    assert repo.lock_holder("demo", T0) == 1
    assert repo.renew_lock("demo", "replica-a", T0 + timedelta(minutes=1), lease)
    assert not repo.acquire_lock("demo", 2, "replica-b", T0 + timedelta(minutes=2), lease)
    # A replica that died stops renewing: its lease runs out and another may take over.
    assert repo.acquire_lock("demo", 2, "replica-b", T0 + timedelta(minutes=3), lease)
    assert not repo.renew_lock("demo", "replica-a", T0 + timedelta(minutes=3), lease)
    repo.release_lock("demo", "replica-a")  # not the owner: no effect
    assert repo.lock_holder("demo", T0 + timedelta(minutes=3)) == 2
    repo.release_lock("demo", "replica-b")
    assert repo.lock_holder("demo", T0 + timedelta(minutes=3)) is None


def test_revert_is_claimed_once(repo: ChangeRepository) -> None:
    original = repo.create(new_change(status=Status.APPROVED))
    for target, event in ((Status.APPLYING, AuditKind.APPLYING), (Status.APPLIED, AuditKind.APPLIED)):
        values = {"revert_at": T0 + timedelta(hours=2)} if target is Status.APPLIED else None
        assert repo.transition(original.id, target, actor="cnibot", at=T0, event=event, values=values)
    later = T0 + timedelta(hours=2)
    assert repo.due_reverts(T0) == []
    assert repo.due_reverts(later) == [original.id]
    revert = NewChange(**{**new_change().__dict__, "kind": ChangeKind.REVERT, "rollback_of": original.id})
    first = repo.create_revert(original.id, revert, later)
    assert first is not None and first.rollback_of == original.id
    assert repo.create_revert(original.id, revert, later) is None
    assert not repo.skip_revert(original.id, later, "changed since")
    assert repo.due_reverts(later) == []


def test_detail_merge_with_expected_version(repo: ChangeRepository) -> None:
    record = repo.create(new_change())
    updated = repo.merge_detail(record.id, {"nodes_to_replace": ["n1"]}, T0, expected_version=record.version)
    assert updated is not None and updated.detail == {"warnings": ["w"], "nodes_to_replace": ["n1"]}
    assert repo.merge_detail(record.id, {"x": 1}, T0, expected_version=record.version) is None


def test_audit_export_is_json_lines_since(repo: ChangeRepository) -> None:
    record = repo.create(new_change())
    repo.record(record.id, AuditKind.REFUSED_CLICK, actor="U0EVE", at=T0 + timedelta(hours=1), detail={"x": 1})
    out = io.StringIO()
    assert export_audit(repo, T0 + timedelta(minutes=30), out) == 1
    (line,) = out.getvalue().splitlines()
    assert json.loads(line) == {
        "id": 2,
        "change_id": record.id,
        "cluster": "demo",
        "at": "2026-11-30T10:00:00+00:00",
        "actor": "U0EVE",
        "event": "refused-click",
        "detail": {"x": 1},
    }
    out = io.StringIO()
    assert export_audit(repo, T0, out) == 2


def test_parse_since() -> None:
    assert parse_since("7d", T0) == T0 - timedelta(days=7)
    assert parse_since("24h", T0) == T0 - timedelta(hours=24)
    assert parse_since("2026-11-01", T0) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_since("yesterday", T0)
