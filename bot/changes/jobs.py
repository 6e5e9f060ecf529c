"""The change flow's periodic work, in every replica: each job claims its work in the database first (a
conditional update), so an expiry, a revert or a node-tracking message happens once however many run it."""

from __future__ import annotations

from bot.changes.service import ChangeService, change_service
from bot.services import Services

EXPIRE_EVERY = 60.0
REVERT_EVERY = 30.0
APPLY_WAITING_EVERY = 30.0
TRACK_NODES_EVERY = 120.0


def register_change_jobs(services: Services) -> ChangeService:
    service = change_service(services)
    scheduler = services.scheduler
    scheduler.every("changes:expire", EXPIRE_EVERY, service.expire_due, jitter=5)
    scheduler.every("changes:auto-revert", REVERT_EVERY, service.revert_due, jitter=5)
    scheduler.every("changes:apply-waiting", APPLY_WAITING_EVERY, service.apply_waiting, jitter=5)
    scheduler.every("changes:track-nodes", TRACK_NODES_EVERY, service.track_nodes, jitter=10)
    return service
