import io
from contextlib import redirect_stdout

from simulator.cluster import SimCluster
from simulator.generator import ADDRESSES_PER_NODE, MAX_VPC_CIDRS, generate, scale_scenario
from simulator.runner import SimulatedCluster, main
from simulator.scenarios import load_scenario


def test_generated_cluster_has_mixed_types_zones_and_warm_pools() -> None:
    scenario = generate(30, 12, seed=3)
    assert sum(g.count for g in scenario.node_groups) == 30
    assert len({g.instance_type for g in scenario.node_groups}) >= 3
    assert {s.az for s in scenario.subnets} == {"us-east-2a", "us-east-2b", "us-east-2c"}
    cluster = SimCluster(scenario)
    cluster.build()
    assert len(cluster.pods) == 30 * 12 + 2
    assert all(p.phase == "running" for p in cluster.pods.values())
    for node in cluster.nodes.values():
        per_eni = node.instance.type.ipv4_per_eni - 1
        assert node.ipamd.available() >= per_eni or len(node.ipamd.attached_enis()) == node.instance.type.max_enis
    assert generate(30, 12, seed=3) == scenario  # deterministic


def test_scaled_scenario_keeps_the_settings() -> None:
    scaled = scale_scenario(load_scenario("warm-target-misconfig"), nodes=6, pods_per_node=4)
    assert scaled.managed_addon is not None and scaled.name == "warm-target-misconfig"
    sim = SimulatedCluster(scaled)
    assert len(sim.cluster.nodes) == 6
    assert all(n.ipamd.total_ips() == 10 for n in sim.cluster.nodes.values())


def test_env_points_clients_at_loopback_and_stop_cleans_up() -> None:
    sim = SimulatedCluster.from_scenario("healthy", nodes=3, pods_per_node=2)
    with sim:
        env = sim.env()
        assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert env["AWS_ACCESS_KEY_ID"] == "testing" and env["AWS_EC2_METADATA_DISABLED"] == "true"
        assert sim.kubeconfig_path is not None and sim.kubeconfig_path.read_text().count("127.0.0.1") == 1
        path = sim.kubeconfig_path
    assert not path.exists()


def test_main_lists_scenarios() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--list"]) == 0
    assert "subnet-exhausted" in out.getvalue() and "prefix-fragmentation" in out.getvalue()
    assert main(["--scenario", "no-such-scenario"]) == 2


def test_a_20000_node_cluster_gets_the_address_space_it_needs() -> None:
    # Without it most nodes of the scale curve's largest point would be left with one ENI (subnets full).
    scenario = generate(20_000, 20)
    addresses = sum(2 ** (32 - int(s.cidr.split("/")[1])) for s in scenario.subnets)
    assert addresses >= 20_000 * ADDRESSES_PER_NODE and len(scenario.subnets) <= MAX_VPC_CIDRS
