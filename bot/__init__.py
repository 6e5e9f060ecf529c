"""cnibot: Slack chat-ops for the AWS VPC CNI on Amazon EKS."""

__version__ = "0.1.0"
