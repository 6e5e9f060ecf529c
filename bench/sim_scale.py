"""Scale benchmark of the cluster simulator: build a generated cluster, serve it, sweep it as the bot would.

    python bench/sim_scale.py                      # 5,000 nodes x 20 pods (~15,000 ENIs, 100,000 pods)
    python bench/sim_scale.py --nodes 500 --pods-per-node 20

Prints one table: build time, RSS, the paginated DescribeNetworkInterfaces sweep with boto3 (MaxResults
1000), a filtered describe, DescribeSubnets, and LIST pods with the official kubernetes client.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import resource
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from kubernetes import client, config  # noqa: E402

from simulator.generator import generate  # noqa: E402
from simulator.runner import SimulatedCluster  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def raw_sweep(url: str, vpc_id: str) -> tuple[int, int]:
    """The same paginated sweep over plain HTTP: what the simulator costs, without botocore's XML parsing."""
    split = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port, timeout=120)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-2/ec2/aws4_request",
    }
    pages = size = 0
    token = ""
    while True:
        form = {"Action": "DescribeNetworkInterfaces", "Version": "2016-11-15", "MaxResults": "1000"}
        form.update({"Filter.1.Name": "vpc-id", "Filter.1.Value.1": vpc_id})
        if token:
            form["NextToken"] = token
        connection.request("POST", "/", urllib.parse.urlencode(form), headers)
        body = connection.getresponse().read()
        pages += 1
        size += len(body)
        found = re.search(rb"<nextToken>([^<]+)</nextToken>", body[-400:])
        if not found:
            connection.close()
            return pages, size
        token = found.group(1).decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows: list[tuple[str, str]] = []

    build_s, sim = timed(
        lambda: SimulatedCluster(generate(args.nodes, args.pods_per_node, seed=args.seed), seed=args.seed)
    )
    cluster = sim.cluster
    rows.append(("nodes / pods / ENIs", f"{len(cluster.nodes):,} / {len(cluster.pods):,} / {len(sim.model.enis):,}"))
    rows.append(("build (EC2 model, ipamd, scheduler, kube objects)", f"{build_s:.1f} s"))
    rows.append(("RSS after build", f"{rss_mb():,.0f} MB"))
    sim.start()
    try:
        ec2 = boto3.client(
            "ec2",
            endpoint_url=sim.ec2_url,
            region_name=sim.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(read_timeout=120, retries={"total_max_attempts": 1}),
        )
        vpc = cluster.vpc_id

        def sweep() -> tuple[int, int]:
            pages = enis = 0
            paginator = ec2.get_paginator("describe_network_interfaces")
            filters = [{"Name": "vpc-id", "Values": [vpc]}]
            for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": 1000}):
                pages += 1
                enis += len(page["NetworkInterfaces"])
            return pages, enis

        ec2.describe_subnets()  # load botocore's EC2 model outside the timings
        raw_cold_s, (raw_pages, raw_bytes) = timed(lambda: raw_sweep(sim.ec2_url, vpc))
        raw_warm_s, _ = timed(lambda: raw_sweep(sim.ec2_url, vpc))
        first = f"{raw_cold_s:.2f} s, {raw_pages} pages, {raw_bytes / 1e6:.0f} MB of XML"
        rows.append(("DescribeNetworkInterfaces sweep, server only (first)", first))
        rows.append(("DescribeNetworkInterfaces sweep, server only (again)", f"{raw_warm_s:.2f} s"))
        sweep_s, (pages, enis) = timed(sweep)
        rows.append(
            ("DescribeNetworkInterfaces sweep, boto3 incl. parsing", f"{sweep_s:.2f} s, {pages} pages, {enis:,} ENIs")
        )
        tag = "cluster.k8s.amazonaws.com/name"
        one_node = next(iter(cluster.nodes.values())).instance.id
        filtered_s, found = timed(
            lambda: ec2.describe_network_interfaces(
                Filters=[
                    {"Name": "attachment.instance-id", "Values": [one_node]},
                    {"Name": f"tag:{tag}", "Values": ["demo"]},
                ]
            )["NetworkInterfaces"]
        )
        rows.append(("filtered describe (one node's CNI ENIs)", f"{filtered_s * 1000:.0f} ms, {len(found)} ENIs"))
        subnets_s, subnets = timed(
            lambda: ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
        )
        rows.append(("DescribeSubnets (vpc-id)", f"{subnets_s * 1000:.0f} ms, {len(subnets)} subnets"))

        api = config.new_client_from_config(config_file=str(sim.kubeconfig_path))
        core = client.CoreV1Api(api)
        core.list_namespace()  # warm the client's model classes

        def list_pods_paged() -> tuple[int, int]:
            pages = items = 0
            token = None
            while True:
                page = core.list_pod_for_all_namespaces(limit=5000, _continue=token, _preload_content=False)
                body = json.loads(page.data)
                pages += 1
                items += len(body["items"])
                token = body["metadata"].get("continue")
                if not token:
                    return pages, items

        raw_s, (pod_pages, pod_items) = timed(list_pods_paged)
        rows.append(("LIST pods, raw JSON, limit=5000", f"{raw_s:.2f} s, {pod_pages} pages, {pod_items:,} pods"))
        node_name = next(iter(cluster.nodes))
        selector_s, on_node = timed(
            lambda: core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node_name}").items
        )
        rows.append(
            ("LIST pods on one node (typed, fieldSelector)", f"{selector_s * 1000:.0f} ms, {len(on_node)} pods")
        )
        rows.append(("RSS at the end", f"{rss_mb():,.0f} MB"))
    finally:
        sim.stop()
    width = max(len(label) for label, _ in rows)
    print(f"simulator scale: {args.nodes} nodes x {args.pods_per_node} pods (seed {args.seed})")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
