"""The console in a real browser (headless Chromium from the OS, driven by Playwright): every role of the
change flow and the digest, as a newcomer walks them with `cnibot demo --web`.

Each step's screenshot goes to artifacts/console/ (gitignored); docs/ keeps two of them for the README.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo_web import DemoWeb, start_demo_web
from simulator.runner import SimulatedCluster

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoWeb]:
    sim = SimulatedCluster.from_scenario("demo")  # what `cnibot demo --web` runs
    sim.start()
    try:
        running = start_demo_web(sim, f"sqlite:///{tmp_path / 'cnibot.db'}", port=0)
        try:
            yield running
        finally:
            running.stop()
    finally:
        sim.stop()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1100, "height": 760},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_request_approve_verify_refuse_and_digest_in_a_browser(demo: DemoWeb, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ws = demo.console.workspace
    url = demo.page.url
    alice, bob, carol, dave = (ws.user_by_role(r) for r in ("requester", "approver 1", "approver 2", "not an approver"))
    command, approvers, digest = (ws.channel_by_role(r).id for r in ("command", "approvers", "digest"))

    def shot(name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    # The requester asks why a pod is pending; the fix is a config change, offered as a button.
    page.goto(f"{url}/?channel={command}&user={alice.id}")
    page.fill("#box", "/cni why-pending shop/checkout-7")
    page.press("#box", "Enter")
    messages = page.locator("#messages")
    expect(messages).to_contain_text("has too few free IPs", timeout=20_000)
    expect(messages.locator(".only-you").first).to_contain_text("Only visible to you")
    shot("01-why-pending")

    # "Request this change" opens the bot's modal, prefilled; the reason is typed in.
    messages.get_by_role("button", name="Request this change").click()
    modal = page.locator("#modal")
    expect(modal).to_contain_text("Request a change", timeout=10_000)
    expect(modal.locator("[name=settings]")).to_have_value("MINIMUM_IP_TARGET=18 WARM_IP_TARGET=2")
    modal.locator("[name=reason]").fill("checkout pods pending in us-east-2a")
    shot("02-request-modal")
    modal.get_by_role("button", name="Request").click()
    expect(modal).to_be_hidden(timeout=10_000)
    expect(messages).to_contain_text("Requested change #1", timeout=10_000)

    # A non-approver's click is refused, to that person only.
    page.goto(f"{url}/?channel={approvers}&user={dave.id}")
    expect(messages).to_contain_text("Change request #1", timeout=10_000)
    messages.get_by_role("button", name="Approve").click()
    page.locator("#confirm .confirm-yes").click()
    expect(messages.locator(".ephemeral")).to_contain_text("Only visible to you", timeout=10_000)
    refusal = messages.locator(".ephemeral").last.inner_text()
    assert re.search(r"approver", refusal, re.IGNORECASE), refusal
    shot("03-non-approver-refused")

    # Approver 1 approves through the confirm dialog (a low-risk change needs one); the thread follows the
    # rollout to "verified".
    page.goto(f"{url}/?channel={approvers}&user={bob.id}")
    messages.get_by_role("button", name="Approve").click()
    confirm = page.locator("#confirm")
    expect(confirm).to_contain_text("Approve change #1?")
    shot("04-approve-confirm")
    confirm.locator(".confirm-yes").click()
    expect(messages.locator(".thread").first).to_contain_text("Change #1 verified", timeout=60_000)
    expect(messages.locator(".thread").first).to_contain_text("Rolling out change #1: 8/8 aws-node pods updated")
    assert "not an approver" not in messages.inner_text()  # dave's refusal was his alone

    # A high-risk change needs both approvers.
    page.goto(f"{url}/?channel={command}&user={alice.id}")
    page.fill("#box", '/cni set ENABLE_PREFIX_DELEGATION=true --reason "room for more pods per node"')
    page.press("#box", "Enter")
    expect(messages).to_contain_text("Requested change #2", timeout=20_000)
    page.goto(f"{url}/?channel={approvers}&user={bob.id}")
    request = messages.locator(".message", has_text="Change request #2").first
    request.get_by_role("button", name="Approve").click()
    confirm.locator(".confirm-yes").click()
    expect(messages).to_contain_text("Change #2 needs 1 more approver", timeout=10_000)
    page.locator("#user").select_option(carol.id)  # the user switcher
    expect(page.locator("#user")).to_have_value(carol.id)
    request.get_by_role("button", name="Approve").click()
    confirm.locator(".confirm-yes").click()
    thread = request.locator(".thread")
    expect(thread).to_contain_text("Change #2 verified", timeout=60_000)
    expect(thread).to_contain_text("@bob approved (1/2)")
    expect(thread).to_contain_text("@carol approved: change #2 is approved")
    shot("05-rollout-verified")

    # The digest channel: the scheduled digest, run now, with its chart uploaded into the thread.
    page.goto(f"{url}/?channel={digest}&user={alice.id}")
    page.click("#digest")
    chart = messages.locator("img.upload")
    expect(chart).to_be_visible(timeout=30_000)
    assert chart.evaluate("img => img.naturalWidth") > 300
    shot("06-digest-chart")
    assert demo.console.timeline.refusals == []  # Slack would have taken every call the bot made
