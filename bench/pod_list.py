"""The cold pod LIST of a 5,000-node cluster split into the API server's share and the bot's share (issue 15
item 1), with the bot's old and new decoding side by side in one process.

    python bench/pod_list.py                  # 5,000 nodes x 20 pods, 3 rounds
    python bench/pod_list.py --nodes 1000 --rounds 5

  server  the pages fetched one after another and read to their last byte, nothing parsed but the continue
          token at each page's head (as the bot reads it): the simulator's time (plus the HTTP client's, which
          is small); its LIST cache is warm, as an API server's is
  json    json.loads of each page and active_placement_from_api of each pod (the bot before issue 15)
  msgspec active_placements of each page: typed decoding of the used fields only (the bot now)

The bot overlaps fetching and decoding (it asks for the next page while it decodes one), so a cold read of
the pods takes about max(server, bot) plus a page, not their sum.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.simproc import SimulatorProcess  # noqa: E402

PAGE = 1000  # the reflector's page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from bot.config import ClusterAuth, ClusterConfig
    from bot.gateways.connections import active_placements, kube_api_client
    from bot.gateways.kube import ACTIVE_PODS, KubeGateway, active_placement_from_api

    sim = SimulatorProcess(args.nodes, args.pods_per_node)
    try:
        facts = sim.facts
        os.environ.update(facts["env"])
        cluster = ClusterConfig(
            name=facts["cluster"], auth=ClusterAuth(mode="kubeconfig", kubeconfig=facts["env"]["KUBECONFIG"])
        )
        kube = KubeGateway(kube_api_client(cluster), timeout=60)
        query = {"fieldSelector": ACTIVE_PODS}

        def fetch_all() -> list[bytes]:
            # As the bot reads them: the continue token taken from each page's head, nothing else parsed.
            return list(kube.list_raw_pages("kube:LIST pods", "/api/v1/pods", query, PAGE))

        def old(pages: list[bytes]) -> int:
            kept = 0
            for raw in pages:
                for obj in json.loads(raw).get("items") or []:
                    kept += active_placement_from_api(obj) is not None
            return kept

        def new(pages: list[bytes]) -> int:
            return sum(value is not None for raw in pages for _, value in active_placements(raw)[0])

        figures: dict[str, list[float]] = {"server": [], "json": [], "msgspec": []}
        pages: list[bytes] = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            pages = fetch_all()
            figures["server"].append(time.perf_counter() - started)
            for name, decode in (("json", old), ("msgspec", new)):
                gc.collect()
                started = time.process_time()
                count = decode(pages)
                figures[name].append(time.process_time() - started)
        size = sum(len(p) for p in pages)
        print(
            f"{args.nodes:,} nodes, {facts['pods']:,} pods: {len(pages)} pages of {PAGE}, {size / 1e6:.0f} MB of JSON, "
            f"{count:,} active pods kept; load average {os.getloadavg()[0]:.2f}; median of {args.rounds}"
        )
        print(f"{'share':34} {'seconds':>8}")
        print(f"{'server (fetch, nothing parsed)':34} {statistics.median(figures['server']):8.2f}")
        print(f"{'bot, json.loads + dict path (old)':34} {statistics.median(figures['json']):8.2f}")
        print(f"{'bot, msgspec typed decode (new)':34} {statistics.median(figures['msgspec']):8.2f}")
        ratios = [a / b for a, b in zip(figures["json"], figures["msgspec"], strict=True)]
        print(f"bot decoding, old / new: {statistics.median(ratios):.1f}x")
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
