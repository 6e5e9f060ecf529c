from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_services
from bot.config import ClusterConfig, load_settings
from bot.digests.service import DigestJobs, Sampling, post_job_id
from bot.domain.capacity_samples import CapacitySample, SubnetSample
from bot.errors import UpstreamError
from bot.render.doc import render_text
from bot.services import Services
from commands import build_registry
from commands.base import CommandContext, CommandResult
from commands.digest import parse_channel
from commands.registry import plan
from tests.unit.digests.factories import NOW
from tests.unit.digests.test_poster import FakeSender


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'cnibot.db'}",
        clusters=[ClusterConfig(name="prod"), ClusterConfig(name="dev")],
    )
    built = build_services(settings)
    built.clock = lambda: NOW
    yield built
    built.repos.dispose()


def ask(services: Services, text: str, channel: str | None = "C0OPS") -> CommandResult:
    ctx = CommandContext(
        services=services, user_id="U0ALICE", correlation_id="t", source="slack", now=NOW, channel_id=channel
    )
    planned = plan(build_registry(), text)
    if planned.immediate is not None:
        return planned.immediate
    assert planned.subcommand is not None and planned.args is not None
    return planned.subcommand.run(planned.args, ctx)


@pytest.mark.parametrize(
    ("word", "channel"),
    [
        ("<#C0123ABCD|ops>", "C0123ABCD"),
        ("<#G0123ABCD>", "G0123ABCD"),
        ("C0123ABCD", "C0123ABCD"),
        ("#Ops-1", "#ops-1"),
    ],
)
def test_channels_as_slack_sends_them(word: str, channel: str) -> None:
    assert parse_channel(word) == channel


@pytest.mark.parametrize("word", ["daily", "#", "C12", "<#nope>"])
def test_words_that_are_not_channels(word: str) -> None:
    assert parse_channel(word) is None


def test_subscribe_reschedule_list_unsubscribe(services: Services) -> None:
    made = ask(services, "digest subscribe weekdays 08:30 --tz Europe/Berlin --cluster dev")
    assert made.outcome == "ok" and made.data["created"] is True
    assert made.doc.summary.startswith(
        ":white_check_mark: Subscribed: <#C0OPS> gets the capacity digest of `dev` weekdays at 08:30 (Europe/Berlin)"
    )
    assert made.data["next_due"] == "2026-03-03T07:30:00+00:00"  # Tuesday 08:30 CET (Monday's has passed)
    again = ask(services, "digest subscribe <#C0OTHER|other> weekly fri 17:00")
    assert again.data["subscription"]["channel"] == "C0OTHER" and again.data["subscription"]["cluster"] == "prod"
    listed = render_text(ask(services, "digest list").doc)
    assert "<#C0OPS>    dev      weekdays at 08:30 Europe/Berlin" in listed
    assert "<#C0OTHER>  prod     weekly on fri at 17:00 UTC" in listed
    gone = ask(services, "digest unsubscribe --cluster dev")
    assert [s["cluster"] for s in gone.data["removed"]] == ["dev"]
    nothing = ask(services, "digest unsubscribe")
    assert nothing.doc.summary == "<#C0OPS> has no digest subscription; `/cni digest list` shows them all."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("digest subscribe hourly", "`hourly` is not a schedule"),
        ("digest subscribe daily 9", "`9` is not a time"),
        ("digest subscribe --tz Moon/Base", "`Moon/Base` is not an IANA time zone"),
        ("digest subscribe #Not!A!Channel daily", "is not a channel"),
        ("digest subscribe --cluster prd", "No cluster named `prd`. Did you mean `prod`?"),
        ("digest list extra", "unexpected `extra`"),
        ("digest sometimes", "`sometimes` is not a digest action: use subscribe, unsubscribe, list or now"),
        ("digest", "Say what to do: `subscribe`, `unsubscribe`, `list` or `now`."),
    ],
)
def test_bad_input_gets_a_short_answer(services: Services, text: str, message: str) -> None:
    from bot.errors import UserError

    try:
        result = ask(services, text)
    except UserError as exc:  # the runner turns these into usage answers
        assert message in exc.message
        return
    assert result.outcome == "user_error" and message in result.doc.summary


def test_subscribe_from_the_terminal_needs_a_channel(services: Services) -> None:
    from bot.errors import UsageError

    with pytest.raises(UsageError, match="Name the channel"):
        ask(services, "digest subscribe daily 09:00", channel=None)


def test_a_failed_sample_says_why_and_is_marked_failed(services: Services) -> None:
    def broken(cluster: ClusterConfig, now: datetime, since: datetime) -> CapacitySample:
        raise UpstreamError("ec2:DescribeSubnets", "throttled (RequestLimitExceeded)")

    stores = services.repos
    sampling = Sampling(services, stores.samples, sampler=broken, replica="r1")
    assert sampling.try_sample("prod") == (None, "ec2:DescribeSubnets: throttled (RequestLimitExceeded)")
    assert sampling.try_sample("prod") == (None, None)  # the slot is taken (by the failed attempt)
    assert stores.samples.latest("prod") is None


def test_jobs_follow_the_subscriptions_in_the_database(services: Services) -> None:
    def steady(cluster: ClusterConfig, now: datetime, since: datetime) -> CapacitySample:
        return CapacitySample(
            cluster.name, now, (SubnetSample("subnet-a", "us-east-2a", 4091, 3000, 5),), aws_node_env={}
        )

    jobs = DigestJobs(services, FakeSender(), sampler=steady, replica="r1")
    jobs.install()
    assert {"digests:sync", "digests:sample"} <= set(services.scheduler.job_ids())
    sub, _ = jobs.stores.digests.subscribe(
        cluster="prod",
        channel="C0OPS",
        schedule="daily 09:00",
        timezone="UTC",
        user_id="U1",
        now=NOW - timedelta(days=1),
    )
    assert [s.cluster for s in jobs.sample_subscribed()] == ["prod"]  # only subscribed clusters are sampled
    results = jobs.sync()
    assert [r.outcome for r in results] == ["posted"] and post_job_id(sub) in services.scheduler.job_ids()
    jobs.stores.digests.unsubscribe(channel="C0OPS")
    assert jobs.sync() == [] and post_job_id(sub) not in services.scheduler.job_ids()
