"""Warm-pool convergence against the worked examples of docs/eni-and-ip-target.md and prefix-and-ip-target.md."""

import pytest

from simulator.awsnode import parse_env
from simulator.ipamd import CUSTOM_NETWORKING_INIT_ERROR, NodeContext, NodeIpamd
from simulator.model import Ec2Model

BASE_ENV = {"ENABLE_IPv4": "true", "ENABLE_IPv6": "false"}


def start_node(
    instance_type: str, env: dict[str, str], *, subnet_cidr: str = "10.0.0.0/20", max_pods: int | None = None
) -> NodeIpamd:
    model = Ec2Model()
    vpc = model.create_vpc("10.0.0.0/16")
    subnet = model.create_subnet(vpc.id, subnet_cidr, "us-east-2a")
    instance = model.run_instance(instance_type, subnet.id)
    ipamd = NodeIpamd(model, instance.id, instance.private_dns_name)
    config = parse_env({**BASE_ENV, **env})
    pods = (
        max_pods
        if max_pods is not None
        else instance.type.calculator_max_pods(prefix_delegation=config.prefix_delegation)
    )
    ipamd.start(NodeContext(config=config, max_pods=pods))
    return ipamd


def run_pods(ipamd: NodeIpamd, count: int) -> None:
    """Pods arrive one at a time; the pool manager runs between CNI ADDs as ipamd's loop would."""
    for i in range(count):
        if ipamd.assign(f"default/p{i}") is None:
            ipamd.converge()
            assert ipamd.assign(f"default/p{i}") is not None
        ipamd.converge()


def pool(ipamd: NodeIpamd) -> tuple[int, int, int]:
    """(ENIs, total IPs, unused IPs)."""
    return len(ipamd.attached_enis()), ipamd.total_ips(), ipamd.available()


@pytest.mark.parametrize(("pods", "expected"), [(0, (1, 3, 3)), (5, (3, 9, 4)), (9, (3, 9, 0))])
def test_warm_eni_target_t3_small_table(pods: int, expected: tuple[int, int, int]) -> None:
    ipamd = start_node("t3.small", {"WARM_ENI_TARGET": "1"})
    run_pods(ipamd, pods)
    assert pool(ipamd) == expected


def test_warm_eni_target_m5_large_one_pod_costs_twenty_subnet_ips() -> None:
    ipamd = start_node("m5.large", {"WARM_ENI_TARGET": "1"})
    run_pods(ipamd, 1)
    assert pool(ipamd) == (2, 18, 17)
    subnet = ipamd.model.instance(ipamd.instance_id).subnet
    assert subnet.space.used_count == 20


@pytest.mark.parametrize(("pods", "total"), [(0, 5), (5, 7), (9, 9)])
def test_warm_ip_target_2_minimum_5_t3_small(pods: int, total: int) -> None:
    ipamd = start_node("t3.small", {"WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "5"})
    run_pods(ipamd, pods)
    assert ipamd.total_ips() == total
    if pods == 0:
        assert len(ipamd.attached_enis()) == 2


@pytest.mark.parametrize(
    ("pods", "prefixes", "unused", "enis"), [(0, 1, 16, 1), (5, 2, 27, 1), (17, 3, 31, 1), (58, 5, 22, 2)]
)
def test_prefix_delegation_warm_prefix_target_1_t3_small(pods: int, prefixes: int, unused: int, enis: int) -> None:
    ipamd = start_node("t3.small", {"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "1"})
    run_pods(ipamd, pods)
    assert ipamd.metrics.total_ipv4_prefixes == prefixes
    assert ipamd.available() == unused
    assert len(ipamd.attached_enis()) == enis


@pytest.mark.parametrize(("pods", "prefixes", "unused"), [(5, 1, 11), (58, 4, 6)])
def test_prefix_delegation_with_warm_ip_targets(pods: int, prefixes: int, unused: int) -> None:
    env = {"ENABLE_PREFIX_DELEGATION": "true", "WARM_IP_TARGET": "1", "MINIMUM_IP_TARGET": "1"}
    ipamd = start_node("t3.small", env)
    run_pods(ipamd, pods)
    assert (ipamd.metrics.total_ipv4_prefixes, ipamd.available()) == (prefixes, unused)


def test_pool_stops_growing_at_capacity_pods() -> None:
    ipamd = start_node("m5.large", {"WARM_ENI_TARGET": "1"}, max_pods=10)
    run_pods(ipamd, 9)
    assert ipamd.total_ips() == 18  # 2 ENIs: the first growth already passed capacity.pods
    assert ipamd.assign("default/extra") is not None


def test_minimum_ip_target_without_warm_ip_target_freezes_the_pool() -> None:
    ipamd = start_node("m5.large", {"MINIMUM_IP_TARGET": "11"})
    assert ipamd.total_ips() == 11
    results = [ipamd.assign(f"default/p{i}") for i in range(14)]
    ipamd.converge()
    assert results.count(None) == 3 and ipamd.total_ips() == 11
    assert ipamd.metrics.no_available_ip_addresses == 3


def test_subnet_exhaustion_is_recorded_as_api_error() -> None:
    ipamd = start_node("m5.large", {"WARM_ENI_TARGET": "1"}, subnet_cidr="10.0.0.0/27")  # 27 usable
    for i in range(20):
        if ipamd.assign(f"default/p{i}") is None:
            ipamd.converge()
            ipamd.assign(f"default/p{i}")
    errors = ipamd.metrics.aws_api_errors
    assert any(code == "InsufficientFreeAddressesInSubnet" for _, code in errors)
    subnet = ipamd.model.instance(ipamd.instance_id).subnet
    assert subnet.available_ip_count < 10


def test_cooldown_ips_count_as_available_but_are_not_assignable() -> None:
    ipamd = start_node("m5.large", {"WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "6", "IP_COOLDOWN_PERIOD": "300"})
    run_pods(ipamd, 6)
    for i in range(6):
        ipamd.release(f"default/p{i}")
    ipamd.converge()
    assert ipamd.assign("default/new") is None
    assert ipamd.cooldown_ips() == 6
    ipamd.advance(301)
    assert ipamd.assign("default/new") is not None


def test_custom_networking_skips_primary_and_uses_eniconfig_subnet() -> None:
    model = Ec2Model()
    vpc = model.create_vpc("10.0.0.0/16")
    model.associate_vpc_cidr(vpc.id, "100.64.0.0/16")
    node_subnet = model.create_subnet(vpc.id, "10.0.1.0/24", "us-east-2a")
    pod_subnet = model.create_subnet(vpc.id, "100.64.0.0/19", "us-east-2a")
    instance = model.run_instance("m5.large", node_subnet.id)
    ipamd = NodeIpamd(model, instance.id, instance.private_dns_name)
    config = parse_env({**BASE_ENV, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"})
    ctx = NodeContext(config=config, max_pods=20, eniconfig={"subnet": pod_subnet.id, "securityGroups": []})
    assert ipamd.start(ctx)
    ip = ipamd.assign("default/p0")
    assert ip is not None and ip >> 16 == (100 << 8 | 64)
    run_pods(ipamd, 18)
    assert ipamd.assign("default/over") is None  # (3 - 1) x 9 = 18 pod IPs


def test_custom_networking_without_eniconfig_fails_node_init() -> None:
    model = Ec2Model()
    vpc = model.create_vpc("10.0.0.0/16")
    subnet = model.create_subnet(vpc.id, "10.0.1.0/24", "us-east-2a")
    instance = model.run_instance("m5.large", subnet.id)
    ipamd = NodeIpamd(model, instance.id, instance.private_dns_name)
    config = parse_env({**BASE_ENV, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"})
    assert not ipamd.start(NodeContext(config=config, max_pods=29, eniconfig=None))
    assert ipamd.startup_error == CUSTOM_NETWORKING_INIT_ERROR and not ipamd.ready


def test_unauthorized_create_records_missing_iam_permissions_event() -> None:
    model = Ec2Model()
    vpc = model.create_vpc("10.0.0.0/16")
    subnet = model.create_subnet(vpc.id, "10.0.1.0/24", "us-east-2a")
    instance = model.run_instance("m5.large", subnet.id)
    ipamd = NodeIpamd(model, instance.id, instance.private_dns_name)

    def fault(api: str) -> str | None:
        return "UnauthorizedOperation" if api == "CreateNetworkInterface" else None

    ipamd.start(NodeContext(config=parse_env(BASE_ENV), max_pods=29, fault=fault))
    run_pods_failures = [ipamd.assign(f"default/p{i}") for i in range(12)]
    ipamd.converge()
    assert run_pods_failures.count(None) == 3
    assert ipamd.metrics.aws_api_errors[("CreateNetworkInterface", "UnauthorizedOperation")] >= 1
    assert ipamd.events[0].reason == "MissingIAMPermissions"
    assert "failed to call ec2:CreateNetworkInterface" in ipamd.events[0].message


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "0"}, "Setting WARM_PREFIX_TARGET = 0"),
        ({"IP_COOLDOWN_PERIOD": "-5"}, "IP_COOLDOWN_PERIOD MUST be a valid positive integer. -5 is invalid"),
        ({"ENABLE_IPv4": "false"}, "IPv4 and IPv6 are both disabled"),
        ({"AWS_VPC_K8S_CNI_VETHPREFIX": "abcde"}, "cannot be longer than 4 characters"),
        ({"AWS_VPC_ENI_MTU": "100"}, "AWS_VPC_ENI_MTU"),
    ],
)
def test_invalid_env_crashes_aws_node(env: dict[str, str], message: str) -> None:
    config = parse_env({**BASE_ENV, **env})
    assert config.startup_error is not None and message in config.startup_error


def test_removing_enable_ipv4_crashes_aws_node() -> None:
    assert "both disabled" in (parse_env({"ENABLE_IPv6": "false"}).startup_error or "")


def test_prefix_delegation_falls_back_to_secondary_ips_on_xen() -> None:
    ipamd = start_node("t2.medium", {"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "1"})
    run_pods(ipamd, 3)
    # secondary-IP mode with WARM_ENI_TARGET=1: 3 pods leave 2 of 5 spare, so a second ENI joins
    assert ipamd.metrics.total_ipv4_prefixes == 0 and ipamd.total_ips() == 10


def test_max_eni_caps_the_pool() -> None:
    ipamd = start_node("m5.large", {"MAX_ENI": "2"})
    for i in range(20):
        if ipamd.assign(f"default/p{i}") is None:
            ipamd.converge()
            ipamd.assign(f"default/p{i}")
    assert len(ipamd.attached_enis()) == 2 and ipamd.total_ips() == 18
    assert ipamd.metrics.eni_max == 2 and ipamd.metrics.ip_max == 18
