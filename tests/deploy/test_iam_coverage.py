"""The IAM policies in deploy/iam match what the code calls: every AWS action the bot uses is allowed, and the
read-only policy allows nothing the code never calls.

Two views of "what the code calls": the operations the simulator served while the bot ran its read commands
on scenarios (what really happens), and a static scan of the source for boto3 client methods (what can happen
on paths no scenario reaches, writes included).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from commands import build_registry
from simulator.fake_slack import FakeSlack
from tests.deploy.test_iam import actions, policy
from tests.support.simbot import SimBot, sim_bot

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("bot", "commands", "storage")
SERVICES = ("ec2", "eks", "sts", "autoscaling")
READ_PREFIXES = ("Describe", "Get", "List")

# STS is not in the bot's policy, on purpose.
NOT_IN_POLICY = {
    # Needs no permission; the cluster's authenticator calls it with the bot's presigned EKS token.
    "sts:GetCallerIdentity",
    # Only with `auth.role_arn`: granted on each cluster role by the admin (deploy/INSTALL.md, "More clusters").
    "sts:AssumeRole",
}

# Scenarios that between them reach every read path: ENIConfigs and their security groups, prefix
# delegation and CIDR reservations, the managed vpc-cni add-on.
SCENARIOS = ("custom-networking", "prefix-fragmentation", "warm-target-misconfig", "cluster-shapes")


@cache
def client_methods(service: str) -> dict[str, str]:
    """boto3 method name -> API operation name, from botocore's service model."""
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


def _created_clients(tree: ast.AST) -> dict[str, str]:
    """Names bound to `<session>.client("<service>")` in a module: {"_ec2": "ec2", "sts": "sts"}."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for call in ast.walk(node.value):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "client"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and call.args[0].value in SERVICES
            ):
                for target in node.targets:
                    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
                    if name:
                        found[name] = str(call.args[0].value)
    return found


def _receiver_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


@cache
def static_actions() -> dict[str, set[str]]:
    """IAM action -> the source files that can call it.

    A call is `<client>.<method>` on a name bound to a boto3 client in the same module, or a method named by
    a string in such a module (`_pages("...", "describe_subnets", ...)`, `generate_presigned_url("get_...")`).
    """
    found: dict[str, set[str]] = {}
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            clients = _created_clients(tree)
            if not clients:
                continue
            services = set(clients.values())
            where = str(path.relative_to(ROOT))
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and _receiver_name(node.value) in clients:
                    service = clients[str(_receiver_name(node.value))]
                    operation = client_methods(service).get(node.attr)
                    if operation:
                        found.setdefault(f"{service}:{operation}", set()).add(where)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    for service in services:
                        operation = client_methods(service).get(node.value)
                        if operation:
                            found.setdefault(f"{service}:{operation}", set()).add(where)
    return found


@pytest.fixture(scope="module")
def simulated_actions(tmp_path_factory: pytest.TempPathFactory, fake_slack_server: FakeSlack) -> dict[str, int]:
    """IAM action -> calls the simulators served while the bot ran every read command on the scenarios."""
    seen: dict[str, int] = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for scenario in SCENARIOS:
            database = tmp_path_factory.mktemp("iam") / "cnibot.db"
            with sim_bot(
                scenario, monkeypatch=monkeypatch, slack=fake_slack_server, database_url=f"sqlite:///{database}"
            ) as env:
                for text in read_commands(env):
                    answer = env.ask(text)
                    assert "Sorry, something went wrong" not in str(answer), (scenario, text, answer)
                for api, operation, _detail in env.sim.counter.calls():
                    if api in SERVICES:
                        key = f"{api}:{operation}"
                        seen[key] = seen.get(key, 0) + 1
    return seen


def read_commands(env: SimBot) -> Iterator[str]:
    """The read commands that exist, each with arguments that make it do its full work."""
    registered = {sub.name for sub in build_registry().subcommands}
    node = next(iter(env.sim.cluster.nodes))
    pods = [e.pod for e in env.sim.expect if getattr(e, "pod", None)]
    wanted = {
        "why-pending": f"why-pending {pods[0]}" if pods else None,
        "node": f"node {node}",
        "subnets": "subnets",
        "capacity": "capacity",
        "config": "config",
        "version": "version",
    }
    for name, text in wanted.items():
        if name in registered and text:
            yield text


def readonly_actions() -> set[str]:
    return set(actions(policy("cnibot-readonly.json")))


def write_actions() -> set[str]:
    """The opt-in policies: add-on updates, and node rollouts (DescribeAutoScalingGroups serves only those)."""
    return set(actions(policy("cnibot-write.json"))) | set(actions(policy("cnibot-node-rollout.json")))


def test_static_scan_finds_the_gateways_calls() -> None:
    """Guards the scan itself: if it stopped seeing calls, the policy checks below would pass vacuously."""
    found = static_actions()
    assert {"ec2:DescribeNetworkInterfaces", "ec2:GetSubnetCidrReservations", "eks:DescribeCluster"} <= set(found)
    assert "sts:GetCallerIdentity" in found  # the presigned EKS token


def test_every_action_in_the_code_is_allowed_by_a_policy() -> None:
    found = static_actions()
    missing = {a: sorted(found[a]) for a in found if a not in readonly_actions() | write_actions() | NOT_IN_POLICY}
    assert not missing, f"the code calls actions no policy in deploy/iam allows: {missing}"


def test_writes_are_only_in_the_opt_in_policy() -> None:
    writes = {a for a in static_actions() if not a.split(":")[1].startswith(READ_PREFIXES)} - NOT_IN_POLICY
    assert writes <= write_actions()
    assert not writes & readonly_actions()


def test_readonly_policy_allows_nothing_the_code_never_calls() -> None:
    unused = readonly_actions() - set(static_actions())
    assert not unused, (
        f"deploy/iam/cnibot-readonly.json allows {sorted(unused)}, which no code calls: drop them from the policy "
        "(and from tests/deploy/test_iam.py and deploy/INSTALL.md), or land the code that needs them"
    )


@pytest.mark.slow
def test_read_commands_on_the_simulator_need_only_the_readonly_policy(simulated_actions: dict[str, int]) -> None:
    assert simulated_actions, "the read commands made no AWS calls"
    needed = set(simulated_actions) - NOT_IN_POLICY
    assert needed <= readonly_actions(), f"not in cnibot-readonly.json: {sorted(needed - readonly_actions())}"
    # Every operation the simulator saw is one the static scan knows, so the scan's view is not partial.
    assert needed <= set(static_actions())
    # The scenarios reach the paths that need the less common permissions.
    assert {
        "ec2:DescribeSecurityGroups",
        "ec2:GetSubnetCidrReservations",
        "eks:DescribeAddon",
        "eks:DescribeAddonVersions",
    } <= needed
