"""Reach an EKS cluster's API server with the bot's own AWS identity, the way `aws eks get-token` does.

DescribeCluster gives the endpoint and the CA. The bearer token is a presigned STS GetCallerIdentity URL with
the cluster name signed in (header `x-k8s-aws-id`): the cluster's authenticator calls that URL to learn who we
are, and the signed header stops a token minted for one cluster from being replayed against another. A token
is accepted for 15 minutes after signing, so one is cached per cluster and replaced shortly before then; the
kubernetes client asks for it on every request through `Configuration.refresh_api_key_hook`.

A cluster may name an IAM role (`auth.role_arn`, e.g. in another account): the bot assumes it with its own
credentials (session name `cnibot`) and uses the role for everything it asks AWS about that cluster.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError
from kubernetes import client as k8s

from bot import metrics
from bot.errors import UpstreamError

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# How long the presigned URL itself says it is valid; the authenticator allows 15 minutes regardless.
PRESIGN_SECONDS = 60
# What `aws eks get-token` reports as the token's expiry: 14 minutes, a minute inside the 15 accepted.
TOKEN_LIFETIME_SECONDS = 14 * 60
# Mint a new token this long before the old one expires, so no request leaves with a token about to lapse.
REFRESH_MARGIN_SECONDS = 60
ROLE_SESSION_NAME = "cnibot"


def encode_token(presigned_url: str) -> str:
    """The bearer token for a presigned GetCallerIdentity URL: prefixed, base64url without padding."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(presigned_url.encode()).decode().rstrip("=")


def decode_token(token: str) -> str:
    """The presigned URL inside a token (what the cluster's authenticator calls)."""
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError(f"not an EKS token: it must start with {TOKEN_PREFIX}")
    body = token.removeprefix(TOKEN_PREFIX)
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


@dataclass(frozen=True)
class EksToken:
    value: str
    expires_at: float  # on the token source's clock

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - REFRESH_MARGIN_SECONDS


class EksTokenSource:
    """Bearer tokens for one EKS cluster, cached until shortly before they expire. Thread-safe.

    Minting is local (SigV4 presigning), so a token costs no AWS call unless the session first has to
    assume a role.
    """

    def __init__(
        self,
        session: boto3.session.Session,
        cluster_name: str,
        region: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cluster_name = cluster_name
        self.region = region
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: EksToken | None = None
        # A client per cluster, so the header it signs in is always this cluster's.
        self._sts = session.client("sts", region_name=region)
        self._sts.meta.events.register("before-sign.sts.GetCallerIdentity", self._add_cluster_id)

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if self._cached is None or not self._cached.fresh(now):
                self._cached = EksToken(self._mint(), now + TOKEN_LIFETIME_SECONDS)
            return self._cached.value

    def _add_cluster_id(self, request: Any, **_: Any) -> None:
        request.headers[CLUSTER_ID_HEADER] = self.cluster_name

    def _mint(self) -> str:
        try:
            url = self._sts.generate_presigned_url(
                "get_caller_identity", Params={}, ExpiresIn=PRESIGN_SECONDS, HttpMethod="GET"
            )
        except (BotoCoreError, ClientError) as exc:
            raise UpstreamError("sts:presign", f"cannot sign an EKS token: {exc}", code=type(exc).__name__) from exc
        metrics.EKS_TOKENS_MINTED.labels(self.cluster_name).inc()
        return encode_token(url)


@dataclass(frozen=True)
class EksApiAccess:
    """Where an EKS cluster's API server is, whom to trust there, and how to prove who we are."""

    endpoint: str
    ca_pem: str
    tokens: EksTokenSource

    @classmethod
    def from_description(cls, cluster: Mapping[str, Any], tokens: EksTokenSource) -> EksApiAccess:
        """From DescribeCluster's `cluster` (endpoint and certificateAuthority.data, base64 of the PEM)."""
        endpoint = str(cluster.get("endpoint") or "")
        ca_data = str((cluster.get("certificateAuthority") or {}).get("data") or "")
        if not endpoint or not ca_data:
            status = cluster.get("status", "unknown")
            raise UpstreamError(
                "eks:DescribeCluster",
                f"cluster {tokens.cluster_name} has no API endpoint or CA yet (status {status})",
                code="NoEndpoint",
            )
        try:
            ca_pem = base64.b64decode(ca_data, validate=True).decode("ascii")
        except ValueError:  # not base64, or not a PEM text inside
            raise UpstreamError(
                "eks:DescribeCluster", f"cluster {tokens.cluster_name}: its CA data is not base64 PEM", code="BadCA"
            ) from None
        return cls(endpoint=endpoint, ca_pem=ca_pem, tokens=tokens)

    def configure(self, cfg: k8s.Configuration) -> None:
        cfg.host = self.endpoint
        # The CA stays in memory: nothing to write to a read-only root filesystem or to clean up.
        cfg.ca_cert_data = self.ca_pem
        cfg.api_key_prefix["authorization"] = "Bearer"
        # Present but empty: the client then calls the hook before every request, which fills in the token.
        cfg.api_key["authorization"] = ""
        tokens = self.tokens

        def refresh(c: k8s.Configuration) -> None:
            c.api_key["authorization"] = tokens.token()

        # The generated client declares the hook's type as None, though it calls it with the configuration.
        cfg.refresh_api_key_hook = refresh  # type: ignore[assignment]


class _AssumedRole(CredentialProvider):
    METHOD = "cnibot-assume-role"

    def __init__(self, fetch: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self._fetch = fetch

    def load(self) -> DeferredRefreshableCredentials:
        # Deferred: nothing is called until the first request; botocore refreshes before expiry.
        return DeferredRefreshableCredentials(refresh_using=self._fetch, method=self.METHOD)


def assumed_role_session(
    source: boto3.session.Session,
    role_arn: str,
    region: str,
    *,
    sts_client: Any | None = None,
) -> boto3.session.Session:
    """A session whose credentials come from sts:AssumeRole of `role_arn` with the source session's identity."""
    sts = sts_client or source.client("sts", region_name=region)

    def fetch() -> dict[str, str]:
        try:
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        except (BotoCoreError, ClientError) as exc:
            metrics.UPSTREAM_CALLS.labels("sts:AssumeRole", "error").inc()
            code = exc.response["Error"].get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
            raise UpstreamError("sts:AssumeRole", f"cannot assume {role_arn}: {code or exc}", code=code) from exc
        metrics.UPSTREAM_CALLS.labels("sts:AssumeRole", "ok").inc()
        expiry = creds["Expiration"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": expiry.isoformat() if isinstance(expiry, datetime) else str(expiry),
        }

    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([_AssumedRole(fetch)]))
    return boto3.session.Session(botocore_session=core, region_name=region)
