from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import Mock

import pytest

from bot.errors import UsageError
from commands import build_registry
from commands.base import CommandContext
from commands.history import parse_user
from commands.registry import MAX_TEXT, clean_text, plan, tokenize

CTX = CommandContext(services=Mock(), user_id="U1", correlation_id="c", source="cli", now=datetime.now(UTC))


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  history  ", "history"),
        ("set WARM_IP_TARGET=2 —reason “too many IPs”", 'set WARM_IP_TARGET=2 --reason "too many IPs"'),
        ("why-pending\u00a0shop/web", "why-pending shop/web"),
    ],
)
def test_clean_text_normalises_what_slack_clients_do(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize("bad", ["x" * (MAX_TEXT + 1), "why-pending a\x00b", "node \u200bip-1", "help\u202e"])
def test_clean_text_refuses_what_cannot_be_a_command(bad: str) -> None:
    with pytest.raises(UsageError):
        clean_text(bad)


def test_tokenize_reports_unbalanced_quotes() -> None:
    assert tokenize('set A=1 --reason "two words"') == ["set", "A=1", "--reason", "two words"]
    with pytest.raises(UsageError, match="closing quotation"):
        tokenize('set A=1 --reason "oops')


def test_plan_help_unknown_and_parse_errors() -> None:
    registry = build_registry()
    assert plan(registry, "").immediate.subcommand == "help"  # type: ignore[union-attr]
    assert plan(registry, "help history").immediate.data["usage"].startswith("/cni history")  # type: ignore[union-attr]
    unknown = plan(registry, "histry").immediate
    assert unknown is not None and "did you mean `history`" in unknown.doc.summary
    nothing_close = plan(registry, "zzzzzz").immediate
    assert nothing_close is not None and "did you mean" not in nothing_close.doc.summary
    bad = plan(registry, "history --limit 500").immediate
    assert bad is not None and bad.outcome == "user_error" and "between 1 and 100" in bad.doc.summary
    extra = plan(registry, "history surplus").immediate
    assert extra is not None and "unknown arguments: surplus" in extra.doc.summary
    ok = plan(registry, "history --limit 3 --cluster prod")
    assert ok.immediate is None and ok.args is not None and ok.args.limit == 3 and ok.args.cluster == "prod"
    assert plan(registry, "history --help").immediate.subcommand == "help"  # type: ignore[union-attr]


@pytest.mark.parametrize("value, user", [("<@U0ABC|ann>", "U0ABC"), ("<@W0XYZ>", "W0XYZ"), ("U0ABC", "U0ABC")])
def test_parse_user_accepts_mentions_and_ids(value: str, user: str) -> None:
    assert parse_user(value) == user


def test_parse_user_refuses_names() -> None:
    with pytest.raises(UsageError):
        parse_user("@ann")
