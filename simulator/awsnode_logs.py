"""What `kubectl logs` shows for an aws-node pod, in upstream's words only.

The container runs the entrypoint (cmd/aws-vpc-cni/main.go), which logs with logrus's text format to stderr,
then starts ipamd (cmd/aws-k8s-agent), whose zap JSON lines reach the container's output only when
AWS_VPC_K8S_CNI_LOG_FILE=stdout (by default ipamd logs to /var/log/aws-routed-eni/ipamd.log on the host).

- validateEnvVars fails: the entrypoint logs the reason and exits 1; ipamd never starts.
- ipamd fails (ipamd.New: configuration, node init): ipamd logs "Initialization failure: ..." and exits, but
  the entrypoint's waitForIPAM loops on the health probe forever: no "timed out" line, no config file
  copied; the kubelet's liveness probe is what restarts the container.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from simulator.awsnode import CNI_VERSION, IPAMD_CONFIG_INVALID, IPAMD_INIT_FAILURE, go_atoi
from simulator.ipamd import CUSTOM_NETWORKING_INIT_ERROR, NodeIpamd

_AGENT = "aws-k8s-agent/main.go"
_IPAMD = "ipamd/ipamd.go"
_LOGGER = "logger/logger.go"

STARTING_IPAMD = "Starting IPAM daemon... "
CHECKING_IPAM = "Checking for IPAM connectivity... "
COPYING_CONFIG = "Copying config file... "
COPIED_CONFIG = "Successfully copied CNI plugin binary and config file."

# ipamd.New's messages that come from getNetworkPolicyMode or the node, not from isConfigValid.
_NOT_CONFIG_VALIDATION = ("invalid Network policy mode", CUSTOM_NETWORKING_INIT_ERROR)


def _entrypoint(level: str, at: datetime, message: str) -> str:
    """logrus TextFormatter (no TTY): time in RFC 3339, then level and the quoted message."""
    return f"time={json.dumps(at.strftime('%Y-%m-%dT%H:%M:%SZ'))} level={level} msg={json.dumps(message)}"


def _ipamd(level: str, at: datetime, caller: str, message: str) -> str:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return json.dumps({"level": level, "ts": stamp, "caller": caller, "msg": message}, separators=(",", ":"))


def aws_node_log(ipamd: NodeIpamd, env: Mapping[str, str], started: datetime, *, entrypoint_exit: bool) -> str:
    """The aws-node container's output for its current (or, when failing, its last) run.

    ``entrypoint_exit``: ipamd.startup_error is one of validateEnvVars' (the entrypoint exits at once).
    """
    at = started
    error = ipamd.startup_error
    if error and entrypoint_exit:
        lines = [_entrypoint("error", at, line) for line in _atoi_failures(env, error)]
        return "\n".join([*lines, _entrypoint("error", at, error)]) + "\n"
    lines = [_entrypoint("info", at, STARTING_IPAMD), _entrypoint("info", at, CHECKING_IPAM)]
    if env.get("AWS_VPC_K8S_CNI_LOG_FILE") == "stdout":
        lines.extend(_ipamd_lines(ipamd, at + timedelta(milliseconds=10)))
    if error:
        return "\n".join(lines) + "\n"  # waitForIPAM never returns: nothing more from the entrypoint
    lines.append(_entrypoint("info", at + timedelta(seconds=3), COPYING_CONFIG))
    lines.append(_entrypoint("info", at + timedelta(seconds=3), COPIED_CONFIG))
    return "\n".join(lines) + "\n"


def _atoi_failures(env: Mapping[str, str], error: str) -> list[str]:
    """utils.GetIntFromStringEnvVar logs its own line before validateEnvVars/validateMTU give up on a value
    strconv.Atoi refuses."""
    for name in ("IP_COOLDOWN_PERIOD", "AWS_VPC_ENI_MTU", "POD_MTU"):
        if error.startswith(name) and name in env and go_atoi(env[name]) is None:
            return [f"Failed to parse variable {name} with value {env[name]} as integer"]
    return []


def _ipamd_lines(ipamd: NodeIpamd, at: datetime) -> list[str]:
    lines = [
        _ipamd("info", at, _LOGGER, "Constructed new logger instance"),
        _ipamd("info", at, _AGENT, f"Starting L-IPAMD {CNI_VERSION}  ..."),
    ]
    error = ipamd.startup_error
    if error:
        later = at + timedelta(seconds=2)
        if any(text in error for text in _NOT_CONFIG_VALIDATION):
            lines.append(_ipamd("error", later, _AGENT, IPAMD_INIT_FAILURE + error))
        else:  # isConfigValid logs its reason, then New returns its own error
            lines.append(_ipamd("error", later, _IPAMD, error))
            lines.append(_ipamd("error", later, _AGENT, IPAMD_INIT_FAILURE + IPAMD_CONFIG_INVALID))
        return lines
    context = ipamd.context
    if context is not None:
        config = context.config
        lines.append(
            _ipamd(
                "info",
                at + timedelta(seconds=2),
                _IPAMD,
                f"IP pool manager - max pods: {context.max_pods}, warm IP target: {config.warm_ip_target}, "
                f"warm prefix target: {config.warm_prefix_target}, warm ENI target: {config.warm_eni_target}, "
                f"minimum IP target: {config.minimum_ip_target}",
            )
        )
    if ipamd.last_error:
        lines.append(_ipamd("error", at + timedelta(seconds=3), _IPAMD, ipamd.last_error))
    return lines
