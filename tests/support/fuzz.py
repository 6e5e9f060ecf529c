"""Generated /cni texts and the oracle they are held to (issue 14, "keep it true").

Shared by the property suite (tests/e2e/test_property_commands.py, a bounded number of examples) and the
larger run (bench/fuzz_commands.py). The oracle, for one text run through the `cnibot ask` path:
- no traceback escapes: the runner returns, and never with "internal error";
- the exit code `cnibot ask` would give matches the outcome;
- exactly one history row per command;
- no change request from refused input;
- no request leaves the gateways with user text outside its grammar;
- no broadcast mention (<!channel>) reaches the answer's Slack blocks.
"""

from __future__ import annotations

import re
import shlex

from hypothesis import strategies as st
from sqlalchemy import text as sql

from bot.cli import exit_code
from bot.domain import names
from bot.render.doc import render_blocks
from tests.support.asker import Asker

SUBCOMMANDS = [
    "why-pending",
    "why",
    "node",
    "subnets",
    "capacity",
    "config",
    "history",
    "set",
    "unset",
    "eniconfig",
    "custom-networking",
    "changes",
    "change",
    "rollback",
    "digest",
    "help",
    "histroy",
]
# Words worth trying: valid ones from the demo scenario, hostile ones, and numbers of every kind.
WORDS = [
    "shop/checkout-7",
    "checkout-7",
    "-n",
    "shop",
    "kube-system",
    "ip-10-0-1-5.us-east-2.compute.internal",
    "ip-10",
    "i-0abc",
    "--az",
    "us-east-2a",
    "--what-if",
    "WARM_IP_TARGET=5",
    "WARM_IP_TARGET=99999999999999999999",
    "MINIMUM_IP_TARGET=-1",
    "--limit",
    "5",
    "٣",
    "፩",
    "0",
    "99999999999999999999",
    "--for",
    "2h",
    "99999999999999999999d",
    "--reason",
    "because",
    "--tz",
    "Europe/Berlin",
    "localtime",
    "subscribe",
    "list",
    "unsubscribe",
    "now",
    "set",
    "delete",
    "enable",
    "subnet=subnet-0a1b2c3d",
    "sg=sg-01",
    "--subnet",
    "--security-groups",
    "--user",
    "<@U0ALICE>",
    "--open",
    "--all",
    "--cluster",
    "demo",
    "prod",
    "--json",
    "-h",
    "../namespaces/shop/pods/web-0",
    ".",
    "..",
    "#x",
    "web-0?watch=1",
    "%2e%2e",
    "a,spec.nodeName=x",
    "web-0#frag",
    "'quoted words'",
    '"unclosed',
    "\\",
    "\t",
    "—reason",
    "“smart”",
    "<!channel>",
    "<https://example.invalid|click>",
    "`",
]

_ALLOWED_PATH_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:-]*", re.ASCII)
_SELECTOR_VALUE = re.compile(r"[A-Za-z0-9.-]*", re.ASCII)


# Commands as people type them, with slots that get a valid value, a hostile one, or any text at all.
TEMPLATES = [
    "why-pending {pod}",
    "why-pending {pod} -n {ns}",
    "node {node}",
    "subnets",
    "subnets --az {zone}",
    "capacity",
    "capacity --what-if {kv}",
    "config --all",
    "history --limit {num}",
    "history --user {user}",
    "changes --limit {num}",
    "change {num}",
    "rollback {num} --reason {reason}",
    "set {kv} --reason {reason}",
    "set {kv} --reason {reason} --for {duration}",
    "unset {key} --reason {reason}",
    "eniconfig set {zone} subnet={subnet} --reason {reason}",
    "eniconfig delete {zone} --reason {reason}",
    "custom-networking enable --subnet {zone}={subnet} --reason {reason}",
    "digest subscribe {channel} daily 09:00 --tz {tz}",
    "digest list",
    "{subcommand} --cluster {cluster}",
]
SLOTS = {
    "pod": ["shop/checkout-7", "checkout-7 -n shop", "batch/report-3"],
    "ns": ["shop", "default", "kube-system"],
    "node": ["ip-10-0-0-47.us-east-2.compute.internal", "ip-10-0-32", "i-d7e5b1e7f9ca5499d", "ip-10-0-0-4"],
    "zone": ["us-east-2a", "us-east-2b"],
    "kv": ["WARM_IP_TARGET=5", "MINIMUM_IP_TARGET=10", "WARM_ENI_TARGET=1"],
    "key": ["WARM_IP_TARGET", "MAX_ENI"],
    "num": ["1", "5", "100"],
    "user": ["<@U0ALICE>", "U0BOB"],
    "reason": ["'too many warm IPs'", "because"],
    "duration": ["2h", "30m"],
    "subnet": ["subnet-0a1b2c3d"],
    "channel": ["C0123ABCD", "<#C0123ABCD|ops>", "#ops"],
    "tz": ["UTC", "Europe/Berlin"],
    "subcommand": ["capacity", "subnets", "config", "history", "changes"],
    "cluster": ["demo"],
}
# Values a slot's grammar refuses, besides the hostile words: numbers of every kind, odd zones, bad knobs.
ODD = ["0", "٣", "፩", "99999999999999999999", "99999999999999999999d", "8d", "localtime", "Factory",
       "posixrules", "WARM_IP_TARGET=99999999999999999999", "MINIMUM_IP_TARGET=-1", "x", "subnet-zz", "prod",
       "default/nope", "us-west-2-lax-1a"]  # fmt: skip
HOSTILE = [w for w in WORDS if not w.startswith("-")][-14:] + ["%2F..%2Fnodes", "web-0/../../nodes", "Web-0", "*"]


def _slot(name: str) -> st.SearchStrategy[str]:
    valid = st.sampled_from(SLOTS[name])
    odd = st.sampled_from(HOSTILE + ODD).map(shlex.quote)
    anything = st.text(min_size=1, max_size=20).map(shlex.quote)
    # Mostly valid, so that commands get past the parser and reach the gateways (one_of would weigh the
    # branches by their shape, not by how often they are listed).
    return st.sampled_from([valid] * 6 + [odd, odd, anything]).flatmap(lambda chosen: chosen)


def _filled(template: str) -> st.SearchStrategy[str]:
    slots = re.findall(r"\{(\w+)\}", template)

    def fill(values: tuple[str, ...]) -> str:
        text = template
        for name, value in zip(slots, values, strict=True):
            text = text.replace("{" + name + "}", value, 1)
        return text

    return st.tuples(*(_slot(s) for s in slots)).map(fill)


def command_texts() -> st.SearchStrategy[str]:
    """Commands from the templates with valid, hostile or random slots; or a subcommand (or not) and words."""
    word = st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=24), st.from_regex(r"[a-z0-9.-]{1,20}"))
    head = st.one_of(st.sampled_from(SUBCOMMANDS), st.text(max_size=12))
    loose = st.builds(lambda h, rest: " ".join([h, *rest]), head, st.lists(word, max_size=6))
    templated = st.sampled_from(TEMPLATES).flatmap(_filled)
    return st.sampled_from([templated, templated, templated, loose]).flatmap(lambda chosen: chosen)


def _counts(asker: Asker) -> tuple[int, int]:
    with asker.services.repos.engine.connect() as conn:
        history = conn.execute(sql("SELECT count(*) FROM command_log")).scalar_one()
        changes = conn.execute(sql("SELECT count(*) FROM change_requests")).scalar_one()
    return int(history), int(changes)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _outside_grammar(word: str) -> bool:
    checks = (names.is_subdomain, names.is_zone, names.is_instance_id, names.is_subnet_id)
    return len(word) >= 3 and not any(check(word) for check in checks)


def leaks(asker: Asker, text: str) -> list[str]:
    """Requests the simulator saw since the last reset that carry user text outside its grammar."""
    problems = []
    hostile = [w for w in _words(text) if _outside_grammar(w)]
    for request in asker.requests():
        if request.startswith(("GET ", "POST ", "PATCH ", "PUT ", "DELETE ")):
            path, _, query = request.split(" ", 1)[1].partition("?")
            bad_segments = [s for s in path.strip("/").split("/") if not _ALLOWED_PATH_SEGMENT.fullmatch(s)]
            if bad_segments:
                problems.append(f"path segment {bad_segments[0]!r} in {request[:120]!r}")
            for selector in re.findall(r"fieldSelector=([^&]*)", query):
                for term in selector.split(","):
                    value = term.split("=")[-1]
                    if not _SELECTOR_VALUE.fullmatch(value):
                        problems.append(f"selector value {value!r} in {request[:120]!r}")
        problems.extend(f"{w!r} reached {request[:120]!r}" for w in hostile if w in request)
    return problems


def check(asker: Asker, text: str) -> list[str]:
    """Run one text; the oracle's complaints (empty: it held)."""
    history_before, changes_before = _counts(asker)
    asker.sim.counter.reset()
    try:
        result = asker.ask(text)
    except Exception as exc:  # noqa: BLE001 - the point: nothing may escape
        return [f"{type(exc).__name__} escaped: {exc}"]
    problems = []
    if result.outcome not in ("ok", "partial", "user_error", "error"):
        problems.append(f"unknown outcome {result.outcome}")
    if result.outcome == "error" and result.data.get("error") == "internal error":
        problems.append(f"internal error: {result.doc.summary[:160]}")
    expected_exit = {"ok": 0, "partial": 0, "user_error": 2}.get(result.outcome, 1)
    if exit_code(result.outcome) != expected_exit:
        problems.append(f"exit code {exit_code(result.outcome)} for {result.outcome}")
    history_after, changes_after = _counts(asker)
    if history_after != history_before + 1:
        problems.append(f"{history_after - history_before} history rows")
    if result.outcome == "user_error" and changes_after != changes_before:
        problems.append("a change request from refused input")
    if "<!" in str(render_blocks(result.doc)):
        problems.append("a Slack mention (<!...>) in the answer's blocks")
    if len(result.doc.summary) > 1000:
        problems.append(f"a {len(result.doc.summary)}-character answer")
    problems.extend(leaks(asker, text))
    return problems
