"""A newcomer's first minutes: the README's examples and the demo's hints work as written on the demo cluster,
`cnibot ask` without a cluster says how to point at one, and `cnibot serve` starts with a short, useful log."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bot.demo import BANNER, _example_pod
from simulator.runner import SimulatedCluster

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_", "AWS_", "KUBECONFIG"))}
    env.update(extra)
    return env


def run_cnibot(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


# --- item 12 ----------------------------------------------------------------------------------------------


def readme_examples(text: str) -> list[str]:
    """The /cni commands the README gives as examples, in order: every `/cni ...` line of a code block, the
    `-c` commands of `cnibot demo -c ...` and the text of `cnibot ask "..."`. Syntax (placeholders such as
    ZONE or `[...]`) is only ever written inline, in tables and prose, never as an example."""
    found: list[str] = []
    in_block = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block and line.startswith("/cni "):
            found.append(line.removeprefix("/cni ").strip())
        for demo in re.findall(r"`cnibot demo((?: -c \"[^\"]+\")+)`", line):
            found += re.findall(r'-c "([^"]+)"', demo)
        found += re.findall(r'`cnibot ask "([^"]+)"`', line)
    return found


def demo_hints() -> list[str]:
    sim = SimulatedCluster.from_scenario("demo")  # built, not started: the hints come from its expectations
    banner = BANNER.format(scenario="demo", nodes=8, example=_example_pod(sim))
    return [
        line.strip().removeprefix("/cni ").strip() for line in banner.splitlines() if line.strip().startswith("/cni")
    ]


def test_every_readme_example_and_demo_hint_works_as_written_on_the_demo_cluster() -> None:
    examples = readme_examples((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "why-pending shop/checkout-7" in examples and "set WARM_IP_TARGET=5 MINIMUM_IP_TARGET=10" in " ".join(
        examples
    )
    commands = examples + demo_hints()
    args = [word for command in commands for word in ("-c", command)]
    out = run_cnibot("demo", *args, env=clean_env())
    # The demo exits non-zero when any command failed (unknown pod, refused request, unusable arguments).
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    for bad in ("POD_NOT_FOUND", "Not requested", "Usage:", "Could not complete"):
        assert bad not in out.stdout
    assert out.stdout.count("$ /cni ") == len(commands)


# --- item 13 ----------------------------------------------------------------------------------------------


def test_ask_without_any_cluster_says_none_is_configured_and_how_to_point_at_one(tmp_path: Path) -> None:
    env = clean_env(HOME=str(tmp_path), CNIBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'cnibot.db'}")
    out = run_cnibot("ask", "capacity", env=env, timeout=60)
    assert out.returncode == 2  # a setup problem for the user to fix, not an outage
    assert "No cluster is configured" in out.stdout and "no kubeconfig file was found" in out.stdout
    for way in ("kubeconfig", "aws eks update-kubeconfig", "CNIBOT_CONFIG", "cnibot demo"):
        assert way in out.stdout
    assert "Try again in a moment" not in out.stdout


# --- item 14 ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_logs_what_an_operator_needs_in_two_lines_and_warns_of_an_open_cluster(tmp_path: Path) -> None:
    with SimulatedCluster.from_scenario("healthy") as sim:
        port = free_port()
        env = clean_env(
            **sim.env(),
            HOME=str(tmp_path),
            CNIBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'cnibot.db'}",
            CNIBOT_PORT=str(port),
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_SIGNING_SECRET="test-signing-secret",
            CNIBOT_SLACK_API_URL="http://127.0.0.1:9/api/",  # never called at start; loopback all the same
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            lines: list[str] = []
            deadline = time.monotonic() + 60
            assert proc.stderr is not None
            while time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line:
                    break
                lines.append(line.rstrip("\n"))
                if "clusters " in line and "reachable" in line:
                    break
            time.sleep(1.0)  # let the jobs that run at start run: they must not log either
        finally:
            proc.send_signal(signal.SIGINT)
            _, rest = proc.communicate(timeout=30)
        before_stop = lines + [ln for ln in rest.splitlines() if "stopped" not in ln]
    # The zero-configuration cluster has no access rules: one warning says it is open to the whole workspace.
    (warning,) = [ln for ln in before_stop if "has no access rules" in ln]
    assert warning.startswith(f"W cnibot.app: cluster {sim.cluster_name} has no access rules"), warning
    assert len(before_stop) == 3, before_stop
    start, clusters = [ln for ln in before_stop if ln != warning]
    assert f"serving http://127.0.0.1:{port}/slack/events" in start
    assert "database sqlite:///" in start and f"clusters {sim.cluster_name}" in start and "jobs scheduled" in start
    assert clusters.startswith("I cnibot.server: clusters reachable: ") and f"{sim.cluster_name} (3 nodes)" in clusters
