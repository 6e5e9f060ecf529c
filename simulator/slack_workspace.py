"""The Slack workspace the fake Slack (and the console on top of it) plays: team, users, channels, usergroups
and the scopes the app was granted. One place, so other features (per-cluster access rules, the console's
user switcher) name the same identities.

With a workspace, the fake Slack refuses what Slack refuses in it: a channel that does not exist
(`channel_not_found`), a user that does not exist (`user_not_found`), a method whose scope the app was not
granted (`missing_scope`). Without one (most tests), it accepts any channel or user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Scopes Slack requires per Web API method (Slack's method reference; methods absent need none beyond a token).
SCOPE_OF_METHOD = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": "",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "usergroups.users.list": "usergroups:read",
    "users.info": "users:read",
    "conversations.open": "im:write",
}

# What deploy/slack-app-manifest.yml grants (tests/deploy pins the two together).
MANIFEST_SCOPES = ("commands", "chat:write", "chat:write.public", "files:write", "usergroups:read", "users:read")


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str  # what the console's user switcher calls this person


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    role: str  # "command", "approvers" or "digest"


@dataclass(frozen=True)
class Workspace:
    team_id: str = "T0TEAM"
    team_domain: str = "example"
    bot_user_id: str = "U0CNIBOT"
    bot_id: str = "B0CNIBOT"
    app_id: str = "A0CNIBOT"
    users: tuple[User, ...] = (
        User("U0ALICE", "alice", "requester"),
        User("U0BOB", "bob", "approver 1"),
        User("U0CAROL", "carol", "approver 2"),
        User("U0DAVE", "dave", "not an approver"),
    )
    channels: tuple[Channel, ...] = (
        Channel("C0GENERAL", "cni", "command"),
        Channel("C0APPROVE", "cni-approvals", "approvers"),
        Channel("C0CAPACITY", "capacity-digest", "digest"),
    )
    usergroups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # usergroup id -> member user ids
    scopes: tuple[str, ...] = MANIFEST_SCOPES

    def user(self, user_id: str) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def user_by_role(self, role: str) -> User:
        return next(u for u in self.users if u.role == role)

    def channel(self, ref: str) -> Channel | None:
        """A channel by id or by #name, as the Web API accepts either."""
        name = ref.removeprefix("#")
        return next((c for c in self.channels if ref == c.id or name == c.name), None)

    def channel_by_role(self, role: str) -> Channel:
        return next(c for c in self.channels if c.role == role)

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(u.id for u in self.users if u.role.startswith("approver"))

    def refusal(self, method: str, args: dict[str, object]) -> str | None:
        """The error Slack answers this call with in this workspace, or None when it would accept it."""
        scope = SCOPE_OF_METHOD.get(method, "")
        if scope and scope not in self.scopes:
            return "missing_scope"
        channel_key = "channel_id" if method == "files.completeUploadExternal" else "channel"
        if method.startswith("chat.") or method == "files.completeUploadExternal":
            ref = str(args.get(channel_key) or "")
            # A user id as the channel posts to the app's direct message with that user.
            if ref and self.channel(ref) is None and self.user(ref) is None:
                return "channel_not_found"
        if method == "chat.postEphemeral" and self.user(str(args.get("user") or "")) is None:
            return "user_not_found"
        if method == "users.info" and self.user(str(args.get("user") or "")) is None:
            return "user_not_found"
        if method == "usergroups.users.list" and str(args.get("usergroup") or "") not in self.usergroups:
            return "no_such_subteam"
        return None
