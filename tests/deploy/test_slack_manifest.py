"""deploy/slack-app-manifest.yml: the app Slack creates matches what the bot serves and needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yml"
REQUEST_URL = "https://cnibot.example.com/slack/events"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def test_bot_scopes_are_exactly_what_the_bot_uses() -> None:
    scopes = manifest()["oauth_config"]["scopes"]

    assert set(scopes) == {"bot"}
    assert sorted(scopes["bot"]) == sorted(
        ["commands", "chat:write", "chat:write.public", "files:write", "usergroups:read", "users:read"]
    )


def test_cni_slash_command_and_interactivity_post_to_slack_events() -> None:
    data = manifest()
    (command,) = data["features"]["slash_commands"]

    assert command["command"] == "/cni"
    assert command["url"] == REQUEST_URL
    assert command["usage_hint"].startswith("why-pending <pod>")
    assert data["settings"]["interactivity"] == {"is_enabled": True, "request_url": REQUEST_URL}
    assert data["features"]["bot_user"]["display_name"] == "cnibot"
    assert data["display_information"]["name"] == "cnibot"


def test_http_mode_without_token_rotation() -> None:
    settings = manifest()["settings"]

    assert settings["socket_mode_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_slash_command_escapes_mentions_so_user_and_channel_ids_arrive() -> None:
    # /cni history --user @x and /cni digest subscribe #channel parse <@U..> and <#C..>.
    assert manifest()["features"]["slash_commands"][0]["should_escape"] is True


def test_readme_states_the_manifests_should_escape() -> None:
    readme = (MANIFEST.parents[1] / "README.md").read_text()
    value = str(manifest()["features"]["slash_commands"][0]["should_escape"]).lower()
    stated = set(re.findall(r"`should_escape: (true|false)`", readme))
    assert stated == {value}, stated


def test_the_console_grants_exactly_the_manifests_scopes() -> None:
    """The console refuses a method whose scope the app lacks; it must lack what the real app lacks."""
    from simulator.slack_workspace import MANIFEST_SCOPES

    assert sorted(MANIFEST_SCOPES) == sorted(manifest()["oauth_config"]["scopes"]["bot"])
