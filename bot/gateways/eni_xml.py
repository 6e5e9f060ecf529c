"""DescribeNetworkInterfaces pages read straight into EniFacts, instead of through botocore's generic parser.

botocore walks its shape model in Python for every element of every ENI; a sweep of a 15,000-ENI VPC spent
most of its time there. This handler streams the page through expat in slices, turns each ENI into an EniFact
as soon as its element is complete and frees that element: no page-sized tree and no dicts in boto3's shape
are built, and the GIL is let go between slices (a whole 3 MB page in one feed holds it for ~50 ms, stalling
the threads that read the pod LIST meanwhile). botocore then parses only the envelope (request id,
nextToken). Any page it cannot read is left to botocore unchanged.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any, cast

from bot.domain.facts import EniFact
from bot.gateways.bulk import gc_paused

OPEN_SET = b"<networkInterfaceSet>"
CLOSE_SET = b"</networkInterfaceSet>"
_SLICE = 64 * 1024
_intern = sys.intern


def install(ec2_client: Any) -> None:
    ec2_client.meta.events.register("before-parse.ec2.DescribeNetworkInterfaces", _before_parse)


def _before_parse(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes):
        return
    start, end = body.find(OPEN_SET), body.rfind(CLOSE_SET)
    if start < 0 or end < start:
        return  # an empty set (<networkInterfaceSet/>) or an unexpected document: botocore's job
    with gc_paused():
        enis = parse_network_interfaces(body)
    if enis is None:
        return
    # EniFacts where boto3 would put dicts: AwsGateway._eni_pages takes either.
    customized_response_dict["NetworkInterfaces"] = enis
    response_dict["body"] = body[: start + len(OPEN_SET)] + body[end:]


def parse_network_interfaces(body: bytes) -> list[EniFact] | None:
    """The page's ENIs, or None when the XML is not readable as a DescribeNetworkInterfaces page."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("end",))
    enis: list[EniFact] = []
    names: _Names | None = None
    set_size = -1
    view = memoryview(body)
    try:
        for offset in range(0, len(body), _SLICE):
            parser.feed(view[offset : offset + _SLICE])
            for _, element in cast(Iterator[tuple[str, ET.Element]], parser.read_events()):  # "end" events only
                if names is None:
                    names = _Names(element.tag)
                tag = element.tag
                if tag == names.item:
                    # An ENI is the <item> that has a networkInterfaceId; the items nested in it (addresses,
                    # prefixes, tags, groups) have none and are read with their ENI.
                    if element.find(names.eni_id) is not None:
                        enis.append(_eni(element, names))
                        element.clear()
                elif tag == names.eni_set:
                    set_size = len(element)
        parser.close()
    except ET.ParseError:
        return None
    # Every child of the set must have been an ENI read here; anything else is botocore's to read.
    return enis if set_size == len(enis) else None


class _Names:
    """Qualified tag names in the page's namespace (taken from its first element), built once a page."""

    def __init__(self, first_tag: str) -> None:
        ns = first_tag[: first_tag.index("}") + 1] if first_tag.startswith("{") else ""
        self.strip = len(ns)
        self.item, self.eni_set, self.eni_id = f"{ns}item", f"{ns}networkInterfaceSet", f"{ns}networkInterfaceId"
        self.address, self.key, self.value = f"{ns}privateIpAddress", f"{ns}key", f"{ns}value"
        self.ipv4_prefix, self.ipv6_prefix, self.group_id = f"{ns}ipv4Prefix", f"{ns}ipv6Prefix", f"{ns}groupId"
        self.instance_id, self.device_index = f"{ns}instanceId", f"{ns}deviceIndex"
        self.network_card = f"{ns}networkCardIndex"


# Scalar children of an ENI <item> kept as strings; the shared ones (thousands of ENIs have the same subnet,
# VPC, zone, status, type, description) are interned so the cache holds one copy each.
_SHARED = {"subnetId", "vpcId", "availabilityZone", "status", "interfaceType", "description"}
_OWN = {"networkInterfaceId", "privateIpAddress"}


def _eni(item: ET.Element, names: _Names) -> EniFact:
    strip = names.strip
    text: dict[str, str] = {}
    addresses: list[str] = []
    prefixes: tuple[str, ...] = ()
    ipv6_prefixes: tuple[str, ...] = ()
    tags: dict[str, str] = {}
    groups: tuple[str, ...] = ()
    instance_id: str | None = None
    device_index: int | None = None
    network_card = 0
    requester_managed = False
    for child in item:
        name = child.tag[strip:]
        if name in _SHARED:
            text[name] = _intern(child.text or "")
        elif name in _OWN:
            text[name] = child.text or ""
        elif name == "requesterManaged":
            requester_managed = child.text == "true"
        elif name == "privateIpAddressesSet":
            addresses = [e.text or "" for e in child.iter(names.address)]  # C-level walk of the set
        elif name == "ipv4PrefixSet":
            prefixes = tuple(p for e in child if (p := e.findtext(names.ipv4_prefix)))
        elif name == "ipv6PrefixSet":
            ipv6_prefixes = tuple(p for e in child if (p := e.findtext(names.ipv6_prefix)))
        elif name == "tagSet":
            tags = {_intern(e.findtext(names.key) or ""): _intern(e.findtext(names.value) or "") for e in child}
        elif name == "groupSet":
            groups = tuple(g for e in child if (g := e.findtext(names.group_id)))
        elif name == "attachment":
            instance_id = child.findtext(names.instance_id)
            device, card = child.findtext(names.device_index), child.findtext(names.network_card)
            device_index = int(device) if device else None
            network_card = int(card) if card else 0
    # The primary address is the ENI's own privateIpAddress (what each entry's <primary> flag repeats).
    primary = text.get("privateIpAddress")
    return EniFact(
        eni_id=text.get("networkInterfaceId", ""),
        subnet_id=text.get("subnetId", ""),
        vpc_id=text.get("vpcId", ""),
        az=text.get("availabilityZone", ""),
        status=text.get("status", ""),
        interface_type=text.get("interfaceType") or "interface",
        description=text.get("description", ""),
        instance_id=instance_id,
        device_index=device_index,
        network_card=network_card,
        primary_ip=primary,
        secondary_ips=tuple(a for a in addresses if a != primary),
        prefixes=prefixes,
        tags=tags,
        requester_managed=requester_managed,
        security_groups=groups,
        ipv6_prefixes=ipv6_prefixes,
    )
