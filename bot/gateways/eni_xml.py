"""DescribeNetworkInterfaces pages read with ElementTree instead of botocore's generic XML parser.

botocore walks its shape model in Python for every element of every ENI; a sweep of a 15,000-ENI VPC spent
most of its time there. This handler reads the fields `eni_from_api` uses, in boto3's shape, hands them to
botocore as a customized response, and lets botocore parse only the envelope (request id, nextToken). Any
page it cannot read is left to botocore unchanged.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

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
    return [_eni(item, ns) for item in found.findall(f"{ns}item")]


def _eni(item: ET.Element, ns: str) -> dict[str, Any]:
    def text(element: ET.Element, name: str) -> str | None:
        return element.findtext(f"{ns}{name}")

    eni: dict[str, Any] = {
        "NetworkInterfaceId": text(item, "networkInterfaceId"),
        "SubnetId": text(item, "subnetId") or "",
        "VpcId": text(item, "vpcId") or "",
        "AvailabilityZone": text(item, "availabilityZone") or "",
        "Status": text(item, "status") or "",
        "InterfaceType": text(item, "interfaceType") or "interface",
        "Description": text(item, "description") or "",
        "PrivateIpAddress": text(item, "privateIpAddress"),
        "RequesterManaged": text(item, "requesterManaged") == "true",
        "PrivateIpAddresses": [
            {"PrivateIpAddress": text(a, "privateIpAddress"), "Primary": text(a, "primary") == "true"}
            for a in item.iterfind(f"{ns}privateIpAddressesSet/{ns}item")
        ],
        "Ipv4Prefixes": [{"Ipv4Prefix": text(p, "ipv4Prefix")} for p in item.iterfind(f"{ns}ipv4PrefixSet/{ns}item")],
        "TagSet": [
            {"Key": text(t, "key"), "Value": text(t, "value") or ""} for t in item.iterfind(f"{ns}tagSet/{ns}item")
        ],
        "Groups": [{"GroupId": text(g, "groupId")} for g in item.iterfind(f"{ns}groupSet/{ns}item")],
    }
    attachment = item.find(f"{ns}attachment")
    if attachment is not None:
        device, card = text(attachment, "deviceIndex"), text(attachment, "networkCardIndex")
        eni["Attachment"] = {
            "InstanceId": text(attachment, "instanceId"),
            "DeviceIndex": int(device) if device else None,
            "NetworkCardIndex": int(card) if card else 0,
            "Status": text(attachment, "status"),
        }
    return eni
