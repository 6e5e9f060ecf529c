"""The Slack edge: the /cni slash command on Bolt's sync App.

Every request is acked at once, on the request's own thread (usage errors and help are answered in the ack
itself, slow work gets a short "Looking at ..." line); the work then runs on the bounded work pool and the
answer goes to the response_url. When the pool is full the ack says so: busy, try again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot import metrics
from bot.access import AccessGate
from bot.changes.interactions import register_change_interactions
from bot.domain.access import channel_kind
from bot.render.doc import render_blocks
from bot.runner import CommandRunner, new_correlation_id
from bot.services import Services
from bot.slack_identity import SlackIdentity
from bot.usergroups import for_client
from bot.work_pool import WorkPool
from commands.base import CommandContext, CommandResult

log = logging.getLogger("cnibot.slack")

BUSY = ":hourglass: cnibot is busy with other commands right now; nothing was started. Try again in a minute."

_RETRIES = [
    ConnectionErrorRetryHandler(max_retry_count=2),
    RateLimitErrorRetryHandler(max_retry_count=2),
    ServerErrorRetryHandler(max_retry_count=2),
]


def correlation_id_for(body: dict[str, Any]) -> str:
    """Stable across the ack and the lazy work of one request (both see the same trigger_id)."""
    trigger = body.get("trigger_id")
    if trigger:
        return hashlib.sha256(str(trigger).encode()).hexdigest()[:12]
    return new_correlation_id()


def command_context(services: Services, body: dict[str, Any]) -> CommandContext:
    user_id = str(body.get("user_id") or "unknown")
    channel_id = body.get("channel_id")
    return CommandContext(
        services=services,
        user_id=user_id,
        user_name=body.get("user_name"),
        team_id=body.get("team_id"),
        channel_id=channel_id,
        correlation_id=correlation_id_for(body),
        source="slack",
        now=services.clock(),
        slack_user=user_id,
        channel_kind=channel_kind(channel_id, body.get("channel_name")),
        # Enterprise Grid: the org of the request (absent outside Grid).
        enterprise_id=body.get("enterprise_id") or None,
    )


def message_payload(result: CommandResult) -> dict[str, Any]:
    return {
        "text": result.doc.summary,
        "blocks": render_blocks(result.doc),
        "response_type": result.response_type,
    }


class SlackDelivery:
    """Posts answers to response_url with retries on 429, 5xx and connection errors."""

    def __init__(self, client: WebClient) -> None:
        self._proxy = client.proxy
        self._ssl = client.ssl

    def respond(self, response_url: str, payload: dict[str, Any]) -> bool:
        hook = WebhookClient(response_url, proxy=self._proxy, ssl=self._ssl, retry_handlers=list(_RETRIES))
        try:
            resp = hook.send_dict({**payload, "replace_original": False})
        except Exception:
            log.exception("could not deliver the answer to response_url")
            return False
        if resp.status_code != 200:
            log.error("response_url answered %s: %s", resp.status_code, resp.body[:200])
            return False
        return True


class _ClientOnPurpose(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN (read from the environment by Bolt itself) goes unused when a client is
    given. Giving the client is deliberate (our retries and API URL): the warning tells an operator nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


_BOLT_LOG = logging.getLogger("slack_bolt.cnibot")  # under slack_bolt: WARNING and up, as configured
_BOLT_LOG.addFilter(_ClientOnPurpose())


def build_bolt_app(
    services: Services,
    runner: CommandRunner,
    *,
    client: WebClient | None = None,
) -> App:
    settings = services.settings
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if client is None:
        client = services.slack_client = WebClient(
            token=token, base_url=settings.slack_api_url, retry_handlers=list(_RETRIES)
        )
    token = token or client.token
    identity = services.slack_identity = SlackIdentity(client, token)
    client.token = None  # so that Bolt takes `authorize` below; restored on app.client after
    app = App(
        client=client,
        logger=_BOLT_LOG,
        signing_secret=secret,
        # Start even when Slack is unreachable; requests are authorised without a Web API call.
        # Bolt passes arguments by parameter name: a plain function, not the bound method (its `self`).
        authorize=lambda enterprise_id, team_id, user_id: identity.authorize(enterprise_id, team_id, user_id),
        # Listeners run on the request's thread and only ack and hand over: an ack never waits for a free
        # thread behind command work (with lazy listeners both shared Bolt's executor).
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(4, thread_name_prefix="bolt"),
        raise_error_for_unhandled_request=False,
        # /slack/events checks the signature before Bolt sees a request (bot/slack_gate.py); Socket Mode
        # requests are not signed. Checking again here would only cost the ack time.
        request_verification_enabled=False,
    )
    client.token = token  # app.client posts the approvers' messages and digests
    services.access = AccessGate(for_client(client))
    delivery = SlackDelivery(client)
    work = services.work = WorkPool(settings.listener_threads, settings.work_queue)

    def ack_cni(ack: Ack, body: dict[str, Any]) -> None:
        started = time.perf_counter()
        ctx = command_context(services, body)
        planned = runner.plan(str(body.get("text") or ""))
        if planned.immediate is not None:
            payload = message_payload(planned.immediate)
            ack(text=payload["text"], blocks=payload["blocks"], response_type="ephemeral")
            work.try_submit(work_cni, body)  # only records it in the history: the ack was the answer
        elif not work.try_submit(work_cni, body):
            metrics.SLACK_BUSY.inc()
            ack(text=BUSY, response_type="ephemeral")
        else:
            text = runner.ack_text(planned, ctx)
            if text:
                ack(text=text, response_type="ephemeral")
            else:
                ack()
        metrics.ACK_SECONDS.observe(time.perf_counter() - started)

    def work_cni(body: dict[str, Any]) -> None:
        ctx = command_context(services, body)
        text = str(body.get("text") or "")
        planned = runner.plan(text)

        def deliver(result: CommandResult) -> None:
            if planned.immediate is None and body.get("response_url"):
                delivery.respond(str(body["response_url"]), message_payload(result))

        runner.execute(text, ctx, planned, deliver=deliver)

    app.command("/cni")(ack_cni)

    # Approve/Reject clicks and the why-pending "Request this change" form.
    register_change_interactions(app, services, delivery, work.try_submit)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled Slack listener error: %s", error, exc_info=error)

    return app
