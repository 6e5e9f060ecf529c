"""Memory of creating boto3 clients with botocore's whole service models and with cnibot's trimmed ones
(bot/gateways/aws_models.py), each in a fresh process.

    python bench/client_memory.py                  # ec2
    python bench/client_memory.py ec2 eks autoscaling

Printed per service and mode: RSS added by creating the client, the process's peak RSS (ru_maxrss) added,
RSS added once glibc has given freed heap back (malloc_trim; freed memory is otherwise kept for the process's
later allocations), the Python memory the client keeps (tracemalloc, in a separate run: it costs memory
itself), and the operations the client has. An STS client is made first, so that what every client shares
(endpoints, credentials) is not counted.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import resource
import subprocess
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _malloc_trim() -> bool:
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    libc.malloc_trim(0)
    return True


def measure(service: str, mode: str, traced: bool) -> dict[str, float]:
    import boto3

    from bot.gateways import aws_models

    session = boto3.session.Session()
    if mode == "trimmed":
        aws_models.install(session)
    creds = {"region_name": "us-east-2", "aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    session.client("sts", **creds)
    gc.collect()
    rss, peak = _rss_mb(), _peak_mb()
    if traced:
        tracemalloc.start()
        client = session.client(service, **creds)
        gc.collect()
        return {"kept_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 1)}
    client = session.client(service, **creds)
    gc.collect()
    out = {
        "rss_mb": round(_rss_mb() - rss, 1),
        "peak_mb": round(_peak_mb() - peak, 1),
        "operations": len(client.meta.service_model.operation_names),
    }
    out["trimmed_rss_mb"] = round(_rss_mb() - rss, 1) if _malloc_trim() else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", default=["ec2"])
    parser.add_argument("--one", nargs=3, metavar=("SERVICE", "MODE", "TRACED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        service, mode, traced = args.one
        print(json.dumps(measure(service, mode, traced == "traced")))
        return 0
    columns = ("+RSS MB", "+peak MB", "+RSS trim", "kept MB", "operations")
    print(f"{'service':<12} {'model':<8} " + " ".join(f"{c:>10}" for c in columns))
    for service in args.services:
        for mode in ("full", "trimmed"):
            f = _child(service, mode, "plain") | _child(service, mode, "traced")
            values = (f["rss_mb"], f["peak_mb"], f["trimmed_rss_mb"], f["kept_mb"], f["operations"])
            print(f"{service:<12} {mode:<8} " + " ".join(f"{v:>10}" for v in values))
    return 0


def _child(service: str, mode: str, traced: str) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--one", service, mode, traced]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
