"""The console's Block Kit and mrkdwn rendering: Slack's marks become tags, nothing else does."""

from __future__ import annotations

from simulator.console.render import block, channel, modal, mrkdwn
from simulator.console.timeline import Message, OpenView


def names(ref: str) -> str:
    return {"U0BOB": "bob", "C0APPROVE": "cni-approvals"}.get(ref, ref)


def test_marks_mentions_links_and_emoji() -> None:
    out = mrkdwn(
        ":white_check_mark: *Verified*, _by_ <@U0BOB> in <#C0APPROVE> ~old~ <https://x.test/a?b=1&amp;c=2|docs>", names
    )
    assert out.startswith('<span class="emoji" style="color:#007a5a" title=":white_check_mark:">\u2714</span> ')
    assert "<b>Verified</b>, <i>by</i> " in out
    assert mrkdwn(":not_an_emoji_we_draw:", names) == ":not_an_emoji_we_draw:"
    assert '<span class="mention">@bob</span>' in out and '<span class="mention">#cni-approvals</span>' in out
    assert "<s>old</s>" in out
    assert '<a href="https://x.test/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">docs</a>' in out


def test_code_is_literal_and_snake_case_is_not_italic() -> None:
    out = mrkdwn("`a*b*c` ```x <y> *z*``` WARM_IP_TARGET_X", names)
    assert "<code>a*b*c</code>" in out
    assert "<pre>x &lt;y&gt; *z*</pre>" in out
    assert out.endswith("WARM_IP_TARGET_X")


def test_hostile_text_is_escaped_everywhere() -> None:
    hostile = '&lt;script&gt;alert(1)&lt;/script&gt; <javascript:alert(1)|click> <img src=x onerror=alert(1)>"'
    out = mrkdwn(hostile, names)
    assert "<script" not in out and "<img" not in out and "href" not in out
    assert "&lt;script&gt;" in out and "click" in out
    button = block(
        {
            "type": "actions",
            "block_id": 'b"><script>',
            "elements": [
                {
                    "type": "button",
                    "action_id": "a'><img>",
                    "text": {"type": "plain_text", "text": "<b>Go</b>"},
                    "confirm": {
                        "title": {"type": "plain_text", "text": '"><script>'},
                        "text": {"type": "mrkdwn", "text": "applies to `demo`"},
                    },
                }
            ],
        },
        names,
        "1.2",
    )
    assert "<script" not in button and "<img" not in button and "<b>Go" not in button
    assert 'data-block="b&quot;&gt;&lt;script&gt;"' in button
    # The confirm dialog's parts arrive rendered and escaped; the page inserts them as they are.
    assert "&lt;code&gt;demo&lt;/code&gt;" in button and "&amp;lt;script" in button


def test_blocks_threads_files_and_ephemeral() -> None:
    root = Message(
        "1.1",
        "C0APPROVE",
        "fallback",
        [
            {"type": "header", "text": {"type": "plain_text", "text": "Change #1"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Risk*"}, {"type": "mrkdwn", "text": "low"}]},
            {"type": "divider"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "expires in 24h"}]},
        ],
    )
    reply = Message("1.2", "C0APPROVE", "verified", [], thread_ts="1.1")
    chart = Message("1.3", "C0APPROVE", "", [], thread_ts="1.1", files=[("F1", "IPs in use")])
    mine = Message("e1", "C0APPROVE", "You are not an approver", [], visible_to="U0DAVE")
    out = channel([root, reply, chart, mine], names)
    assert '<div class="header">Change #1</div>' in out and "<hr>" in out
    assert '<div class="field"><b>Risk</b></div>' in out and '<div class="context"><span>expires in 24h' in out
    thread = out[out.index('class="thread"') : out.index("ephemeral")]
    assert "verified" in thread and 'src="/files/F1"' in thread
    assert "Only visible to you" in out[out.index("ephemeral") :]


def test_modal_inputs_with_initial_values_and_errors() -> None:
    view = OpenView(
        "V1",
        "U0ALICE",
        {
            "title": {"type": "plain_text", "text": "Request a change"},
            "submit": {"type": "plain_text", "text": "Request"},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "settings",
                    "label": {"type": "plain_text", "text": "Settings"},
                    "element": {"type": "plain_text_input", "action_id": "value", "initial_value": 'A="1"'},
                },
                {
                    "type": "input",
                    "block_id": "reason",
                    "optional": True,
                    "label": {"type": "plain_text", "text": "Reason"},
                    "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
                },
            ],
        },
        errors={"reason": "Say why"},
    )
    out = modal(view, names)
    assert 'data-view="V1"' in out and "Request a change" in out
    assert '<input name="settings" data-action="value" value="A=&quot;1&quot;"' in out
    assert "<textarea" in out and "(optional)" in out and '<div class="error">Say why</div>' in out
