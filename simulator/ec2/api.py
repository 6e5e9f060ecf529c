"""EC2 actions: parameters in, XML out, with the filters and paging EC2 implements.

Just over 500 lines: one short method per EC2 action and the filter predicates they share.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from typing import TypeVar

from simulator.addresses import cidr_text, int_to_ip, ip_to_int
from simulator.ec2 import xml
from simulator.ec2.query import Filter, Page, QueryParams, encode_token, invalid_filter
from simulator.instance_types import INSTANCE_TYPES
from simulator.model import Ec2Error, Ec2Model, Instance, NetworkInterface, Subnet

Handler = Callable[[QueryParams], str]
R = TypeVar("R")


class Ec2Api:
    """Serves EC2 actions from an `Ec2Model`. `handle` returns the XML body or raises `Ec2Error`."""

    def __init__(self, model: Ec2Model) -> None:
        self.model = model
        self._actions: dict[str, Handler] = {
            "DescribeNetworkInterfaces": self.describe_network_interfaces,
            "DescribeSubnets": self.describe_subnets,
            "DescribeInstances": self.describe_instances,
            "DescribeInstanceTypes": self.describe_instance_types,
            "DescribeSecurityGroups": self.describe_security_groups,
            "DescribeVpcs": self.describe_vpcs,
            "GetSubnetCidrReservations": self.get_subnet_cidr_reservations,
            "CreateNetworkInterface": self.create_network_interface,
            "DeleteNetworkInterface": self.delete_network_interface,
            "AttachNetworkInterface": self.attach_network_interface,
            "DetachNetworkInterface": self.detach_network_interface,
            "AssignPrivateIpAddresses": self.assign_private_ip_addresses,
            "UnassignPrivateIpAddresses": self.unassign_private_ip_addresses,
            "CreateSubnetCidrReservation": self.create_subnet_cidr_reservation,
            "CreateTags": self.create_tags,
        }

    def handle(self, action: str, params: QueryParams) -> str:
        handler = self._actions.get(action)
        if handler is None:
            raise Ec2Error("InvalidAction", f"The action {action} is not valid for this web service.")
        if params.boolean("DryRun"):
            raise Ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)
        with self.model.lock:
            return handler(params)

    # --- DescribeNetworkInterfaces --------------------------------------------------------------------------
    def describe_network_interfaces(self, params: QueryParams) -> str:
        model = self.model
        ids = params.values("NetworkInterfaceId")
        if ids and params.get("MaxResults") is not None:
            raise Ec2Error(
                "InvalidParameterCombination",
                "The parameter NetworkInterfaceIds cannot be used with the parameter MaxResults",
            )
        page = Page.read(params)
        candidates: set[str] | None = None
        if ids:
            for eni_id in ids:
                model.eni(eni_id)  # raises InvalidNetworkInterfaceID.NotFound
            candidates = set(ids)
        predicates: list[Callable[[NetworkInterface], bool]] = []
        for f in params.filters():
            indexed = None if f.has_wildcards else self._eni_index(f)
            if indexed is not None:
                candidates = indexed if candidates is None else candidates & indexed
            else:
                predicates.append(_eni_predicate(f))
        items, token = self._eni_page(candidates, predicates, page)
        body = "".join(f"<item>{xml.network_interface(model, eni)}</item>" for eni in items)
        return xml.response(
            "DescribeNetworkInterfaces",
            f"<networkInterfaceSet>{body}</networkInterfaceSet>{xml.next_token(token)}",
        )

    def _eni_page(
        self,
        candidates: set[str] | None,
        predicates: list[Callable[[NetworkInterface], bool]],
        page: Page,
    ) -> tuple[list[NetworkInterface], str | None]:
        """One page of matching ENIs in creation order. Small candidate sets are sorted; otherwise the walk
        starts at the token's position in the (creation-ordered) ENI table and stops when the page is full."""
        enis = self.model.enis
        if candidates is not None and len(candidates) * 8 < len(enis):
            matched = [enis[i] for i in candidates if i in enis]
            matched = [e for e in matched if all(p(e) for p in predicates)]
            matched.sort(key=lambda e: e.seq)
            return page.cut([(e.seq, e) for e in matched])
        ordered = list(enis.values())  # dict order is creation order, i.e. ascending seq
        start = bisect.bisect_right(ordered, page.after, key=lambda e: e.seq) if page.after else 0
        limit = page.max_results
        chosen: list[NetworkInterface] = []
        for eni in itertools.islice(ordered, start, None):
            if candidates is not None and eni.id not in candidates:
                continue
            if predicates and not all(p(eni) for p in predicates):
                continue
            chosen.append(eni)
            if limit is not None and len(chosen) > limit:
                break
        if limit is not None and len(chosen) > limit:
            chosen = chosen[:limit]
            return chosen, encode_token(chosen[-1].seq)
        return chosen, None

    def _eni_index(self, f: Filter) -> set[str] | None:
        """Candidate ENI ids from an index, or None when the filter needs a predicate."""
        m = self.model
        name = f.name

        def union(index: dict[str, set[str]]) -> set[str]:
            out: set[str] = set()
            for value in f.values:
                out |= index.get(value, set())
            return out

        if name == "attachment.instance-id":
            return union(m.enis_by_instance)
        if name == "subnet-id":
            return union(m.enis_by_subnet)
        if name == "vpc-id":
            return union(m.enis_by_vpc)
        if name == "tag-key":
            return union(m.enis_by_tag_key)
        if name.startswith("tag:"):
            key = name[4:]
            out: set[str] = set()
            for value in f.values:
                out |= m.enis_by_tag.get((key, value), set())
            return out
        if name == "network-interface-id":
            return {v for v in f.values if v in m.enis}
        if name in ("private-ip-address", "addresses.private-ip-address"):
            found = set()
            for value in f.values:
                try:
                    eni_id = m.eni_by_address.get(ip_to_int(value))
                except ValueError:
                    continue
                if eni_id:
                    found.add(eni_id)
            return found
        return None

    # --- DescribeSubnets ------------------------------------------------------------------------------------
    def describe_subnets(self, params: QueryParams) -> str:
        model = self.model
        page = Page.read(params)
        subnets = list(model.subnets.values())
        ids = params.values("SubnetId")
        if ids:
            subnets = [model.subnet(i) for i in ids]
        for f in params.filters():
            subnets = [s for s in subnets if _subnet_matches(f, s)]
        items, token = page.cut(_in_creation_order(model.subnets, subnets))
        body = "".join(f"<item>{xml.subnet_item(s)}</item>" for s in items)
        return xml.response("DescribeSubnets", f"<subnetSet>{body}</subnetSet>{xml.next_token(token)}")

    # --- DescribeInstances ----------------------------------------------------------------------------------
    def describe_instances(self, params: QueryParams) -> str:
        model = self.model
        ids = params.values("InstanceId")
        if ids and params.get("MaxResults") is not None:
            raise Ec2Error(
                "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults"
            )
        page = Page.read(params)
        instances = list(model.instances.values())
        if ids:
            missing = [i for i in ids if i not in model.instances]
            if missing:
                raise Ec2Error("InvalidInstanceID.NotFound", f"The instance IDs '{', '.join(missing)}' do not exist")
            instances = [model.instances[i] for i in ids]
        for f in params.filters():
            instances = [i for i in instances if _instance_matches(model, f, i)]
        items, token = page.cut(_in_creation_order(model.instances, instances))
        reservations = "".join(
            "<item>"
            + xml.el("reservationId", "r-" + i.id[2:])
            + xml.el("ownerId", model.account_id)
            + "<groupSet/>"
            + f"<instancesSet><item>{xml.instance_item(model, i)}</item></instancesSet>"
            + "</item>"
            for i in items
        )
        return xml.response(
            "DescribeInstances", f"<reservationSet>{reservations}</reservationSet>{xml.next_token(token)}"
        )

    # --- DescribeInstanceTypes ------------------------------------------------------------------------------
    def describe_instance_types(self, params: QueryParams) -> str:
        names = params.values("InstanceType")
        if len(names) > 100:
            raise Ec2Error("InvalidParameterValue", "The maximum number of instance types that can be requested is 100")
        if names and params.get("MaxResults") is not None:
            raise Ec2Error(
                "InvalidParameterCombination",
                "The parameter InstanceTypes cannot be used with the parameter MaxResults",
            )
        page = Page.read(params, high=100)
        unknown = [n for n in names if n not in INSTANCE_TYPES]
        if unknown:
            raise Ec2Error(
                "InvalidInstanceType", f"The following supplied instance types do not exist: [{', '.join(unknown)}]"
            )
        chosen = [INSTANCE_TYPES[n] for n in names] if names else list(INSTANCE_TYPES.values())
        for f in params.filters():
            if f.name != "instance-type":
                raise invalid_filter(f.name)
            chosen = [t for t in chosen if f.matches([t.name])]
        ordered = [(i + 1, t) for i, t in enumerate(chosen)]
        items, token = page.cut(ordered)
        body = "".join(f"<item>{xml.instance_type_item(t)}</item>" for t in items)
        return xml.response(
            "DescribeInstanceTypes", f"<instanceTypeSet>{body}</instanceTypeSet>{xml.next_token(token)}"
        )

    # --- DescribeSecurityGroups / DescribeVpcs --------------------------------------------------------------
    def describe_security_groups(self, params: QueryParams) -> str:
        model = self.model
        groups = list(model.security_groups.values())
        ids = params.values("GroupId")
        if ids:
            groups = [model.security_group(i) for i in ids]
        for f in params.filters():
            getters: dict[str, Callable[..., list[str | None]]] = {
                "vpc-id": lambda g: [g.vpc_id],
                "group-id": lambda g: [g.id],
                "group-name": lambda g: [g.name],
                "owner-id": lambda g: [g.owner_id],
            }
            groups = [g for g in groups if _match_resource(f, getters, g, g.tags)]
        body = "".join(
            "<item>"
            + xml.el("ownerId", g.owner_id)
            + xml.el("groupId", g.id)
            + xml.el("groupName", g.name)
            + xml.el("groupDescription", g.description)
            + xml.el("vpcId", g.vpc_id)
            + xml.el("securityGroupArn", f"arn:aws:ec2:{model.region}:{g.owner_id}:security-group/{g.id}")
            + "<ipPermissions/><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups/>"
            + "<ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>"
            + "</ipPermissionsEgress>"
            + xml.tag_set(g.tags)
            + "</item>"
            for g in groups
        )
        return xml.response("DescribeSecurityGroups", f"<securityGroupInfo>{body}</securityGroupInfo>")

    def describe_vpcs(self, params: QueryParams) -> str:
        model = self.model
        vpcs = list(model.vpcs.values())
        ids = params.values("VpcId")
        if ids:
            missing = [i for i in ids if i not in model.vpcs]
            if missing:
                raise Ec2Error("InvalidVpcID.NotFound", f"The vpc ID '{missing[0]}' does not exist")
            vpcs = [model.vpcs[i] for i in ids]
        for f in params.filters():
            getters: dict[str, Callable[..., list[str | None]]] = {
                "vpc-id": lambda v: [v.id],
                "cidr": lambda v: [v.primary_cidr],
                "cidr-block-association.cidr-block": lambda v: [c for _, c in v.cidr_blocks],
                "owner-id": lambda v: [v.owner_id],
                "state": lambda v: ["available"],
            }
            vpcs = [v for v in vpcs if _match_resource(f, getters, v, v.tags)]
        body = "".join(
            "<item>"
            + xml.el("vpcId", v.id)
            + xml.el("ownerId", v.owner_id)
            + xml.el("state", "available")
            + xml.el("cidrBlock", v.primary_cidr)
            + xml.item_set(
                "cidrBlockAssociationSet",
                (
                    xml.el("associationId", aid) + xml.el("cidrBlock", cidr) + "<cidrBlockState><state>associated"
                    "</state></cidrBlockState>"
                    for aid, cidr in v.cidr_blocks
                ),
            )
            + xml.el("dhcpOptionsId", "dopt-0sim")
            + xml.el("instanceTenancy", "default")
            + xml.el("isDefault", False)
            + xml.tag_set(v.tags)
            + "</item>"
            for v in vpcs
        )
        return xml.response("DescribeVpcs", f"<vpcSet>{body}</vpcSet>")

    def get_subnet_cidr_reservations(self, params: QueryParams) -> str:
        model = self.model
        subnet = model.subnet(params.require("SubnetId"))
        reservations = subnet.space.reservations
        for f in params.filters():
            if f.name == "reservationType":
                reservations = [r for r in reservations if f.matches([r.kind])]
            elif f.name != "subnet-id":
                raise invalid_filter(f.name)
        body = "".join(
            "<item>"
            + xml.el("subnetCidrReservationId", r.id)
            + xml.el("subnetId", subnet.id)
            + xml.el("cidr", r.cidr)
            + xml.el("reservationType", r.kind)
            + xml.el("ownerId", subnet.owner_id)
            + (xml.el("description", r.description) if r.description else "")
            + "</item>"
            for r in reservations
        )
        return xml.response(
            "GetSubnetCidrReservations",
            f"<subnetIpv4CidrReservationSet>{body}</subnetIpv4CidrReservationSet><subnetIpv6CidrReservationSet/>",
        )

    # --- mutating -------------------------------------------------------------------------------------------
    def create_network_interface(self, params: QueryParams) -> str:
        explicit = [a.get("PrivateIpAddress", "") for a in params.structs("PrivateIpAddresses")]
        primary = params.get("PrivateIpAddress") or next(
            (a.get("PrivateIpAddress") for a in params.structs("PrivateIpAddresses") if a.get("Primary") == "true"),
            None,
        )
        secondary = [a for a in explicit if a and a != primary]
        prefixes = [p.get("Ipv4Prefix", "") for p in params.structs("Ipv4Prefix")]
        eni = self.model.create_network_interface(
            params.require("SubnetId"),
            description=params.get("Description", "") or "",
            groups=params.values("SecurityGroupId"),
            private_ip=primary,
            secondary_count=params.integer("SecondaryPrivateIpAddressCount"),
            secondary_ips=secondary,
            prefix_count=params.integer("Ipv4PrefixCount"),
            prefixes=prefixes,
            interface_type=params.get("InterfaceType", "interface") or "interface",
            tags=params.tag_specifications("network-interface"),
        )
        body = f"<networkInterface>{xml.network_interface(self.model, eni)}</networkInterface>"
        return xml.response("CreateNetworkInterface", body)

    def delete_network_interface(self, params: QueryParams) -> str:
        self.model.delete_network_interface(params.require("NetworkInterfaceId"))
        return xml.response("DeleteNetworkInterface", "<return>true</return>")

    def attach_network_interface(self, params: QueryParams) -> str:
        card = params.integer("NetworkCardIndex")
        attachment_id = self.model.attach_network_interface(
            params.require("NetworkInterfaceId"),
            params.require("InstanceId"),
            params.integer("DeviceIndex"),
            card,
        )
        return xml.response(
            "AttachNetworkInterface", xml.el("attachmentId", attachment_id) + xml.el("networkCardIndex", card)
        )

    def detach_network_interface(self, params: QueryParams) -> str:
        self.model.detach_network_interface(params.require("AttachmentId"))
        return xml.response("DetachNetworkInterface", "<return>true</return>")

    def assign_private_ip_addresses(self, params: QueryParams) -> str:
        eni_id = params.require("NetworkInterfaceId")
        ips, prefixes = self.model.assign_private_ip_addresses(
            eni_id,
            count=params.integer("SecondaryPrivateIpAddressCount"),
            addresses=params.values("PrivateIpAddress"),
            prefix_count=params.integer("Ipv4PrefixCount"),
            prefixes=params.values("Ipv4Prefix"),
        )
        body = (
            xml.el("networkInterfaceId", eni_id)
            + xml.item_set("assignedPrivateIpAddressesSet", (xml.el("privateIpAddress", int_to_ip(a)) for a in ips))
            + xml.item_set("assignedIpv4PrefixSet", (xml.el("ipv4Prefix", cidr_text(p, 28)) for p in prefixes))
            + "<return>true</return>"
        )
        return xml.response("AssignPrivateIpAddresses", body)

    def unassign_private_ip_addresses(self, params: QueryParams) -> str:
        try:
            addresses = [ip_to_int(a) for a in params.values("PrivateIpAddress")]
            prefixes = [ip_to_int(p.split("/")[0]) for p in params.values("Ipv4Prefix")]
        except ValueError as exc:
            raise Ec2Error("InvalidParameterValue", str(exc)) from None
        self.model.unassign_private_ip_addresses(
            params.require("NetworkInterfaceId"), addresses=addresses, prefixes=prefixes
        )
        return xml.response("UnassignPrivateIpAddresses", "<return>true</return>")

    def create_subnet_cidr_reservation(self, params: QueryParams) -> str:
        subnet_id = params.require("SubnetId")
        r = self.model.create_subnet_cidr_reservation(
            subnet_id,
            params.require("Cidr"),
            params.require("ReservationType"),
            params.get("Description", "") or "",
        )
        body = (
            "<subnetCidrReservation>"
            + xml.el("subnetCidrReservationId", r.id)
            + xml.el("subnetId", subnet_id)
            + xml.el("cidr", r.cidr)
            + xml.el("reservationType", r.kind)
            + xml.el("ownerId", self.model.account_id)
            + (xml.el("description", r.description) if r.description else "")
            + "</subnetCidrReservation>"
        )
        return xml.response("CreateSubnetCidrReservation", body)

    def create_tags(self, params: QueryParams) -> str:
        self.model.create_tags(params.values("ResourceId"), params.tags())
        return xml.response("CreateTags", "<return>true</return>")


# --- filter predicates ---------------------------------------------------------------------------------------
def _eni_predicate(f: Filter) -> Callable[[NetworkInterface], bool]:
    name = f.name
    getters: dict[str, Callable[[NetworkInterface], list[str | None]]] = {
        "attachment.instance-id": lambda e: [e.attachment.instance_id if e.attachment else None],
        "attachment.status": lambda e: [e.attachment.status if e.attachment else None],
        "attachment.attachment-id": lambda e: [e.attachment.id if e.attachment else None],
        "attachment.device-index": lambda e: [str(e.attachment.device_index) if e.attachment else None],
        "attachment.network-card-index": lambda e: [str(e.attachment.card_index) if e.attachment else None],
        "attachment.delete-on-termination": lambda e: [
            _bool(e.attachment.delete_on_termination) if e.attachment else None
        ],
        "availability-zone": lambda e: [e.subnet.az],
        "description": lambda e: [e.description],
        "group-id": lambda e: list(e.groups),
        "interface-type": lambda e: [e.interface_type],
        "mac-address": lambda e: [e.mac],
        "network-interface-id": lambda e: [e.id],
        "owner-id": lambda e: [e.owner_id],
        "private-dns-name": lambda e: [e.private_dns_name],
        "private-ip-address": lambda e: [int_to_ip(a) for a in e.private_ips],
        "addresses.private-ip-address": lambda e: [int_to_ip(a) for a in e.private_ips],
        "addresses.primary": lambda e: ["true"],
        "ipv4-prefix": lambda e: [cidr_text(p, 28) for p in e.prefixes],
        "requester-id": lambda e: [e.requester_id or None],
        "requester-managed": lambda e: [_bool(e.requester_managed)],
        "source-dest-check": lambda e: [_bool(e.source_dest_check)],
        "status": lambda e: [e.status],
        "subnet-id": lambda e: [e.subnet.id],
        "vpc-id": lambda e: [e.subnet.vpc_id],
        "tag-key": lambda e: list(e.tags),
    }
    if name.startswith("tag:"):
        key = name[4:]
        return lambda e: f.matches([e.tags.get(key)])
    getter = getters.get(name)
    if getter is None:
        raise invalid_filter(name)
    return lambda e: f.matches(getter(e))


def _subnet_matches(f: Filter, s: Subnet) -> bool:
    getters: dict[str, Callable[..., list[str | None]]] = {
        "vpc-id": lambda s: [s.vpc_id],
        "availability-zone": lambda s: [s.az],
        "availabilityZone": lambda s: [s.az],
        "availability-zone-id": lambda s: [s.az_id],
        "subnet-id": lambda s: [s.id],
        "cidr-block": lambda s: [s.cidr],
        "cidr": lambda s: [s.cidr],
        "cidrBlock": lambda s: [s.cidr],
        "state": lambda s: ["available"],
        "owner-id": lambda s: [s.owner_id],
        "default-for-az": lambda s: ["false"],
        "available-ip-address-count": lambda s: [str(s.available_ip_count)],
        "subnet-arn": lambda s: [s.arn],
    }
    return _match_resource(f, getters, s, s.tags)


def _instance_matches(model: Ec2Model, f: Filter, i: Instance) -> bool:
    running = i.state != "terminated"

    def eni_dns(inst: Instance) -> list[str | None]:
        return [e.private_dns_name for e in model.enis_of_instance(inst.id)] if running else []

    getters: dict[str, Callable[..., list[str | None]]] = {
        "instance-id": lambda i: [i.id],
        "private-dns-name": lambda i: [i.private_dns_name],
        "network-interface.private-dns-name": eni_dns,
        "vpc-id": lambda i: [i.subnet.vpc_id],
        "subnet-id": lambda i: [i.subnet.id],
        "instance-state-name": lambda i: [i.state],
        "instance-type": lambda i: [i.type.name],
        "availability-zone": lambda i: [i.az],
        "private-ip-address": lambda i: [int_to_ip(i.private_ip)],
        "image-id": lambda i: [i.image_id],
    }
    return _match_resource(f, getters, i, i.tags)


def _match_resource(
    f: Filter, getters: dict[str, Callable[..., list[str | None]]], resource: object, tags: dict[str, str]
) -> bool:
    if f.name.startswith("tag:"):
        return f.matches([tags.get(f.name[4:])])
    if f.name == "tag-key":
        return f.matches(list(tags))
    getter = getters.get(f.name)
    if getter is None:
        raise invalid_filter(f.name)
    return f.matches(getter(resource))


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _in_creation_order(index: dict[str, R], chosen: list[R]) -> list[tuple[int, R]]:
    """(position, resource) in creation order: the paging order of subnets and instances."""
    wanted = {id(r) for r in chosen}
    return [(pos, r) for pos, r in enumerate(index.values(), start=1) if id(r) in wanted]
