"""Numbers derived once from the gathered evidence, so each rule reads like the sentence it proves.

The node's pod-IP pool comes from ipamd's metrics when they could be read, else from EC2 (the addresses on
the node's ENIs) and the pods on the node. Which ENIs serve pods, how many more can attach and which subnets
the next addresses would come from follow ipamd (cni-reference sections 1, 4 and 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from bot.domain.capacity import (
    IPS_PER_PREFIX,
    attachable_enis,
    pod_ip_capacity,
    prefix_delegation_active,
    trunk_slot_reserved,
)
from bot.domain.cni_settings import EffectiveSettings, effective_settings
from bot.domain.diagnosis.signals import PodSignals, pod_signals
from bot.domain.diagnosis.text import verb
from bot.domain.eni_rules import (
    discovery_order,
    eni_unmanaged,
    has_room_for_eni,
    subnet_excluded,
    subnet_valid_for_new_eni,
)
from bot.domain.evidence import PodEvidence
from bot.domain.facts import EniFact, PodFact, SubnetFact
from bot.domain.instance_limits import InstanceLimits
from bot.domain.knob_catalogue import KNOBS
from bot.domain.wording import plural

_FINISHED = {"Succeeded", "Failed"}
_POD_INTERFACE_TYPES = {"interface", "efa", ""}

# What a stock aws-node manifest runs with: assumed when the DaemonSet could not be read.
STOCK_ENV = {name: knob.manifest_default for name, knob in KNOBS.items() if knob.manifest_default is not None}


@dataclass(frozen=True)
class Growth:
    """A subnet the node's pool would grow from: ipamd asks for ``asks`` addresses and, on an ENI with room,
    retries for one slot (ipamd.go tryAssignIPs/tryAssignPrefixes: "Try to just get one more IP"), so the subnet
    stops the node only below ``least`` free addresses."""

    subnet: SubnetFact
    asks: int
    least: int
    new_eni: bool = False

    @property
    def short(self) -> bool:
        return self.subnet.available_ips < self.least

    def asks_text(self) -> str:
        if self.new_eni:
            return f"a new ENI needs {self.asks}"
        if self.least < self.asks:
            unit = "one /28 prefix" if self.least > 1 else "one IP"
            return f"ipamd asks for {self.asks}, then for {unit}"
        return f"ipamd asks for {self.asks}"


@dataclass(frozen=True)
class Pool:
    """A node's pod-IP pool: addresses attached for pods and how many are assigned."""

    total: int
    assigned: int
    source: str  # where the numbers come from, said in the evidence

    @property
    def free(self) -> int:
        return max(self.total - self.assigned, 0)


class View:
    def __init__(self, ev: PodEvidence, now: datetime) -> None:
        self.ev = ev
        self.now = now

    # --- configuration ------------------------------------------------------------------------------------
    @cached_property
    def settings(self) -> EffectiveSettings:
        return self.ev.settings or effective_settings(STOCK_ENV)

    @property
    def settings_known(self) -> bool:
        return self.ev.settings is not None

    @property
    def instance(self) -> InstanceLimits | None:
        return self.ev.instance

    @property
    def instance_type(self) -> str:
        if self.instance is not None:
            return self.instance.instance_type
        return (self.ev.node.instance_type if self.ev.node else None) or "unknown type"

    @cached_property
    def pd_active(self) -> bool:
        if self.instance is None:
            return self.settings.prefix_delegation
        return prefix_delegation_active(self.instance, self.settings.prefix_delegation)

    @property
    def slot_size(self) -> int:
        """Addresses per pool slot: one secondary IP, or a /28 prefix."""
        return IPS_PER_PREFIX if self.pd_active else 1

    @cached_property
    def signals(self) -> PodSignals:
        return pod_signals(self.ev.events)

    # --- pods on the node ---------------------------------------------------------------------------------
    @cached_property
    def live_pods(self) -> list[PodFact]:
        return [p for p in self.ev.node_pods or [] if p.phase not in _FINISHED]

    @cached_property
    def ip_pods(self) -> list[PodFact]:
        """Pods that take an address from ipamd's pool (hostNetwork and branch-ENI pods do not)."""
        return [p for p in self.live_pods if not p.host_network and not p.requests_pod_eni]

    @property
    def pods_with_ip(self) -> int:
        return sum(1 for p in self.ip_pods if p.pod_ip)

    @property
    def pods_waiting(self) -> int:
        return sum(1 for p in self.ip_pods if not p.pod_ip)

    @property
    def host_network_pods(self) -> int:
        return sum(1 for p in self.live_pods if p.host_network)

    @property
    def max_pods(self) -> int | None:
        return self.ev.node.capacity_pods if self.ev.node else None

    # --- the node's ENIs ----------------------------------------------------------------------------------
    @cached_property
    def card0_enis(self) -> list[EniFact]:
        return sorted(
            (e for e in self.ev.node_enis or [] if e.network_card == 0),
            key=lambda e: e.device_index if e.device_index is not None else 99,
        )

    @property
    def primary_eni(self) -> EniFact | None:
        return next((e for e in self.card0_enis if e.device_index == 0), None)

    def is_unmanaged(self, eni: EniFact) -> bool:
        """ipamd leaves the ENI alone (setUnmanagedENIs): it never enters the datastore."""
        instance_id = self.ev.node.instance_id if self.ev.node else None
        return eni_unmanaged(
            eni.tags,
            is_primary=eni.device_index == 0,
            instance_id=instance_id or eni.instance_id,
            manage_untagged=self.settings.flag("MANAGE_UNTAGGED_ENI"),
        )

    @cached_property
    def managed_enis(self) -> list[EniFact]:
        """The datastore's ENIs on the default card: every attached ENI but the unmanaged ones."""
        return [e for e in self.card0_enis if not self.is_unmanaged(e)]

    @property
    def unmanaged_enis(self) -> int:
        return len(self.card0_enis) - len(self.managed_enis)

    @property
    def cluster_name(self) -> str:
        value = self.settings.values.get("CLUSTER_NAME")
        return value if isinstance(value, str) else ""

    @property
    def trunk_attached(self) -> bool:
        return any(e.interface_type == "trunk" for e in self.card0_enis)

    @cached_property
    def excluded_subnets(self) -> set[str]:
        """Subnets whose ENIs ipamd excludes from pod IPs while subnet discovery is on (setupENI ->
        excludedENIBasedOnSubnetTags -> IsSubnetExcluded): tagged kubernetes.io/role/cni=0, or tagged for other
        clusters only."""
        if not self.settings.flag("ENABLE_SUBNET_DISCOVERY"):
            return set()
        return {
            s.subnet_id
            for s in (self.ev.subnets or {}).values()
            if subnet_excluded(s.tags, cluster_name=self.cluster_name)
        }

    @property
    def excluded_enis(self) -> int:
        return sum(1 for e in self.managed_enis if e.subnet_id in self.excluded_subnets)

    @cached_property
    def pool_enis(self) -> list[EniFact]:
        """ENIs whose addresses ipamd may give to pods."""
        out = []
        for eni in self.managed_enis:
            if eni.interface_type not in _POD_INTERFACE_TYPES:
                continue
            if eni.device_index == 0 and self.settings.custom_networking:
                continue  # custom networking never gives the primary ENI's IPs to pods
            if eni.subnet_id in self.excluded_subnets:
                continue
            out.append(eni)
        return out

    def slots_used(self, eni: EniFact) -> int:
        return len(eni.prefixes) if self.pd_active else len(eni.secondary_ips)

    @property
    def slots_per_eni(self) -> int:
        return self.instance.secondary_ips_per_eni if self.instance else 0

    @cached_property
    def enis_with_room(self) -> list[EniFact]:
        if self.instance is None:
            return []
        return [e for e in self.pool_enis if self.slots_used(e) < self.slots_per_eni]

    @property
    def eni_limit(self) -> int | None:
        if self.instance is None:
            return None
        return attachable_enis(self.instance, self.settings.max_eni)

    @property
    def trunk_slot_held(self) -> bool:
        """ipamd keeps a slot for the trunk ENI with ENABLE_POD_ENI until the trunk is attached."""
        if self.instance is None or self.trunk_attached:
            return False
        return trunk_slot_reserved(self.instance, self.settings.pod_eni)

    @property
    def eni_room(self) -> bool | None:
        """Can ipamd attach another ENI (``hasRoomForEni``)? From EC2, else from ipamd's own gauges; None when
        neither could be read."""
        if self.eni_limit is not None and self.ev.node_enis is not None:
            return has_room_for_eni(
                max_eni=self.eni_limit,
                unmanaged=self.unmanaged_enis,
                trunk_pending=self.trunk_slot_held,
                datastore_enis=len(self.managed_enis),
                excluded=self.excluded_enis,
            )
        m = self.ev.metrics
        if m is not None and m.eni_max is not None and m.eni_allocated is not None:
            return m.eni_allocated < m.eni_max  # awscni_eni_max already leaves out unmanaged ENIs
        return None

    @cached_property
    def ip_capacity(self) -> int | None:
        """Pod IPs this node can address at most, with the current settings."""
        if self.instance is None:
            return None
        return pod_ip_capacity(
            self.instance,
            custom_networking=self.settings.custom_networking,
            prefix_delegation=self.settings.prefix_delegation,
            max_eni=self.settings.max_eni,
            sgp_trunk=self.settings.pod_eni,
            unmanaged_enis=self.unmanaged_enis,
        )

    # --- the pool -----------------------------------------------------------------------------------------
    @cached_property
    def pool(self) -> Pool | None:
        m = self.ev.metrics
        if m is not None and m.total_ips is not None and m.assigned_ips is not None:
            return Pool(m.total_ips, m.assigned_ips, "ipamd metrics")
        if self.ev.node_enis is not None and self.ev.node_pods is not None:
            total = sum(len(e.secondary_ips) + IPS_PER_PREFIX * len(e.prefixes) for e in self.pool_enis)
            return Pool(total, min(self.pods_with_ip, total), "EC2 ENIs and the pods on the node")
        return None

    @property
    def pool_empty(self) -> bool:
        """No address left to hand out on the node (cooldown addresses count as held, as in ipamd)."""
        return self.pool is not None and self.pool.free == 0

    @property
    def at_ip_capacity(self) -> bool:
        """The pool holds every address the node can have: no ENI room and every pool ENI full."""
        if self.eni_room is None or self.eni_room:
            return False
        if self.ip_capacity is not None and self.pool is not None and self.pool.total >= self.ip_capacity:
            return True
        return not self.enis_with_room

    # --- subnets ------------------------------------------------------------------------------------------
    @property
    def subnets(self) -> Mapping[str, SubnetFact]:
        return self.ev.subnets or {}

    @cached_property
    def new_eni_subnets(self) -> list[SubnetFact]:
        """Where ipamd would create the node's next ENI, in the order it tries them (awsutils.go createENI): the
        ENIConfig's subnet; with subnet discovery the zone's valid subnets, most free first; else the node's
        subnet unless it is excluded (IsSubnetExcluded)."""
        if self.settings.custom_networking:
            eniconfig = self.ev.eniconfig
            subnet = self.subnets.get(eniconfig.subnet or "") if eniconfig else None
            return [subnet] if subnet else []
        primary = self.subnets.get(self.primary_eni.subnet_id) if self.primary_eni else None
        if not self.settings.flag("ENABLE_SUBNET_DISCOVERY"):
            if primary is None or subnet_excluded(primary.tags, cluster_name=self.cluster_name):
                return []
            return [primary]
        az = self.ev.node.az if self.ev.node else None
        vpc = primary.vpc_id if primary else self.ev.vpc_id
        valid = [
            s
            for s in self.subnets.values()
            if s.az == az
            and s.vpc_id == vpc
            and subnet_valid_for_new_eni(s.tags, is_primary_subnet=s is primary, cluster_name=self.cluster_name)
        ]
        return discovery_order(valid, lambda s: s.available_ips)

    @cached_property
    def growth_subnets(self) -> list[Growth]:
        """Subnets the next addresses would come from (increaseDatastorePool): ENIs with room first; a new ENI
        only when none has room or, with subnet discovery, after every ENI with room failed for want of
        addresses."""
        out: list[Growth] = []
        for eni in self.enis_with_room:
            subnet = self.subnets.get(eni.subnet_id)
            if subnet is not None and all(g.subnet.subnet_id != subnet.subnet_id for g in out):
                asks = self.request_size(room=self.slots_per_eni - self.slots_used(eni))
                out.append(Growth(subnet, asks, least=self.slot_size))
        try_new_eni = not self.enis_with_room or self.settings.flag("ENABLE_SUBNET_DISCOVERY")
        if self.eni_room and try_new_eni:
            for subnet in self.new_eni_subnets:
                if all(g.subnet.subnet_id != subnet.subnet_id for g in out):
                    # CreateNetworkInterface takes the ENI's primary address too, and has no one-IP retry.
                    asks = self.request_size(room=self.slots_per_eni) + 1
                    out.append(Growth(subnet, asks, least=asks, new_eni=True))
        return out

    def request_size(self, *, room: int) -> int:
        """Addresses ipamd asks EC2 for in one call when the pool is short."""
        if self.pd_active:
            return IPS_PER_PREFIX
        warm_ip = self.settings.number("WARM_IP_TARGET")
        minimum = self.settings.number("MINIMUM_IP_TARGET")
        if warm_ip > 0 or minimum > 0:
            # datastoreTargetState: short = max(WARM_IP_TARGET - available, MINIMUM_IP_TARGET - total)
            total = self.pool.total if self.pool else 0
            available = self.pool.free if self.pool else 0
            return max(min(max(warm_ip - available, minimum - total, 1), room), 1)
        return max(room, 1)  # WARM_ENI_TARGET mode fills the ENI

    # --- sentences every rule reuses -----------------------------------------------------------------------
    def pool_line(self) -> str:
        pool = self.pool
        if pool is None:
            return "the node's pod-IP pool could not be read"
        unit = f" ({pool.total // IPS_PER_PREFIX} /28 prefixes)" if self.pd_active and pool.total else ""
        return f"IPs {pool.assigned}/{pool.total} assigned, {pool.free} free{unit} ({pool.source})"

    def enis_line(self) -> str | None:
        m = self.ev.metrics
        if self.ev.node_enis is None:
            if m is not None and m.eni_allocated is not None and m.eni_max is not None:
                return f"ENIs {m.eni_allocated}/{m.eni_max} on {self.instance_type} (ipamd metrics)"
            return None
        limit = f"/{self.eni_limit}" if self.eni_limit is not None else ""
        unmanaged = self.unmanaged_enis
        note = f" ({unmanaged} unmanaged, counted once against the limit)" if unmanaged else ""
        return f"ENIs {len(self.card0_enis)}{limit} on {self.instance_type}{note}"

    def waiting_line(self) -> str | None:
        if self.ev.node_pods is None:
            return None
        waiting = self.pods_waiting
        return (
            f"{plural(waiting, 'pod')} on the node {verb(waiting, 'waits', 'wait')} for an IP, "
            f"{self.pods_with_ip} {verb(self.pods_with_ip, 'has', 'have')} one"
        )
