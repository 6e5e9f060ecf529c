"""ipamd's Prometheus metrics (:61678/metrics), parsed into the fields the bot reads (cni-reference 5.2).

A small parser of the Prometheus text exposition format: comments and HELP/TYPE lines are skipped,
label values may carry escaped quotes, backslashes and newlines, histogram and summary series are read like
any other sample, and a malformed line is counted rather than fatal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


class MalformedLine(ValueError):
    pass


def parse_prometheus_text(text: str) -> tuple[list[Sample], int]:
    """(samples, number of malformed lines) of a text exposition."""
    samples: list[Sample] = []
    malformed = 0
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            samples.append(parse_sample_line(line))
        except MalformedLine:
            malformed += 1
    return samples, malformed


def parse_sample_line(line: str) -> Sample:
    """``name{label="value",...} value [timestamp]``."""
    match = _NAME.match(line)
    if not match:
        raise MalformedLine(line)
    name = match.group()
    position = match.end()
    labels: dict[str, str] = {}
    if position < len(line) and line[position] == "{":
        labels, position = _parse_labels(line, position + 1)
    fields = line[position:].split()
    if not 1 <= len(fields) <= 2:
        raise MalformedLine(line)
    return Sample(name, labels, _parse_value(fields[0], line))


def _parse_labels(line: str, position: int) -> tuple[dict[str, str], int]:
    """Labels from just after ``{``; returns them and the index just after ``}``."""
    labels: dict[str, str] = {}
    while True:
        position = _skip_spaces(line, position)
        if position < len(line) and line[position] == "}":
            return labels, position + 1
        match = _LABEL_NAME.match(line, position)
        if not match:
            raise MalformedLine(line)
        position = _skip_spaces(line, match.end())
        if line[position : position + 1] != "=":
            raise MalformedLine(line)
        position = _skip_spaces(line, position + 1)
        if line[position : position + 1] != '"':
            raise MalformedLine(line)
        value, position = _parse_quoted(line, position + 1)
        labels[match.group()] = value
        position = _skip_spaces(line, position)
        if position < len(line) and line[position] == ",":
            position += 1
        elif position >= len(line) or line[position] != "}":
            raise MalformedLine(line)


def _parse_quoted(line: str, position: int) -> tuple[str, int]:
    """A label value from just after its opening quote; returns it and the index after the closing quote."""
    chars: list[str] = []
    while position < len(line):
        char = line[position]
        if char == '"':
            return "".join(chars), position + 1
        if char == "\\" and position + 1 < len(line):
            following = line[position + 1]
            chars.append(_ESCAPES.get(following, "\\" + following))
            position += 2
            continue
        chars.append(char)
        position += 1
    raise MalformedLine(line)


def _skip_spaces(line: str, position: int) -> int:
    while position < len(line) and line[position] in " \t":
        position += 1
    return position


def _parse_value(text: str, line: str) -> float:
    try:
        return float(text)  # accepts NaN, +Inf, -Inf and exponents, as the format does
    except ValueError:
        raise MalformedLine(line) from None


# --- ipamd's metrics -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IpamdMetrics:
    """One node's ipamd metrics. Gauges and counters are None when the node did not expose them."""

    eni_max: int | None = None  # ENIs attachable, minus unmanaged ones
    ip_max: int | None = None  # addressable pod IPs (per-ENI IPs [x16 PD] x (eni_max))
    eni_allocated: int | None = None  # ENIs in the datastore (primary and trunk included)
    total_ips: int | None = None  # IPs in the pool (prefixes x 16 with PD)
    assigned_ips: int | None = None  # IPs assigned to pods
    total_prefixes: int | None = None
    no_available_ip_addresses: int | None = None  # pod IP assignments that failed for lack of IPs
    add_requests: int | None = None
    del_requests: int | None = None  # summed over reasons
    api_errors: dict[tuple[str, str], int] = field(default_factory=dict)  # (api, error code) -> count
    ipamd_errors: dict[str, int] = field(default_factory=dict)  # fn -> count
    action_in_progress: dict[str, int] = field(default_factory=dict)  # fn -> in flight
    ec2_requests: dict[str, int] = field(default_factory=dict)  # EC2 API -> calls (ipamd's own budget use)
    version: str | None = None  # awscni_build_info{version}
    malformed_lines: int = 0

    @property
    def unused_ips(self) -> int | None:
        """Warm pool held on the node (cooldown IPs included)."""
        if self.total_ips is None or self.assigned_ips is None:
            return None
        return max(self.total_ips - self.assigned_ips, 0)

    @property
    def eni_headroom(self) -> int | None:
        if self.eni_max is None or self.eni_allocated is None:
            return None
        return max(self.eni_max - self.eni_allocated, 0)

    @property
    def addressable_ips_left(self) -> int | None:
        """Upper bound of pod IPs still addressable (before subnet and max-pods limits)."""
        if self.ip_max is None or self.assigned_ips is None:
            return None
        return max(self.ip_max - self.assigned_ips, 0)

    def api_error_count(self, error: str) -> int:
        """Errors of one EC2 error code (e.g. RequestLimitExceeded) across all APIs."""
        return sum(count for (_, code), count in self.api_errors.items() if code == error)


_GAUGES = {
    "awscni_eni_max": "eni_max",
    "awscni_ip_max": "ip_max",
    "awscni_eni_allocated": "eni_allocated",
    "awscni_total_ip_addresses": "total_ips",
    "awscni_assigned_ip_addresses": "assigned_ips",
    "awscni_total_ipv4_prefixes": "total_prefixes",
    "awscni_no_available_ip_addresses": "no_available_ip_addresses",
    "awscni_add_ip_req_count": "add_requests",
    "awscni_del_ip_req_count": "del_requests",
}
_BY_FN = {
    "awscni_ipamd_error_count": "ipamd_errors",
    "awscni_ipamd_action_inprogress": "action_in_progress",
    "awscni_ec2api_req_count": "ec2_requests",
}


def parse_ipamd_metrics(text: str) -> IpamdMetrics:
    samples, malformed = parse_prometheus_text(text)
    return ipamd_metrics_from_samples(samples, malformed_lines=malformed)


def ipamd_metrics_from_samples(samples: Iterable[Sample], *, malformed_lines: int = 0) -> IpamdMetrics:
    scalars: dict[str, int] = {}
    by_fn: dict[str, dict[str, int]] = {attribute: {} for attribute in _BY_FN.values()}
    api_errors: dict[tuple[str, str], int] = {}
    version: str | None = None
    for sample in samples:
        count = _as_count(sample.value)
        if count is None:
            continue
        if sample.name in _GAUGES:
            # Labelled series of one metric (del_ip_req_count{reason}) add up.
            attribute = _GAUGES[sample.name]
            scalars[attribute] = scalars.get(attribute, 0) + count
        elif sample.name in _BY_FN:
            series = by_fn[_BY_FN[sample.name]]
            fn = sample.labels.get("fn", "")
            series[fn] = series.get(fn, 0) + count
        elif sample.name == "awscni_aws_api_error_count":
            key = (sample.labels.get("api", ""), sample.labels.get("error", ""))
            api_errors[key] = api_errors.get(key, 0) + count
        elif sample.name == "awscni_build_info" and "version" in sample.labels:
            version = sample.labels["version"]
    return IpamdMetrics(
        eni_max=scalars.get("eni_max"),
        ip_max=scalars.get("ip_max"),
        eni_allocated=scalars.get("eni_allocated"),
        total_ips=scalars.get("total_ips"),
        assigned_ips=scalars.get("assigned_ips"),
        total_prefixes=scalars.get("total_prefixes"),
        no_available_ip_addresses=scalars.get("no_available_ip_addresses"),
        add_requests=scalars.get("add_requests"),
        del_requests=scalars.get("del_requests"),
        api_errors=api_errors,
        ipamd_errors=by_fn["ipamd_errors"],
        action_in_progress=by_fn["action_in_progress"],
        ec2_requests=by_fn["ec2_requests"],
        version=version,
        malformed_lines=malformed_lines,
    )


def _as_count(value: float) -> int | None:
    return round(value) if math.isfinite(value) else None
