"""Issue 14 item 1: path and query injection. Every command is fed the classic traversal and query payloads
through the `cnibot ask` path against a simulated cluster over HTTP; each gets a short usage answer and no
request leaves the gateways carrying them (checked in the simulator's own request log)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.domain.names import InvalidName
from bot.gateways.kube import KubeGateway
from tests.support.asker import Asker, asker

PAYLOADS = [
    "../namespaces/shop/pods/web-0",
    ".",
    "..",
    "#x",
    "web-0?watch=1",
    "%2e%2e",
    "%2F..%2Fnodes",
    "web-0/../../nodes",
    "a,spec.nodeName=x",
    "web-0#frag",
    "web-0\nHost: x",
    "Web-0",
    "i-../../x",
    "ip-10-0-1-5;rm -rf /",
    "*",
]

COMMANDS = [
    "node {}",
    "why-pending {}",
    "why-pending shop/{}",
    "why-pending web-0 -n {}",
    "subnets --az {}",
    'eniconfig set {} subnet=subnet-0a1b2c3d --reason "pods subnet"',
    'eniconfig set us-east-2a subnet={} --reason "pods subnet"',
    'eniconfig set us-east-2a subnet=subnet-0a1b2c3d sg={} --reason "pods subnet"',
    'eniconfig delete {} --reason "zone retired"',
    'custom-networking enable --subnet {}=subnet-0a1b2c3d --reason "pods on 100.64"',
    'custom-networking enable --subnet us-east-2a={} --reason "pods on 100.64"',
    'custom-networking enable --security-groups {} --reason "pods on 100.64"',
    "change {}",
    'rollback {} --reason "undo it"',
    "history --user {}",
    "digest subscribe {}",
    "digest subscribe C0123ABCD daily 09:00 --tz {}",
    "capacity --what-if WARM_IP_TARGET={}",
    'set {}=1 --reason "a test"',
    'unset {} --reason "a test"',
]


# `#x` is a channel name as Slack writes it unescaped: a digest subscription for it is right (and it goes to
# Slack in a JSON body, never in a URL).
ALLOWED = {("digest subscribe {}", "#x")}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Asker]:
    with asker("demo", tmp_path_factory.mktemp("hostile")) as running:
        yield running


def _quoted(payload: str) -> str:
    """The payload as one shell word, as a user would type it in quotes."""
    return "'" + payload.replace("'", "") + "'"


def leaked(requests: list[str], payload: str) -> list[str]:
    """Requests that carry the payload: as a substring, or as a `.`/`..` path segment."""
    bad = []
    for request in requests:
        path = request.split(" ", 1)[-1].split("?", 1)[0]
        dot_segment = payload in (".", "..") and payload in path.split("/")
        if dot_segment or (len(payload) > 2 and payload in request) or "#" in request or "watch=1" in request:
            bad.append(request)
    return bad


@pytest.mark.parametrize("command", COMMANDS)
def test_no_payload_leaves_the_gateways(demo: Asker, command: str) -> None:
    problems = []
    for payload in PAYLOADS:
        demo.sim.counter.reset()
        result = demo.ask(command.format(_quoted(payload)))
        if (command, payload) in ALLOWED:
            continue
        if result.outcome != "user_error":
            problems.append(f"{payload!r}: outcome {result.outcome}: {result.doc.summary[:120]}")
        if len(result.doc.summary) > 500:
            problems.append(f"{payload!r}: a {len(result.doc.summary)}-character answer")
        bad = leaked(demo.requests(), payload)
        if bad:
            problems.append(f"{payload!r} reached the simulator: {bad[:2]}")
    assert not problems, "\n".join(problems)


def test_a_valid_name_still_reaches_the_api(demo: Asker) -> None:
    """The check above is not passing because nothing is sent at all."""
    demo.sim.counter.reset()
    result = demo.ask("why-pending shop/checkout-7")
    assert result.outcome in ("ok", "partial")
    assert any(r.startswith("GET /api/v1/namespaces/shop/pods/checkout-7?") for r in demo.requests())


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_gateway_itself_refuses_names_outside_the_grammar(demo: Asker, payload: str) -> None:
    """Defence in depth: a caller that forgot to check still cannot put the payload in a URL."""
    kube: KubeGateway = demo.services.connections.get(demo.services.clusters.configs[0]).kube
    demo.sim.counter.reset()
    calls = [
        lambda: kube.read_pod("shop", payload),
        lambda: kube.read_pod(payload, "web-0"),
        lambda: kube.read_node(payload),
        lambda: kube.pod_names(payload),
        lambda: kube.events_for(payload, "web-0"),
        lambda: kube.events_v1_for("shop", payload),
        lambda: kube.ipamd_metrics(payload),
    ]
    for call in calls:
        with pytest.raises(InvalidName):
            call()
    assert demo.requests() == []
