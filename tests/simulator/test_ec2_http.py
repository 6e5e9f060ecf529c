"""The EC2/EKS/STS endpoint over HTTP, read with boto3 and the AWS CLI."""

import json
import os
import subprocess
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from simulator.counters import RequestCounter
from simulator.ec2.server import AwsApiServer
from simulator.eks import EksCluster, EksService, ManagedAddon
from simulator.faults import FaultPlan, FaultRule
from simulator.model import Ec2Model

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


class Env:
    def __init__(self) -> None:
        self.model = Ec2Model(region="us-east-2")
        m = self.model
        self.vpc = m.create_vpc("10.0.0.0/16", tags={"Name": "demo"})
        m.associate_vpc_cidr(self.vpc.id, "100.64.0.0/16")
        self.subnet = m.create_subnet(self.vpc.id, "10.0.1.0/24", "us-east-2a", tags={"kubernetes.io/role/cni": "1"})
        self.other = m.create_subnet(self.vpc.id, "10.0.2.0/24", "us-east-2b")
        self.sg = m.create_security_group(self.vpc.id, "nodes")
        self.instance = m.run_instance("m5.large", self.subnet.id, groups=[self.sg.id], tags={"Name": "n1"})
        tags = {"node.k8s.amazonaws.com/instance_id": self.instance.id, "cluster.k8s.amazonaws.com/name": "demo"}
        self.cni_eni = m.create_network_interface(
            self.subnet.id, description=f"aws-K8S-{self.instance.id}", groups=[self.sg.id], secondary_count=9, tags=tags
        )
        m.attach_network_interface(self.cni_eni.id, self.instance.id, 1)
        # 40 foreign ENIs in the other subnet for paging
        self.foreign = [m.create_network_interface(self.other.id, description=f"ELB app/{i}") for i in range(40)]
        self.applied_env: list[dict[str, str | None]] = []
        self.applied_init_env: list[dict[str, str | None]] = []
        cluster = EksCluster(
            name="demo",
            region="us-east-2",
            account_id=m.account_id,
            version="1.31",
            endpoint="http://127.0.0.1:1",
            vpc_id=self.vpc.id,
            subnet_ids=[self.subnet.id],
            security_group_ids=[self.sg.id],
            certificate_authority="Y2E=",
            addon=ManagedAddon(),
            apply_env=lambda env, init_env: (self.applied_env.append(env), self.applied_init_env.append(init_env)),
        )
        self.faults = FaultPlan()
        self.counter = RequestCounter()
        self.server = AwsApiServer(m, EksService([cluster]), self.faults, self.counter)
        self.url = self.server.start()

    def client(self, service: str = "ec2"):  # type: ignore[no-untyped-def]
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-2",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=NO_RETRY,
        )


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    e = Env()
    yield e
    e.server.stop()


def test_filter_by_instance_and_secondary_private_ip(env: Env) -> None:
    ec2 = env.client()
    by_instance = ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [env.instance.id]}]
    )["NetworkInterfaces"]
    assert sorted(e["Attachment"]["DeviceIndex"] for e in by_instance) == [0, 1]
    cni = next(e for e in by_instance if e["Attachment"]["DeviceIndex"] == 1)
    assert cni["Description"] == f"aws-K8S-{env.instance.id}" and len(cni["PrivateIpAddresses"]) == 10
    assert cni["Groups"][0]["GroupName"] == "nodes"
    secondary = cni["PrivateIpAddresses"][5]["PrivateIpAddress"]
    for name in ("private-ip-address", "addresses.private-ip-address"):
        found = ec2.describe_network_interfaces(Filters=[{"Name": name, "Values": [secondary]}])["NetworkInterfaces"]
        assert [e["NetworkInterfaceId"] for e in found] == [env.cni_eni.id]


def test_filters_tags_wildcards_and_status(env: Env) -> None:
    ec2 = env.client()

    def ids(*filters: tuple[str, list[str]]) -> set[str]:
        f = [{"Name": n, "Values": v} for n, v in filters]
        return {e["NetworkInterfaceId"] for e in ec2.describe_network_interfaces(Filters=f)["NetworkInterfaces"]}

    assert ids(("tag:cluster.k8s.amazonaws.com/name", ["demo"])) == {env.cni_eni.id}
    assert ids(("tag-key", ["node.k8s.amazonaws.com/instance_id"]), ("vpc-id", [env.vpc.id])) == {env.cni_eni.id}
    assert ids(("description", ["aws-K8S-*"])) == {env.cni_eni.id}
    assert len(ids(("description", ["ELB app/?"]))) == 10
    assert len(ids(("status", ["available"]), ("subnet-id", [env.other.id]))) == 40
    assert len(ids(("attachment.status", ["attached"]))) == 2
    assert ids(("interface-type", ["trunk"])) == set()
    assert len(ids(("availability-zone", ["us-east-2a"]), ("requester-managed", ["false"]))) == 2
    assert len(ids(("group-id", [env.sg.id]))) == 2


def test_pagination_and_parameter_errors(env: Env) -> None:
    ec2 = env.client()
    pages = list(ec2.get_paginator("describe_network_interfaces").paginate(PaginationConfig={"PageSize": 15}))
    sizes = [len(p["NetworkInterfaces"]) for p in pages]
    assert sizes == [15, 15, 12]
    all_ids = [e["NetworkInterfaceId"] for p in pages for e in p["NetworkInterfaces"]]
    assert len(set(all_ids)) == 42
    with pytest.raises(ClientError) as combo:
        ec2.describe_network_interfaces(NetworkInterfaceIds=[env.cni_eni.id], MaxResults=5)
    assert combo.value.response["Error"]["Code"] == "InvalidParameterCombination"
    with pytest.raises(ClientError) as missing:
        ec2.describe_network_interfaces(NetworkInterfaceIds=["eni-0000000000000dead"])
    assert missing.value.response["Error"]["Code"] == "InvalidNetworkInterfaceID.NotFound"
    with pytest.raises(ClientError) as bad_filter:
        ec2.describe_network_interfaces(Filters=[{"Name": "nope", "Values": ["x"]}])
    assert bad_filter.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_subnets_vpcs_instances_types_and_groups(env: Env) -> None:
    ec2 = env.client()
    subnet = ec2.describe_subnets(SubnetIds=[env.subnet.id])["Subnets"][0]
    assert subnet["AvailableIpAddressCount"] == 251 - 11
    assert subnet["AvailabilityZone"] == "us-east-2a" and subnet["Tags"][0]["Key"] == "kubernetes.io/role/cni"
    tagged = ec2.describe_subnets(Filters=[{"Name": "tag:kubernetes.io/role/cni", "Values": ["1"]}])["Subnets"]
    assert [s["SubnetId"] for s in tagged] == [env.subnet.id]
    paged = list(ec2.get_paginator("describe_subnets").paginate(PaginationConfig={"PageSize": 5}))
    assert sum(len(p["Subnets"]) for p in paged) == 2
    vpc = ec2.describe_vpcs(VpcIds=[env.vpc.id])["Vpcs"][0]
    assert [c["CidrBlock"] for c in vpc["CidrBlockAssociationSet"]] == ["10.0.0.0/16", "100.64.0.0/16"]
    dns = env.instance.private_dns_name
    reservations = ec2.describe_instances(Filters=[{"Name": "network-interface.private-dns-name", "Values": [dns]}])[
        "Reservations"
    ]
    instance = reservations[0]["Instances"][0]
    assert instance["InstanceId"] == env.instance.id and instance["Placement"]["AvailabilityZone"] == "us-east-2a"
    assert len(instance["NetworkInterfaces"]) == 2
    types = ec2.describe_instance_types(InstanceTypes=["m5.large", "p5.48xlarge"])["InstanceTypes"]
    by_name = {t["InstanceType"]: t for t in types}
    assert by_name["m5.large"]["NetworkInfo"]["MaximumNetworkInterfaces"] == 3
    assert by_name["m5.large"]["NetworkInfo"]["Ipv4AddressesPerInterface"] == 10
    assert by_name["m5.large"]["Hypervisor"] == "nitro"
    assert by_name["p5.48xlarge"]["NetworkInfo"]["NetworkCards"][0]["MaximumNetworkInterfaces"] == 2
    all_types = list(ec2.get_paginator("describe_instance_types").paginate(PaginationConfig={"PageSize": 20}))
    assert len(all_types) > 1 and all(len(p["InstanceTypes"]) <= 20 for p in all_types)
    assert ec2.describe_security_groups(GroupIds=[env.sg.id])["SecurityGroups"][0]["GroupName"] == "nodes"
    with pytest.raises(ClientError) as err:
        ec2.describe_security_groups(GroupIds=["sg-0000000000000dead"])
    assert err.value.response["Error"]["Code"] == "InvalidGroup.NotFound"


def test_mutations_and_limits_over_http(env: Env) -> None:
    ec2 = env.client()
    created = ec2.create_network_interface(
        SubnetId=env.subnet.id,
        Description="probe",
        Groups=[env.sg.id],
        SecondaryPrivateIpAddressCount=2,
        TagSpecifications=[{"ResourceType": "network-interface", "Tags": [{"Key": "k", "Value": "v"}]}],
    )["NetworkInterface"]
    eni_id = created["NetworkInterfaceId"]
    assert len(created["PrivateIpAddresses"]) == 3 and created["TagSet"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as limit:
        ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=env.instance.id, DeviceIndex=2)
        extra = ec2.create_network_interface(SubnetId=env.subnet.id)["NetworkInterface"]["NetworkInterfaceId"]
        ec2.attach_network_interface(NetworkInterfaceId=extra, InstanceId=env.instance.id, DeviceIndex=3)
    assert limit.value.response["Error"]["Code"] == "AttachmentLimitExceeded"
    assigned = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, SecondaryPrivateIpAddressCount=7)
    assert len(assigned["AssignedPrivateIpAddresses"]) == 7
    with pytest.raises(ClientError) as per_eni:
        ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, SecondaryPrivateIpAddressCount=1)
    assert per_eni.value.response["Error"]["Code"] == "PrivateIpAddressLimitExceeded"
    reservation = ec2.create_subnet_cidr_reservation(
        SubnetId=env.other.id, Cidr="10.0.2.192/26", ReservationType="prefix"
    )["SubnetCidrReservation"]
    listed = ec2.get_subnet_cidr_reservations(SubnetId=env.other.id)["SubnetIpv4CidrReservations"]
    assert listed[0]["SubnetCidrReservationId"] == reservation["SubnetCidrReservationId"]
    ec2.create_tags(Resources=[eni_id], Tags=[{"Key": "owner", "Value": "test"}])
    tagged = ec2.describe_network_interfaces(Filters=[{"Name": "tag:owner", "Values": ["test"]}])["NetworkInterfaces"]
    assert [e["NetworkInterfaceId"] for e in tagged] == [eni_id]


def test_faults_and_counter(env: Env) -> None:
    ec2 = env.client()
    env.counter.reset()
    rule = env.faults.add(FaultRule(api="ec2", operation="DescribeSubnets", code="RequestLimitExceeded", times=1))
    with pytest.raises(ClientError) as throttled:
        ec2.describe_subnets()
    assert throttled.value.response["Error"]["Code"] == "RequestLimitExceeded"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    ec2.describe_subnets()
    assert rule.fired == 1
    env.faults.add(FaultRule(api="ec2", operation="DescribeVpcs", code="UnauthorizedOperation", times=1))
    with pytest.raises(ClientError) as denied:
        ec2.describe_vpcs()
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [env.vpc.id]}], MaxResults=1000)
    assert env.counter.count("ec2", "DescribeSubnets") == 2
    _, _, detail = env.counter.calls("ec2")[-1]
    params = detail["params"]
    assert isinstance(params, dict) and params["Filter.1.Name"] == "vpc-id" and params["MaxResults"] == "1000"
    assert detail["filters"] == {"vpc-id": [env.vpc.id]}
    env.faults.clear()


def test_sts_and_eks(env: Env) -> None:
    identity = env.client("sts").get_caller_identity()
    assert identity["Account"] == env.model.account_id
    eks = env.client("eks")
    cluster = eks.describe_cluster(name="demo")["cluster"]
    assert cluster["status"] == "ACTIVE" and cluster["resourcesVpcConfig"]["vpcId"] == env.vpc.id
    assert eks.list_clusters()["clusters"] == ["demo"]
    update = eks.update_addon(
        clusterName="demo", addonName="vpc-cni", configurationValues=json.dumps({"env": {"WARM_IP_TARGET": "5"}})
    )["update"]
    assert env.applied_env[-1] == {"WARM_IP_TARGET": "5"}
    assert eks.describe_update(name="demo", updateId=update["id"], addonName="vpc-cni")["update"]["status"] == (
        "Successful"
    )
    addon = eks.describe_addon(clusterName="demo", addonName="vpc-cni")["addon"]
    assert json.loads(addon["configurationValues"]) == {"env": {"WARM_IP_TARGET": "5"}}
    eks.update_addon(clusterName="demo", addonName="vpc-cni", configurationValues="{}")
    assert env.applied_env[-1] == {"WARM_IP_TARGET": None}
    init_values = {"init": {"env": {"DISABLE_TCP_EARLY_DEMUX": "true"}}}
    eks.update_addon(clusterName="demo", addonName="vpc-cni", configurationValues=json.dumps(init_values))
    assert env.applied_init_env[-1] == {"DISABLE_TCP_EARLY_DEMUX": "true"}  # init.env is aws-vpc-cni-init's env
    with pytest.raises(ClientError) as missing:
        eks.describe_addon(clusterName="demo", addonName="coredns")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert env.counter.count("eks", "UpdateAddon") == 3


def test_aws_cli_reads_the_endpoint(env: Env) -> None:
    cli_env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-2",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    out = subprocess.run(
        [
            "aws",
            "--endpoint-url",
            env.url,
            "ec2",
            "describe-network-interfaces",
            "--filters",
            f"Name=attachment.instance-id,Values={env.instance.id}",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
        check=True,
    )
    enis = json.loads(out.stdout)["NetworkInterfaces"]
    assert {e["Attachment"]["DeviceIndex"] for e in enis} >= {0, 1}
