"""ipamd's leaked-ENI sweep (awsutils.go cleanUpLeakedENIsInternal / getLeakedENIs), run once.

Upstream runs it on every node an hour apart (after a random start-up delay of up to 5 minutes) unless
ipamd.go disableLeakedENICleanup holds; the simulator runs it when asked, at the model's clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from simulator.awsnode import AwsNodeConfig
from simulator.model import Ec2Model

INSTANCE_ID_TAG = "node.k8s.amazonaws.com/instance_id"
CREATED_AT_TAG = "node.k8s.amazonaws.com/createdAt"
ENI_CLUSTER_TAG = "cluster.k8s.amazonaws.com/name"
DESCRIPTION_PREFIX = "aws-K8S-"
MIN_AGE = timedelta(minutes=5)  # eniDeleteCooldownTime


def sweep_leaked_enis(model: Ec2Model, vpc_id: str, config: AwsNodeConfig) -> list[str]:
    """Delete the VPC's detached CNI ENIs as one sweep of ipamd would; returns the deleted ids.

    The filters of getLeakedENIs: the instance_id tag key, status available, the VPC and, with CLUSTER_NAME, the
    cluster tag; then the aws-K8S- description and a createdAt tag at least 5 minutes old. An ENI without a
    createdAt tag is tagged now and left for the next sweep.
    """
    if not config.leaked_eni_cleanup:
        return []
    deleted: list[str] = []
    with model.lock:
        now = model.clock
        for eni in list(model.enis.values()):
            if eni.status != "available" or eni.subnet.vpc_id != vpc_id or INSTANCE_ID_TAG not in eni.tags:
                continue
            if config.cluster_name and eni.tags.get(ENI_CLUSTER_TAG) != config.cluster_name:
                continue
            if not eni.description.startswith(DESCRIPTION_PREFIX):
                continue
            stamp = eni.tags.get(CREATED_AT_TAG)
            if stamp is None:
                model.create_tags([eni.id], {CREATED_AT_TAG: now.strftime("%Y-%m-%dT%H:%M:%SZ")})
                continue
            created = _parse(stamp)
            if created is None:
                # Unparsable: re-tagged, and Go's zero time is older than any cooldown, so it goes now.
                model.create_tags([eni.id], {CREATED_AT_TAG: now.strftime("%Y-%m-%dT%H:%M:%SZ")})
            elif now - created < MIN_AGE:
                continue
            model.delete_network_interface(eni.id)
            deleted.append(eni.id)
    return deleted


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
