import pytest

from simulator.addresses import int_to_ip
from simulator.model import Ec2Error, Ec2Model


@pytest.fixture
def model() -> Ec2Model:
    return Ec2Model(region="us-east-2")


def make_vpc(model: Ec2Model, cidr: str = "10.0.1.0/24"):  # type: ignore[no-untyped-def]
    vpc = model.create_vpc("10.0.0.0/16")
    subnet = model.create_subnet(vpc.id, cidr, "us-east-2a")
    sg = model.create_security_group(vpc.id, "nodes")
    return vpc, subnet, sg


def test_instance_gets_primary_eni_and_dns_name(model: Ec2Model) -> None:
    _, subnet, sg = make_vpc(model)
    instance = model.run_instance("m5.large", subnet.id, groups=[sg.id])
    enis = model.enis_of_instance(instance.id)
    assert len(enis) == 1 and enis[0].attachment and enis[0].attachment.device_index == 0
    assert instance.private_dns_name == "ip-10-0-1-4.us-east-2.compute.internal"
    assert subnet.available_ip_count == 251 - 1


def test_ips_are_unique_and_subnet_count_exact(model: Ec2Model) -> None:
    _, subnet, _ = make_vpc(model)
    a = model.create_network_interface(subnet.id, secondary_count=9)
    b = model.create_network_interface(subnet.id, secondary_count=9)
    addresses = a.private_ips + b.private_ips
    assert len(set(addresses)) == 20
    assert subnet.available_ip_count == 251 - 20
    model.unassign_private_ip_addresses(a.id, addresses=a.secondary_ips[:4])
    assert subnet.available_ip_count == 251 - 16


def test_subnet_exhaustion_raises_insufficient_free_addresses(model: Ec2Model) -> None:
    _, subnet, _ = make_vpc(model, "10.0.1.0/28")
    eni = model.create_network_interface(subnet.id, secondary_count=9)
    with pytest.raises(Ec2Error) as err:
        model.assign_private_ip_addresses(eni.id, count=2)
    assert err.value.code == "InsufficientFreeAddressesInSubnet"
    assert subnet.available_ip_count == 1


def test_per_eni_limit_raises_private_ip_address_limit_exceeded(model: Ec2Model) -> None:
    _, subnet, _ = make_vpc(model)
    instance = model.run_instance("m5.large", subnet.id)
    primary = model.enis_of_instance(instance.id)[0]
    model.assign_private_ip_addresses(primary.id, count=9)
    with pytest.raises(Ec2Error) as err:
        model.assign_private_ip_addresses(primary.id, count=1)
    assert err.value.code == "PrivateIpAddressLimitExceeded"


def test_attachment_limit_and_device_index_conflicts(model: Ec2Model) -> None:
    _, subnet, _ = make_vpc(model)
    instance = model.run_instance("t3.micro", subnet.id)  # 2 ENIs
    first = model.create_network_interface(subnet.id)
    second = model.create_network_interface(subnet.id)
    with pytest.raises(Ec2Error) as conflict:
        model.attach_network_interface(first.id, instance.id, 0)
    assert conflict.value.code == "InvalidParameterValue"
    model.attach_network_interface(first.id, instance.id, 1)
    with pytest.raises(Ec2Error) as limit:
        model.attach_network_interface(second.id, instance.id, 2)
    assert limit.value.code == "AttachmentLimitExceeded"
    assert "Interface count 3 exceeds the limit for t3.micro" in limit.value.message


def test_prefixes_are_aligned_and_fragmentation_raises_insufficient_cidr_blocks(model: Ec2Model) -> None:
    _, subnet, _ = make_vpc(model, "10.0.1.0/26")
    eni = model.create_network_interface(subnet.id)
    _, prefixes = model.assign_private_ip_addresses(eni.id, prefix_count=1)
    assert [int_to_ip(p) for p in prefixes] == ["10.0.1.16"]
    model.create_network_interface(subnet.id, private_ip="10.0.1.40")
    model.create_network_interface(subnet.id, private_ip="10.0.1.50")
    assert subnet.available_ip_count >= 16
    with pytest.raises(Ec2Error) as err:
        model.assign_private_ip_addresses(eni.id, prefix_count=1)
    assert err.value.code == "InsufficientCidrBlocks"
    with pytest.raises(Ec2Error) as create_err:
        model.create_network_interface(subnet.id, prefix_count=1)
    assert create_err.value.code == "InvalidParameterValue"
    assert "sufficient free Ipv4 addresses or prefixes" in create_err.value.message


def test_not_found_codes(model: Ec2Model) -> None:
    _, subnet, _ = make_vpc(model)
    cases = [
        (lambda: model.eni("eni-0123"), "InvalidNetworkInterfaceID.NotFound"),
        (lambda: model.create_network_interface("subnet-0nope"), "InvalidSubnetID.NotFound"),
        (lambda: model.create_network_interface(subnet.id, groups=["sg-0nope"]), "InvalidGroup.NotFound"),
        (lambda: model.instance("i-0nope"), "InvalidInstanceID.NotFound"),
    ]
    for call, code in cases:
        with pytest.raises(Ec2Error) as err:
            call()
        assert err.value.code == code


def test_terminating_an_instance_leaves_non_delete_on_termination_enis_available(model: Ec2Model) -> None:
    _, subnet, _ = make_vpc(model)
    instance = model.run_instance("m5.large", subnet.id)
    eni = model.create_network_interface(subnet.id, secondary_count=9, description=f"aws-K8S-{instance.id}")
    model.attach_network_interface(eni.id, instance.id, 1)
    leaked = model.terminate_instance(instance.id)
    assert leaked == [eni.id]
    assert model.eni(eni.id).status == "available"
    assert subnet.available_ip_count == 251 - 10


def test_attach_across_availability_zones_is_refused(model: Ec2Model) -> None:
    vpc, subnet, _ = make_vpc(model)
    other = model.create_subnet(vpc.id, "10.0.2.0/24", "us-east-2b")
    instance = model.run_instance("m5.large", subnet.id)
    eni = model.create_network_interface(other.id)
    with pytest.raises(Ec2Error) as err:
        model.attach_network_interface(eni.id, instance.id, 1)
    assert err.value.code == "InvalidParameterCombination"
