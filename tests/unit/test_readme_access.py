"""The README's two access examples load as settings and decide as the README says."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.access import AccessGate, AccessRefused, refusal_doc, rules_of
from bot.config import load_settings
from bot.domain.access import Action, Allowed, Caller, decide
from bot.render.doc import render_text


def _section() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    return readme.split("### Access rules", 1)[1].split("\n### ", 1)[0]


def _examples() -> list[dict[str, object]]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", _section(), re.S)]


def test_the_per_team_example_keeps_teams_apart() -> None:
    settings = load_settings(**_examples()[0])
    payments, search = (rules_of(c) for c in settings.clusters)
    member = Caller("U0ANN", "C0PAYMENTS", "public", groups=frozenset({"S0PAYMENTS"}))
    assert decide(payments, Action.READ, member) == Allowed()
    assert decide(payments, Action.REQUEST, member) == Allowed()  # requests are the reads rule
    assert not isinstance(decide(search, Action.READ, member), Allowed)


def test_the_locked_down_example_and_its_refusal_text() -> None:
    prod = load_settings(**_examples()[1]).clusters[0]
    sre = Caller("U0SRE", "C0PRODOPS", "public", "T0HOME", "E0ORG", frozenset({"S0SRE"}))
    assert decide(rules_of(prod), Action.READ, sre) == Allowed()
    assert not isinstance(decide(rules_of(prod), Action.REQUEST, sre), Allowed)
    try:
        AccessGate().require(prod, Action.READ, Caller("U0ANN", "C0RANDOM", "public", "T0HOME", "E0ORG"))
    except AccessRefused as refused:
        text = render_text(refusal_doc(refused)).strip()
    shown = re.search(r"```text\n(.*?)```", _section(), re.S)
    assert shown is not None
    assert _lines(shown.group(1)) == _lines(text)  # the terminal shows the emoji as ⛔ and spaces the paragraphs


def _lines(text: str) -> list[str]:
    return [
        line.strip().removeprefix(":no_entry:").removeprefix("⛔").strip() for line in text.splitlines() if line.strip()
    ]
