"""The console: a local web page that plays Slack for cnibot.

It is the project's strict fake Slack (simulator/fake_slack.py, with a workspace) plus a page on Starlette.
Whatever a person types or clicks becomes the request Slack would send, signed with the signing secret and
POSTed to the bot's real /slack/events; whatever the bot sends back (Web API calls, response_url deliveries)
is shown as Slack would show it, or, when Slack would refuse it, as the refusal and its reasons.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from simulator.console import payloads, render
from simulator.console.page import page
from simulator.console.timeline import Reply, Timeline
from simulator.fake_slack import FakeSlack, sign
from simulator.slack_workspace import Channel, User, Workspace

log = logging.getLogger("cnibot.console")

# What "Run digest now" does: given the digest channel and who clicked, post the scheduled digest; returns a
# line for the page. None: the console sends `/cni digest now` there instead (a preview).
DigestRunner = Callable[[Channel, User], str]


class Console:
    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        *,
        workspace: Workspace | None = None,
        run_digest: DigestRunner | None = None,
    ) -> None:
        self.workspace = workspace or Workspace()
        self.bot_url = bot_url.rstrip("/")
        self._secret = signing_secret
        self.run_digest = run_digest
        self.timeline = Timeline()
        self.slack = FakeSlack(self.workspace)
        self.slack.listeners.append(self.timeline.on_call)
        self._http = httpx.Client(timeout=10)
        self.web = self._build_web()

    def start_slack(self, port: int = 0) -> Console:
        self.slack.start(port)
        return self

    @property
    def api_url(self) -> str:
        """What the bot's CNIBOT_SLACK_API_URL must be."""
        return self.slack.api_url

    def close(self) -> None:
        self._http.close()
        self.slack.stop()

    # --- Slack's side: what a person does becomes a signed request ------------------------------------------
    def _post(self, body: str) -> httpx.Response:
        return self._http.post(f"{self.bot_url}/slack/events", content=body, headers=sign(self._secret, body))

    def _new_response_url(self, reply: Reply) -> str:
        url = self.slack.response_url()
        self.timeline.expect_reply(url.removeprefix(self.slack.url), reply)
        return url

    def send(self, channel: Channel, user: User, text: str) -> None:
        self.timeline.typed(channel.id, user.id, text)
        command, _, rest = text.strip().partition(" ")
        if command != "/cni":
            self.timeline.note(channel.id, user.id, "Only /cni commands reach cnibot from here, e.g. /cni help")
            return
        response_url = self._new_response_url(Reply(channel.id, user.id))
        trigger = self.timeline.new_trigger(user.id)
        body = payloads.slash_command(
            self.workspace, channel, user, rest.strip(), response_url=response_url, trigger=trigger
        )
        self._show_ack(channel.id, user.id, self._post_or_say(channel.id, user.id, body))

    def click(self, user: User, message_key: str, block_id: str, action_id: str) -> None:
        message = self.timeline.find(message_key)
        element = payloads.find_element(message, block_id, action_id) if message else None
        if message is None or element is None:
            return
        response_url = self._new_response_url(Reply(message.channel, user.id, source=message.key))
        trigger = self.timeline.new_trigger(user.id)
        body = payloads.block_actions(
            self.workspace, user, message, element, block_id, response_url=response_url, trigger=trigger
        )
        self._show_ack(message.channel, user.id, self._post_or_say(message.channel, user.id, body))

    def submit(self, channel: str, user: User, view_id: str, values: dict[str, dict[str, str]]) -> None:
        view = self.timeline.views.get(view_id)
        if view is None or view.user != user.id:
            return
        trigger = self.timeline.new_trigger(user.id)
        resp = self._post_or_say(
            channel, user.id, payloads.view_submission(self.workspace, user, view, values, trigger=trigger)
        )
        ack = _json_or_none(resp)
        if isinstance(ack, dict) and ack.get("response_action") == "errors":
            self.timeline.view_errors(view_id, {str(k): str(v) for k, v in (ack.get("errors") or {}).items()})
        elif resp is not None and resp.status_code == 200:
            self.timeline.close_view(view_id)

    def _post_or_say(self, channel: str, user: str, body: str) -> httpx.Response | None:
        try:
            resp = self._post(body)
        except httpx.HTTPError as exc:
            self.timeline.note(channel, user, f"cnibot did not answer at {self.bot_url}: {type(exc).__name__}")
            return None
        if resp.status_code != 200:
            # Slack shows "failed with the error ..." for an app that answers an error.
            self.timeline.note(channel, user, f"/cni failed: cnibot answered HTTP {resp.status_code} {resp.text[:200]}")
        return resp

    def _show_ack(self, channel: str, user: str, resp: httpx.Response | None) -> None:
        ack = _json_or_none(resp)
        if isinstance(ack, dict) and (ack.get("text") or ack.get("blocks")):
            # An ack with a message body: Slack shows it to the user (or the channel for in_channel).
            self._ack_message(channel, user, ack)
        elif resp is not None and resp.status_code == 200 and resp.text and not isinstance(ack, dict):
            self.timeline.note(channel, user, resp.text)

    def _ack_message(self, channel: str, user: str, ack: dict[str, Any]) -> None:
        path = f"/ack/{self.timeline.new_trigger(user)}"
        self.timeline.expect_reply(path, Reply(channel, user))
        self.timeline.deliver(path, ack)  # shown as a response_url delivery would be

    # --- the page ------------------------------------------------------------------------------------------
    def _names(self, ref: str) -> str:
        user = self.workspace.user(ref)
        if user is not None:
            return user.name
        channel = self.workspace.channel(ref)
        return channel.name if channel is not None else ref

    def _who(self, data: dict[str, Any]) -> tuple[str, User]:
        """The channel and the person a page request acts for; a person not in the workspace is refused."""
        user = self.workspace.user(str(data.get("user")))
        if user is None:
            raise HTTPException(404, "no such user in this workspace")
        return str(data.get("channel") or ""), user

    def _build_web(self) -> Starlette:
        ws = self.workspace

        async def index(request: Request) -> Response:
            channel = request.query_params.get("channel") or ws.channel_by_role("command").id
            user = request.query_params.get("user") or ws.users[0].id
            if ws.user(user) is None or (ws.channel(channel) is None and channel != user):
                return HTMLResponse("unknown user or channel", status_code=404)
            note = "posts the scheduled digest to #" + ws.channel_by_role("digest").name
            if self.run_digest is None:
                note = "previews the digest (/cni digest now); the scheduled one posts on its schedule"
            return HTMLResponse(page(ws, channel, user, note))

        async def state(request: Request) -> Response:
            channel = request.query_params.get("channel", "")
            user = request.query_params.get("user", "")
            tl = self.timeline
            with tl._lock:  # noqa: SLF001 - one consistent snapshot
                messages = render.channel(tl.visible(channel, user), self._names)
                view = tl.view_of(user)
                refusals = "".join(
                    f"<div>Slack refused <b>{html.escape(r.method)}</b>: {html.escape(r.error)}"
                    f"{': ' + html.escape('; '.join(r.reasons)) if r.reasons else ''}</div>"
                    for r in tl.refusals[-5:]
                )
                return JSONResponse(
                    {
                        "version": f"{tl.version}:{channel}:{user}",
                        "messages": messages,
                        "refusals": refusals,
                        "modal": render.modal(view, self._names) if view else "",
                        "modal_id": view.id if view else "",
                        "modal_errors": len(view.errors) if view else 0,
                    }
                )

        async def send(request: Request) -> Response:
            data = await request.json()
            channel_id, user = self._who(data)
            channel = ws.channel(channel_id)
            if channel is None:
                return JSONResponse({"ok": False, "error": "channel_not_found"}, status_code=404)
            await run_in_threadpool(self.send, channel, user, str(data.get("text") or ""))
            return JSONResponse({"ok": True})

        async def click(request: Request) -> Response:
            data = await request.json()
            _, user = self._who(data)
            args = (str(data.get("message")), str(data.get("block") or ""), str(data.get("action")))
            await run_in_threadpool(self.click, user, *args)
            return JSONResponse({"ok": True})

        async def submit(request: Request) -> Response:
            data = await request.json()
            channel, user = self._who(data)
            values = data.get("values") if isinstance(data.get("values"), dict) else {}
            await run_in_threadpool(self.submit, channel, user, str(data.get("view")), values)
            return JSONResponse({"ok": True})

        async def close(request: Request) -> Response:
            data = await request.json()
            _, user = self._who(data)
            view = self.timeline.views.get(str(data.get("view")))
            if view is not None and view.user == user.id:
                self.timeline.close_view(view.id)
            return JSONResponse({"ok": True})

        async def digest(request: Request) -> Response:
            data = await request.json()
            _, user = self._who(data)
            channel = ws.channel_by_role("digest")
            if self.run_digest is None:
                await run_in_threadpool(self.send, channel, user, "/cni digest now")
                return JSONResponse({"ok": True})
            line = await run_in_threadpool(self.run_digest, channel, user)
            self.timeline.note(channel.id, user.id, line)
            return JSONResponse({"ok": True})

        async def files(request: Request) -> Response:
            data = self.slack.uploads.get(request.path_params["file_id"])
            if data is None or not data.startswith(b"\x89PNG"):
                return Response(status_code=404)
            return Response(data, media_type="image/png")

        return Starlette(
            routes=[
                Route("/", index),
                Route("/state", state),
                Route("/send", send, methods=["POST"]),
                Route("/click", click, methods=["POST"]),
                Route("/submit", submit, methods=["POST"]),
                Route("/close", close, methods=["POST"]),
                Route("/digest", digest, methods=["POST"]),
                Route("/files/{file_id}", files),
            ]
        )


def _json_or_none(resp: httpx.Response | None) -> Any:
    if resp is None or not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None
