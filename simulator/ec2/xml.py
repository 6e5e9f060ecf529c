"""EC2 Query API XML, built as strings (a DOM is far too slow for 15,000 ENIs per sweep).

Element names follow the EC2 2016-11-15 wire format: lists are `<xxxSet><item>...</item></xxxSet>`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping

from simulator.addresses import cidr_text, int_to_ip
from simulator.instance_types import InstanceType
from simulator.model import Ec2Model, Instance, NetworkInterface, Subnet
from simulator.model import private_dns_name as _dns

NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def esc(value: object) -> str:
    text = str(value)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def el(name: str, value: object) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{esc(value)}</{name}>"


def item_set(name: str, items: Iterable[str]) -> str:
    body = "".join(f"<item>{i}</item>" for i in items)
    return f"<{name}>{body}</{name}>" if body else f"<{name}/>"


def tag_set(tags: Mapping[str, str]) -> str:
    return item_set("tagSet", (el("key", k) + el("value", v) for k, v in tags.items()))


def response(action: str, body: str) -> str:
    return (
        f'{_HEADER}<{action}Response xmlns="{NAMESPACE}"><requestId>{uuid.uuid4()}</requestId>{body}</{action}Response>'
    )


def error_response(code: str, message: str) -> str:
    return (
        f"{_HEADER}<Response><Errors><Error>{el('Code', code)}{el('Message', message)}</Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    )


def next_token(token: str | None) -> str:
    return el("nextToken", token) if token else ""


# --- resources ---------------------------------------------------------------------------------------------
def network_interface(model: Ec2Model, eni: NetworkInterface) -> str:
    """One ENI's `<item>` content; cached on the ENI until it changes.

    Written with f-strings rather than `el()`: ids, addresses, numbers and timestamps never need escaping,
    and a cold 15,000-ENI sweep renders every ENI once.
    """
    cached = eni.rendered
    if cached is not None:
        return cached
    subnet = eni.subnet
    az = subnet.az
    suffix = _dns_suffix(az)
    groups = "".join(
        f"<item><groupId>{g}</groupId><groupName>{esc(_group_name(model, g))}</groupName></item>" for g in eni.groups
    )
    attachment = ""
    if eni.attachment is not None:
        a = eni.attachment
        attachment = (
            f"<attachment><attachmentId>{a.id}</attachmentId><instanceId>{a.instance_id}</instanceId>"
            f"<instanceOwnerId>{eni.owner_id}</instanceOwnerId><deviceIndex>{a.device_index}</deviceIndex>"
            f"<networkCardIndex>{a.card_index}</networkCardIndex><status>{a.status}</status>"
            f"<attachTime>{a.attach_time}</attachTime>"
            f"<deleteOnTermination>{_bool(a.delete_on_termination)}</deleteOnTermination></attachment>"
        )
    addresses = []
    for index, address in enumerate(eni.private_ips):
        ip = int_to_ip(address)
        addresses.append(
            f"<item><privateIpAddress>{ip}</privateIpAddress>"
            f"<privateDnsName>ip-{ip.replace('.', '-')}.{suffix}</privateDnsName>"
            f"<primary>{'true' if index == 0 else 'false'}</primary></item>"
        )
    prefixes = "".join(f"<item><ipv4Prefix>{cidr_text(p, 28)}</ipv4Prefix></item>" for p in eni.prefixes)
    tags = "".join(f"<item><key>{esc(k)}</key><value>{esc(v)}</value></item>" for k, v in eni.tags.items())
    primary = int_to_ip(eni.primary_ip)
    requester = f"<requesterId>{esc(eni.requester_id)}</requesterId>" if eni.requester_id else ""
    text = (
        f"<networkInterfaceId>{eni.id}</networkInterfaceId>{attachment}"
        f"<availabilityZone>{az}</availabilityZone><availabilityZoneId>{subnet.az_id}</availabilityZoneId>"
        f"<description>{esc(eni.description)}</description><groupSet>{groups}</groupSet>"
        f"<interfaceType>{eni.interface_type}</interfaceType><ipv6AddressesSet/>"
        f"<macAddress>{eni.mac}</macAddress><ownerId>{eni.owner_id}</ownerId>"
        f"<privateDnsName>ip-{primary.replace('.', '-')}.{suffix}</privateDnsName>"
        f"<privateIpAddress>{primary}</privateIpAddress>"
        f"<privateIpAddressesSet>{''.join(addresses)}</privateIpAddressesSet>"
        f"<ipv4PrefixSet>{prefixes}</ipv4PrefixSet>{_ipv6_prefixes(eni)}{requester}"
        f"<requesterManaged>{_bool(eni.requester_managed)}</requesterManaged>"
        f"<sourceDestCheck>{_bool(eni.source_dest_check)}</sourceDestCheck><status>{eni.status}</status>"
        f"<subnetId>{subnet.id}</subnetId><tagSet>{tags}</tagSet><vpcId>{subnet.vpc_id}</vpcId>"
    )
    eni.rendered = text
    return text


def _ipv6_prefixes(eni: NetworkInterface) -> str:
    if not eni.ipv6_prefixes:
        return ""
    return (
        "<ipv6PrefixSet>"
        + "".join(f"<item><ipv6Prefix>{p}</ipv6Prefix></item>" for p in eni.ipv6_prefixes)
        + ("</ipv6PrefixSet>")
    )


def _ipv6_cidrs(subnet: Subnet) -> str:
    if subnet.ipv6_cidr is None:
        return "<ipv6CidrBlockAssociationSet/>"
    return (
        "<ipv6CidrBlockAssociationSet><item>"
        f"<associationId>subnet-cidr-assoc-{subnet.id[7:]}</associationId>"
        f"<ipv6CidrBlock>{subnet.ipv6_cidr}</ipv6CidrBlock>"
        "<ipv6CidrBlockState><state>associated</state></ipv6CidrBlockState>"
        "</item></ipv6CidrBlockAssociationSet>"
    )


def _bool(value: bool) -> str:
    return "true" if value else "false"


@functools.lru_cache(maxsize=64)
def _dns_suffix(az: str) -> str:
    region = az[:-1]
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


def subnet_item(subnet: Subnet) -> str:
    return (
        el("subnetId", subnet.id)
        + el("subnetArn", subnet.arn)
        + el("state", "available")
        + el("vpcId", subnet.vpc_id)
        + el("ownerId", subnet.owner_id)
        + el("cidrBlock", subnet.cidr)
        + _ipv6_cidrs(subnet)
        + el("availableIpAddressCount", subnet.available_ip_count)
        + el("availabilityZone", subnet.az)
        + el("availabilityZoneId", subnet.az_id)
        + el("defaultForAz", False)
        + el("mapPublicIpOnLaunch", False)
        + el("assignIpv6AddressOnCreation", False)
        + tag_set(subnet.tags)
    )


def instance_item(model: Ec2Model, instance: Instance) -> str:
    az = instance.az
    state_code = {"pending": 0, "running": 16, "stopped": 80, "terminated": 48}.get(instance.state, 16)
    running = instance.state != "terminated"
    enis = model.enis_of_instance(instance.id) if running else []
    interfaces = item_set("networkInterfaceSet", (_instance_eni(model, eni) for eni in enis))
    groups = item_set("groupSet", (el("groupId", g) + el("groupName", _group_name(model, g)) for g in instance.groups))
    hypervisor = instance.type.hypervisor or "nitro"
    return (
        el("instanceId", instance.id)
        + el("imageId", instance.image_id)
        + f"<instanceState>{el('code', state_code)}{el('name', instance.state)}</instanceState>"
        + el("privateDnsName", instance.private_dns_name if running else "")
        + "<dnsName/>"
        + el("amiLaunchIndex", 0)
        + el("instanceType", instance.type.name)
        + el("launchTime", instance.launch_time)
        + f"<placement>{el('availabilityZone', az)}{el('availabilityZoneId', instance.subnet.az_id)}"
        + f"{el('groupName', '')}{el('tenancy', 'default')}</placement>"
        + "<monitoring><state>disabled</state></monitoring>"
        + (el("subnetId", instance.subnet.id) + el("vpcId", instance.subnet.vpc_id) if running else "")
        + (el("privateIpAddress", int_to_ip(instance.private_ip)) if running else "")
        + el("architecture", "x86_64")
        + el("rootDeviceType", "ebs")
        + el("rootDeviceName", "/dev/xvda")
        + el("virtualizationType", "hvm")
        + el("hypervisor", hypervisor)
        + groups
        + tag_set(instance.tags)
        + interfaces
        + el("ebsOptimized", True)
        + el("enaSupport", True)
        + el("sourceDestCheck", True)
    )


def _instance_eni(model: Ec2Model, eni: NetworkInterface) -> str:
    a = eni.attachment
    assert a is not None
    az = eni.subnet.az
    addresses = item_set(
        "privateIpAddressesSet",
        (
            el("privateIpAddress", int_to_ip(ip)) + el("privateDnsName", _dns(ip, az)) + el("primary", i == 0)
            for i, ip in enumerate(eni.private_ips)
        ),
    )
    return (
        el("networkInterfaceId", eni.id)
        + el("subnetId", eni.subnet.id)
        + el("vpcId", eni.subnet.vpc_id)
        + el("description", eni.description)
        + el("ownerId", eni.owner_id)
        + el("status", "in-use")
        + el("macAddress", eni.mac)
        + el("privateIpAddress", int_to_ip(eni.primary_ip))
        + el("privateDnsName", _dns(eni.primary_ip, az))
        + el("sourceDestCheck", eni.source_dest_check)
        + item_set("groupSet", (el("groupId", g) + el("groupName", _group_name(model, g)) for g in eni.groups))
        + f"<attachment>{el('attachmentId', a.id)}{el('deviceIndex', a.device_index)}"
        + f"{el('networkCardIndex', a.card_index)}{el('status', a.status)}{el('attachTime', a.attach_time)}"
        + f"{el('deleteOnTermination', a.delete_on_termination)}</attachment>"
        + addresses
        + item_set("ipv4PrefixSet", (el("ipv4Prefix", cidr_text(p, 28)) for p in eni.prefixes))
        + el("interfaceType", eni.interface_type)
    )


def instance_type_item(itype: InstanceType) -> str:
    cards = item_set(
        "networkCards",
        (
            el("networkCardIndex", i)
            + el("networkPerformance", _performance(itype))
            + el("maximumNetworkInterfaces", n)
            for i, n in enumerate(itype.card_enis)
        ),
    )
    hypervisor = el("hypervisor", itype.hypervisor) if itype.hypervisor else ""
    return (
        el("instanceType", itype.name)
        + el("currentGeneration", True)
        + el("freeTierEligible", itype.name in ("t3.micro", "t2.micro"))
        + item_set("supportedUsageClasses", (esc(c) for c in ("on-demand", "spot")))
        + item_set("supportedRootDeviceTypes", ["ebs"])
        + item_set("supportedVirtualizationTypes", ["hvm"])
        + el("bareMetal", itype.bare_metal)
        + hypervisor
        + "<processorInfo><supportedArchitectures><item>x86_64</item></supportedArchitectures></processorInfo>"
        + f"<vCpuInfo>{el('defaultVCpus', itype.vcpus)}</vCpuInfo>"
        + f"<memoryInfo>{el('sizeInMiB', itype.memory_mib)}</memoryInfo>"
        + el("instanceStorageSupported", False)
        + "<networkInfo>"
        + el("networkPerformance", _performance(itype))
        + el("maximumNetworkInterfaces", itype.max_enis)
        + el("maximumNetworkCards", len(itype.card_enis))
        + el("defaultNetworkCardIndex", itype.default_card)
        + cards
        + el("ipv4AddressesPerInterface", itype.ipv4_per_eni)
        + el("ipv6AddressesPerInterface", itype.ipv6_per_eni)
        + el("ipv6Supported", True)
        + el("enaSupport", "required" if itype.hypervisor != "xen" else "supported")
        + el("efaSupported", itype.name.startswith("p5"))
        + "</networkInfo>"
        + el("hibernationSupported", False)
        + el("burstablePerformanceSupported", itype.name.startswith(("t2", "t3")))
    )


def _performance(itype: InstanceType) -> str:
    if itype.vcpus <= 8:
        return "Up to 10 Gigabit"
    if itype.vcpus <= 48:
        return "10 Gigabit" if itype.vcpus <= 16 else "12 Gigabit"
    return "25 Gigabit" if itype.vcpus <= 96 else "100 Gigabit"


def _group_name(model: Ec2Model, group_id: str) -> str:
    sg = model.security_groups.get(group_id)
    return sg.name if sg else ""
