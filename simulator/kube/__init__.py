"""A fake Kubernetes API server for the cluster simulator: an indexed object store served over HTTP."""

from simulator.kube.server import KubeApiServer
from simulator.kube.store import KubeStore

__all__ = ["KubeApiServer", "KubeStore"]
