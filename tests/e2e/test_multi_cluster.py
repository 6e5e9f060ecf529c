"""One bot, two EKS clusters in two regions (two simulators), both reached in auth mode "eks": the Kubernetes
endpoint from DescribeCluster and a token per cluster. `--cluster` and the channel's default pick the cluster;
each simulator sees only the requests about its own cluster, with tokens signed for that cluster."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from bot.config import ClusterAuth, ClusterConfig
from bot.gateways.eks_auth import CLUSTER_ID_HEADER, TOKEN_PREFIX, decode_token
from simulator.fake_slack import FakeSlack
from simulator.kube.server import KubeApiServer
from simulator.runner import SimulatedCluster
from simulator.scenarios import SCENARIO_DIR, load_scenario, parse_scenario
from tests.support.bot import RunningBot, start_bot
from tests.support.eks import verify_presigned

SIGNING_SECRET = "multi-cluster-secret"
EAST_CHANNEL, WEST_CHANNEL, OTHER_CHANNEL = "C0EAST", "C0WEST", "C0RANDOM"


class RegionalAws:
    """AWS as the bot sees it across regions: one loopback endpoint that hands each request to the simulator
    of the region in its SigV4 credential scope (the Authorization header, or X-Amz-Credential when presigned).
    """

    def __init__(self, by_region: dict[str, str]) -> None:
        self.by_region = by_region
        self._client = httpx.Client(timeout=30)
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = front.by_region[front.region_of(self.headers.get("Authorization", ""), self.path)]
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                resp = front._client.request(self.command, upstream + self.path, headers=headers, content=body)
                self.send_response(resp.status_code)
                for key, value in resp.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, name="regional-aws", daemon=True).start()

    @staticmethod
    def region_of(authorization: str, path: str) -> str:
        scope = authorization.partition("Credential=")[2] or parse_qs(urlsplit(path).query)["X-Amz-Credential"][0]
        return scope.split("/")[2]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._client.close()


def _east() -> SimulatedCluster:
    return SimulatedCluster(dataclasses.replace(load_scenario("healthy"), cluster_name="east-eks"), seed=1)


def _west() -> SimulatedCluster:
    """The subnet-exhausted scenario, moved to us-west-2."""
    data = yaml.safe_load((SCENARIO_DIR / "subnet-exhausted.yaml").read_text().replace("us-east-2", "us-west-2"))
    data.update(name="subnet-exhausted-west", cluster_name="west-eks", region="us-west-2")
    return SimulatedCluster(parse_scenario(data), seed=2)


@dataclasses.dataclass
class TwoClusters:
    east: SimulatedCluster
    west: SimulatedCluster
    bot: RunningBot
    authorizations: dict[str, list[str]]  # kube server URL -> Authorization headers it received

    def ask(self, text: str, channel: str) -> str:
        reply = self.bot.slash(text, channel_id=channel)
        assert reply.status == 200, reply
        return str(self.bot.answer(reply))

    def reset(self) -> None:
        for sim in (self.east, self.west):
            sim.counter.reset()
        self.authorizations.clear()


@pytest.fixture
def clusters(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str) -> Iterator[TwoClusters]:
    east, west = _east().start(), _west().start()
    front = RegionalAws({"us-east-2": east.ec2_url, "us-west-2": west.ec2_url})
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_SESSION_TOKEN", "KUBECONFIG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    authorizations: dict[str, list[str]] = defaultdict(list)
    serve = KubeApiServer.serve

    def recording(self: KubeApiServer, method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        authorizations[self.url].append(headers.get("authorization", ""))
        return serve(self, method, target, headers, body)

    monkeypatch.setattr(KubeApiServer, "serve", recording)
    eks = ClusterAuth(mode="eks")
    settings = {
        "database_url": sqlite_url,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": "xoxb-multi-cluster",
        "slack_api_url": fake_slack.api_url,
        "default_cluster": "east",
        "clusters": [
            ClusterConfig(name="east", eks_name="east-eks", region="us-east-2", auth=eks, channels=(EAST_CHANNEL,)),
            ClusterConfig(name="west", eks_name="west-eks", region="us-west-2", auth=eks, channels=(WEST_CHANNEL,)),
        ],
    }
    bot = start_bot(settings, fake_slack, SIGNING_SECRET)
    try:
        yield TwoClusters(east, west, bot, authorizations)
    finally:
        bot.stop()
        front.stop()
        east.stop()
        west.stop()


def _subnet_ids(sim: SimulatedCluster) -> set[str]:
    return {subnet.id for subnet in sim.cluster.subnets.values()}


def _asked(sim: SimulatedCluster) -> bool:
    snapshot = sim.counter.snapshot()
    return any(key.startswith("ec2:") for key in snapshot) and any(key.startswith("kube:") for key in snapshot)


def _assert_tokens_for(clusters: TwoClusters, sim: SimulatedCluster) -> None:
    headers = clusters.authorizations[sim.kube_url]
    assert headers, f"{sim.cluster_name}'s API server was not called"
    for header in set(headers):
        assert header.startswith(f"Bearer {TOKEN_PREFIX}")
        url = decode_token(header.removeprefix("Bearer "))
        assert verify_presigned(url, "testing", {CLUSTER_ID_HEADER: sim.cluster_name})
        assert f"/{sim.region}/sts/aws4_request" in parse_qs(urlsplit(url).query)["X-Amz-Credential"][0]


@pytest.mark.slow
def test_channel_default_and_cluster_flag_pick_the_right_cluster(clusters: TwoClusters) -> None:
    east, west = clusters.east, clusters.west
    assert not _subnet_ids(east) & _subnet_ids(west)

    # The west channel defaults to west.
    answer = clusters.ask("subnets", WEST_CHANNEL)
    assert all(s in answer for s in _subnet_ids(west)) and not any(s in answer for s in _subnet_ids(east))
    assert _asked(west) and east.counter.snapshot() == {}
    assert west.counter.count("eks", "DescribeCluster") == 1
    _assert_tokens_for(clusters, west)
    assert east.kube_url not in clusters.authorizations

    # --cluster wins over the channel's default.
    clusters.reset()
    answer = clusters.ask("subnets --cluster east", WEST_CHANNEL)
    assert all(s in answer for s in _subnet_ids(east)) and not any(s in answer for s in _subnet_ids(west))
    assert _asked(east) and west.counter.snapshot() == {}
    _assert_tokens_for(clusters, east)

    # A channel without a default gets the configured default cluster; connections are reused.
    clusters.reset()
    answer = clusters.ask("subnets", OTHER_CHANNEL)
    assert all(s in answer for s in _subnet_ids(east))
    assert west.counter.snapshot() == {} and east.counter.count("eks", "DescribeCluster") == 0

    history = clusters.bot.cnibot.services.history
    # History is written after each answer: wait for the third row rather than race the writer.
    rows = clusters.bot.slack.wait_for(lambda s: r if len(r := history.recent_commands()) >= 3 else None)
    assert [(r.cluster, r.outcome) for r in reversed(rows)] == [("west", "ok"), ("east", "ok"), ("east", "ok")]


def test_unknown_cluster_names_the_known_ones(clusters: TwoClusters) -> None:
    text = clusters.ask("subnets --cluster wst", EAST_CHANNEL)
    assert "No cluster named `wst`" in text and "Did you mean `west`?" in text and "east, west" in text
    assert clusters.east.counter.snapshot() == {} and clusters.west.counter.snapshot() == {}
