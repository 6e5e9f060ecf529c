"""Diagnoses are stored and read back (SQLite and Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import migrate
from storage.db import make_engine, make_session_factory
from storage.diagnoses import DiagnosisRepository


def test_round_trip_filters_and_counts(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        repo = DiagnosisRepository(make_session_factory(engine))
        base = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
        rows = [
            ("prod", "web-1", ["SUBNET_EXHAUSTED", "LEAKED_ENIS"]),
            ("prod", "web-2", ["SUBNET_EXHAUSTED"]),
            ("dev", "api-1", ["NODE_IP_CAPACITY"]),
        ]
        for i, (cluster, pod, codes) in enumerate(rows):
            repo.record(
                cluster=cluster,
                namespace="shop",
                pod=pod,
                node="n1",
                codes=codes,
                requester="U1",
                duration_ms=120 + i,
                correlation_id=f"c{i}",
                could_not_check=[{"what": "ipamd metrics", "api": "kube:GET pods/proxy", "reason": "forbidden"}],
                created_at=base + timedelta(minutes=i),
            )
        prod = repo.recent(cluster="prod")
        assert [d.pod for d in prod] == ["web-2", "web-1"]
        assert prod[1].codes == ["SUBNET_EXHAUSTED", "LEAKED_ENIS"] and prod[1].primary_code == "SUBNET_EXHAUSTED"
        assert prod[0].created_at == base + timedelta(minutes=1)
        assert prod[0].could_not_check[0]["api"] == "kube:GET pods/proxy"
        assert repo.count_by_primary_code() == {"SUBNET_EXHAUSTED": 2, "NODE_IP_CAPACITY": 1}
        assert repo.count_by_primary_code(since=base + timedelta(minutes=2)) == {"NODE_IP_CAPACITY": 1}
        with pytest.raises(ValueError):
            repo.record(
                cluster="prod",
                namespace="x",
                pod="y",
                node=None,
                codes=[],
                requester="U1",
                duration_ms=1,
                correlation_id="c",
            )
    finally:
        engine.dispose()
