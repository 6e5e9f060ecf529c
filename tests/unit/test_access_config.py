"""Access rules in the settings: validated at load with one clear line, and turned into the decision's rules."""

from __future__ import annotations

import logging
import time

import pytest

from bot.access import AccessGate, AccessRefused, refusal_doc, rules_of
from bot.config import ClusterConfig, load_settings
from bot.domain.access import Action, Caller
from bot.errors import ConfigError
from bot.render.doc import render_text
from bot.usergroups import FRESH_SECONDS, RETRY_SECONDS, UserGroups
from simulator.fake_slack import FakeSlack


@pytest.mark.parametrize(
    "access, expected",
    [
        ({"reads": {"channels": ["#prod"]}}, "clusters.0.access.reads.channels: '#prod' not Slack channel ids"),
        ({"reads": {"usergroups": ["@sre"]}}, "clusters.0.access.reads.usergroups: '@sre' not Slack user group ids"),
        ({"teams": ["acme"]}, "clusters.0.access.teams: 'acme' not Slack team ids"),
        ({"reads": {"channel": ["C0PROD"]}}, "clusters.0.access.reads.channel: not a setting cnibot knows"),
    ],
)
def test_bad_rules_stop_the_start_with_one_line_naming_the_key(access: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(clusters=[{"name": "prod", "access": access}])
    assert any(expected in line for line in caught.value.problems), caught.value.problems


def test_a_default_channel_the_rules_do_not_allow_is_a_contradiction() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(clusters=[{"name": "prod", "channels": ["C0OLD"], "access": {"reads": {"channels": ["C0NEW"]}}}])
    assert "C0OLD default to it but access.reads.channels does not allow them" in " ".join(caught.value.problems)


def test_no_rules_and_empty_rules_are_open() -> None:
    assert rules_of(ClusterConfig(name="a")).open
    assert rules_of(ClusterConfig.model_validate({"name": "a", "access": {"reads": {}}})).open
    assert not rules_of(ClusterConfig.model_validate({"name": "a", "access": {"teams": ["T0HOME"]}})).open


def test_serve_warns_about_clusters_open_to_the_workspace(caplog: pytest.LogCaptureFixture) -> None:
    from bot.app import _warn_open_clusters
    from bot.clusters import ClusterDirectory

    settings = load_settings(
        clusters=[{"name": "open"}, {"name": "locked", "access": {"reads": {"channels": ["C0OPS"]}}}]
    )
    with caplog.at_level(logging.WARNING, logger="cnibot.app"):
        _warn_open_clusters(ClusterDirectory(settings))
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and "cluster open has no access rules" in warned[0]


def test_refusal_names_the_rule_and_who_grants_and_counts(fake_slack: FakeSlack) -> None:
    cluster = ClusterConfig.model_validate(
        {"name": "prod", "access": {"reads": {"channels": ["C0OPS"]}, "admins": ["U0ADMIN", "S0PLATFORM"]}}
    )
    with pytest.raises(AccessRefused) as caught:
        AccessGate().require(cluster, Action.READ, Caller("U0ANN", "C0ELSE", "public"))
    text = render_text(refusal_doc(caught.value))
    assert "cluster `prod` is restricted by `access.reads.channels`: it answers only in <#C0OPS>" in text
    assert "ask <@U0ADMIN>, <!subteam^S0PLATFORM>" in text and "Nothing was read" in text
    assert AccessGate().require(cluster, Action.READ, None).notes == ()  # a local operator: no rules


def test_group_members_are_cached_refreshed_and_kept_when_slack_fails(fake_slack: FakeSlack) -> None:
    from slack_sdk import WebClient

    now = [time.monotonic()]
    fake_slack.usergroups = {"S0SRE": ["U0ANN"]}
    groups = UserGroups(WebClient(token="xoxb-test", base_url=fake_slack.api_url), clock=lambda: now[0])

    assert groups.membership("U0ANN", ["S0SRE"]).groups == {"S0SRE"}
    assert groups.membership("U0BOB", ["S0SRE"]).groups == frozenset()
    assert len(fake_slack.api_calls("usergroups.users.list")) == 1  # the second lookup was the cache

    now[0] += FRESH_SECONDS + 1
    fake_slack.fail_next("usergroups.users.list", status=500, times=5)
    stale = groups.membership("U0ANN", ["S0SRE"])
    assert stale.groups == {"S0SRE"} and stale.stale
    again = groups.membership("U0ANN", ["S0SRE"])  # within RETRY_SECONDS: Slack is not asked again
    assert again.stale and len(fake_slack.api_calls("usergroups.users.list")) == 2

    fake_slack.reset()
    fake_slack.usergroups = {"S0SRE": ["U0BOB"]}
    now[0] += RETRY_SECONDS + 1
    fresh = groups.membership("U0ANN", ["S0SRE"])
    assert fresh.groups == frozenset() and not fresh.stale  # Slack is back: membership follows it


def test_unknown_groups_with_slack_down_are_no_membership(fake_slack: FakeSlack) -> None:
    from slack_sdk import WebClient

    fake_slack.fail_next("usergroups.users.list", status=500, times=5)
    groups = UserGroups(WebClient(token="xoxb-test", base_url=fake_slack.api_url))
    found = groups.membership("U0ANN", ["S0NEW"])
    assert found.groups == frozenset() and found.stale
