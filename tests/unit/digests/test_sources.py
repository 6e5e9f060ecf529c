from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.digests.sources import sources_for
from storage.db import make_engine, make_session_factory
from storage.diagnoses import DiagnosisRepository
from storage.models import Base, DiagnosisRecord
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
    found = sources_for(engine).diagnosed_failures("prod", since=NOW - timedelta(days=1), until=NOW)
    assert [(f.ref, f.cause, f.source) for f in found] == [("shop/web-1", "SUBNET_EXHAUSTED", "diagnosis")]
    engine.dispose()
