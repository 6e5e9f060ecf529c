from __future__ import annotations

from bot.render.doc import Actions, Bullets, Button, Doc, Para, Table, render_blocks, render_text


def test_tables_align_numbers_and_cut_long_lists() -> None:
    rows = [(f"subnet-{i:03d}", 1000 * i, f"{i}%") for i in range(30)]
    doc = Doc("*Subnets*").add(Table(("subnet", "free", "used"), rows, limit=5, more_hint="use --az"))
    text = render_text(doc)
    lines = text.splitlines()
    assert lines[0] == "Subnets"
    assert "  subnet-004  4,000  4%" in lines
    assert "and 25 more (use --az)" in text
    blocks = render_blocks(doc)
    assert blocks[1]["text"]["text"].startswith("```")
    assert blocks[-1]["type"] == "context" and "25 more" in blocks[-1]["elements"][0]["text"]


def test_blocks_stay_within_slack_limits() -> None:
    doc = Doc("many")
    for i in range(80):
        doc.add(Para(f"paragraph {i}"))
    doc.add(Bullets([f"item {i}" * 50 for i in range(200)], limit=200))
    blocks = render_blocks(doc)
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)


def test_buttons_render_with_confirm_and_text_mentions_them() -> None:
    doc = Doc("x").add(Actions([Button("Approve", "approve", "42", style="primary", confirm=("Sure?", "Apply it"))]))
    button = render_blocks(doc)[1]["elements"][0]
    assert button["value"] == "42" and button["confirm"]["title"]["text"] == "Sure?"
    assert "(in Slack: Approve)" in render_text(doc)


def test_subnets_never_promise_a_sweep_that_will_not_run() -> None:
    """ipamd.go disableLeakedENICleanup / awsutils.go getLeakedENIs: say the sweep deletes leaked ENIs only when it
    runs and they are its own."""
    from bot.domain.facts import SubnetFact
    from bot.domain.ip_ledger import HOLDERS
    from bot.domain.subnet_view import SubnetView
    from bot.render.doc import render_text
    from bot.render.subnets import subnets_doc

    subnet = SubnetFact("subnet-0a1", "vpc-1", "us-east-2a", "10.0.0.0/26", 0, {})
    holders = dict.fromkeys(HOLDERS, 0) | {"leaked": 30}

    def said(**fields: object) -> str:
        view = SubnetView(subnet, ("nodes",), (), holders, 0, None, **fields)  # type: ignore[arg-type]
        return render_text(subnets_doc([view], None, []))

    assert "sweep deletes them once they are 5 minutes old" in said()
    assert "does not run (DISABLE_LEAKED_ENI_CLEANUP=true)" in said(sweep_stopped_by="DISABLE_LEAKED_ENI_CLEANUP")
    assert "will not delete 30 of these addresses" in said(leaked_kept=30)


def test_terminal_text_keeps_ipv6_addresses_and_unknown_shortcodes() -> None:
    from bot.render.doc import plain

    assert plain(":warning: pod 2600:1f14::15 on 2600:abc1:2:3::/80") == "⚠ pod 2600:1f14::15 on 2600:abc1:2:3::/80"
    assert plain(":lock: locked :party_parrot:") == " locked :party_parrot:"


def test_every_shortcode_the_bot_writes_has_a_terminal_form() -> None:
    """An unknown shortcode stays as typed in the terminal (IPv6 addresses look like them), so each one the bot
    writes must be listed: drawn as a symbol or dropped."""
    import re
    from pathlib import Path

    from bot.render.doc import _EMOJI

    root = Path(__file__).resolve().parents[2]
    written = {
        code
        for folder in ("bot", "commands")
        for path in (root / folder).rglob("*.py")
        for code in re.findall(r"(?<![\w:]):[a-z][a-z0-9_+-]*:(?![\w:])", path.read_text(encoding="utf-8"))
    }
    not_emoji = {":memory:", ":eks:"}  # SQLite's in-memory database URL; the service in an EKS ARN
    assert written - not_emoji - set(_EMOJI) == set()
