"""What every /cni subcommand is: a parser, a run function, and the result it returns.

The same code path serves Slack and the terminal (`cnibot ask`): a subcommand gets parsed arguments and a
CommandContext, and returns a CommandResult holding structured data (for --json and scripts) and a Doc
(rendered to Block Kit for Slack and to text for the terminal).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from bot.domain.access import Action, ChannelKind
from bot.domain.names import SHOWN, shown
from bot.errors import UsageError
from bot.render.doc import Doc

if TYPE_CHECKING:
    from bot.services import Services

Outcome = Literal["ok", "partial", "user_error", "refused", "error"]


@dataclass(frozen=True)
class CommandContext:
    services: Services
    user_id: str
    correlation_id: str
    source: Literal["slack", "cli", "mcp"]
    now: datetime
    user_name: str | None = None
    team_id: str | None = None
    channel_id: str | None = None
    # Access rules: the Slack user they are decided for (None: a local operator with their own credentials, not
    # subject to them), where the command was typed, and the Enterprise Grid org of the request.
    slack_user: str | None = None
    channel_kind: ChannelKind = "none"
    enterprise_id: str | None = None


@dataclass
class CommandResult:
    subcommand: str
    doc: Doc
    data: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome = "ok"
    cluster: str | None = None
    response_type: Literal["ephemeral", "in_channel"] = "ephemeral"
    # Extra facts for the history row (e.g. the cause codes of a diagnosis).
    detail: dict[str, Any] | None = None
    # A why-pending finding: the runner records it with the command's history row, after the answer is out.
    diagnosis: DiagnosisNote | None = None


@dataclass(frozen=True)
class DiagnosisNote:
    """What the diagnoses table keeps of one why-pending answer (the cluster, requester and correlation id
    come from the command)."""

    namespace: str
    pod: str
    node: str | None
    codes: list[str]
    duration_ms: int
    could_not_check: list[dict[str, str]]


class CommandParser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing and exiting."""

    def __init__(self, name: str, usage: str, description: str = "") -> None:
        super().__init__(
            prog=f"/cni {name}",
            usage=usage,
            description=description,
            add_help=False,
            allow_abbrev=False,
            exit_on_error=False,
        )
        self.add_argument("-h", "--help", action="store_true", help=argparse.SUPPRESS)

    def error(self, message: str) -> NoReturn:
        raise UsageError(_humane(message), self.format_usage().strip())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or "invalid arguments", self.format_usage().strip())


def _humane(message: str) -> str:
    message = message.replace("the following arguments are required:", "missing")
    if message.startswith("unrecognized arguments:"):
        # The rest is what the user typed, possibly thousands of characters: echo the start of it only.
        return "unknown arguments: " + shown(message.removeprefix("unrecognized arguments:").strip())
    return short_echoes(message)


_QUOTED = re.compile("'([^']{" + str(SHOWN + 1) + ",})'")
MAX_MESSAGE = 400


def short_echoes(message: str) -> str:
    """argparse quotes what the user typed (`invalid choice: '...'`); cut each quote, then the whole line."""
    return shown(_QUOTED.sub(lambda m: f"'{shown(m.group(1))}'", message), MAX_MESSAGE)


@dataclass(frozen=True)
class Subcommand:
    """A /cni subcommand. `summary` is its one line in /cni help."""

    name: str
    summary: str
    usage: str
    build_parser: Callable[[CommandParser], None]
    run: Callable[[argparse.Namespace, CommandContext], CommandResult]
    # Text of the immediate Slack ack for work that takes longer than a moment; None = answer in the ack.
    ack_text: Callable[[argparse.Namespace, CommandContext], str] | None = None
    aliases: tuple[str, ...] = ()
    # It stores or requests something: past its deadline it may still finish, and the answer says where to look.
    writes: bool = False
    # Which access rule of the cluster applies to these arguments (None: the command reads no cluster).
    access: Callable[[argparse.Namespace], Action | None] | None = None

    def action(self, args: argparse.Namespace) -> Action | None:
        return self.access(args) if self.access is not None else None

    def parser(self) -> CommandParser:
        p = CommandParser(self.name, self.usage, self.summary)
        self.build_parser(p)
        return p


def always(action: Action) -> Callable[[argparse.Namespace], Action | None]:
    return lambda _args: action
