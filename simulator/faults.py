"""Per-call fault injection shared by the simulator's EC2 and Kubernetes servers.

A rule matches calls by API ("ec2", "eks", "sts", "kube") and operation (an EC2 action such as
"DescribeNetworkInterfaces", or for Kubernetes "VERB resource", e.g. "GET pods", "PATCH daemonsets",
"LIST events"; "*" matches anything). Rules apply in order; the first match that fires wins.
"""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from dataclasses import dataclass, field


@dataclass
class FaultRule:
    api: str = "*"
    operation: str = "*"
    # What to do when the rule fires. kind: "latency" (only delays), "error" (answer with an error).
    kind: str = "error"
    # For EC2-style APIs: the error code (RequestLimitExceeded, UnauthorizedOperation, InternalError...).
    code: str = ""
    # HTTP status for the error (EC2 throttling is 503, UnauthorizedOperation 403, Kubernetes 403/500...).
    status: int = 500
    message: str = ""
    # Added latency in seconds, applied before answering (with kind="latency" or with an error).
    latency: float = 0.0
    # Probability that the rule fires on a matching call (1.0 = always).
    rate: float = 1.0
    # Fire at most this many times (None = unlimited).
    times: int | None = None
    # "timeout": the server holds the request this many seconds and then closes the connection.
    hang: float = 0.0
    fired: int = 0

    def matches(self, api: str, operation: str) -> bool:
        return fnmatch.fnmatchcase(api, self.api) and fnmatch.fnmatchcase(operation, self.operation)


@dataclass
class FaultPlan:
    """Thread-safe list of fault rules; the servers consult it on every request."""

    rules: list[FaultRule] = field(default_factory=list)
    # Latency added to every call of every API (benchmarks use it to model API round trips).
    base_latency: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.base_latency = 0.0

    def decide(self, api: str, operation: str) -> FaultRule | None:
        """The rule that fires for this call, if any (its latency is not yet applied)."""
        with self._lock:
            for rule in self.rules:
                if not rule.matches(api, operation):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                return rule
        return None

    def apply_latency(self, rule: FaultRule | None) -> None:
        delay = self.base_latency + (rule.latency if rule else 0.0)
        if delay > 0:
            time.sleep(delay)
