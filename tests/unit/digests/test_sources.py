from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.digests.sources import sources_for
from bot.domain.change_records import AuditKind, NewChange
from bot.domain.changes import AwsNodeRevision, BaseRevision, ChangeKind, ChangeSpec, Status, Target, spec_hash
from bot.domain.knobs import Risk
from bot.domain.settings_change import EnvChange
from storage import load_all_models
from storage.changes import ChangeRepository
from storage.db import make_engine, make_session_factory
from storage.diagnoses import DiagnosisRepository
from storage.models import Base, DiagnosisRecord
from storage.repositories import Repositories
from tests.unit.digests.factories import NOW


def test_only_diagnoses_of_pods_without_an_ip_in_the_window_count(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    Base.metadata.create_all(engine, tables=[DiagnosisRecord.__table__])  # type: ignore[list-item]
    diagnoses = DiagnosisRepository(make_session_factory(engine))
    for pod, code, hours_ago, cluster in [
        ("web-1", "SUBNET_EXHAUSTED", 2, "prod"),
        ("web-2", "POD_HAS_IP", 2, "prod"),  # had an IP: not a failure
        ("web-3", "NOT_SCHEDULED", 2, "prod"),  # never reached a node
        ("web-4", "ENICONFIG_MISSING", 30, "prod"),  # before the window
        ("web-5", "NODE_IP_CAPACITY", 1, "dev"),  # another cluster
    ]:
        diagnoses.record(
            cluster=cluster,
            namespace="shop",
            pod=pod,
            node="ip-10-0-0-1",
            codes=[code],
            requester="U0ALICE",
            duration_ms=120,
            correlation_id="c0ffee",
            created_at=NOW - timedelta(hours=hours_ago),
        )
    found = sources_for(Repositories.open(engine)).diagnosed_failures("prod", since=NOW - timedelta(days=1), until=NOW)
    assert [(f.ref, f.cause, f.source) for f in found] == [("shop/web-1", "SUBNET_EXHAUSTED", "diagnosis")]
    engine.dispose()


def _change(changes: ChangeRepository, env: dict[str, str | None], base_env: dict[str, str], at: datetime) -> int:
    spec = ChangeSpec(env=tuple(EnvChange(k, base_env.get(k), v) for k, v in env.items()))
    record = changes.create(
        NewChange(
            cluster="prod",
            kind=ChangeKind.SET,
            requester_id="U0ALICE",
            requester_name="alice",
            reason="digest test",
            risk=Risk.LOW,
            approvals_needed=1,
            spec=spec,
            diff_hash=spec_hash(spec),
            base=BaseRevision(aws_node=AwsNodeRevision(generation=1, env=base_env)),
            target=Target.DAEMONSET,
            summary=", ".join(f"{k}={v}" for k, v in env.items()),
            created_at=at,
            expires_at=at + timedelta(days=1),
        )
    )
    return record.id


def _apply(changes: ChangeRepository, change_id: int, at: datetime) -> None:
    for status, kind in [
        (Status.APPROVED, AuditKind.APPROVED),
        (Status.APPLYING, AuditKind.APPLYING),
        (Status.APPLIED, AuditKind.APPLIED),
    ]:
        values = {"applied_at": at} if status == Status.APPLIED else None
        assert changes.transition(change_id, status, actor="U0BOB", at=at, event=kind, values=values)


def test_the_newest_applied_change_is_the_approved_env_and_pending_ones_are_listed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    load_all_models()
    Base.metadata.create_all(engine)
    changes = ChangeRepository(make_session_factory(engine))
    running = {"WARM_ENI_TARGET": "1", "WARM_IP_TARGET": "2"}
    first = _change(changes, {"WARM_IP_TARGET": "5"}, running, NOW - timedelta(days=3))
    _apply(changes, first, NOW - timedelta(days=3))
    second = _change(changes, {"WARM_IP_TARGET": None, "MINIMUM_IP_TARGET": "10"}, running, NOW - timedelta(days=1))
    _apply(changes, second, NOW - timedelta(days=1))
    waiting = _change(changes, {"WARM_ENI_TARGET": "0"}, running, NOW)

    sources = sources_for(Repositories.open(engine))
    approved = sources.approved_settings("prod")
    assert approved is not None
    assert (approved.env, approved.change_id) == ({"WARM_ENI_TARGET": "1", "MINIMUM_IP_TARGET": "10"}, str(second))
    assert [(p.change_id, p.summary, p.requested_by) for p in sources.pending_changes("prod")] == [
        (str(waiting), "WARM_ENI_TARGET=0", "U0ALICE")
    ]
    assert sources.approved_settings("dev") is None
    engine.dispose()
