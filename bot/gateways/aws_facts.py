"""EC2 and EKS API items (boto3's shape) turned into the bot's facts.

DescribeNetworkInterfaces pages normally come as EniFacts already (bot/gateways/eni_xml.py); `eni_from_api`
reads a page botocore parsed itself, and is what the fast reader is tested against.
"""

from __future__ import annotations

import sys
from typing import Any

from bot.domain.facts import EniFact, FargateProfileFact, SubnetFact


def eni_from_api(item: dict[str, Any]) -> EniFact:
    addresses = item.get("PrivateIpAddresses") or []
    primary = next((a["PrivateIpAddress"] for a in addresses if a.get("Primary")), item.get("PrivateIpAddress"))
    secondary = tuple(a["PrivateIpAddress"] for a in addresses if not a.get("Primary"))
    attachment = item.get("Attachment") or {}
    # Strings that thousands of ENIs share (subnet, VPC, zone, status, tags) are kept once (sys.intern).
    return EniFact(
        eni_id=item["NetworkInterfaceId"],
        subnet_id=_shared(item.get("SubnetId", "")),
        vpc_id=_shared(item.get("VpcId", "")),
        az=_shared(item.get("AvailabilityZone", "")),
        status=_shared(item.get("Status", "")),
        interface_type=_shared(item.get("InterfaceType", "interface")),
        description=_shared(item.get("Description", "")),
        instance_id=attachment.get("InstanceId"),
        device_index=attachment.get("DeviceIndex"),
        network_card=int(attachment.get("NetworkCardIndex", 0) or 0),
        primary_ip=primary,
        secondary_ips=secondary,
        prefixes=tuple(p["Ipv4Prefix"] for p in item.get("Ipv4Prefixes") or []),
        tags={_shared(t["Key"]): _shared(t.get("Value", "")) for t in item.get("TagSet") or []},
        requester_managed=bool(item.get("RequesterManaged", False)),
        security_groups=tuple(g["GroupId"] for g in item.get("Groups") or []),
        ipv6_prefixes=tuple(p["Ipv6Prefix"] for p in item.get("Ipv6Prefixes") or [] if p.get("Ipv6Prefix")),
    )


def fargate_profile_from_api(item: dict[str, Any]) -> FargateProfileFact:
    return FargateProfileFact(
        name=str(item.get("fargateProfileName", "")),
        subnets=tuple(str(s) for s in item.get("subnets") or []),
        selectors=tuple(
            (
                str(sel.get("namespace", "")),
                tuple(sorted((str(k), str(v)) for k, v in (sel.get("labels") or {}).items())),
            )
            for sel in item.get("selectors") or []
        ),
        status=str(item.get("status", "")),
    )


def _shared(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


def subnet_from_api(item: dict[str, Any]) -> SubnetFact:
    return SubnetFact(
        subnet_id=item["SubnetId"],
        vpc_id=item.get("VpcId", ""),
        az=item.get("AvailabilityZone", ""),
        cidr=item.get("CidrBlock", ""),
        available_ips=int(item.get("AvailableIpAddressCount", 0)),
        tags={t["Key"]: t.get("Value", "") for t in item.get("Tags") or []},
        ipv6_cidrs=tuple(
            a["Ipv6CidrBlock"]
            for a in item.get("Ipv6CidrBlockAssociationSet") or []
            if a.get("Ipv6CidrBlock") and (a.get("Ipv6CidrBlockState") or {}).get("State", "associated") == "associated"
        ),
    )
