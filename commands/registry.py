"""The table of /cni subcommands and the step from raw text to a parsed call (or an immediate answer)."""

from __future__ import annotations

import argparse
import difflib
import shlex
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.errors import UsageError
from bot.render.doc import Doc, Para, Table, escape
from commands.base import CommandResult, Subcommand, short_echoes

MAX_TEXT = 4000

# Slack clients "smarten" what people type: curly quotes break shlex and an em dash eats "--".
_SMART = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "—": "--", "–": "--"})
# Invisible or direction-changing characters make a command read differently from what runs.
_ODD_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn"}


class Registry:
    def __init__(self, subcommands: Iterable[Subcommand]) -> None:
        self._by_name: dict[str, Subcommand] = {}
        self._ordered: list[Subcommand] = []
        for sub in subcommands:
            self._ordered.append(sub)
            for name in (sub.name, *sub.aliases):
                if name in self._by_name:
                    raise ValueError(f"duplicate subcommand {name}")
                self._by_name[name] = sub

    @property
    def subcommands(self) -> list[Subcommand]:
        return list(self._ordered)

    def get(self, name: str) -> Subcommand | None:
        return self._by_name.get(name)

    def suggest(self, name: str) -> list[str]:
        return difflib.get_close_matches(name, [s.name for s in self._ordered], n=3, cutoff=0.5)


@dataclass(frozen=True)
class Plan:
    """Parsed text: either a subcommand with its arguments, or an answer that needs no work."""

    name: str
    subcommand: Subcommand | None = None
    args: argparse.Namespace | None = None
    immediate: CommandResult | None = None

    @property
    def help(self) -> CommandResult | None:
        """The answer when the text asked for help and got it (not a usage error)."""
        if self.immediate is not None and self.immediate.subcommand == "help" and self.immediate.outcome == "ok":
            return self.immediate
        return None


def clean_text(text: str) -> str:
    """Normalise what Slack clients do to text, and refuse what cannot be a command."""
    _check_length(len(text))
    text = unicodedata.normalize("NFKC", text.translate(_SMART)).replace("\u00a0", " ")
    _check_characters(text)
    return text.strip()


def check_words(words: list[str]) -> list[str]:
    """Words a shell already split (`cnibot ask set 'A=a\\b'`): refused like text, never rewritten."""
    _check_length(sum(len(w) + 1 for w in words))
    for word in words:
        _check_characters(word)
    return words


def _check_length(length: int) -> None:
    if length > MAX_TEXT:
        raise UsageError(f"That is {length:,} characters; /cni takes at most {MAX_TEXT:,}.")


def _check_characters(text: str) -> None:
    for ch in text:
        if ch in "\t\n\r":
            continue
        if unicodedata.category(ch) in _ODD_CATEGORIES:
            code = f"U+{ord(ch):04X}"
            raise UsageError(f"The text holds an invisible or control character ({code}); please retype it.")


def tokenize(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:  # "No closing quotation"
        raise UsageError(f"Could not read the arguments: {str(exc).lower()}.") from None


def help_doc(registry: Registry) -> Doc:
    rows = [(s.name, s.summary) for s in registry.subcommands]
    return Doc("*/cni*: pod networking (AWS VPC CNI) for this workspace's EKS clusters").add(
        Table(("subcommand", "what it does"), rows, align="ll", limit=len(rows)),
        Para(
            "`/cni help <subcommand>` shows its arguments. Every subcommand takes `--cluster NAME`. Answers are "
            "visible to you only; `--share` posts a read answer in the channel."
        ),
    )


def usage_result(name: str, message: str, usage: str) -> CommandResult:
    # The message echoes what was typed: short, and inert in mrkdwn (usage lines hold <...> too).
    message = short_echoes(message)
    doc = Doc(f":warning: {escape(message)}")
    if usage:
        doc.add(Para(f"Usage: `{escape(usage.removeprefix('usage: '))}`"))
    return CommandResult(subcommand=name, doc=doc, outcome="user_error", data={"error": message, "usage": usage})


def plan(registry: Registry, text: str) -> Plan:
    """Turn the text after /cni into a Plan. Never raises: bad input becomes an immediate usage answer."""
    try:
        tokens = tokenize(clean_text(text))
    except UsageError as exc:
        return Plan("invalid", immediate=usage_result("invalid", exc.message, exc.usage))
    return plan_words(registry, tokens)


def plan_words(registry: Registry, tokens: list[str]) -> Plan:
    """A Plan from words already split (by shlex, or by the shell for `cnibot ask a b c`)."""
    try:
        check_words(tokens)
    except UsageError as exc:
        return Plan("invalid", immediate=usage_result("invalid", exc.message, exc.usage))
    if not tokens or tokens[0] in ("help", "-h", "--help"):
        topic = tokens[1] if len(tokens) > 1 else None
        return Plan("help", immediate=_help_result(registry, topic))
    name, rest = tokens[0], tokens[1:]
    sub = registry.get(name)
    if sub is None:
        hints = registry.suggest(name)
        hint = f", did you mean {' or '.join(f'`{h}`' for h in hints)}?" if hints else "."
        message = f"Unknown subcommand `{name[:40]}`{hint} `/cni help` lists them all."
        return Plan(name[:32], immediate=usage_result("unknown", message, ""))
    parser = sub.parser()
    parser.add_argument("--cluster", metavar="NAME", help="cluster to ask (default: this channel's)")
    parser.add_argument("--share", action="store_true", help="post a read answer in the channel")
    try:
        args = parser.parse_args(rest)
    except UsageError as exc:
        return Plan(sub.name, immediate=usage_result(sub.name, exc.message, exc.usage))
    except argparse.ArgumentError as exc:
        return Plan(sub.name, immediate=usage_result(sub.name, str(exc), parser.format_usage().strip()))
    if args.help:
        return Plan(sub.name, immediate=_help_result(registry, sub.name))
    return Plan(sub.name, subcommand=sub, args=args)


def _help_result(registry: Registry, topic: str | None) -> CommandResult:
    if topic:
        sub = registry.get(topic)
        if sub is None:
            hints = registry.suggest(topic)
            hint = f" Did you mean {' or '.join(f'`{h}`' for h in hints)}?" if hints else ""
            return usage_result("help", f"No subcommand `{topic[:40]}`.{hint}", "")
        doc = Doc(f"*/cni {sub.name}*: {sub.summary}").add(Para(f"Usage: `{escape(sub.usage)}`"))
        return CommandResult(subcommand="help", doc=doc, data={"subcommand": sub.name, "usage": sub.usage})
    data = {"subcommands": [{"name": s.name, "summary": s.summary} for s in registry.subcommands]}
    return CommandResult(subcommand="help", doc=help_doc(registry), data=data)
