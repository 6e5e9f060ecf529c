"""EKS token auth: tokens as `aws eks get-token` makes them, checked against the simulator's STS endpoint; the
cache and its refresh on an injected clock; and the kubernetes client reaching a TLS API server with them."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.stub import Stubber
from prometheus_client import REGISTRY

from bot.config import ClusterAuth, ClusterConfig
from bot.errors import UpstreamError
from bot.gateways.connections import ClusterConnection
from bot.gateways.eks_auth import (
    CLUSTER_ID_HEADER,
    REFRESH_MARGIN_SECONDS,
    TOKEN_LIFETIME_SECONDS,
    TOKEN_PREFIX,
    EksApiAccess,
    EksTokenSource,
    assumed_role_session,
    decode_token,
)
from simulator.counters import RequestCounter
from simulator.ec2.server import AwsApiServer
from simulator.eks import EksCluster, EksService
from simulator.model import Ec2Model
from tests.support.eks import (
    RecordingApiServer,
    TlsIdentity,
    make_tls_identity,
    presigned_params,
    verify_presigned,
)

REGION = "us-east-2"
ACCESS_KEY = "AKIACNIBOTTEST000001"
SECRET_KEY = "cnibot-test-secret-key"
STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"


class Clock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def minted(cluster: str) -> float:
    return REGISTRY.get_sample_value("cnibot_eks_tokens_minted_total", {"cluster": cluster}) or 0.0


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsIdentity:
    return make_tls_identity(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def api_server(tls: TlsIdentity) -> Iterator[tuple[RecordingApiServer, str]]:
    server = RecordingApiServer(tls)
    url = server.start()
    yield server, url
    server.stop()


@pytest.fixture(scope="module")
def aws_server(api_server: tuple[RecordingApiServer, str], tls: TlsIdentity) -> Iterator[AwsApiServer]:
    """The simulator's AWS endpoint (EC2, EKS, STS) with one EKS cluster whose API is the TLS server."""
    model = Ec2Model(region=REGION)
    vpc = model.create_vpc("10.0.0.0/16")
    cluster = EksCluster(
        name="prod-eks",
        region=REGION,
        account_id=model.account_id,
        version="1.31",
        endpoint=api_server[1],
        vpc_id=vpc.id,
        subnet_ids=[],
        security_group_ids=[],
        certificate_authority=tls.ca_data,
    )
    server = AwsApiServer(model, EksService([cluster]), counter=RequestCounter())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, aws_server: AwsApiServer) -> AwsApiServer:
    """The bot's AWS environment pointed at the simulator, with the bot's own (test) credentials."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", REGION)
    aws_server.counter.reset()
    return aws_server


def session() -> boto3.session.Session:
    return boto3.session.Session()


def test_token_is_a_presigned_get_caller_identity_url_with_the_cluster_signed_in(aws: AwsApiServer) -> None:
    token = EksTokenSource(session(), "prod-eks", REGION).token()

    assert token.startswith(TOKEN_PREFIX)
    body = token.removeprefix(TOKEN_PREFIX)
    assert "=" not in body and "+" not in body and "/" not in body  # base64url, no padding
    url = decode_token(token)
    params = presigned_params(url)
    assert url.startswith(aws.url + "/?")
    assert params["Action"] == "GetCallerIdentity" and params["Version"] == "2011-06-15"
    assert params["X-Amz-Expires"] == "60"
    assert params["X-Amz-Credential"].startswith(f"{ACCESS_KEY}/")
    assert params["X-Amz-Credential"].endswith(f"/{REGION}/sts/aws4_request")
    assert params["X-Amz-SignedHeaders"].split(";") == ["host", CLUSTER_ID_HEADER]
    # The signature is the bot's, over the cluster name: valid for prod-eks, not replayable elsewhere.
    assert verify_presigned(url, SECRET_KEY, {CLUSTER_ID_HEADER: "prod-eks"})
    assert not verify_presigned(url, SECRET_KEY, {CLUSTER_ID_HEADER: "other-cluster"})
    assert not verify_presigned(url, "another-secret", {CLUSTER_ID_HEADER: "prod-eks"})


def test_the_simulators_sts_answers_the_token_with_the_bots_identity(aws: AwsApiServer) -> None:
    url = decode_token(EksTokenSource(session(), "prod-eks", REGION).token())

    # What the cluster's authenticator does with the token.
    resp = httpx.get(url, headers={CLUSTER_ID_HEADER: "prod-eks"}, timeout=5)

    assert resp.status_code == 200, resp.text
    result = ET.fromstring(resp.text).find(f"{STS_NS}GetCallerIdentityResult")
    assert result is not None
    assert result.findtext(f"{STS_NS}Account") == aws.model.account_id
    assert result.findtext(f"{STS_NS}Arn", "").startswith(f"arn:aws:iam::{aws.model.account_id}:")
    assert aws.counter.count("sts", "GetCallerIdentity") == 1


def test_tokens_are_cached_and_refreshed_a_minute_before_expiry(aws: AwsApiServer) -> None:
    clock = Clock()
    source = EksTokenSource(session(), "cache-check", REGION, clock=clock)
    before = minted("cache-check")

    first = source.token()
    clock.now += TOKEN_LIFETIME_SECONDS - REFRESH_MARGIN_SECONDS - 1
    assert source.token() == first
    assert minted("cache-check") == before + 1

    clock.now += 1  # now within the refresh margin
    second = source.token()
    assert minted("cache-check") == before + 2
    assert verify_presigned(decode_token(second), SECRET_KEY, {CLUSTER_ID_HEADER: "cache-check"})
    assert source.token() == second and minted("cache-check") == before + 2
    # Minting is local signing: STS itself is never called by the bot.
    assert aws.counter.count("sts") == 0


def test_kube_client_uses_the_clusters_ca_and_a_fresh_token_on_every_request(
    aws: AwsApiServer, api_server: tuple[RecordingApiServer, str]
) -> None:
    server, _ = api_server
    server.authorizations.clear()
    conn = ClusterConnection(
        ClusterConfig(name="prod", eks_name="prod-eks", region=REGION, auth=ClusterAuth(mode="eks"))
    )

    assert conn.kube.nodes() == []
    assert aws.counter.count("eks", "DescribeCluster") == 1
    (header,) = server.authorizations
    assert header.startswith(f"Bearer {TOKEN_PREFIX}")
    url = decode_token(header.removeprefix("Bearer "))
    assert verify_presigned(url, SECRET_KEY, {CLUSTER_ID_HEADER: "prod-eks"})

    conn.kube.nodes()
    assert server.authorizations[1] == header  # cached: the same token while it is fresh
    assert aws.counter.count("eks", "DescribeCluster") == 1  # endpoint and CA are read once


def test_refreshed_tokens_reach_the_kube_client(
    aws: AwsApiServer, api_server: tuple[RecordingApiServer, str], tls: TlsIdentity
) -> None:
    server, url = api_server
    server.authorizations.clear()
    clock = Clock()
    access = EksApiAccess(url, tls.pem, EksTokenSource(session(), "refresh-check", REGION, clock=clock))
    conn = ClusterConnection(ClusterConfig(name="refresh-check", region=REGION, auth=ClusterAuth(mode="eks")))
    conn.eks_access = lambda: access  # type: ignore[method-assign]

    conn.kube.nodes()
    clock.now += TOKEN_LIFETIME_SECONDS
    _next_wall_second()  # a token signed in the same second would be byte-identical
    conn.kube.nodes()

    first, second = (decode_token(h.removeprefix("Bearer ")) for h in server.authorizations)
    assert presigned_params(first)["X-Amz-Date"] < presigned_params(second)["X-Amz-Date"]
    assert verify_presigned(second, SECRET_KEY, {CLUSTER_ID_HEADER: "refresh-check"})


def test_a_server_without_the_clusters_ca_is_refused(aws: AwsApiServer, tmp_path: Path) -> None:
    impostor = RecordingApiServer(make_tls_identity(tmp_path, "impostor"))
    url = impostor.start()
    try:
        trusted = make_tls_identity(tmp_path, "real-ca")
        access = EksApiAccess(url, trusted.pem, EksTokenSource(session(), "tls-check", REGION))
        conn = ClusterConnection(ClusterConfig(name="tls-check", region=REGION, auth=ClusterAuth(mode="eks")))
        conn.eks_access = lambda: access  # type: ignore[method-assign]

        with pytest.raises(UpstreamError) as err:
            conn.kube.nodes()
        assert err.value.code == "unreachable"
        assert impostor.authorizations == []  # no token was handed to a server we do not trust
    finally:
        impostor.stop()


def test_unknown_eks_cluster_and_missing_region_are_named(aws: AwsApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = ClusterConnection(ClusterConfig(name="ghost", region=REGION, auth=ClusterAuth(mode="eks")))
    with pytest.raises(UpstreamError) as err:
        missing.kube.nodes()
    assert err.value.api == "eks:DescribeCluster" and "no cluster named ghost in us-east-2" in err.value.reason

    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    no_region = ClusterConnection(ClusterConfig(name="prod", eks_name="prod-eks", auth=ClusterAuth(mode="eks")))
    with pytest.raises(UpstreamError) as err:
        no_region.kube.nodes()
    assert "auth mode eks needs `region`" in err.value.reason


def test_description_without_endpoint_or_with_a_bad_ca_is_an_upstream_error(aws: AwsApiServer) -> None:
    tokens = EksTokenSource(session(), "creating", REGION)
    with pytest.raises(UpstreamError, match="no API endpoint or CA yet \\(status CREATING\\)"):
        EksApiAccess.from_description({"status": "CREATING", "certificateAuthority": {}}, tokens)
    with pytest.raises(UpstreamError, match="CA data is not base64 PEM"):
        EksApiAccess.from_description({"endpoint": "https://x", "certificateAuthority": {"data": "%%%"}}, tokens)


def test_assumed_role_signs_the_token_with_the_roles_credentials(aws: AwsApiServer) -> None:
    role = "arn:aws:iam::444455556666:role/cnibot-reader"
    sts = boto3.client("sts", region_name=REGION)
    stub = Stubber(sts)
    expires = datetime.now(UTC) + timedelta(hours=1)
    stub.add_response(
        "assume_role",
        {
            "Credentials": {
                "AccessKeyId": "ASIAROLEKEY000000001",
                "SecretAccessKey": "role-secret",
                "SessionToken": "role-session-token",
                "Expiration": expires,
            }
        },
        {"RoleArn": role, "RoleSessionName": "cnibot"},
    )
    with stub:
        role_session = assumed_role_session(session(), role, REGION, sts_client=sts)
        token = EksTokenSource(role_session, "prod-eks", REGION).token()
        stub.assert_no_pending_responses()

    url = decode_token(token)
    params = presigned_params(url)
    assert params["X-Amz-Credential"].startswith("ASIAROLEKEY000000001/")
    assert params["X-Amz-Security-Token"] == "role-session-token"
    assert verify_presigned(url, "role-secret", {CLUSTER_ID_HEADER: "prod-eks"})


def test_a_role_that_cannot_be_assumed_is_an_upstream_error(aws: AwsApiServer) -> None:
    role = "arn:aws:iam::444455556666:role/not-trusted"
    sts = boto3.client("sts", region_name=REGION)
    stub = Stubber(sts)
    stub.add_client_error("assume_role", service_error_code="AccessDenied", http_status_code=403)
    with stub:
        role_session = assumed_role_session(session(), role, REGION, sts_client=sts)
        with pytest.raises(UpstreamError) as err:
            EksTokenSource(role_session, "prod-eks", REGION).token()
    assert err.value.api == "sts:AssumeRole" and err.value.code == "AccessDenied"
    assert role in err.value.reason


def _next_wall_second() -> None:
    time.sleep(1.02 - (time.time() % 1.0))
