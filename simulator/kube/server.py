"""The fake Kubernetes API server: HTTP/1.1 on loopback for the official client and kubectl.

Each request is counted, then passed through the fault plan (latency, injected errors, hangs), then
served: discovery and health paths here, resource requests by `KubeApi`.
"""

from __future__ import annotations

import contextlib
import http
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml

from simulator.counters import RequestCounter
from simulator.faults import FaultPlan, FaultRule
from simulator.kube import discovery, status
from simulator.kube.api import ApiRequest, KubeApi, ProxyHandler, Response, encode, error_response
from simulator.kube.routing import ResourceRequest, resolve
from simulator.kube.store import KubeStore

log = logging.getLogger(__name__)

KUBECONFIG_TOKEN = "simulator-token"
_HEALTH_PATHS = ("/healthz", "/livez", "/readyz")


class KubeApiServer:
    def __init__(
        self,
        store: KubeStore,
        faults: FaultPlan | None = None,
        counter: RequestCounter | None = None,
        proxy_handler: ProxyHandler | None = None,
        read_only: bool = False,
        *,
        user: str = "kubernetes-admin",
    ) -> None:
        self.store = store
        self.faults = faults
        self.counter = counter
        self.api = KubeApi(store, read_only=read_only, user=user, proxy_handler=proxy_handler)
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in background threads; returns the base URL, e.g. "http://127.0.0.1:41234"."""
        if self._http is not None:
            raise RuntimeError("the server is already running")
        self.api.stopped.clear()
        self._http = _HttpServer((host, port), _Handler, self)
        bound_port = self._http.server_address[1]
        self.url = f"http://[{host}]:{bound_port}" if ":" in host else f"http://{host}:{bound_port}"
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.1}, name="kube-api", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._http is None:
            return
        self.api.stopped.set()
        self.store.wake_watchers()
        self._http.shutdown()
        self._http.close_connections()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http = None
        self._thread = None

    def __enter__(self) -> KubeApiServer:
        if self._http is None:
            self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def write_kubeconfig(
        self, path: str | os.PathLike[str], cluster_name: str = "demo", namespace: str = "default"
    ) -> None:
        """A kubeconfig with a token user pointing at this server (start() first)."""
        if not self.url:
            raise RuntimeError("start the server before writing its kubeconfig")
        user = f"{cluster_name}-user"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": self.url}}],
            "users": [{"name": user, "user": {"token": KUBECONFIG_TOKEN}}],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": user, "namespace": namespace}}
            ],
            "current-context": cluster_name,
            "preferences": {},
        }
        Path(path).write_text(yaml.safe_dump(config, sort_keys=False))

    # ---- one request -----------------------------------------------------------------------------

    def serve(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response | None:
        """The answer to one request, or None to drop the connection unanswered (an injected hang)."""
        path, _, raw_query = target.partition("?")
        query = {key: values[0] for key, values in parse_qs(raw_query, keep_blank_values=True).items()}
        fixed = self._fixed_path(method, path)
        if fixed is not None:
            self._count(f"GET {path}", method, path, raw_query)
            if self.faults is not None:
                self.faults.apply_latency(None)
            return fixed
        route = resolve(method, path, self.store.registry, watch=query.get("watch") in ("true", "1"))
        if route is None:
            self._count(f"{method} {path}", method, path, raw_query)
            return error_response(status.path_not_found(path))
        self._count(route.operation, method, path, raw_query)
        rule = self.faults.decide("kube", route.operation) if self.faults is not None else None
        if self.faults is not None:
            self.faults.apply_latency(rule)
        if rule is not None and rule.hang > 0:
            time.sleep(rule.hang)
            return None
        if rule is not None and rule.kind == "error":
            return error_response(self._injected_error(rule, route))
        request = ApiRequest(route, query, raw_query, headers.get("content-type", ""), body)
        return self.api.handle(request)

    def _count(self, operation: str, method: str, path: str, query: str) -> None:
        if self.counter is not None:
            self.counter.record("kube", operation, {"method": method, "path": path, "query": query})

    def _fixed_path(self, method: str, path: str) -> Response | None:
        """Discovery, version and health endpoints; None when the path names a resource instead."""
        if method != "GET":
            return None
        stripped = path.rstrip("/") or "/"
        if stripped in _HEALTH_PATHS or any(stripped.startswith(p + "/") for p in _HEALTH_PATHS):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if stripped == "/version":
            return _json(discovery.VERSION_INFO)
        if stripped == "/api":
            return _json(discovery.api_versions(self.url.removeprefix("http://")))
        if stripped == "/apis":
            return _json(discovery.api_group_list(self.store.registry))
        if stripped.startswith("/openapi"):
            return error_response(status.path_not_found(path))
        parts = stripped.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            return _json_or_404(discovery.api_resource_list(self.store.registry, "", parts[1]), path)
        if parts[0] == "apis" and len(parts) == 2:
            return _json_or_404(discovery.api_group(self.store.registry, parts[1]), path)
        if parts[0] == "apis" and len(parts) == 3:
            return _json_or_404(discovery.api_resource_list(self.store.registry, parts[1], parts[2]), path)
        return None

    def _injected_error(self, rule: FaultRule, route: ResourceRequest) -> status.ApiError:
        """The Status a fault rule answers with, shaped like the real one for that HTTP code."""
        if rule.status == 403:
            error = self.api.forbidden(route)
        elif rule.status == 429:
            error = status.too_many_requests()
        elif rule.status == 500:
            error = status.internal_error(rule.message or "injected fault")
        elif rule.status == 404 and route.name:
            error = status.not_found(route.rtype, route.name)
        elif rule.status == 409 and route.name:
            error = status.conflict(route.rtype, route.name)
        else:
            error = status.from_status_code(rule.status, rule.message or f"injected fault ({rule.status})")
        if rule.message:
            error.message = rule.message
        return error


def _json(document: Any) -> Response:
    return Response(200, encode(document))


def _json_or_404(document: Any, path: str) -> Response:
    return _json(document) if document is not None else error_response(status.path_not_found(path))


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], app: KubeApiServer) -> None:
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping connections is normal; anything else is logged, never printed to stderr."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        log.exception("kube api: error serving %s", client_address)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Unblock keep-alive handler threads so that stop() leaves nothing serving."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in one write, but Nagle would still delay small keep-alive answers.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self._send(error_response(status.bad_request("malformed request body")))
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        try:
            response = self.server.app.serve(self.command, self.path, headers, body)
        except Exception as error:  # a bug here must still answer like an apiserver, not drop the client
            response = error_response(status.internal_error(f"{type(error).__name__}: {error}"))
        if response is None:
            self.close_connection = True
            return
        self._send(response)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        try:
            phrase = http.HTTPStatus(response.status).phrase
        except ValueError:
            phrase = ""
        length = (
            "Transfer-Encoding: chunked" if response.stream is not None else f"Content-Length: {len(response.body)}"
        )
        head = [
            f"HTTP/1.1 {response.status} {phrase}",
            f"Content-Type: {response.content_type}",
            length,
            "Cache-Control: no-cache, private",
            f"Date: {self.date_time_string()}",
        ]
        head.extend(f"{name}: {value}" for name, value in response.headers.items())
        if self.close_connection:
            head.append("Connection: close")
        header = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if response.stream is None:
            self.wfile.write(header + response.body)
            return
        self.wfile.write(header)
        self._send_chunks(response.stream)

    def _send_chunks(self, chunks: Iterator[bytes]) -> None:
        """Stream a watch; a client that goes away ends it."""
        try:
            for chunk in chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True
        except Exception:  # a failing watch ends its stream; the client sees the stream end and re-watches
            log.exception("watch stream failed")
            self.close_connection = True
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
