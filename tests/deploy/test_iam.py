"""deploy/iam: exactly the AWS actions the bot calls, scoped wherever IAM allows."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

IAM_DIR = Path(__file__).resolve().parents[2] / "deploy" / "iam"

READ_ACTIONS = {
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "ec2:GetSubnetCidrReservations",
    "eks:DescribeCluster",
    "eks:DescribeAddon",
    "eks:ListFargateProfiles",
    "eks:DescribeFargateProfile",
    "eks:DescribeAddonVersions",
}
WRITE_ACTIONS = {"eks:UpdateAddon", "eks:DescribeUpdate"}
NODE_ROLLOUT_ACTIONS = {"autoscaling:DescribeAutoScalingGroups", "autoscaling:TerminateInstanceInAutoScalingGroup"}
# Actions with no resource-level permissions: IAM accepts only "*" for them.
NEEDS_STAR = {action for action in READ_ACTIONS if action.startswith("ec2:")} | {"eks:DescribeAddonVersions"}

PLACEHOLDERS = {
    "AWS_REGION": "us-east-2",
    "AWS_ACCOUNT_ID": "111122223333",
    "CLUSTER_NAME": "prod",
    "OIDC_PROVIDER": "oidc.eks.us-east-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
    "NAMESPACE": "cnibot",
    "SERVICE_ACCOUNT": "cnibot",
}


def policy(name: str) -> dict[str, Any]:
    """The policy as an admin gets it after `envsubst`."""
    text = string.Template((IAM_DIR / name).read_text()).substitute(PLACEHOLDERS)
    document: dict[str, Any] = json.loads(text)
    return document


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def actions(document: dict[str, Any]) -> list[str]:
    return [a for statement in document["Statement"] for a in as_list(statement["Action"])]


def test_only_the_expected_files_are_shipped() -> None:
    assert sorted(p.name for p in IAM_DIR.iterdir()) == [
        "cnibot-irsa-trust.json",
        "cnibot-node-rollout.json",
        "cnibot-readonly.json",
        "cnibot-write.json",
    ]


def test_readonly_policy_allows_exactly_the_read_actions() -> None:
    document = policy("cnibot-readonly.json")

    assert document["Version"] == "2012-10-17"
    assert sorted(actions(document)) == sorted(READ_ACTIONS)
    assert {s["Effect"] for s in document["Statement"]} == {"Allow"}


def test_write_policy_allows_exactly_the_addon_update_actions() -> None:
    document = policy("cnibot-write.json")

    assert sorted(actions(document)) == sorted(WRITE_ACTIONS)
    assert not set(actions(document)) & READ_ACTIONS


def test_node_rollout_policy_is_its_own_opt_in_file_scoped_to_the_cluster() -> None:
    document = policy("cnibot-node-rollout.json")
    assert sorted(actions(document)) == sorted(NODE_ROLLOUT_ACTIONS)
    (terminate,) = [s for s in document["Statement"] if "Terminate" in str(s["Action"])]
    assert terminate["Condition"] == {"StringEquals": {"autoscaling:ResourceTag/eks:cluster-name": "prod"}}


def test_star_resources_only_where_iam_requires_them() -> None:
    for name in ("cnibot-readonly.json", "cnibot-write.json"):
        for statement in policy(name)["Statement"]:
            if "*" in as_list(statement["Resource"]):
                assert set(as_list(statement["Action"])) <= NEEDS_STAR, statement["Sid"]


def test_eks_actions_are_scoped_to_the_cluster_and_its_vpc_cni_addon() -> None:
    cluster = "arn:aws:eks:us-east-2:111122223333:cluster/prod"
    addon = "arn:aws:eks:us-east-2:111122223333:addon/prod/vpc-cni/*"
    statements = policy("cnibot-readonly.json")["Statement"] + policy("cnibot-write.json")["Statement"]
    resources = {a: as_list(s["Resource"]) for s in statements for a in as_list(s["Action"])}

    assert resources["eks:DescribeCluster"] == [cluster]
    assert resources["eks:DescribeAddon"] == [addon]
    assert resources["eks:UpdateAddon"] == [addon]
    assert sorted(resources["eks:DescribeUpdate"]) == sorted([cluster, addon])
    profiles = "arn:aws:eks:us-east-2:111122223333:fargateprofile/prod/*"
    assert sorted(resources["eks:ListFargateProfiles"]) == sorted([cluster, profiles])
    assert sorted(resources["eks:DescribeFargateProfile"]) == sorted([cluster, profiles])


def test_irsa_trust_policy_admits_only_the_bots_service_account() -> None:
    (statement,) = policy("cnibot-irsa-trust.json")["Statement"]
    provider = PLACEHOLDERS["OIDC_PROVIDER"]

    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::111122223333:oidc-provider/{provider}"}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{provider}:aud": "sts.amazonaws.com",
            f"{provider}:sub": "system:serviceaccount:cnibot:cnibot",
        }
    }
