"""`cnibot mcp`: the read commands as Model Context Protocol tools, for AI assistants.

Every tool call goes through the same runner as Slack and `cnibot ask` (validation, deadline, history with source
`mcp`) and returns the same structured result as `cnibot ask --json`. Tools take typed arguments and build the
command's words from them, so nothing a model sends is parsed as options. Changes stay with people: only when
`CNIBOT_MCP_REQUESTER` names a Slack user is there a `request_change` tool, and it files a request exactly as
`/cni set` does; approval happens in Slack, never through MCP.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Sequence
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from bot.domain.diagnosis.catalogue import MEANING
from bot.runner import CommandRunner, new_correlation_id
from bot.services import Services
from commands.base import CommandContext, CommandResult

INSTRUCTIONS = (
    "cnibot answers questions about pod networking on Amazon EKS with the AWS VPC CNI (aws-node): why a pod has "
    "no IP, ENI and IP state of nodes and subnets, how many more pods fit, the aws-node settings. Every answer is "
    "read from the cluster's Kubernetes API and EC2, with the numbers that prove it; `could_not_check` lists what "
    "could not be read. Start with `why_pending` for a pod stuck in ContainerCreating or Pending. Read-only: "
    "configuration changes are requested and approved in Slack (`/cni set`)."
)


def structured(result: CommandResult) -> dict[str, Any]:
    """What `cnibot ask --json` prints for the same command."""
    return {"subcommand": result.subcommand, "outcome": result.outcome, "cluster": result.cluster, **result.data}


class McpTools:
    """Runs one command per tool call, as `cnibot ask` does."""

    def __init__(self, services: Services, runner: CommandRunner, user: str | None = None) -> None:
        self.services = services
        self.runner = runner
        self.user = user or _login()
        # Requests are the configured Slack user's, so approvals and audit name a person who can be asked.
        self.requester: str | None = getattr(services.settings, "mcp_requester", None)
        if self.requester:
            # Acting for that Slack user: every call is decided by the clusters' access rules as for their DM.
            from bot.access import AccessGate
            from bot.usergroups import from_settings

            services.access = AccessGate(from_settings(services.settings))

    def run(self, words: Sequence[str]) -> dict[str, Any]:
        writes = bool(words) and words[0] == "set"
        ctx = CommandContext(
            services=self.services,
            user_id=self.requester if writes and self.requester else f"mcp:{self.user}",
            user_name=self.user,
            correlation_id=new_correlation_id(),
            source="mcp",
            now=self.services.clock(),
            slack_user=self.requester,
        )
        planned = self.runner.plan_words(list(words))
        result = self.runner.execute(" ".join(words), ctx, planned)
        if result.outcome in ("user_error", "refused"):
            # A tool error the model can read and correct: the usage answer, not an exception.
            raise ToolError(_plain(result))
        return structured(result)


def build_server(tools: McpTools) -> MCPServer:
    server: MCPServer = MCPServer(name="cnibot", instructions=INSTRUCTIONS)

    async def call(words: list[str]) -> dict[str, Any]:
        # The runner blocks (boto3, the kubernetes client): keep the server's event loop free.
        return await asyncio.to_thread(tools.run, words)

    @server.tool(
        description=(
            "Why a pod has no IP (stuck in ContainerCreating, FailedCreatePodSandBox, or Pending): the root cause as "
            "a stable code (see the cnibot://causes resource), a confidence, the evidence with numbers read from "
            "Kubernetes and EC2, and the fix as numbered steps. `pod` is the pod's name, or namespace/name."
        ),
        structured_output=True,
    )
    async def why_pending(pod: str, namespace: str | None = None, cluster: str | None = None) -> dict[str, Any]:
        return await call(["why-pending", pod, *_opt("-n", namespace), *_opt("--cluster", cluster)])

    @server.tool(
        description=(
            "One node's ENIs and IPs against its instance type's limits, its warm pool, max-pods and aws-node "
            "status. `name` is the node name (or a unique prefix, or its EC2 instance id)."
        ),
        structured_output=True,
    )
    async def node(name: str, cluster: str | None = None) -> dict[str, Any]:
        return await call(["node", name, *_opt("--cluster", cluster)])

    @server.tool(
        description="Free IPs per subnet the cluster uses, who holds the used ones, and /28 fragmentation with "
        "prefix delegation. `az` narrows to one availability zone.",
        structured_output=True,
    )
    async def subnets(az: str | None = None, cluster: str | None = None) -> dict[str, Any]:
        return await call(["subnets", *_opt("--az", az), *_opt("--cluster", cluster)])

    @server.tool(
        description=(
            "How many more pods fit, per availability zone, and which limit binds first (subnet IPs, ENI/IP limits, "
            "max-pods). `what_if` takes warm-pool settings such as ['WARM_IP_TARGET=2', 'MINIMUM_IP_TARGET=10'] "
            "and says how many addresses they would free or need."
        ),
        structured_output=True,
    )
    async def capacity(what_if: list[str] | None = None, cluster: str | None = None) -> dict[str, Any]:
        words = ["capacity", *_opt("--cluster", cluster)]
        if what_if:
            words += ["--what-if", *what_if]
        return await call(words)

    @server.tool(
        description="The effective aws-node settings (defaults filled in, what differs from a stock install), "
        "ENIConfigs and custom-networking status, and drift from the last approved change.",
        structured_output=True,
    )
    async def config(cluster: str | None = None) -> dict[str, Any]:
        return await call(["config", *_opt("--cluster", cluster)])

    @server.tool(
        description="Change requests to aws-node and ENIConfigs (newest first); `open` lists only those still "
        "waiting for approval or being applied. Requests are made and approved in Slack.",
        structured_output=True,
    )
    async def changes(open: bool = False) -> dict[str, Any]:
        return await call(["changes", *(["--open"] if open else [])])

    @server.tool(
        description="One change request: its diff, risk, approvals, apply and verification, and its audit trail.",
        structured_output=True,
    )
    async def change(id: int) -> dict[str, Any]:
        return await call(["change", str(id)])

    @server.tool(
        description="Recent cnibot commands: who asked what, when, the outcome and how long it took.",
        structured_output=True,
    )
    async def history(limit: int = 20) -> dict[str, Any]:
        return await call(["history", "--limit", str(limit)])

    if tools.requester:

        @server.tool(
            description=(
                "Request an aws-node setting change, exactly as `/cni set` does: it is checked, posted to the "
                "approvers' Slack channel and applied only after people approve it there. `settings` are KEY=VALUE "
                "strings (KEY- unsets); `reason` says why. Returns the request id; nothing changes until approval."
            ),
            structured_output=True,
        )
        async def request_change(settings: list[str], reason: str, cluster: str | None = None) -> dict[str, Any]:
            return await call(["set", *settings, "--reason", reason, *_opt("--cluster", cluster)])

    @server.resource(
        "cnibot://causes",
        name="causes",
        description="The stable cause codes of why_pending, each with what it means.",
        mime_type="text/markdown",
    )
    def causes() -> str:
        lines = ["| code | meaning |", "|---|---|"]
        lines += [f"| `{code.value}` | {meaning} |" for code, meaning in MEANING.items()]
        return "\n".join(lines)

    return server


def _opt(flag: str, value: str | None) -> list[str]:
    return [flag, value] if value else []


def _plain(result: CommandResult) -> str:
    from bot.render.doc import render_text

    return render_text(result.doc).strip()


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "assistant"
