"""DescribeNetworkInterfaces pages read with ElementTree instead of botocore's generic XML parser.

botocore walks its shape model in Python for every element of every ENI; a sweep of a 15,000-ENI VPC spent
most of its time there. This handler reads the fields `eni_from_api` uses, in boto3's shape, hands them to
botocore as a customized response, and lets botocore parse only the envelope (request id, nextToken). Any
page it cannot read is left to botocore unchanged.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from typing import Any

from bot.gateways.bulk import gc_paused

OPEN_SET = b"<networkInterfaceSet>"
CLOSE_SET = b"</networkInterfaceSet>"


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
        items = parse_network_interfaces(body)
    if items is None:
        return
    customized_response_dict["NetworkInterfaces"] = items
    response_dict["body"] = body[: start + len(OPEN_SET)] + body[end:]


def parse_network_interfaces(body: bytes) -> list[dict[str, Any]] | None:
    """The page's ENIs in boto3's shape (the fields the bot reads), or None when the XML is not readable."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    found = root.find(f"{ns}networkInterfaceSet")
    if found is None:
        return None
    tags = _tags(ns)
    return [_eni(item, tags) for item in found]


@functools.lru_cache(maxsize=4)
def _tags(ns: str) -> dict[str, str]:
    """Qualified tag names (with the namespace), built once: C-level findtext on plain tags is fast."""
    names = ["privateIpAddress", "ipv4Prefix", "ipv6Prefix", "key", "value", "groupId", "instanceId", "deviceIndex"]
    names += ["networkCardIndex", "status"]
    return {name: f"{ns}{name}" for name in names} | {"": ns}


# Scalar children of an ENI <item>, by local name -> boto3 key. One pass over the children, not a search each.
_SCALARS = {
    "networkInterfaceId": "NetworkInterfaceId",
    "subnetId": "SubnetId",
    "vpcId": "VpcId",
    "availabilityZone": "AvailabilityZone",
    "status": "Status",
    "interfaceType": "InterfaceType",
    "description": "Description",
    "privateIpAddress": "PrivateIpAddress",
}


def _eni(item: ET.Element, tags: dict[str, str]) -> dict[str, Any]:
    strip = len(tags[""])
    addresses: list[str | None] = []
    eni: dict[str, Any] = {
        "SubnetId": "",
        "VpcId": "",
        "AvailabilityZone": "",
        "Status": "",
        "InterfaceType": "interface",
        "Description": "",
        "RequesterManaged": False,
        "Ipv4Prefixes": [],
        "TagSet": [],
        "Groups": [],
    }
    for child in item:
        name = child.tag[strip:]
        if name in _SCALARS:
            eni[_SCALARS[name]] = child.text or ""
        elif name == "requesterManaged":
            eni["RequesterManaged"] = child.text == "true"
        elif name == "privateIpAddressesSet":
            addresses = [e.text for e in child.iter(tags["privateIpAddress"])]  # C-level walk of the set
        elif name == "ipv4PrefixSet":
            eni["Ipv4Prefixes"] = [{"Ipv4Prefix": e.findtext(tags["ipv4Prefix"])} for e in child]
        elif name == "ipv6PrefixSet":
            eni["Ipv6Prefixes"] = [{"Ipv6Prefix": e.findtext(tags["ipv6Prefix"])} for e in child]
        elif name == "tagSet":
            eni["TagSet"] = [{"Key": e.findtext(tags["key"]), "Value": e.findtext(tags["value"]) or ""} for e in child]
        elif name == "groupSet":
            eni["Groups"] = [{"GroupId": e.findtext(tags["groupId"])} for e in child]
        elif name == "attachment":
            device, card = child.findtext(tags["deviceIndex"]), child.findtext(tags["networkCardIndex"])
            eni["Attachment"] = {
                "InstanceId": child.findtext(tags["instanceId"]),
                "DeviceIndex": int(device) if device else None,
                "NetworkCardIndex": int(card) if card else 0,
                "Status": child.findtext(tags["status"]),
            }
    # The primary address is the ENI's own privateIpAddress (what each entry's <primary> flag repeats).
    primary = eni.get("PrivateIpAddress")
    eni["PrivateIpAddresses"] = [{"PrivateIpAddress": a, "Primary": a == primary} for a in addresses]
    return eni
