"""Approved changes to aws-node and ENIConfigs: request in Slack, approve with a click, apply once, verify,
roll back. The two entry points the composition root calls are `register_change_interactions` (Slack) and
`register_change_jobs` (scheduler)."""
