"""Prometheus metrics, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

COMMANDS = Counter("cnibot_commands_total", "Handled /cni commands", ["command", "outcome", "source"])
COMMAND_SECONDS = Histogram(
    "cnibot_command_duration_seconds",
    "Time from request to final answer",
    ["command"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60),
)
ACK_SECONDS = Histogram(
    "cnibot_slack_ack_seconds", "Time to ack a Slack request", buckets=(0.005, 0.01, 0.05, 0.1, 0.3, 1, 3)
)
SLACK_REPLAYS = Counter("cnibot_slack_replays_total", "Slack retries and replays acked without running again")
SLACK_BUSY = Counter("cnibot_slack_busy_total", "Slack requests answered 'busy' because the work queue was full")
HISTORY_WRITE_FAILURES = Counter("cnibot_history_write_failures_total", "History rows that could not be written")
UPSTREAM_CALLS = Counter("cnibot_upstream_calls_total", "Calls to AWS and Kubernetes", ["api", "outcome"])
CACHE_LOOKUPS = Counter("cnibot_cache_lookups_total", "Cache lookups", ["cache", "result"])
DIAGNOSIS_CAUSES = Counter("cnibot_diagnosis_causes_total", "Causes found by why-pending", ["code"])

# Change workflow and digests: defined here, incremented by the features that own them.
APPROVALS = Counter(
    "cnibot_approvals_total",
    "Decisions on change requests",
    ["decision"],  # approved, rejected, refused (not an approver / self-approval), expired
)
CHANGE_APPLIES = Counter(
    "cnibot_change_applies_total",
    "Approved changes applied to a cluster",
    ["outcome"],  # ok, failed, verify_failed
)
ROLLBACKS = Counter(
    "cnibot_rollbacks_total",
    "Applied changes rolled back",
    ["trigger", "outcome"],  # trigger: user, auto; outcome: ok, failed
)
DIGESTS_SENT = Counter(
    "cnibot_digests_sent_total",
    "Scheduled capacity digests",
    ["outcome"],  # posted, failed, skipped (another replica claimed the period)
)

# Many clusters: EKS tokens minted (a rate far above one per cluster per ~13 minutes means the cache is bypassed).
EKS_TOKENS_MINTED = Counter("cnibot_eks_tokens_minted_total", "EKS bearer tokens generated", ["cluster"])

# Access rules: commands refused before any cluster read, and the Slack user group lookups they rely on.
ACCESS_REFUSALS = Counter(
    "cnibot_access_refusals_total",
    "Commands refused by a cluster's access rules",
    ["cluster", "action", "rule"],  # action: reads, requests, digests; rule: the config key that refused
)
USERGROUP_LOOKUPS = Counter("cnibot_usergroup_lookups_total", "usergroups.users.list calls", ["outcome"])
