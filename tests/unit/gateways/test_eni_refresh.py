"""serve's background ENI sweep: a refresh keeps the objects of the ENIs that did not change, so the cache
holds one copy of them (not two) while the new sweep is built, and shows what did change."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from bot.gateways import aws
from bot.gateways.aws import AwsGateway
from simulator.runner import SimulatedCluster


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedCluster]:
    with SimulatedCluster.from_scenario("healthy") as running:
        for key, value in running.env().items():
            monkeypatch.setenv(key, value)
        yield running


def test_refresh_reuses_unchanged_enis_and_reads_changed_ones(
    sim: SimulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aws, "LIVE_REFRESH_MIN_AGE", 0.0)  # every refresh sweeps, however young the last sweep
    gateway = AwsGateway(sim.region)
    vpc = next(iter(sim.model.vpcs))
    first = gateway.vpc_enis(vpc)
    assert len(first) > 2

    assert gateway.refresh_vpc_enis() == [vpc]
    second = gateway.vpc_enis(vpc)  # the refreshed sweep, from the cache
    assert second is not first and all(a is b for a, b in zip(first, second, strict=True))

    changed = first[0]
    ec2 = boto3.client("ec2", region_name=sim.region)
    ec2.create_tags(Resources=[changed.eni_id], Tags=[{"Key": "team", "Value": "payments"}])
    gateway.refresh_vpc_enis()
    third = {e.eni_id: e for e in gateway.vpc_enis(vpc)}
    assert third[changed.eni_id].tags == {**changed.tags, "team": "payments"}
    assert third[changed.eni_id] is not changed
    assert all(third[e.eni_id] is e for e in first if e.eni_id != changed.eni_id)


def test_a_refresh_right_after_a_commands_sweep_does_not_repeat_it(sim: SimulatedCluster) -> None:
    gateway = AwsGateway(sim.region)
    enis = gateway.vpc_enis(next(iter(sim.model.vpcs)))
    before = sim.counter.snapshot().get("ec2:DescribeNetworkInterfaces", 0)
    assert gateway.refresh_vpc_enis() == []  # the command's sweep is younger than half the interval
    assert sim.counter.snapshot().get("ec2:DescribeNetworkInterfaces", 0) == before
    assert gateway.vpc_enis(next(iter(sim.model.vpcs))) is enis


def test_a_refresh_without_a_recent_read_sweeps_nothing(sim: SimulatedCluster) -> None:
    gateway = AwsGateway(sim.region)
    assert gateway.refresh_vpc_enis() == []  # nobody asked about a VPC: no EC2 call
    gateway.vpc_enis(next(iter(sim.model.vpcs)))
    assert gateway.refresh_vpc_enis(idle_after=0.0) == []  # asked, but longer ago than idle_after


def test_a_vpc_too_big_for_the_refresh_budget_is_left_to_the_commands(
    sim: SimulatedCluster, caplog: pytest.LogCaptureFixture
) -> None:
    # At 0.1 calls/s, even one page every 7 s is over half the rate (the same sum as 18 pages at 5 calls/s).
    gateway = AwsGateway(sim.region, rate=0.1, burst=10)
    vpc = next(iter(sim.model.vpcs))
    gateway.vpc_enis(vpc)
    assert not gateway.refresh_affordable(vpc)
    with caplog.at_level("INFO", logger="cnibot.aws"):
        assert gateway.refresh_vpc_enis() == [] and gateway.refresh_vpc_enis() == []
    assert sum("not swept in the background" in r.getMessage() for r in caplog.records) == 1
    assert AwsGateway(sim.region).refresh_affordable(vpc)  # the default rate affords 17 pages
