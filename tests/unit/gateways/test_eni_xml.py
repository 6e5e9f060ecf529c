"""The fast DescribeNetworkInterfaces reader gives the same ENIs as botocore's own parser and eni_from_api."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.parsers import create_parser

from bot.gateways import eni_xml
from bot.gateways.aws_facts import eni_from_api

PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <networkInterfaceSet>
    <item>
      <networkInterfaceId>eni-1</networkInterfaceId>
      <attachment><attachmentId>eni-attach-1</attachmentId><instanceId>i-1</instanceId>
        <deviceIndex>1</deviceIndex><networkCardIndex>0</networkCardIndex><status>attached</status></attachment>
      <availabilityZone>us-east-2a</availabilityZone><description>aws-K8S-i-1</description>
      <groupSet><item><groupId>sg-1</groupId><groupName>nodes</groupName></item></groupSet>
      <interfaceType>interface</interfaceType><privateIpAddress>10.0.0.4</privateIpAddress>
      <privateIpAddressesSet>
        <item><privateIpAddress>10.0.0.4</privateIpAddress><primary>true</primary></item>
        <item><privateIpAddress>10.0.0.5</privateIpAddress><primary>false</primary></item>
      </privateIpAddressesSet>
      <ipv4PrefixSet><item><ipv4Prefix>10.0.0.16/28</ipv4Prefix></item></ipv4PrefixSet>
      <requesterManaged>false</requesterManaged><status>in-use</status><subnetId>subnet-1</subnetId>
      <tagSet><item><key>node.k8s.amazonaws.com/instance_id</key><value>i-1</value></item>
        <item><key>empty</key><value/></item></tagSet>
      <vpcId>vpc-1</vpcId>
    </item>
    <item>
      <networkInterfaceId>eni-2</networkInterfaceId><availabilityZone>us-east-2a</availabilityZone>
      <description>ELB app/web/1 &amp; more</description><groupSet/><interfaceType>interface</interfaceType>
      <privateIpAddress>10.0.0.9</privateIpAddress>
      <privateIpAddressesSet><item><privateIpAddress>10.0.0.9</privateIpAddress><primary>true</primary></item>
      </privateIpAddressesSet>
      <requesterManaged>true</requesterManaged><status>available</status><subnetId>subnet-1</subnetId>
      <tagSet/><vpcId>vpc-1</vpcId>
    </item>
  </networkInterfaceSet>
  <nextToken>page-2</nextToken>
</DescribeNetworkInterfacesResponse>"""


def _botocore_parse(body: bytes) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("ec2")
    shape = model.operation_model("DescribeNetworkInterfaces").output_shape
    response = {"status_code": 200, "headers": {}, "body": body}
    parsed: dict[str, Any] = create_parser("ec2").parse(response, shape)
    return parsed


def test_same_enis_as_botocore() -> None:
    fast = eni_xml.parse_network_interfaces(PAGE)
    assert fast is not None
    expected = _botocore_parse(PAGE)["NetworkInterfaces"]
    assert fast == [eni_from_api(i) for i in expected]
    assert fast[0].secondary_ips == ("10.0.0.5",) and fast[0].prefixes == ("10.0.0.16/28",)
    assert fast[0].tags == {"node.k8s.amazonaws.com/instance_id": "i-1", "empty": ""}


def test_same_enis_when_a_page_is_read_in_many_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    # Slices that cut tags and text in half: expat carries the state across feeds.
    monkeypatch.setattr(eni_xml, "_SLICE", 7)
    assert eni_xml.parse_network_interfaces(PAGE) == [
        eni_from_api(i) for i in _botocore_parse(PAGE)["NetworkInterfaces"]
    ]


def test_a_set_with_something_else_than_enis_is_left_to_botocore() -> None:
    odd = PAGE.replace(b"<networkInterfaceSet>", b"<networkInterfaceSet><item><other>x</other></item>")
    assert eni_xml.parse_network_interfaces(odd) is None


def test_before_parse_hands_botocore_only_the_envelope() -> None:
    response: dict[str, Any] = {"status_code": 200, "headers": {}, "body": PAGE}
    customized: dict[str, Any] = {}
    eni_xml._before_parse(response, customized)
    envelope = _botocore_parse(response["body"])
    assert envelope["NextToken"] == "page-2" and envelope["NetworkInterfaces"] == []
    assert [i.eni_id for i in customized["NetworkInterfaces"]] == ["eni-1", "eni-2"]


def test_errors_and_unreadable_pages_are_left_to_botocore() -> None:
    for response in (
        {"status_code": 503, "headers": {}, "body": PAGE},
        {"status_code": 200, "headers": {}, "body": b"<networkInterfaceSet>not xml"},
        {"status_code": 200, "headers": {}, "body": b"<a><networkInterfaceSet><item></networkInterfaceSet>"},
    ):
        customized: dict[str, Any] = {}
        before = dict(response)
        eni_xml._before_parse(response, customized)
        assert customized == {} and response == before
