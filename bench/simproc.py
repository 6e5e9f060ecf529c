"""A generated simulated cluster in its own process, for benchmarks: a 5,000-node cluster holds over 1 GB,
and the bot's figures must be its own.

The child builds and serves the cluster, prints one JSON line of facts, then answers "reset", "counts" and
"quit" on stdin, one JSON line each.

    python bench/simproc.py NODES PODS_PER_NODE SEED     # the child (started by SimulatorProcess)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]


def serve(nodes: int, pods_per_node: int, seed: int) -> int:
    sys.path.insert(0, str(ROOT))
    from simulator.generator import generate
    from simulator.runner import SimulatedCluster

    started = time.perf_counter()
    sim = SimulatedCluster(generate(nodes, pods_per_node, seed=seed), seed=seed).start()
    built = time.perf_counter()
    sim.warm_list_cache()  # as an API server's cache is warm before a client's first LIST
    facts = {
        "env": sim.env(),
        "cluster": sim.cluster_name,
        "region": sim.region,
        "build_seconds": round(built - started, 1),
        "encode_seconds": round(time.perf_counter() - built, 1),
        "sim_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "nodes": len(sim.cluster.nodes),
        "pods": len(sim.cluster.pods),
        "enis": len(sim.model.enis),
        "subnets": len(sim.model.subnets),
    }
    print(json.dumps(facts), flush=True)
    cpu_since = time.process_time()
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "reset":
                sim.counter.reset()
                cpu_since = time.process_time()
                print("{}", flush=True)
            elif command == "counts":
                # The server's share: the simulator's CPU seconds (every thread) since the last reset.
                counts = {**sim.counter.snapshot(), "cpu_seconds": round(time.process_time() - cpu_since, 2)}
                print(json.dumps(counts), flush=True)
            elif command == "quit":
                break
    finally:
        sim.stop()
    return 0


def read_reply(stream: IO[str] | None) -> dict[str, Any]:
    """One JSON line from a child process."""
    assert stream is not None
    line = stream.readline()
    if not line:
        raise RuntimeError("the child process ended early")
    loaded: dict[str, Any] = json.loads(line)
    return loaded


class SimulatorProcess:
    """The driver's handle on the child: its facts, and the API calls it served."""

    def __init__(self, nodes: int, pods_per_node: int, seed: int = 0) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(nodes), str(pods_per_node), str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.facts = read_reply(self._proc.stdout)

    def _ask(self, command: str) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        return read_reply(self._proc.stdout)

    def reset_counts(self) -> None:
        self._ask("reset")

    def counts(self) -> dict[str, int]:
        """Requests served since the last reset, as {"ec2:DescribeSubnets": n, "kube:LIST pods": n, ...}."""
        return {k: int(v) for k, v in self._ask("counts").items() if k != "cpu_seconds"}

    def counts_and_cpu(self) -> tuple[dict[str, int], float]:
        """The requests served since the last reset, and the simulator's CPU seconds in that time."""
        reply = self._ask("counts")
        cpu = float(reply.pop("cpu_seconds", 0.0))
        return {k: int(v) for k, v in reply.items()}, cpu

    def ec2_calls(self) -> dict[str, int]:
        return {k.split(":", 1)[1]: n for k, n in self.counts().items() if k.startswith("ec2:")}

    def stop(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.write("quit\n")
            self._proc.stdin.flush()
            try:
                self._proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._proc.kill()


if __name__ == "__main__":
    raise SystemExit(serve(*(int(a) for a in sys.argv[1:4])))
