"""The change flow's Slack interactions: Approve / Reject clicks, and the "Request this change" form.

Every click is authorised from the clicking user's id on the server; a button's value is only a request id
(or, for "Request this change", a proposal that is shown in a form and checked again in full on submit).
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App
from sqlalchemy.exc import SQLAlchemyError

from bot.access import AccessRefused, refusal_doc
from bot.changes.drafts import Draft, draft_eniconfig, draft_env
from bot.changes.parse import parse_assignments, parse_change_id, parse_eniconfig
from bot.changes.render import APPROVE_ACTION, MARK_APPLIED_ACTION, REJECT_ACTION
from bot.changes.requesting import request_change
from bot.changes.service import ChangeService, Requester, change_service
from bot.domain import names
from bot.domain.access import Caller, channel_kind
from bot.domain.changes import parse_duration, reason_problem
from bot.errors import UpstreamError, UsageError, UserError
from bot.gateways.connections import ClusterConnection
from bot.render.diagnosis import REQUEST_CHANGE_ACTION, request_command, request_reason
from bot.render.doc import Doc, escape
from bot.services import Services

log = logging.getLogger("cnibot.changes")

FORM_CALLBACK = "change_request_form"
DATABASE_DOWN = ":warning: The database is unavailable, so nothing was recorded or changed. Try again when it is back."
CLICK_FAILED = ":warning: That click could not be handled, so nothing was decided or changed. Try again in a moment."
ENV, ENICONFIG = "aws-node-env", "eniconfig"


Submit = Callable[..., bool]
BUSY = ":hourglass: cnibot is busy right now, so nothing was decided or changed. Try again in a minute."


def _inline(fn: Callable[..., Any], *args: Any) -> bool:
    fn(*args)
    return True


def register_change_interactions(
    app: App, services: Services, delivery: Any, submit: Submit = _inline
) -> ChangeService:
    """Register the listeners on the Bolt app; ``delivery`` answers clicks ephemerally (SlackDelivery).
    Each listener acks, then hands its work to ``submit`` (the work pool; False when it is full)."""
    respond = getattr(delivery, "respond", None)
    service = change_service(services).answering_with(respond)

    def on_click(decide: Callable[[int, str, str | None], None]) -> Callable[..., None]:
        def listener(ack: Ack, body: dict[str, Any]) -> None:
            ack()
            if not submit(handle, body):
                service.notifier.respond(str(body.get("response_url") or ""), BUSY)

        def handle(body: dict[str, Any]) -> None:
            user = str((body.get("user") or {}).get("id") or "")
            response_url = body.get("response_url")
            try:
                change_id = parse_change_id(str((body.get("actions") or [{}])[0].get("value") or ""))
            except UsageError:
                service.notifier.respond(str(response_url or ""), "That button does not name a change.")
                return
            try:
                decide(change_id, user, response_url)
            except SQLAlchemyError as exc:
                log.warning("click on change %s not recorded: %s", change_id, type(exc).__name__)
                service.notifier.respond(str(response_url or ""), DATABASE_DOWN)
            except Exception:
                # Acked already: the clicker must still hear that nothing was decided.
                log.exception("click on change %s failed", change_id)
                service.notifier.respond(str(response_url or ""), CLICK_FAILED)

        return listener

    app.action(APPROVE_ACTION)(on_click(service.approve))
    app.action(REJECT_ACTION)(on_click(service.reject))
    app.action(MARK_APPLIED_ACTION)(on_click(service.mark_applied))

    @app.action(REQUEST_CHANGE_ACTION)
    def open_form_later(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        if not submit(open_form, body):
            service.notifier.respond(str(body.get("response_url") or ""), BUSY)

    def open_form(body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        proposal = proposal_from(str(action.get("value") or ""))
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        if not service.notifier.open_view(str(body.get("trigger_id") or ""), request_form(proposal, channel)):
            # No form (Slack refused the trigger): the command that requests the same change.
            service.notifier.respond(str(body.get("response_url") or ""), fallback_text(str(action.get("value") or "")))

    @app.view(FORM_CALLBACK)
    def submit_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = read_form(view)
        if form.errors:
            ack(response_action="errors", errors=form.errors)
            return
        ack()
        user = body.get("user") or {}
        user_id = str(user.get("id") or "")
        if not submit(request_from_form, form, user, _caller(body, form.channel)):
            service.notifier.ephemeral(form.channel or user_id, user_id, Doc(BUSY))

    def request_from_form(form: Form, user: dict[str, Any], caller: Caller) -> None:
        user_id = str(user.get("id") or "")
        requester = Requester(user_id, user.get("username") or user.get("name"), form.channel, caller)
        try:
            answer = request_change(services, requester, form.cluster, form.reason, form.build)
            doc = answer.doc
        except AccessRefused as exc:
            doc = refusal_doc(exc)
        except UserError as exc:
            doc = Doc(f":warning: {exc.message}")
        except SQLAlchemyError as exc:
            log.warning("change request not stored: %s", type(exc).__name__)
            doc = Doc(DATABASE_DOWN)
        except UpstreamError as exc:
            doc = Doc(f":warning: Not requested: {escape(str(exc))}")
        except Exception:
            log.exception("change request from the form failed")
            doc = Doc(":warning: Not requested: something went wrong on cnibot's side; nothing was stored.")
        service.notifier.ephemeral(form.channel or user_id, user_id, doc)

    return service


def _caller(body: dict[str, Any], channel: str | None) -> Caller:
    """The person submitting the form, where the button was clicked, and their workspace (and Grid org)."""
    user = body.get("user") or {}
    return Caller(
        user_id=str(user.get("id") or ""),
        channel_id=channel,
        channel_kind=channel_kind(channel),
        team_id=(body.get("team") or {}).get("id") or user.get("team_id"),
        enterprise_id=(body.get("enterprise") or {}).get("id"),
    )


def fallback_text(value: str) -> str:
    try:
        return f"To request this change, send:\n`{request_command(value)}`"
    except ValueError:
        return ":warning: This button's change could not be read; run `/cni why-pending` again."


# --- the proposal carried by "Request this change" ------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    kind: str = ENV
    env: dict[str, str] = field(default_factory=dict)
    eniconfig: tuple[str, str, tuple[str, ...]] | None = None  # name, subnet, security groups
    cluster: str | None = None
    reason: str = ""


def proposal_from(value: str) -> Proposal:
    """The button's value: the diagnosis' proposed change as JSON, or the `/cni ...` command it prints.
    Anything unreadable gives an empty form rather than an error."""
    value = value.strip()
    try:
        data = json.loads(value) if value.startswith("{") else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        eni = data.get("eniconfig") or None
        cluster = str(data["cluster"]) if data.get("cluster") else None
        # why-pending says which pod and cause the change fixes: a good start for the reason.
        reason = request_reason(data["pod"], data["cause"])[:300] if data.get("pod") and data.get("cause") else ""
        if data.get("kind") == ENICONFIG and isinstance(eni, dict):
            groups = tuple(str(g) for g in eni.get("securityGroups") or ())
            spec = (str(eni.get("name", "")), str(eni.get("subnet", "")), groups)
            return Proposal(ENICONFIG, eniconfig=spec, cluster=cluster, reason=reason)
        env = {str(k): str(v) for k, v in (data.get("env") or {}).items()}
        return Proposal(ENV, env=env, cluster=cluster, reason=reason)
    return _proposal_from_command(value)


def _proposal_from_command(text: str) -> Proposal:
    try:
        words = shlex.split(text.removeprefix("/cni").strip())
    except ValueError:
        return Proposal()
    cluster = _option(words, "--cluster")
    words = _without_options(words)
    if words[:2] == ["eniconfig", "set"] and len(words) >= 3:
        subnet = _option_from(text, "--subnet")
        groups = _option_from(text, "--security-groups")
        try:
            state = parse_eniconfig(words[3:], subnet, groups)
        except UsageError:
            return Proposal(ENICONFIG, eniconfig=(words[2], subnet or "", ()), cluster=cluster)
        return Proposal(ENICONFIG, eniconfig=(words[2], state.subnet, state.security_groups), cluster=cluster)
    if words[:1] == ["set"]:
        env = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        return Proposal(ENV, env=env, cluster=cluster)
    return Proposal(cluster=cluster)


def _option(words: list[str], name: str) -> str | None:
    return words[words.index(name) + 1] if name in words[:-1] else None


def _option_from(text: str, name: str) -> str | None:
    try:
        return _option(shlex.split(text), name)
    except ValueError:
        return None


def _without_options(words: list[str]) -> list[str]:
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("--"):
            skip = True
        else:
            out.append(word)
    return out


# --- the form ------------------------------------------------------------------------------------------------


def _text_input(
    block_id: str, label: str, *, initial: str = "", optional: bool = False, hint: str = "", multiline: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": multiline}
    if initial:
        element["initial_value"] = initial
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def request_form(proposal: Proposal, channel: str | None) -> dict[str, Any]:
    """A modal prefilled with the proposed change; the person adds the reason and may edit the change."""
    where = f" on `{proposal.cluster}`" if proposal.cluster else ""
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"Request this change{where}. It goes to the approvers; nothing is applied before approval.",
            },
        }
    ]
    if proposal.kind == ENICONFIG and proposal.eniconfig is not None:
        name, subnet, groups = proposal.eniconfig
        blocks += [
            _text_input("eniconfig_name", "ENIConfig (the zone name)", initial=name),
            _text_input("subnet", "Subnet", initial=subnet, hint="subnet-... in that zone"),
            _text_input(
                "security_groups", "Security groups", initial=",".join(groups), optional=True, hint="sg-...,sg-..."
            ),
        ]
    else:
        settings = " ".join(f"{k}={v}" for k, v in proposal.env.items())
        blocks += [
            _text_input("settings", "aws-node settings", initial=settings, hint="KEY=VALUE ... (KEY- to unset)"),
            _text_input("duration", "Revert by itself after", optional=True, hint="e.g. 2h; empty = keep it"),
        ]
    blocks.append(
        _text_input("reason", "Reason", initial=proposal.reason, multiline=True, hint="why; approvers see it")
    )
    metadata = {"kind": proposal.kind, "cluster": proposal.cluster, "channel": channel}
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": {"type": "plain_text", "text": "Request a change"},
        "submit": {"type": "plain_text", "text": "Request"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


@dataclass
class Form:
    cluster: str | None
    channel: str | None
    reason: str
    build: Callable[[ClusterConnection], Draft]
    errors: dict[str, str] = field(default_factory=dict)


def read_form(view: dict[str, Any]) -> Form:
    """The submitted form, with inline errors for anything that cannot even be parsed."""
    values = (view.get("state") or {}).get("values") or {}
    meta = json.loads(view.get("private_metadata") or "{}")

    def field_value(block: str) -> str:
        return str(((values.get(block) or {}).get("value") or {}).get("value") or "").strip()

    errors: dict[str, str] = {}
    reason = field_value("reason")
    problem = reason_problem(reason)
    if problem:
        errors["reason"] = problem
    build: Callable[[ClusterConnection], Draft] = _nothing
    if meta.get("kind") == ENICONFIG:
        name = field_value("eniconfig_name")
        if not names.is_subdomain(name):
            errors["eniconfig_name"] = "Not an ENIConfig name (lowercase letters, digits, '-' and '.')."
        try:
            state = parse_eniconfig([], field_value("subnet"), field_value("security_groups"))
            build = lambda conn: draft_eniconfig(conn, name, state)  # noqa: E731
        except UsageError as exc:
            errors["subnet"] = exc.message
    else:
        try:
            updates = parse_assignments(shlex.split(field_value("settings")))
        except (UsageError, ValueError) as exc:
            updates = {}
            errors["settings"] = exc.message if isinstance(exc, UsageError) else "Could not read the settings."
        duration = None
        if field_value("duration"):
            try:
                duration = parse_duration(field_value("duration"))
            except ValueError as exc:
                errors["duration"] = str(exc)
        build = lambda conn: draft_env(conn, updates, duration=duration)  # noqa: E731
    return Form(meta.get("cluster"), meta.get("channel"), reason, build, errors)


def _nothing(conn: ClusterConnection) -> Draft:
    raise UserError("Nothing to request.")
