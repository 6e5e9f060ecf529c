"""What `kubectl logs` shows for an aws-node pod: the entrypoint's JSON lines, and ipamd's own lines only when
AWS_VPC_K8S_CNI_LOG_FILE=stdout (by default ipamd logs to /var/log/aws-routed-eni/ipamd.log on the host).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from simulator.ipamd import CUSTOM_NETWORKING_INIT_ERROR, NodeIpamd

_ENTRYPOINT = "aws-vpc-cni/main.go"
_IPAMD = "ipamd/ipamd.go"


def _line(level: str, at: datetime, caller: str, message: str) -> str:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return json.dumps({"level": level, "ts": stamp, "caller": caller, "msg": message}, separators=(",", ":"))


def aws_node_log(ipamd: NodeIpamd, env: dict[str, str], started: datetime) -> str:
    """The aws-node container's output for its current (or, when crash-looping, its last) run."""
    at = started
    lines = [_line("info", at, "logger/logger.go", "Constructed new logger instance")]
    lines.append(_line("info", at, _ENTRYPOINT, "Validating env variables ..."))
    error = ipamd.startup_error
    if error and error != CUSTOM_NETWORKING_INIT_ERROR:
        lines.append(_line("error", at, _ENTRYPOINT, error))
        return "\n".join(lines) + "\n"
    lines.append(_line("info", at, _ENTRYPOINT, "Install CNI binaries.."))
    lines.append(_line("info", at, _ENTRYPOINT, "Starting IPAM daemon... "))
    lines.append(_line("info", at + timedelta(seconds=1), _ENTRYPOINT, "Checking for IPAM connectivity... "))
    if env.get("AWS_VPC_K8S_CNI_LOG_FILE") == "stdout":
        lines.extend(_ipamd_lines(ipamd, at + timedelta(seconds=2)))
    if error:
        lines.append(
            _line("error", at + timedelta(seconds=30), _ENTRYPOINT, "Timed out waiting for IPAM daemon to start")
        )
        return "\n".join(lines) + "\n"
    lines.append(_line("info", at + timedelta(seconds=3), _ENTRYPOINT, "Copying config file... "))
    lines.append(
        _line("info", at + timedelta(seconds=3), _ENTRYPOINT, "Successfully copied CNI plugin binary and config file.")
    )
    return "\n".join(lines) + "\n"


def _ipamd_lines(ipamd: NodeIpamd, at: datetime) -> list[str]:
    lines = []
    context = ipamd.context
    if context is not None:
        config = context.config
        lines.append(
            _line(
                "info",
                at,
                _IPAMD,
                f"IP pool manager - max pods: {context.max_pods}, warm IP target: {config.warm_ip_target}, "
                f"warm prefix target: {config.warm_prefix_target}, warm ENI target: {config.warm_eni_target}, "
                f"minimum IP target: {config.minimum_ip_target}",
            )
        )
    if ipamd.last_error:
        lines.append(_line("error", at + timedelta(seconds=1), _IPAMD, ipamd.last_error))
    if ipamd.startup_error == CUSTOM_NETWORKING_INIT_ERROR:
        lines.append(_line("error", at + timedelta(seconds=2), _IPAMD, CUSTOM_NETWORKING_INIT_ERROR))
    return lines
