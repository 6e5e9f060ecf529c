"""One node's EC2 world, built in the simulator and read back as the bot's facts.

A conformance row describes the world (subnets with their free addresses and tags, the node's ENIs, the aws-node
env); the simulator's ipamd acts on it, and the bot's diagnosis view reads the same world as facts. Both are then
held against the upstream behaviour the row cites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.domain.cni_settings import effective_settings
from bot.domain.diagnosis.view import STOCK_ENV, View
from bot.domain.evidence import PodEvidence
from bot.domain.facts import EniFact, NodeFact, SubnetFact
from bot.domain.instance_limits import InstanceLimits
from simulator.addresses import cidr_text, int_to_ip
from simulator.awsnode import MANIFEST_ENV, parse_env
from simulator.ipamd import NodeContext, NodeIpamd
from simulator.model import Ec2Model, NetworkInterface, Subnet

AZ = "us-east-2a"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SubnetSpec:
    name: str
    cidr: str
    free: int
    tags: dict[str, str] = field(default_factory=dict)
    az: str = AZ


@dataclass(frozen=True)
class EniSpec:
    subnet: str
    secondaries: int
    tags: dict[str, str] = field(default_factory=dict)
    description: str = "aws-K8S-{instance}"


@dataclass(frozen=True)
class WorldSpec:
    """The node's primary ENI is in the first subnet and holds ``primary_secondaries`` secondary IPs."""

    subnets: tuple[SubnetSpec, ...]
    enis: tuple[EniSpec, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    primary_secondaries: int = 9
    instance_type: str = "m5.large"


@dataclass
class World:
    model: Ec2Model
    ipamd: NodeIpamd
    subnets: dict[str, Subnet]  # spec name -> subnet
    env: dict[str, str]

    def subnet_name(self, subnet_id: str) -> str:
        return next(name for name, s in self.subnets.items() if s.id == subnet_id)

    # --- the simulator's side ------------------------------------------------------------------------------
    def sim_has_room_for_eni(self) -> bool:
        return self.ipamd._has_room_for_eni()

    def sim_grow(self) -> tuple[int, list[str]]:
        """Run ipamd's pool manager once to a fixed point: (IPs gained, spec names of subnets of new ENIs)."""
        before_total = self.ipamd.total_ips()
        before = {e.id for e in self.ipamd.attached_enis()}
        self.ipamd.converge()
        new = [self.subnet_name(e.subnet.id) for e in self.ipamd.attached_enis() if e.id not in before]
        return self.ipamd.total_ips() - before_total, new

    # --- the bot's side ------------------------------------------------------------------------------------
    def view(self) -> View:
        instance = self.model.instance(self.ipamd.instance_id)
        itype = instance.type
        limits = InstanceLimits(
            itype.name, itype.card_enis[itype.default_card], itype.ipv4_per_eni, itype.hypervisor, vcpus=itype.vcpus
        )
        node = NodeFact(
            name=instance.private_dns_name,
            instance_id=instance.id,
            az=instance.az,
            instance_type=itype.name,
            capacity_pods=110,
            allocatable_pod_eni=None,
            labels={},
            annotations={},
            taints=(),
            unschedulable=False,
            ready=("True", "KubeletReady", ""),
            created_at=NOW,
        )
        enis = [eni_fact(e) for e in self.model.enis_of_instance(instance.id)]
        subnets = {s.id: subnet_fact(s) for s in self.model.subnets.values()}
        ev = PodEvidence(
            cluster="conformance",
            namespace="default",
            name="p",
            node=node,
            node_pods=[],
            settings=effective_settings({**STOCK_ENV, **self.env}),
            instance=limits,
            vpc_id=instance.subnet.vpc_id,
            node_enis=enis,
            subnets=subnets,
        )
        return View(ev, NOW)

    def bot_would_grow(self) -> bool:
        v = self.view()
        return any(not g.short for g in v.growth_subnets)

    def bot_new_eni_subnets(self) -> list[str]:
        return [self.subnet_name(s.subnet_id) for s in self.view().new_eni_subnets]


def eni_fact(eni: NetworkInterface) -> EniFact:
    attachment = eni.attachment
    return EniFact(
        eni_id=eni.id,
        subnet_id=eni.subnet.id,
        vpc_id=eni.subnet.vpc_id,
        az=eni.subnet.az,
        status=eni.status,
        interface_type=eni.interface_type,
        description=eni.description,
        instance_id=attachment.instance_id if attachment else None,
        device_index=attachment.device_index if attachment else None,
        network_card=attachment.card_index if attachment else 0,
        primary_ip=int_to_ip(eni.primary_ip),
        secondary_ips=tuple(int_to_ip(a) for a in eni.secondary_ips),
        prefixes=tuple(cidr_text(p, 28) for p in eni.prefixes),
        tags=dict(eni.tags),
    )


def subnet_fact(subnet: Subnet) -> SubnetFact:
    return SubnetFact(subnet.id, subnet.vpc_id, subnet.az, subnet.cidr, subnet.available_ip_count, dict(subnet.tags))


def build(spec: WorldSpec) -> World:
    """The world before ipamd runs: the ENIs as given, ipamd configured but its pool manager not yet run."""
    model = Ec2Model()
    vpc = model.create_vpc("10.0.0.0/16")
    model.associate_vpc_cidr(vpc.id, "100.64.0.0/16")
    subnets = {s.name: model.create_subnet(vpc.id, s.cidr, s.az, tags=s.tags) for s in spec.subnets}
    node_subnet = subnets[spec.subnets[0].name]
    instance = model.run_instance(spec.instance_type, node_subnet.id)
    primary = model.enis_of_instance(instance.id)[0]
    if spec.primary_secondaries:
        model.assign_private_ip_addresses(primary.id, count=spec.primary_secondaries)
    for device, eni_spec in enumerate(spec.enis, start=1):
        tags = {k: v.format(instance=instance.id) for k, v in eni_spec.tags.items()}
        eni = model.create_network_interface(
            subnets[eni_spec.subnet].id,
            description=eni_spec.description.format(instance=instance.id),
            secondary_count=eni_spec.secondaries,
            tags=tags,
        )
        model.attach_network_interface(eni.id, instance.id, device, 0)
    for s in spec.subnets:  # fill each subnet to the free count the row asks for, with someone else's ENI
        subnet = subnets[s.name]
        extra = subnet.available_ip_count - s.free
        assert extra >= 0, f"{s.name} cannot have {s.free} free"
        if extra:
            model.create_network_interface(subnet.id, description="ELB app/other", secondary_count=extra - 1)
    env = {**MANIFEST_ENV, **spec.env}
    ipamd = NodeIpamd(model, instance.id, instance.private_dns_name)
    config = parse_env(env)
    ipamd.context = NodeContext(config=config, max_pods=110)
    ipamd.started = True
    return World(model, ipamd, subnets, env)
