from __future__ import annotations

import pytest

from bot.domain.ipamd_metrics import MalformedLine, parse_ipamd_metrics, parse_prometheus_text, parse_sample_line

# Trimmed from a real aws-node /metrics page (v1.19), with a few hand-made oddities added.
EXPOSITION = r"""
# HELP awscni_add_ip_req_count The number of add IP address requests
# TYPE awscni_add_ip_req_count counter
awscni_add_ip_req_count 412
# HELP awscni_assigned_ip_addresses The number of IP addresses assigned to pods
# TYPE awscni_assigned_ip_addresses gauge
awscni_assigned_ip_addresses 25
awscni_aws_api_error_count{api="AssignPrivateIpAddresses",error="InsufficientFreeAddressesInSubnet"} 7
awscni_aws_api_error_count{api="CreateNetworkInterface",error="InsufficientFreeAddressesInSubnet"} 2
awscni_aws_api_error_count{api="DescribeNetworkInterfaces",error="RequestLimitExceeded"} 3
# HELP awscni_aws_api_latency_ms AWS API call latency in ms
# TYPE awscni_aws_api_latency_ms summary
awscni_aws_api_latency_ms{api="AssignPrivateIpAddresses",error="false",status="200",quantile="0.5"} 112
awscni_aws_api_latency_ms_sum{api="AssignPrivateIpAddresses",error="false",status="200"} 9120.5
awscni_aws_api_latency_ms_count{api="AssignPrivateIpAddresses",error="false",status="200"} 80
awscni_build_info{goversion="go1.22.5",version="v1.19.2"} 1
awscni_del_ip_req_count{reason="PodDeleted"} 380
awscni_del_ip_req_count{reason="SetupNSFailed"} 7
awscni_ec2api_req_count{fn="AssignPrivateIpAddresses"} 80
awscni_eni_allocated 3
awscni_eni_max 3
awscni_ip_max 27
awscni_ipamd_action_inprogress{fn="increaseDatastorePool"} 1
awscni_ipamd_action_inprogress{fn="nodeIPPoolReconcile"} 0
awscni_ipamd_error_count{fn="increaseIPPoolAllocIPAddressesFailed"} 9
awscni_no_available_ip_addresses 14
awscni_total_ip_addresses 27
awscni_total_ipv4_prefixes 0
# TYPE awscni_ipamd_startup_duration_seconds histogram
awscni_ipamd_startup_duration_seconds_bucket{success="true",with_api_server="true",failure_reason="",le="+Inf"} 1
awscni_ipamd_startup_duration_seconds_sum{success="true",with_api_server="true",failure_reason=""} 4.2e+00
go_gc_duration_seconds{quantile="0.75"} NaN
this line is { broken
"""


def test_ipamd_fields() -> None:
    metrics = parse_ipamd_metrics(EXPOSITION)
    assert (metrics.eni_max, metrics.eni_allocated, metrics.ip_max) == (3, 3, 27)
    assert (metrics.total_ips, metrics.assigned_ips, metrics.total_prefixes) == (27, 25, 0)
    assert metrics.no_available_ip_addresses == 14
    assert (metrics.add_requests, metrics.del_requests) == (412, 387)
    assert metrics.api_errors == {
        ("AssignPrivateIpAddresses", "InsufficientFreeAddressesInSubnet"): 7,
        ("CreateNetworkInterface", "InsufficientFreeAddressesInSubnet"): 2,
        ("DescribeNetworkInterfaces", "RequestLimitExceeded"): 3,
    }
    assert metrics.api_error_count("InsufficientFreeAddressesInSubnet") == 9
    assert metrics.ipamd_errors == {"increaseIPPoolAllocIPAddressesFailed": 9}
    assert metrics.action_in_progress == {"increaseDatastorePool": 1, "nodeIPPoolReconcile": 0}
    assert metrics.ec2_requests == {"AssignPrivateIpAddresses": 80}
    assert metrics.version == "v1.19.2"
    assert metrics.malformed_lines == 1


def test_derived_views() -> None:
    metrics = parse_ipamd_metrics(EXPOSITION)
    assert (metrics.unused_ips, metrics.eni_headroom, metrics.addressable_ips_left) == (2, 0, 2)


def test_absent_metrics_are_none_not_zero() -> None:
    metrics = parse_ipamd_metrics("awscni_eni_max 4\n")
    assert metrics.eni_max == 4
    assert metrics.total_ips is None and metrics.unused_ips is None and metrics.version is None
    assert metrics.api_errors == {}


@pytest.mark.parametrize(
    ("line", "name", "labels", "value"),
    [
        ("up 1", "up", {}, 1.0),
        ("up 1 1700000000000", "up", {}, 1.0),
        ('m{a="x"} 2', "m", {"a": "x"}, 2.0),
        ('m{a="x",} 2', "m", {"a": "x"}, 2.0),  # trailing comma is legal
        ('m{a = "x" , b="y"} 3', "m", {"a": "x", "b": "y"}, 3.0),
        (r'm{path="C:\\dir",msg="say \"hi\"\nbye"} 4', "m", {"path": "C:\\dir", "msg": 'say "hi"\nbye'}, 4.0),
        ('m{a="has } and , inside"} 5', "m", {"a": "has } and , inside"}, 5.0),
        ("m{} -Inf", "m", {}, float("-inf")),
        ("m 1.5e3", "m", {}, 1500.0),
        ("ns:m_total 7", "ns:m_total", {}, 7.0),
    ],
)
def test_sample_lines(line: str, name: str, labels: dict[str, str], value: float) -> None:
    sample = parse_sample_line(line)
    assert (sample.name, dict(sample.labels), sample.value) == (name, labels, value)


@pytest.mark.parametrize(
    "line",
    ['m{a="x" 1', "m{a=x} 1", "m", "m one", 'm{a="unterminated} 1', "9metric 1", 'm{="x"} 1', "m 1 2 3"],
)
def test_malformed_lines(line: str) -> None:
    with pytest.raises(MalformedLine):
        parse_sample_line(line)


def test_comments_and_blank_lines_are_skipped() -> None:
    samples, malformed = parse_prometheus_text("# HELP x y\n\n   \n# TYPE x gauge\nx 1\n")
    assert [(s.name, s.value) for s in samples] == [("x", 1.0)] and malformed == 0


def test_non_finite_counts_are_ignored() -> None:
    assert parse_ipamd_metrics("awscni_eni_max NaN\n").eni_max is None
