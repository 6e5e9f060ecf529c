"""Issue 14, input items: what people (and attackers) type gets a short usage answer, never a traceback or a
change request. Commands run through the same runner as `cnibot ask`, with a real SQLite history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_runner, build_services
from bot.changes.audit import parse_since
from bot.config import ClusterConfig, load_settings
from bot.domain import names
from bot.domain.changes import parse_duration
from bot.domain.numbers import INT64_MAX, bounded_int, int64_problem
from bot.services import Services
from commands.base import CommandContext, CommandResult


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'cnibot.db'}", clusters=[ClusterConfig(name="prod")])
    built = build_services(settings)
    yield built
    built.repos.dispose()


def run(services: Services, text: str) -> CommandResult:
    ctx = CommandContext(
        services=services, user_id="U0MALLORY", correlation_id="t", source="cli", now=datetime.now(UTC)
    )
    return build_runner().execute(text, ctx)


# --- grammars ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("good", ["web-0", "ip-10-0-1-5.us-east-2.compute.internal", "a", "x" * 253])
def test_subdomains(good: str) -> None:
    assert names.is_subdomain(good)


@pytest.mark.parametrize(
    "bad",
    ["", ".", "..", "../namespaces/shop/pods/web-0", "#x", "web?watch=1", "%2e%2e", "Web", "web\n", "a..b", "-a",
     "a-", "x" * 254, "ｗｅｂ", "web/0"],
)  # fmt: skip
def test_not_subdomains(bad: str) -> None:
    assert not names.is_subdomain(bad)
    with pytest.raises(names.InvalidName):
        names.object_name(bad, "pod")


@pytest.mark.parametrize("bad", ["shop\n", "a.b", "x" * 64, "Shop", "..", "%2e"])
def test_not_namespaces(bad: str) -> None:
    with pytest.raises(names.InvalidName):
        names.namespace(bad)


def test_aws_ids_and_zones() -> None:
    assert names.is_zone("us-east-2a") and names.is_zone("us-west-2-lax-1a") and names.is_zone("us-gov-west-1b")
    assert not any(names.is_zone(z) for z in ["us-east-2a/../x", "us", "us-east", "#x", "us-east-2a?x=1"])
    assert names.is_subnet_id("subnet-0123456789abcdef0") and not names.is_subnet_id("subnet-../x")
    assert names.is_instance_id("i-0abc") and not names.is_instance_id("i-xyz")
    assert names.is_security_group_id("sg-01") and not names.is_security_group_id("sg-1,sg-2")


def test_echoes_are_short() -> None:
    assert len(names.shown("x" * 4000)) == names.SHOWN


# --- item 2: ASCII digits only -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["change ፩", "rollback ፩", "changes --limit ፩", "history --limit ፩", "change ٣"])
def test_non_ascii_digits_get_a_usage_answer(services: Services, text: str) -> None:
    result = run(services, text)
    assert result.outcome == "user_error", result.doc.summary
    assert "0-9" in result.doc.summary
    assert "_limit" not in result.doc.summary and "invalid" not in result.doc.summary.lower()


def test_bounded_int_checks_length_before_converting() -> None:
    assert bounded_int("042", 1, 100, "--limit") == 42
    with pytest.raises(ValueError, match="between 1 and 100"):
        bounded_int("9" * 5000, 1, 100, "--limit")  # int() itself refuses more than 4,300 digits


# --- item 3: bounded durations -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["99999999999999999999d", "9" * 400 + "s", "٣h"])
def test_huge_or_foreign_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert "Overflow" not in str(info.value)


def test_set_for_a_huge_duration_is_a_usage_answer(services: Services) -> None:
    result = run(services, 'set WARM_IP_TARGET=2 --reason "a test" --for 99999999999999999999d')
    assert result.outcome == "user_error" and "between 1 minute and 7 days" in result.doc.summary


def test_audit_since_is_bounded() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="at most"):
        parse_since("999999d", now)
    with pytest.raises(ValueError):
        parse_since("99999999999999999999d", now)
    assert parse_since("7d", now).day == 24


# --- item 4: beyond Go's int64, refused at parse time ------------------------------------------------------


def test_int64_bounds() -> None:
    assert int64_problem(str(INT64_MAX)) is None and int64_problem("-5") is None and int64_problem("abc") is None
    assert int64_problem(str(INT64_MAX + 1)) and int64_problem("-" + str(INT64_MAX + 2)) and int64_problem("9" * 5000)


@pytest.mark.parametrize(
    "text",
    [
        'set WARM_IP_TARGET=99999999999999999999 --reason "a test"',
        'set WARM_IP_TARGET=-1 --reason "a test"',
        "capacity --what-if WARM_IP_TARGET=99999999999999999999",
        "capacity --what-if MINIMUM_IP_TARGET=" + "9" * 3900,
    ],
)
def test_out_of_range_values_are_refused_before_any_request(services: Services, text: str) -> None:
    result = run(services, text)
    assert result.outcome == "user_error", result.doc.summary
    assert "WARM_IP_TARGET" in result.doc.summary or "MINIMUM_IP_TARGET" in result.doc.summary
    assert services.repos.changes.recent(cluster=None, open_only=False, limit=5) == []


# --- item 6: echoes cut to a short prefix ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "node a " + "b" * 3900,  # unknown arguments
        "digest " + "x" * 3900,  # invalid choice
        "changes --limit " + "7" * 3900,
        "change " + "1" * 3900,
        "node " + "Q" * 3900,
        "why-pending " + "P" * 3900,
        "subnets --az " + "z" * 3900,
        "histry " + "h" * 3900,
        "set " + "K" * 3900,
    ],
)
def test_error_replies_echo_a_short_prefix_only(services: Services, text: str) -> None:
    result = run(services, text)
    assert result.outcome == "user_error"
    assert len(result.doc.summary) < 500, result.doc.summary[:200]


# --- item 7: canonical IANA zones only ---------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["localtime", "posixrules", "Factory", "US/Eastern", "../../etc/passwd"])
def test_digest_time_zone_must_be_canonical(services: Services, tz: str) -> None:
    result = run(services, f"digest subscribe C0123ABCD daily 09:00 --tz {tz}")
    assert result.outcome == "user_error" and "IANA time zone" in result.doc.summary


def test_digest_time_zone_canonical_is_accepted(services: Services) -> None:
    result = run(services, "digest subscribe C0123ABCD daily 09:00 --tz Europe/Berlin")
    assert result.outcome == "ok", result.doc.summary


def test_a_channel_with_a_trailing_newline_is_not_a_channel() -> None:
    from commands.digest import parse_channel

    assert parse_channel("C0123ABCD") == "C0123ABCD"
    assert parse_channel("C0123ABCD\n") is None and parse_channel("#ops\n") is None


def test_gateway_segments_and_selectors() -> None:
    from bot.gateways.kube import name_segment, ns_segment, selector_value

    assert name_segment("ip-10-0-1-5.us-east-2.compute.internal") == "ip-10-0-1-5.us-east-2.compute.internal"
    assert ns_segment("kube-system") == "kube-system"
    assert selector_value("a,b=c\\d") == "a\\,b\\=c\\\\d"
    for bad in ("..", ".", "a/b", "a?b", "a#b", "%2e%2e"):
        with pytest.raises(names.InvalidName):
            name_segment(bad)
        with pytest.raises(names.InvalidName):
            ns_segment(bad)


def test_echoes_are_inert_in_mrkdwn(services: Services) -> None:
    from bot.render.doc import render_blocks, render_text

    result = run(services, "<!channel> <https://example.invalid|click>")
    blocks = str(render_blocks(result.doc))
    assert "<!channel>" not in blocks and "<https://" not in blocks and "&lt;!channel&gt;" in blocks
    assert "<!channel>" in render_text(result.doc)  # the terminal shows what was typed
    assert result.data["error"].startswith("Unknown subcommand `<!channel>`")


def test_digest_time_takes_ascii_digits_only(services: Services) -> None:
    result = run(services, "digest subscribe C0123ABCD daily ٠٩:٠٠")
    assert result.outcome == "user_error", result.doc.summary
