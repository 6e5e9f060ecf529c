"""One node's ipamd: the warm-pool manager and pod IP assignment, driven through the EC2 model.

The rules follow ipamd (`pkg/ipamd/ipamd.go`, `docs/eni-and-ip-target.md`, `docs/prefix-and-ip-target.md`):
- WARM_ENI_TARGET mode: grow when available < w x (M-1), new ENIs come with all M-1 secondary IPs, IPs go to
  ENIs with room before a new ENI is attached; free an empty ENI when available >= (w+1) x (M-1).
- WARM_IP_TARGET / MINIMUM_IP_TARGET: short = max(x - available, m - total, 0), over = max(min(available - x,
  total - m), 0); with prefix delegation counted in /28 prefixes.
- WARM_PREFIX_TARGET (PD): grow when available < 16 x p by max(1, p - free prefixes).
- No growth once total >= capacity.pods, none on a cordoned node unless AWS_MANAGE_ENIS_NON_SCHEDULABLE.
Time never passes on its own: convergence runs to a fixed point and cooldowns expire only through `advance`.

Over 500 lines on purpose: one node's ipamd is one state machine (ENIs, secondary IPs, prefixes, cooldowns,
the pool loop) over one datastore, as upstream keeps it; its pieces only make sense against that datastore.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from simulator.addresses import PREFIX_SIZE
from simulator.awsnode import AwsNodeConfig, IpamdMetrics, nitro_ipv6_error
from simulator.instance_types import InstanceType
from simulator.model import Ec2Error, Ec2Model, NetworkInterface

CNI_ROLE_TAG = "kubernetes.io/role/cni"
SUBNET_CLUSTER_TAG_PREFIX = "cni.networking.k8s.aws/cluster/"
INSTANCE_ID_TAG = "node.k8s.amazonaws.com/instance_id"
CLUSTER_NAME_TAG = "cluster.k8s.amazonaws.com/name"
CREATED_AT_TAG = "node.k8s.amazonaws.com/createdAt"
NO_MANAGE_TAG = "node.k8s.amazonaws.com/no_manage"
SUBNET_CAPACITY_ERRORS = ("InsufficientFreeAddressesInSubnet", "InsufficientCidrBlocks")
ENI_LIMIT_ERROR = "PrivateIpAddressLimitExceeded"
CUSTOM_NETWORKING_INIT_ERROR = "Failed to attach any ENIs for custom networking"
_UNUSABLE_TYPES = ("trunk", "branch", "efa-only")


@dataclass
class NodeContext:
    """What ipamd reads besides EC2 on each pass: its config, the node object, the node's ENIConfig."""

    config: AwsNodeConfig
    max_pods: int
    cordoned: bool = False
    eniconfig_name: str = "default"
    # spec of the resolved ENIConfig ({"subnet": ..., "securityGroups": [...]}), None when it does not exist
    eniconfig: dict[str, object] | None = None
    # ipamd's compiled ENI limit for the type when it differs from EC2 (an outdated CNI limits table)
    eni_limit_override: int | None = None
    # EC2 error code ipamd receives for an API name (scenario-injected IAM denials or throttling)
    fault: Callable[[str], str | None] = lambda api: None


@dataclass
class IpamdEvent:
    """Something ipamd reported (for Kubernetes events and logs)."""

    reason: str
    message: str
    action: str = ""


@dataclass
class _PoolView:
    version: int
    context: NodeContext | None
    attached: list[NetworkInterface]
    enis: list[NetworkInterface]
    addresses: list[int]
    address_set: set[int]


@dataclass
class NodeIpamd:
    """ipamd's datastore and pool manager for one instance."""

    model: Ec2Model
    instance_id: str
    node_name: str
    metrics: IpamdMetrics = field(default_factory=IpamdMetrics)
    assigned: dict[int, str] = field(default_factory=dict)  # IP -> pod key ("ns/name")
    pod_ips: dict[str, int] = field(default_factory=dict)  # pod key -> IP
    cooldown: dict[int, float] = field(default_factory=dict)  # IP -> simulated time it becomes usable again
    now: float = 0.0
    started: bool = False  # ipamd finished nodeInit at least once (the CNI config file is on the node)
    ready: bool = False
    startup_error: str | None = None
    restarts: int = 0
    events: list[IpamdEvent] = field(default_factory=list)
    last_error: str = ""
    context: NodeContext | None = None
    ipv6_prefix: str | None = None  # IPv6 clusters: the node's /80
    ipv6_pods: dict[str, str] = field(default_factory=dict)  # pod key -> IPv6 address
    _ipv6_next: int = field(default=0, repr=False)
    _cache: _PoolView | None = field(default=None, repr=False)
    _limits_version: tuple[int, int] = field(default=(-1, 0), repr=False)

    # --- lifecycle ------------------------------------------------------------------------------------------
    def start(self, context: NodeContext) -> bool:
        """aws-node (re)start: validate the env, sync with EC2, fill the pool. False = the container exits."""
        with self.model.lock:
            self.context = context
            config = context.config
            # A new ipamd process: Prometheus counters start from zero again.
            self.metrics = IpamdMetrics()
            self._limits_version = (-1, 0)
            self.last_error = ""
            if config.startup_error:
                return self._crash(config.startup_error)
            itype = self.instance_type
            nitro_error = nitro_ipv6_error(config, itype.name, itype.supports_prefix_delegation)
            if nitro_error:
                return self._crash(nitro_error)
            if config.ipv6:
                return self._start_ipv6()
            self._release_other_mode_leftovers()
            self._update_limits()
            self.converge()
            if config.custom_networking and self.total_ips() == 0 and not self._assigned_anywhere():
                return self._crash(CUSTOM_NETWORKING_INIT_ERROR)
            self.started = self.ready = True
            self.startup_error = None
            return True

    def _start_ipv6(self) -> bool:
        """IPv6 (prefix delegation only): nodeInit -> setupENI -> assignIPv6Prefix gives the primary ENI one /80
        (AssignIpv6Addresses, Ipv6PrefixCount=1) unless it has one; a failure fails nodeInit, so ipamd exits."""
        primary = self.model.enis_of_instance(self.instance_id)[0]
        if not primary.ipv6_prefixes:
            try:
                self._call("AssignIpv6Addresses")
                self.model.assign_ipv6_prefix(primary.id)
            except Ec2Error as err:
                self._record_error("AssignIpv6Addresses", err, "")
                return self._crash(
                    "Failed to allocate IPv6 Prefixes to ENI: allocate IPv6 prefix: failed to allocate an IPv6 "
                    f"prefix address: {err}"
                )
        self.ipv6_prefix = primary.ipv6_prefixes[0]
        self.started = self.ready = True
        self.startup_error = None
        return True

    def assign_ipv6(self, pod_key: str) -> str | None:
        """CNI ADD in an IPv6 cluster: the next address of the node's /80 (up to max-pods pods)."""
        with self.model.lock:
            self.metrics.add_ip_req_count += 1
            if pod_key in self.ipv6_pods:
                return self.ipv6_pods[pod_key]
            if self.ipv6_prefix is None or len(self.ipv6_pods) >= self._ctx().max_pods:
                self.metrics.no_available_ip_addresses += 1
                return None
            network = ipaddress.IPv6Network(self.ipv6_prefix)
            self._ipv6_next += 1
            address = str(network.network_address + self._ipv6_next)
            self.ipv6_pods[pod_key] = address
            return address

    def _crash(self, message: str) -> bool:
        self.ready = False
        self.startup_error = message
        self.restarts += 1
        return False

    # --- pool state -----------------------------------------------------------------------------------------
    def _pool(self) -> _PoolView:
        """The datastore view, rebuilt only when EC2 state or the context changed."""
        cached = self._cache
        if cached is not None and cached.version == self.model.version and cached.context is self.context:
            return cached
        attached = self._attached_enis()
        usable = self._pool_enis(attached)
        addresses = [a for eni in usable for a in self._eni_addresses(eni)]
        self._cache = _PoolView(self.model.version, self.context, attached, usable, addresses, set(addresses))
        return self._cache

    @property
    def instance_type(self) -> InstanceType:
        return self.model.instance(self.instance_id).type

    def _ctx(self) -> NodeContext:
        assert self.context is not None, "ipamd not started"
        return self.context

    def attached_enis(self) -> list[NetworkInterface]:
        """Datastore ENIs: attached on the default network card, not tagged no_manage."""
        return self._pool().attached

    def _attached_enis(self) -> list[NetworkInterface]:
        card = self.instance_type.default_card
        return [
            eni
            for eni in self.model.enis_of_instance(self.instance_id)
            if eni.attachment is not None and eni.attachment.card_index == card and not self._unmanaged(eni)
        ]

    def _unmanaged(self, eni: NetworkInterface) -> bool:
        """setUnmanagedENIs: no_manage=true (any other value: managed), else this instance's tag, else
        MANAGE_UNTAGGED_ENI; never the primary ENI."""
        if eni.attachment is not None and eni.attachment.device_index == 0:
            return False
        if NO_MANAGE_TAG in eni.tags:
            return eni.tags[NO_MANAGE_TAG] == "true"
        if eni.tags.get(INSTANCE_ID_TAG) == self.instance_id:
            return False
        return not self._ctx().config.manage_untagged_enis

    def _subnet_for_cluster(self, tags: dict[str, str]) -> bool:
        """ValidSubnetTagsMatchingClusterName."""
        name = self._ctx().config.cluster_name
        keys = [k for k in tags if k.startswith(SUBNET_CLUSTER_TAG_PREFIX)]
        return not name or not keys or SUBNET_CLUSTER_TAG_PREFIX + name in keys

    def _subnet_excluded(self, tags: dict[str, str]) -> bool:
        """IsSubnetExcluded."""
        role = tags.get(CNI_ROLE_TAG, "")
        if not role:
            return False
        return role == "0" or not self._subnet_for_cluster(tags)

    def pool_enis(self) -> list[NetworkInterface]:
        """ENIs whose addresses may be handed to pods."""
        return self._pool().enis

    def _pool_enis(self, attached: list[NetworkInterface]) -> list[NetworkInterface]:
        config = self._ctx().config
        usable = []
        for eni in attached:
            if eni.interface_type in _UNUSABLE_TYPES:
                continue
            is_primary = eni.attachment is not None and eni.attachment.device_index == 0
            if is_primary and config.custom_networking:
                continue  # custom networking never gives the primary ENI's IPs to pods
            if config.subnet_discovery and self._subnet_excluded(eni.subnet.tags):
                continue  # excluded subnet (setupENI -> excludedENIBasedOnSubnetTags): its ENIs serve no pods
            usable.append(eni)
        return usable

    def _eni_addresses(self, eni: NetworkInterface) -> list[int]:
        addresses = list(eni.secondary_ips)
        for prefix in eni.prefixes:
            addresses.extend(range(prefix, prefix + PREFIX_SIZE))
        return addresses

    def pool_addresses(self) -> list[int]:
        return self._pool().addresses

    def free_addresses(self) -> list[int]:
        """Unassigned pool addresses, cooldown ones included (ipamd counts them as available)."""
        return [a for a in self._pool().addresses if a not in self.assigned]

    def available(self) -> int:
        pool = self._pool()
        return len(pool.addresses) - sum(1 for a in self.assigned if a in pool.address_set)

    def total_ips(self) -> int:
        """TotalIPs of the datastore: assigned plus available."""
        return len(self.assigned) + self.available()

    def cooldown_ips(self) -> int:
        return sum(1 for until in self.cooldown.values() if until > self.now)

    def _assigned_anywhere(self) -> bool:
        return bool(self.assigned)

    def prefix_delegation_active(self) -> bool:
        return self._ctx().config.prefix_delegation and self.instance_type.supports_prefix_delegation

    def slots_per_eni(self) -> int:
        """M - 1: secondary IPs (or /28 prefixes) one ENI can hold."""
        return self.instance_type.ipv4_per_eni - 1

    def eni_limit(self) -> int:
        ctx = self._ctx()
        limit = ctx.eni_limit_override or self.instance_type.default_card_enis
        if ctx.config.max_eni > 0:
            limit = min(limit, ctx.config.max_eni)
        return limit

    def _unmanaged_enis(self) -> int:
        card = self.instance_type.default_card
        return sum(
            1
            for eni in self.model.enis_of_instance(self.instance_id)
            if eni.attachment is not None and eni.attachment.card_index == card and self._unmanaged(eni)
        )

    def _has_room_for_eni(self) -> bool:
        attached = len(self.attached_enis())
        trunk_attached = any(e.interface_type == "trunk" for e in self.attached_enis())
        reserved_trunk_slot = 1 if self._ctx().config.pod_eni and not trunk_attached else 0
        return attached + reserved_trunk_slot < self.eni_limit() - self._unmanaged_enis()

    def _update_limits(self) -> None:
        self._limits_version = (self.model.version, id(self.context))
        m = self.metrics
        m.eni_max = self.eni_limit() - self._unmanaged_enis()
        per_eni = self.slots_per_eni() * (PREFIX_SIZE if self.prefix_delegation_active() else 1)
        m.ip_max = per_eni * m.eni_max
        m.eni_allocated = len(self.attached_enis())
        m.total_ip_addresses = self.total_ips()
        m.assigned_ip_addresses = len(self.assigned)
        m.total_ipv4_prefixes = sum(len(e.prefixes) for e in self.pool_enis())

    # --- pod IPs ---------------------------------------------------------------------------------------------
    def assign(self, pod_key: str) -> int | None:
        """CNI ADD: the lowest usable address, or None (the pod's sandbox fails and is retried)."""
        with self.model.lock:
            self.metrics.add_ip_req_count += 1
            if pod_key in self.pod_ips:
                return self.pod_ips[pod_key]
            for address in self.free_addresses():
                if self.cooldown.get(address, 0.0) > self.now:
                    continue
                self.cooldown.pop(address, None)
                self.assigned[address] = pod_key
                self.pod_ips[pod_key] = address
                self.metrics.assigned_ip_addresses = len(self.assigned)
                return address
            self.metrics.no_available_ip_addresses += 1
            return None

    def release(self, pod_key: str) -> None:
        """CNI DEL: the address enters its cooldown."""
        with self.model.lock:
            address = self.pod_ips.pop(pod_key, None)
            if address is None:
                return
            self.metrics.del_ip_req_count += 1
            del self.assigned[address]
            self.cooldown[address] = self.now + self._ctx().config.ip_cooldown_period
            self.metrics.assigned_ip_addresses = len(self.assigned)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.cooldown = {a: t for a, t in self.cooldown.items() if t > self.now}

    # --- pool manager --------------------------------------------------------------------------------------
    def converge(self, max_steps: int = 64) -> None:
        """Run ipamd's pool manager until nothing changes (or an EC2 error stops this round)."""
        if self.context is not None and self.context.config.ipv6:
            return  # IPv6: one /80 per node, no IPv4 pool to manage
        with self.model.lock:
            for _ in range(max_steps):
                if not self._pool_step():
                    break
            if self._limits_version != (self.model.version, id(self.context)):
                self._update_limits()

    def _may_change_pool(self) -> bool:
        ctx = self._ctx()
        return not ctx.cordoned or ctx.config.manage_enis_non_schedulable

    def _pool_step(self) -> bool:
        if not self._may_change_pool():
            return False
        short = self._shortage()
        if short > 0:
            if self.total_ips() >= self._ctx().max_pods:
                return False
            self.metrics.action_inprogress["increaseDatastorePool"] = 1
            grown = self._grow(short)
            if grown:
                self.metrics.action_inprogress.pop("increaseDatastorePool", None)
            return grown
        return self._shrink()

    def _shortage(self) -> int:
        """How many IPs (secondary mode) or prefixes (PD) the pool lacks; 0 when it is not too low."""
        config = self._ctx().config
        avail = self.available()
        total = self.total_ips()
        if self.prefix_delegation_active():
            if config.warm_ip_targets_defined:
                return max(self._prefixes_needed() - self._prefix_count(), 0)
            if avail < PREFIX_SIZE * config.warm_prefix_target:
                return max(1, config.warm_prefix_target - self._free_prefixes())
            return 0
        if config.warm_ip_targets_defined:
            return max(config.warm_ip_target - avail, config.minimum_ip_target - total, 0)
        per_eni = self.slots_per_eni()
        if config.warm_eni_target == 0:
            return per_eni if avail == 0 else 0
        return per_eni if avail < config.warm_eni_target * per_eni else 0

    def _prefixes_needed(self) -> int:
        config = self._ctx().config
        wanted_ips = len(self.assigned) + config.warm_ip_target
        by_warm = -(-wanted_ips // PREFIX_SIZE) if config.warm_ip_target else 0
        by_minimum = -(-config.minimum_ip_target // PREFIX_SIZE)
        return max(by_warm, by_minimum)

    def _prefix_count(self) -> int:
        return sum(len(eni.prefixes) for eni in self.pool_enis())

    def _free_prefixes(self) -> int:
        return sum(
            1
            for eni in self.pool_enis()
            for p in eni.prefixes
            if not any(a in self.assigned for a in range(p, p + PREFIX_SIZE))
        )

    def _grow(self, short: int) -> bool:
        """increaseDatastorePool: add IPs/prefixes to ENIs with room first (tryAssignCidrs), and attach a new ENI
        only when none took any. True if the pool grew."""
        prefix_mode = self.prefix_delegation_active()
        warm_eni_mode = not prefix_mode and not self._ctx().config.warm_ip_targets_defined
        for eni in self.pool_enis():
            room = self.slots_per_eni() - (eni.slots_used - 1)
            if room <= 0:
                continue
            wanted = room if warm_eni_mode else min(room, short)
            outcome = self._assign_to_eni(eni, wanted, prefix_mode)
            if outcome is True:
                return True
            if outcome is None:
                continue  # subnet discovery: out of addresses here, try the next ENI
            return False  # the error ends this round; no new ENI
        if not self._has_room_for_eni():
            return False  # "Skipping ENI allocation as the max ENI limit is already reached"
        wanted = self.slots_per_eni() if warm_eni_mode else min(short, self.slots_per_eni())
        return self._allocate_eni(wanted, prefix_mode)

    def _assign_to_eni(self, eni: NetworkInterface, count: int, prefix_mode: bool) -> bool | None:
        """tryAssignIPs / tryAssignPrefixes on one ENI: ask for ``count``; on any error but the ENI's own limit,
        ask for one ("Try to just get one more IP"). True if it grew; None when both failed for want of subnet
        addresses with subnet discovery on (ipamd moves to the next ENI); False on any other failure."""
        err = self._try_assign(eni, count, prefix_mode)
        if err is None:
            return True
        if err.code == ENI_LIMIT_ERROR:
            return False
        if count > 1:
            err = self._try_assign(eni, 1, prefix_mode)
            if err is None:
                return True
        if err.code == ENI_LIMIT_ERROR:
            return False
        if err.code in SUBNET_CAPACITY_ERRORS:
            self.last_error = (
                f"Failed to allocate a private IP/Prefix addresses on ENI {eni.id}: {err}; Unable to attach "
                "IPs/Prefixes for the ENI, subnet doesn't seem to have enough IPs/Prefixes. Consider using new "
                "subnet or carve a reserved range using create-subnet-cidr-reservation"
            )
            if self._ctx().config.subnet_discovery:
                return None
        return False

    def _try_assign(self, eni: NetworkInterface, count: int, prefix_mode: bool) -> Ec2Error | None:
        api = "AssignPrivateIpAddresses"
        try:
            self._call(api)
            if prefix_mode:
                self.model.assign_private_ip_addresses(eni.id, prefix_count=count)
            else:
                self.model.assign_private_ip_addresses(eni.id, count=count)
        except Ec2Error as err:
            self._record_error(api, err, "increaseIPPoolAllocIPAddressesFailed")
            return err
        return None

    def _allocate_eni(self, count: int, prefix_mode: bool) -> bool:
        """Create an ENI the way ipamd does (description, tags, IPs in the create call) and attach it."""
        target = self._new_eni_placement()
        if target is None:
            return False
        subnet_ids, groups = target
        config = self._ctx().config
        created_at = self.model.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        tags = {INSTANCE_ID_TAG: self.instance_id, CREATED_AT_TAG: created_at}
        if config.cluster_name:
            tags[CLUSTER_NAME_TAG] = config.cluster_name
            tags["eks:eni:owner"] = "amazon-vpc-cni"
        tags.update(config.additional_eni_tags)
        eni = None
        for subnet_id in subnet_ids:  # createENI tries each candidate subnet in turn
            try:
                self._call("CreateNetworkInterface")
                eni = self.model.create_network_interface(
                    subnet_id,
                    description=f"aws-K8S-{self.instance_id}",
                    groups=groups,
                    secondary_count=0 if prefix_mode else count,
                    prefix_count=count if prefix_mode else 0,
                    tags=tags,
                )
                break
            except Ec2Error as err:
                self._record_error("CreateNetworkInterface", err, "increaseIPPoolAllocENI")
                self.last_error = (
                    f"Failed to increase pool size due to not able to allocate ENI AllocENI: failed to create ENI: "
                    f"Failed to CreateNetworkInterface for subnet {subnet_id}: {err}"
                )
        if eni is None:
            return False
        try:
            self._call("AttachNetworkInterface")
            device = self.model.next_device_index(self.instance_id, self.instance_type.default_card)
            self.model.attach_network_interface(
                eni.id, self.instance_id, device, self.instance_type.default_card, delete_on_termination=True
            )
        except Ec2Error as err:
            self._record_error("AttachNetworkInterface", err, "increaseIPPoolAllocENI")
            self.last_error = (
                "Failed to increase pool size due to not able to allocate ENI AllocENI: error attaching ENI: "
                f"attachENI: failed to attach ENI: {err}"
            )
            self.model.delete_network_interface(eni.id)  # ipamd cleans up the ENI it could not attach
            return False
        return True

    def _new_eni_placement(self) -> tuple[list[str], list[str]] | None:
        """Subnets to try, in order, and security groups for a new ENI (awsutils.go createENI): the ENIConfig's;
        with subnet discovery the zone's valid subnets, most free first; else the node's subnet unless it is
        excluded."""
        ctx = self._ctx()
        config = ctx.config
        instance = self.model.instance(self.instance_id)
        primary = self.model.enis_of_instance(self.instance_id)[0]
        if config.custom_networking:
            spec = ctx.eniconfig
            if spec is None:
                self.metrics.count_ipamd_error("increaseIPPoolAllocENI")
                self.last_error = (
                    f"Failed to get pod ENI config: error while retrieving eniconfig: "
                    f'eniconfigs.crd.k8s.amazonaws.com "{ctx.eniconfig_name}" not found'
                )
                return None
            # A wrong subnet id is EC2's to refuse (InvalidSubnetID.NotFound), as it is for ipamd.
            spec_groups = spec.get("securityGroups")
            groups = [str(g) for g in spec_groups] if isinstance(spec_groups, list) else []
            return [str(spec.get("subnet", ""))], groups or list(primary.groups)
        groups = list(primary.groups)
        if not config.subnet_discovery:
            # IsSubnetExcluded lists the zone's subnets; when that fails ipamd proceeds with the node's subnet.
            if self._describe_subnets() and self._subnet_excluded(instance.subnet.tags):
                return self._no_subnet(
                    "primary subnet is tagged with kubernetes.io/role/cni=0 and subnet discovery is disabled - "
                    "no valid subnets available for ENI creation"
                )
            return [instance.subnet.id], groups
        if not self._describe_subnets():
            # GetVpcSubnets failed; the fallback's own IsSubnetExcluded lists subnets again.
            if not self._describe_subnets():
                return self._no_subnet(
                    "Failed to check if primary subnet is excluded: failed to get VPC subnets. Quit ENI creation "
                    "attempt."
                )
            if self._subnet_excluded(instance.subnet.tags):
                return self._no_subnet(
                    "primary subnet is tagged with kubernetes.io/role/cni=0 - no valid subnets available for ENI "
                    "creation"
                )
            return [instance.subnet.id], groups
        zone = [s for s in self.model.subnets.values() if s.vpc_id == instance.subnet.vpc_id and s.az == instance.az]
        zone.sort(key=lambda s: -s.available_ip_count)  # GetVpcSubnets: most free first, stable
        candidates = [s.id for s in zone if self._valid_for_new_eni(s.tags, s.id == instance.subnet.id)]
        if not candidates:
            return self._no_subnet(
                "no valid subnets available for ENI creation - all subnets are either not tagged or tagged with "
                "kubernetes.io/role/cni=0"
            )
        return candidates, groups

    def _valid_for_new_eni(self, tags: dict[str, str], is_primary_subnet: bool) -> bool:
        """isSubnetValidForENICreation."""
        role = tags.get(CNI_ROLE_TAG, "")
        if role == "0":
            return False
        if not role:
            return is_primary_subnet
        return self._subnet_for_cluster(tags)

    def _describe_subnets(self) -> bool:
        try:
            self._call("DescribeSubnets")
        except Ec2Error as err:
            self._record_error("DescribeSubnets", err, "")
            return False
        return True

    def _no_subnet(self, message: str) -> tuple[list[str], list[str]] | None:
        """Log why no ENI can be created; always None (no placement)."""
        self.last_error = message
        self.metrics.count_ipamd_error("increaseIPPoolAllocENI")
        return None

    def _shrink(self) -> bool:
        """Give back surplus IPs, prefixes or whole ENIs. True if something was released."""
        config = self._ctx().config
        avail = self.available()
        if self.prefix_delegation_active():
            if config.warm_ip_targets_defined:
                surplus = self._prefix_count() - self._prefixes_needed()
            else:
                surplus = self._free_prefixes() - config.warm_prefix_target
            return surplus > 0 and self._release_free_prefix()
        if config.warm_ip_targets_defined:
            over = max(min(avail - config.warm_ip_target, self.total_ips() - config.minimum_ip_target), 0)
            return over > 0 and self._release_free_ips(over)
        per_eni = self.slots_per_eni()
        if avail < (config.warm_eni_target + 1) * per_eni:
            return False
        return self._free_empty_eni()

    def _releasable(self, address: int) -> bool:
        return address not in self.assigned and self.cooldown.get(address, 0.0) <= self.now

    def _release_free_ips(self, count: int) -> bool:
        # Newest ENIs first, highest addresses first: keeps the low, long-lived part of the pool.
        for eni in reversed(self.pool_enis()):
            free = [a for a in reversed(eni.secondary_ips) if self._releasable(a)][:count]
            if free:
                return self._unassign(eni, addresses=free)
        return False

    def _release_free_prefix(self) -> bool:
        for eni in reversed(self.pool_enis()):
            for prefix in reversed(eni.prefixes):
                if all(self._releasable(a) for a in range(prefix, prefix + PREFIX_SIZE)):
                    return self._unassign(eni, prefixes=[prefix])
        return False

    def _unassign(self, eni: NetworkInterface, addresses: Sequence[int] = (), prefixes: Sequence[int] = ()) -> bool:
        try:
            self._call("UnassignPrivateIpAddresses")
            self.model.unassign_private_ip_addresses(eni.id, addresses=addresses, prefixes=prefixes)
        except Ec2Error as err:
            self._record_error("UnassignPrivateIpAddresses", err, "decreaseIPPoolUnassignIPsFailed")
            return False
        return True

    def _free_empty_eni(self) -> bool:
        for eni in reversed(self.pool_enis()):
            attachment = eni.attachment
            if attachment is None or attachment.device_index == 0:
                continue
            if any(not self._releasable(a) for a in self._eni_addresses(eni)):
                continue
            api = "DetachNetworkInterface"
            try:
                self._call(api)
                self.model.detach_network_interface(attachment.id)
                api = "DeleteNetworkInterface"
                self._call(api)
                self.model.delete_network_interface(eni.id)
            except Ec2Error as err:
                self._record_error(api, err, "decreaseIPPoolFreeENIFailed")
                return False
            return True
        return False

    def _release_other_mode_leftovers(self) -> None:
        """On start ipamd frees unused secondary IPs when PD is on, and unused prefixes when it is off."""
        pd = self.prefix_delegation_active()
        for eni in self.pool_enis():
            if pd:
                spare = [a for a in eni.secondary_ips if self._releasable(a)]
                if spare:
                    self._unassign(eni, addresses=spare)
            else:
                spare_prefixes = [
                    p for p in eni.prefixes if all(self._releasable(a) for a in range(p, p + PREFIX_SIZE))
                ]
                if spare_prefixes:
                    self._unassign(eni, prefixes=spare_prefixes)

    # --- EC2 calls and their errors ---------------------------------------------------------------------------
    def _call(self, api: str) -> None:
        """Count an ipamd EC2 call and raise the error the scenario injects for it, if any."""
        self.metrics.count_ec2_request(api)
        code = self._ctx().fault(api)
        if code == "UnauthorizedOperation":
            raise Ec2Error(code, "You are not authorized to perform this operation.", 403)
        if code == "RequestLimitExceeded":
            raise Ec2Error(code, "Request limit exceeded.", 503)
        if code:
            raise Ec2Error(code, f"injected {code}")

    def _record_error(self, api: str, err: Ec2Error, fn: str) -> None:
        self.metrics.count_api_error(api, err.code)
        if fn:
            self.metrics.count_ipamd_error(fn)
        if err.code == "UnauthorizedOperation":
            note = (
                f"Unauthorized operation: failed to call ec2:{api} due to missing permissions. Please refer "
                "https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/iam-policy.md to attach relevant "
                "policy to IAM role"
            )
            if not any(e.action == api for e in self.events):
                self.events.append(IpamdEvent("MissingIAMPermissions", note, action=api))
        self.last_error = f"{api}: {err}"
