"""The exception tree.

CnibotError
├── UserError          expected: the user gets the message as a short ephemeral reply
│   ├── UsageError     bad arguments; carries the subcommand's usage line
│   ├── NotFound       a pod, node or change that does not exist
│   └── NotAllowed     the user may not do this
├── ConfigError        invalid settings at start; one line per problem
└── UpstreamError      AWS, Kubernetes or the database failed; turned into "could not check"
"""

from __future__ import annotations


class CnibotError(Exception):
    """Base of every error cnibot raises on purpose."""


class UserError(CnibotError):
    """A problem the user can fix; shown to them as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(UserError):
    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.usage = usage


class NotFound(UserError):
    pass


class NotAllowed(UserError):
    pass


class ConfigError(CnibotError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# UpstreamError.code when a cluster's credentials cannot be loaded: a setup problem to fix, not an outage.
NO_CLUSTER = "no-cluster"
# AWS error codes of a denied call: waiting does not help (here, not in bot.gateways.aws, so that reading them
# does not import boto3).
DENIED_CODES = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "UnauthorizedException"})


class UpstreamError(CnibotError):
    """A dependency failed. `api` names it (e.g. "ec2:DescribeSubnets", "kube:LIST pods")."""

    def __init__(self, api: str, reason: str, *, code: str = "", throttled: bool = False) -> None:
        super().__init__(f"{api}: {reason}")
        self.api = api
        self.reason = reason
        self.code = code
        self.throttled = throttled
