"""Settings: one typed object from CNIBOT_* environment variables, the standard Slack variables, and an
optional YAML file (CNIBOT_CONFIG) for what does not fit in variables (clusters, approvers, digests).

Precedence: explicit arguments > environment > YAML file > defaults. Invalid settings raise ConfigError with
one line per problem, naming the variable or the YAML key to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from bot.errors import ConfigError

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClusterAuth(_Strict):
    """How to reach the cluster's API server."""

    mode: Literal["kubeconfig", "in-cluster", "eks"] = "kubeconfig"
    context: str | None = None  # kubeconfig context; None = the current context
    kubeconfig: str | None = None  # path; None = $KUBECONFIG or ~/.kube/config
    role_arn: str | None = None  # mode "eks": assume this role before calling EKS


class ApprovalPolicy(_Strict):
    approvers_channel: str | None = None
    users: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()
    allow_self_approval: bool = False
    # Let the approvers of an applied change roll it back at once, without a new approval round.
    original_approvers_may_roll_back: bool = False
    high_risk_approvals: int = Field(default=2, ge=1, le=5)
    expire_hours: float = Field(default=24, gt=0, le=24 * 14)


_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,20}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}$")


def _ids(values: tuple[str, ...], pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    bad = [v for v in values if not pattern.match(v)]
    if bad:
        raise ValueError(f"{', '.join(repr(b[:40]) for b in bad)} not {what}")
    return values


class AccessRuleConfig(_Strict):
    """Who may do one kind of thing with a cluster: channels (places) and users/user groups (people).
    An empty list matches anyone; both set = those people in those channels (or in a DM with the bot)."""

    channels: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _ids(v, _CHANNEL_ID, "Slack channel ids (C0123ABCD; copy from the channel's details)")

    @field_validator("users")
    @classmethod
    def _users(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _ids(v, _USER_ID, "Slack user ids (U0123ABCD or W0123ABCD)")

    @field_validator("usergroups")
    @classmethod
    def _groups(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _ids(v, _GROUP_ID, "Slack user group ids (S0123ABCD)")

    @property
    def empty(self) -> bool:
        return not (self.channels or self.users or self.usergroups)


class AccessConfig(_Strict):
    """Per-cluster access rules. `requests` and `digests` default to `reads`."""

    reads: AccessRuleConfig = AccessRuleConfig()
    requests: AccessRuleConfig | None = None
    digests: AccessRuleConfig | None = None
    teams: tuple[str, ...] = ()  # workspaces (team ids) whose commands are accepted; empty = any
    enterprises: tuple[str, ...] = ()  # Enterprise Grid orgs; empty = any
    admins: tuple[str, ...] = ()  # who can grant access (user or user group ids), named in refusals

    @field_validator("teams")
    @classmethod
    def _teams(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _ids(v, re.compile(r"^T[A-Z0-9]{2,20}$"), "Slack team ids (T0123ABCD)")

    @field_validator("enterprises")
    @classmethod
    def _enterprises(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _ids(v, re.compile(r"^E[A-Z0-9]{2,20}$"), "Slack Enterprise Grid ids (E0123ABCD)")

    @field_validator("admins")
    @classmethod
    def _admins(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _ids(v, re.compile(r"^[UWS][A-Z0-9]{2,20}$"), "Slack user or user group ids")

    @property
    def empty(self) -> bool:
        rules = (self.reads, self.requests, self.digests)
        return all(r is None or r.empty for r in rules) and not (self.teams or self.enterprises)


class ClusterConfig(_Strict):
    name: str
    region: str | None = None  # None = the AWS SDK's region (AWS_REGION / profile)
    auth: ClusterAuth = ClusterAuth()
    vpc_id: str | None = None  # None = discovered (EKS DescribeCluster, or the nodes' instances)
    eks_name: str | None = None  # the EKS cluster name if it differs from `name`
    channels: tuple[str, ...] = ()  # Slack channel ids that default to this cluster
    write_enabled: bool = False
    approvals: ApprovalPolicy = ApprovalPolicy()
    # Who may read, request and subscribe digests; None (or empty) = open to the whole workspace, as before.
    access: AccessConfig | None = None

    @model_validator(mode="after")
    def _check_name(self) -> ClusterConfig:
        if not _NAME.match(self.name):
            raise ValueError(f"cluster name {self.name!r} must be lowercase letters, digits and '-'")
        allowed = self.access.reads.channels if self.access else ()
        stray = [c for c in self.channels if allowed and c not in allowed]
        if stray:
            raise ValueError(
                f"cluster {self.name!r}: channels {', '.join(stray)} default to it but access.reads.channels "
                "does not allow them; add them there or remove them from `channels`"
            )
        return self

    @property
    def open_to_workspace(self) -> bool:
        return self.access is None or self.access.empty


class DigestSettings(_Strict):
    sample_interval_minutes: int = Field(default=15, ge=1, le=24 * 60)
    one_line_when_unchanged: bool = True
    grace_minutes: int = Field(default=180, ge=0)


def _yaml_source() -> dict[str, Any]:
    path = os.environ.get("CNIBOT_CONFIG")
    if not path:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"CNIBOT_CONFIG: file {path} does not exist"]) from None
    except IsADirectoryError:
        raise ConfigError([f"CNIBOT_CONFIG: {path} is a directory; name the YAML file in it"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"CNIBOT_CONFIG: {path} is not UTF-8 text (byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigError([f"CNIBOT_CONFIG: cannot read {path}: {exc.strerror or type(exc).__name__}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"CNIBOT_CONFIG: {path} is not valid YAML: {_one_line(str(exc))}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"CNIBOT_CONFIG: {path} must hold a mapping at the top level"])
    return data


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CNIBOT_", extra="forbid", populate_by_name=True)

    # Slack; the standard variable names, as Slack's own tooling uses them.
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    # Base URL of the Slack Web API; tests and demos point it at a fake server on loopback.
    slack_api_url: str = "https://slack.com/api/"

    database_url: str = "sqlite:///./cnibot.db"
    # SQLite migrates itself at start; Postgres only through `cnibot db upgrade` (or the deploy's Job).
    auto_migrate: bool | None = None

    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    # Threads that run command work after the ack; sized so slow handlers never queue behind each other.
    listener_threads: int = Field(default=32, ge=2, le=512)
    # Acked work waiting for a thread; beyond it a request is answered "busy, try again" in its ack.
    work_queue: int = Field(default=64, ge=0, le=10000)
    # Every command answers within this many seconds, with "could not check" for what was not back by then.
    command_deadline_seconds: float = Field(default=20.0, ge=1, le=300)
    # `cnibot mcp` files change requests (approved in Slack as any other) only when this Slack user id is set: the
    # requester every such request is attributed to. Unset: the MCP server has no tool that writes.
    mcp_requester: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,20}$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "text"
    config: str | None = None  # path of the YAML file; read through the YAML source below

    default_cluster: str | None = None
    clusters: tuple[ClusterConfig, ...] = ()
    digests: DigestSettings = DigestSettings()

    @model_validator(mode="after")
    def _check_clusters(self) -> Settings:
        names = [c.name for c in self.clusters]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"cluster names must be unique: {', '.join(dupes)}")
        if self.default_cluster and not self.clusters:
            raise ValueError(
                f"default_cluster {self.default_cluster!r} names no cluster: add it under `clusters:` "
                "or remove default_cluster (without clusters cnibot uses the current kubeconfig context)"
            )
        if self.default_cluster and self.default_cluster not in names:
            raise ValueError(f"default_cluster {self.default_cluster!r} is not one of: {', '.join(names)}")
        return self

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, url: str) -> str:
        problem = database_url_problem(url)
        if problem:
            raise ValueError(problem)
        return url

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[Any, ...]:
        return (init_settings, env_settings, _yaml_source)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def migrate_on_start(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate

    def cluster(self, name: str) -> ClusterConfig | None:
        return next((c for c in self.clusters if c.name == name), None)


_ALIASES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
}
_YAML_KEYS = {"clusters", "default_cluster", "digests"}


def _where(loc: tuple[int | str, ...], typed: Mapping[str, str], yaml_keys: set[str]) -> str:
    """The name of the setting as the user wrote it: the flag, the variable, or the key of the YAML file."""
    if not loc:
        return "settings"
    head = str(loc[0])
    if head in typed:
        return typed[head]
    if head in _ALIASES and head not in yaml_keys:
        return _ALIASES[head]
    env = "CNIBOT_" + head.upper()
    if head in _YAML_KEYS or (head in yaml_keys and env not in os.environ):
        return "config " + ".".join(str(p) for p in loc)
    return env


def load_settings(*, typed: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one clear line per problem.

    ``typed`` names what the user typed for an override (``{"port": "--port"}``), so the message says that.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        yaml_keys = set(_yaml_source())
        names = {key: value for key, value in (typed or {}).items() if key in overrides}
        problems = []
        for err in exc.errors():
            msg = _one_line(str(err["msg"]).removeprefix("Value error, "))
            if err["type"] == "extra_forbidden":
                msg = "not a setting cnibot knows"
            problems.append(f"{_where(tuple(err['loc']), names, yaml_keys)}: {msg}")
        raise ConfigError(problems) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def database_url_problem(url: str) -> str | None:
    """Why cnibot cannot store history at this URL (None: it can try). Checked at start, without connecting."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "not a database URL; use sqlite:///path/cnibot.db or postgresql+psycopg://user@host/db"
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        return f"cnibot stores history in SQLite or Postgres, not {parsed.get_backend_name()!r}"
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        return f"no database driver {parsed.drivername!r}; use sqlite or postgresql+psycopg"
    except ImportError as exc:
        return f"the driver for {parsed.drivername!r} is not installed ({exc.name or exc}); use postgresql+psycopg"
    return None


def redacted(settings: Settings) -> Mapping[str, Any]:
    """Settings for logs: secrets masked, database password hidden."""
    data = settings.model_dump(mode="json")
    for key in _ALIASES:
        data[key] = "***" if getattr(settings, key) else None
    data["database_url"] = redact_url(settings.database_url)
    return data


def redact_url(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
