"""A fake Kubernetes API server for the cluster simulator: an indexed object store served over HTTP.

    store = KubeStore()                       # has the default, kube-system, kube-public, kube-node-lease namespaces
    store.bulk_load(pods)                     # fast path; internal writes (put/update/delete) call no listener
    store.add_listener(on_write)              # on_write(verb, before, after) for POST/PUT/PATCH/DELETE over HTTP
    server = KubeApiServer(store, faults, counter, proxy_handler=..., read_only=False)
    url = server.start()                      # "http://127.0.0.1:PORT"; the official client and kubectl work against it
    server.write_kubeconfig(path)

Modules: resources (kinds and their rules), store (+ watch change log), selectors, patch, writes (verb
semantics), api (request -> response), routing, discovery, events_view, status (errors), server (HTTP).
"""

from simulator.kube.server import KubeApiServer
from simulator.kube.store import KubeStore

__all__ = ["KubeApiServer", "KubeStore"]
