"""The AWS gateway on trimmed botocore models, against the simulator's EC2, EKS and Auto Scaling endpoint: the
paged ENI sweep (through the fast DescribeNetworkInterfaces reader), the other reads, and a botocore paginator."""

from __future__ import annotations

import boto3
import pytest

from bot.domain.facts import EniFact
from bot.gateways import eni_xml
from bot.gateways.aws import AwsGateway
from bot.gateways.aws_models import OPERATIONS_USED
from simulator.runner import SimulatedCluster


def test_gateway_reads_through_trimmed_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    read_by_fast_parser: list[int] = []
    parse = eni_xml.parse_network_interfaces

    def counting(body: bytes) -> list[EniFact] | None:
        items = parse(body)
        read_by_fast_parser.append(len(items or []))
        return items

    monkeypatch.setattr(eni_xml, "parse_network_interfaces", counting)
    with SimulatedCluster.from_scenario("healthy") as sim:
        for key, value in sim.env().items():
            monkeypatch.setenv(key, value)
        gateway = AwsGateway(sim.region, session=boto3.session.Session())
        for attr, service in (("_ec2", "ec2"), ("_eks", "eks"), ("_autoscaling", "autoscaling")):
            names = getattr(gateway, attr).meta.service_model.operation_names
            assert sorted(names) == sorted(OPERATIONS_USED[service])

        vpc_id = sim.cluster.vpc_id
        enis = gateway.vpc_enis(vpc_id)
        assert {e.eni_id for e in enis} == set(sim.cluster.model.enis_by_vpc[vpc_id])
        assert sum(read_by_fast_parser) == len(enis) > 0  # the before-parse hook still reads every page
        subnets = gateway.vpc_subnets(vpc_id)
        assert {s.cidr for s in subnets} == {"10.0.0.0/19", "10.0.32.0/19"}
        node_types = {i.type.name for i in sim.cluster.model.instances.values()}
        assert set(gateway.instance_limits(node_types)) == node_types == {"m5.large"}
        assert gateway.eks_cluster(sim.scenario.cluster_name) is not None
        assert gateway.auto_scaling_group_of(next(iter(sim.cluster.model.instances))) is not None

        # botocore's own paginator (paginators-1 is not trimmed) pages a kept operation.
        paginator = gateway._ec2.get_paginator("describe_network_interfaces")
        pages = list(
            paginator.paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}], PaginationConfig={"PageSize": 5})
        )
        assert len(pages) > 1
        assert sum(len(p["NetworkInterfaces"]) for p in pages) == len(enis)
