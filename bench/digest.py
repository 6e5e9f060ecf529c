"""Benchmark of one capacity digest for a big simulated cluster with a month of stored samples.

    python bench/digest.py                       # 5,000 nodes x 20 pods, 30 days of 15-minute samples
    python bench/digest.py --nodes 500 --days 7  # smaller
    python bench/digest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The simulator runs in a child process (a 5,000-node cluster holds over 1 GB), so the figures are the bot's
alone. Steps, each timed, with its peak of Python allocations (tracemalloc, in a second run of the same step)
and the EC2 calls the simulator served:
  1. sample the cluster as the sampling job does (claim the slot, gather, measure, store, thin);
  2. store 30 days of 15-minute samples built from that sample (the fullest subnet draining), and thin them
     as the job would have over the month;
  3. the scheduled digest: claim the period, build it from the stored samples, render it, draw the chart,
     post it and upload the chart to a fake Slack.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.simproc import SimulatorProcess  # noqa: E402

T = TypeVar("T")
SAMPLE_EVERY = timedelta(minutes=15)
RUNS_OUT_IN_DAYS = 20  # the fullest subnet's drain, so the forecast has something to say
CACHE_TTL_S = 10.5  # the AWS gateway caches live reads for 10 s: a new slot must not hit that cache


# --- the bot side ------------------------------------------------------------------------------------------


@dataclass
class Row:
    step: str
    seconds: float | None
    peak_mb: float | None
    ec2_calls: int | None
    note: str = ""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak Python allocations of one run of fn, in MB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary directory")
    args = parser.parse_args(argv)

    sim = SimulatorProcess(args.nodes, args.pods_per_node)
    tmp = tempfile.TemporaryDirectory(prefix="cnibot-bench-")
    try:
        facts = sim.facts
        print(
            f"digest benchmark: {facts['nodes']:,} nodes, {facts['pods']:,} pods, {facts['enis']:,} ENIs, "
            f"{facts['subnets']} subnets (simulator built in {facts['build_seconds']} s, own process); "
            f"{args.days} days of samples"
        )
        os.environ.update(facts["env"])
        database_url = args.database_url or f"sqlite:///{Path(tmp.name) / 'cnibot.db'}"
        rows, kept = run_steps(args, sim, database_url)
        size = Path(tmp.name, "cnibot.db").stat().st_size / 1e6 if args.database_url is None else None
        print_table(rows, kept, size)
    finally:
        sim.stop()
        tmp.cleanup()
    return 0


def run_steps(args: argparse.Namespace, sim: SimulatorProcess, database_url: str) -> tuple[list[Row], int]:
    from slack_sdk import WebClient

    from bot.app import build_services
    from bot.config import ClusterAuth, ClusterConfig, DigestSettings, load_settings
    from bot.digests.service import DigestJobs
    from bot.digests.slack import SlackDigestSender
    from simulator.fake_slack import FakeSlack

    name = sim.facts["cluster"]
    cluster = ClusterConfig(
        name=name, region=sim.facts["region"], auth=ClusterAuth(mode="kubeconfig", kubeconfig=os.environ["KUBECONFIG"])
    )
    services = build_services(load_settings(database_url=database_url, auto_migrate=True, clusters=[cluster]))
    clock = Clock(datetime.now(UTC).replace(second=0, microsecond=0))
    services.clock = clock
    slack = FakeSlack().start()
    try:
        jobs = DigestJobs(services, SlackDigestSender(WebClient(token="xoxb-bench", base_url=slack.api_url)))
        jobs.poster.settings = DigestSettings(one_line_when_unchanged=False)  # every run: the full digest
        sub, _ = jobs.stores.digests.subscribe(
            cluster=name,
            channel="C0BENCH",
            schedule=f"daily {clock.now:%H:%M}",
            timezone="UTC",
            user_id="U0BENCH",
            now=clock.now - timedelta(days=args.days + 1),
        )
        connection = services.connections.get(cluster)
        _ = connection.kube, connection.aws()  # clients a serving bot already has; no API call yet
        rows = sample_rows(jobs, sim, clock, name)
        latest = jobs.stores.samples.latest(name)
        assert latest is not None
        rows += history_rows(jobs, clock, name, latest, args.days)
        rows += digest_rows(jobs, sim, clock, slack, sub.id, name)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append(Row("peak RSS of the bot process", None, rss_mb, None))
        return rows, jobs.stores.samples.sample_count(name)
    finally:
        slack.stop()
        services.repos.dispose()


def sample_rows(jobs: Any, sim: SimulatorProcess, clock: Clock, name: str) -> list[Row]:
    """A sample as the sampling job takes it, twice (the first loads botocore's EC2 model), then under
    tracemalloc; each in its own slot, past the gateways' 10 s caches."""
    sim.reset_counts()
    first_s, latest = timed(lambda: jobs.sampling.sample(name))
    assert latest is not None, "the sample failed: is the simulator up?"
    first_calls = sum(sim.ec2_calls().values())
    next_slot(jobs, clock)
    sim.reset_counts()
    again_s, _ = timed(lambda: jobs.sampling.sample(name))
    calls = sim.ec2_calls()
    next_slot(jobs, clock)
    sample_peak = peak_mb(lambda: jobs.sampling.sample(name))
    nodes = f"{len(latest.nodes):,} nodes"
    return [
        Row(f"sample {nodes}, first (loads the EC2 model)", first_s, None, first_calls),
        Row(
            f"sample {nodes}: gather, measure, store, thin",
            again_s,
            sample_peak,
            sum(calls.values()),
            ", ".join(f"{k} {v}" for k, v in sorted(calls.items())),
        ),
    ]


def next_slot(jobs: Any, clock: Clock) -> None:
    time.sleep(CACHE_TTL_S)
    clock.now += jobs.sampling.interval


def history_rows(jobs: Any, clock: Clock, name: str, latest: Any, days: int) -> list[Row]:
    samples = jobs.stores.samples
    history = month_of_samples(latest, days)
    store_s, _ = timed(lambda: samples.add_many(history))
    thin_s, dropped = timed(lambda: samples.thin(name, now=clock.now))
    samples.strip_details(name)
    return [
        Row(f"store {len(history):,} older samples (one transaction)", store_s, None, 0),
        Row(f"thin: hourly after 2 days, daily after 30 (drops {dropped:,})", thin_s, None, 0),
    ]


def month_of_samples(latest: Any, days: int) -> list[Any]:
    """Every 15 minutes for `days` before `latest`: the fullest subnet drains (running out in about three
    weeks), the others wobble a little."""
    fullest = min(latest.subnets, key=lambda s: s.free)
    drain_per_day = max(fullest.free / RUNS_OUT_IN_DAYS, 1)
    out = []
    steps = int(timedelta(days=days) / SAMPLE_EVERY)
    for step in range(steps, 0, -1):
        age_days = step * SAMPLE_EVERY / timedelta(days=1)
        subnets = tuple(
            replace(s, free=s.free + (round(drain_per_day * age_days) if s is fullest else (step % 7) - 3))
            for s in latest.subnets
        )
        out.append(replace(latest, taken_at=latest.taken_at - step * SAMPLE_EVERY, subnets=subnets, nodes=()))
    return out


def digest_rows(jobs: Any, sim: SimulatorProcess, clock: Clock, slack: Any, sub_id: int, name: str) -> list[Row]:
    sim.reset_counts()
    slack.reset()
    digest_s, result = timed(lambda: jobs.poster.run(sub_id))
    assert result.outcome == "posted", result
    posts = len(slack.api_calls("chat.postMessage"))
    uploads = len(slack.api_calls("files.completeUploadExternal"))
    ec2 = sum(sim.ec2_calls().values())
    since = clock.now - timedelta(days=1)
    build_s, digest = timed(lambda: jobs.builder.build(name, clock.now, since=since))
    build_peak = peak_mb(lambda: jobs.builder.build(name, clock.now, since=since))
    clock.now += timedelta(days=1)  # the next period: the same step under tracemalloc
    digest_peak = peak_mb(lambda: jobs.poster.run(sub_id))
    return [
        Row("build the digest from the stored samples", build_s, build_peak, 0),
        Row(
            "scheduled digest: claim, build, render, chart, post",
            digest_s,
            digest_peak,
            ec2,
            f"{posts} message, {uploads} chart upload",
        ),
        Row("digest headline", None, None, None, digest.headline),
    ]


def print_table(rows: list[Row], kept: int, db_mb: float | None) -> None:
    width = max(len(r.step) for r in rows)
    print(f"  {'step':<{width}}  {'wall s':>7}  {'peak MB':>8}  {'EC2':>4}  note")
    for r in rows:
        wall = f"{r.seconds:7.2f}" if r.seconds is not None else " " * 7
        peak = f"{r.peak_mb:8.1f}" if r.peak_mb is not None else " " * 8
        ec2 = f"{r.ec2_calls:4d}" if r.ec2_calls is not None else " " * 4
        print(f"  {r.step:<{width}}  {wall}  {peak}  {ec2}  {r.note}".rstrip())
    size = f"; database file {db_mb:.1f} MB" if db_mb is not None else ""
    print(f"  samples kept after thinning: {kept:,}{size}")
    print("  peak MB: Python allocations during the step (tracemalloc); RSS for the process")


if __name__ == "__main__":
    raise SystemExit(main())
