"""The access decision: places, people, workspaces, stale group membership, and the rules that fall back."""

from __future__ import annotations

import pytest

from bot.domain.access import (
    OPEN,
    AccessRules,
    Action,
    Allowed,
    Caller,
    ChannelKind,
    Refused,
    Rule,
    allows_channel,
    channel_kind,
    decide,
)

PROD = "C0PROD"
SRE = "S0SRE"


def caller(
    user: str = "U0ANN",
    channel: str | None = PROD,
    kind: ChannelKind = "public",
    team: str | None = "T0HOME",
    enterprise: str | None = None,
    groups: frozenset[str] = frozenset(),
    stale: bool = False,
) -> Caller:
    return Caller(user, channel, kind, team, enterprise, groups, stale)


CHANNEL_ONLY = AccessRules(reads=Rule(channels=frozenset({PROD})), admins=("U0ADMIN",))
LOCKED = AccessRules(
    reads=Rule(channels=frozenset({PROD}), usergroups=frozenset({SRE})),
    requests=Rule(channels=frozenset({PROD}), users=frozenset({"U0LEAD"})),
    teams=frozenset({"T0HOME"}),
    enterprises=frozenset({"E0ORG"}),
)


def test_open_rules_allow_anyone_anywhere() -> None:
    assert decide(OPEN, Action.REQUEST, caller(channel="D0X", kind="dm", team=None)) == Allowed()


@pytest.mark.parametrize(
    "who, expected",
    [
        (caller(), None),
        (caller(channel="C0OTHER"), "access.reads.channels"),
        (caller(channel="G0PRIV", kind="private"), "access.reads.channels"),
        (caller(channel="D0ANN", kind="dm"), "access.reads.channels"),  # names no people: no DMs
        (caller(channel=None, kind="none"), "access.reads.channels"),
    ],
    ids=["listed-channel", "other-channel", "private-channel", "dm", "no-channel"],
)
def test_channel_only_rule_answers_in_its_channels_only(who: Caller, expected: str | None) -> None:
    decision = decide(CHANNEL_ONLY, Action.READ, who)
    if expected is None:
        assert decision == Allowed()
    else:
        assert isinstance(decision, Refused) and decision.rule == expected
        assert decision.admins == ("U0ADMIN",) and f"<#{PROD}>" in decision.reason


def test_people_only_rule_answers_them_anywhere_and_nobody_else() -> None:
    rules = AccessRules(reads=Rule(users=frozenset({"U0ANN"})))
    assert decide(rules, Action.READ, caller(channel="C0ANY")) == Allowed()
    assert decide(rules, Action.READ, caller(channel="D0ANN", kind="dm")) == Allowed()
    refused = decide(rules, Action.READ, caller(user="U0BOB"))
    assert isinstance(refused, Refused) and refused.rule == "access.reads.users" and "<@U0ANN>" in refused.reason


def test_channels_and_people_need_both_and_allow_the_peoples_dms() -> None:
    member = caller(groups=frozenset({SRE}), team="T0HOME", enterprise="E0ORG")
    assert decide(LOCKED, Action.READ, member) == Allowed()
    assert (
        decide(LOCKED, Action.READ, caller(channel="D0ANN", kind="dm", groups=frozenset({SRE}), enterprise="E0ORG"))
        == Allowed()
    )
    outsider = decide(LOCKED, Action.READ, caller(enterprise="E0ORG"))
    assert isinstance(outsider, Refused) and outsider.rule == "access.reads.usergroups"
    assert "<!subteam^S0SRE>" in outsider.reason
    elsewhere = decide(LOCKED, Action.READ, caller(channel="C0OTHER", groups=frozenset({SRE}), enterprise="E0ORG"))
    assert isinstance(elsewhere, Refused) and elsewhere.rule == "access.reads.channels"


@pytest.mark.parametrize(
    "team, enterprise, rule",
    [
        ("T0OTHER", "E0ORG", "access.teams"),
        ("T0HOME", "E0ELSE", "access.enterprises"),
        ("T0HOME", None, "access.enterprises"),
    ],
)
def test_other_workspaces_and_orgs_are_refused_before_anything_else(
    team: str, enterprise: str | None, rule: str
) -> None:
    decision = decide(LOCKED, Action.READ, caller(team=team, enterprise=enterprise, groups=frozenset({SRE})))
    assert isinstance(decision, Refused) and decision.rule == rule


def test_requests_use_their_own_rule_and_digests_fall_back_to_reads() -> None:
    lead = caller(user="U0LEAD", team="T0HOME", enterprise="E0ORG")
    assert decide(LOCKED, Action.REQUEST, lead) == Allowed()
    sre = caller(groups=frozenset({SRE}), enterprise="E0ORG")
    refused = decide(LOCKED, Action.REQUEST, sre)
    assert isinstance(refused, Refused) and refused.rule == "access.requests.users"
    assert decide(LOCKED, Action.DIGEST, sre) == Allowed()
    assert LOCKED.rule_name(Action.DIGEST) == "access.reads"


def test_stale_membership_serves_reads_with_a_note_and_refuses_requests() -> None:
    rules = AccessRules(reads=Rule(usergroups=frozenset({SRE})))
    stale = caller(groups=frozenset({SRE}), stale=True)
    read = decide(rules, Action.READ, stale)
    assert isinstance(read, Allowed) and "cache" in read.notes[0]
    request = decide(rules, Action.REQUEST, stale)
    assert (
        isinstance(request, Refused) and request.rule == "access.reads.usergroups" and "fail closed" in request.reason
    )


def test_unknown_membership_refuses_and_says_slack_could_not_be_asked() -> None:
    rules = AccessRules(reads=Rule(usergroups=frozenset({SRE})))
    decision = decide(rules, Action.READ, caller(stale=True))
    assert isinstance(decision, Refused) and "could not be asked" in decision.reason


def test_a_listed_user_needs_no_group_lookup_even_when_slack_is_down() -> None:
    rules = AccessRules(reads=Rule(users=frozenset({"U0ANN"}), usergroups=frozenset({SRE})))
    assert decide(rules, Action.REQUEST, caller(stale=True)) == Allowed()


def test_digest_target_channel() -> None:
    assert allows_channel(CHANNEL_ONLY, Action.DIGEST, PROD)
    assert not allows_channel(CHANNEL_ONLY, Action.DIGEST, "C0OTHER")
    assert not allows_channel(CHANNEL_ONLY, Action.DIGEST, "#general")  # a name, not an id: fails closed
    assert allows_channel(OPEN, Action.DIGEST, "C0OTHER")


@pytest.mark.parametrize(
    "channel_id, name, kind",
    [
        ("C0GEN", "general", "public"),
        ("C0PRIV", "privategroup", "private"),
        ("G0OLD", "secret", "private"),
        ("D0DM", "directmessage", "dm"),
        ("C0MP", "mpdm-ann--bob-1", "private"),
        (None, None, "none"),
    ],
)
def test_channel_kind_from_slash_command_fields(channel_id: str | None, name: str | None, kind: str) -> None:
    assert channel_kind(channel_id, name) == kind
