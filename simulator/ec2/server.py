"""One loopback HTTP endpoint for EC2, EKS and STS, as `AWS_ENDPOINT_URL` expects.

The service is read from the SigV4 credential scope (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`);
signatures are not checked. Every request is counted and consults the fault plan first.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from simulator import sts
from simulator.counters import RequestCounter
from simulator.ec2 import xml
from simulator.ec2.api import Ec2Api
from simulator.ec2.query import QueryParams
from simulator.eks import EksError, EksService, operation_for
from simulator.faults import FaultPlan, FaultRule
from simulator.model import Ec2Error, Ec2Model

_SCOPE = re.compile(r"Credential=(?P<akid>[^/,\s]+)/[^/]+/[^/]+/(?P<service>[^/]+)/aws4_request")
_STATUS_FOR_CODE = {"RequestLimitExceeded": 503, "UnauthorizedOperation": 403, "DryRunOperation": 412}


class AwsApiServer:
    def __init__(
        self,
        model: Ec2Model,
        eks: EksService | None = None,
        faults: FaultPlan | None = None,
        counter: RequestCounter | None = None,
    ) -> None:
        self.model = model
        self.ec2 = Ec2Api(model)
        self.eks = eks or EksService()
        # Auto Scaling Query API: (action, params) -> (status, XML body); set by the runner.
        self.autoscaling: Callable[[str, dict[str, str]], tuple[int, str]] | None = None
        self.faults = faults or FaultPlan()
        self.counter = counter or RequestCounter()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[0], self._httpd.server_address[1]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        handler = type("BoundAwsHandler", (_AwsHandler,), {"api": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="sim-aws-api", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # --- dispatch (transport-independent, so tests can call it directly) -----------------------------------
    def dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, bool]:
        """(status, content type, body, drop connection) for one request."""
        scope = _SCOPE.search(headers.get("authorization", ""))
        service = scope.group("service") if scope else ""
        access_key = scope.group("akid") if scope else ""
        split = urlsplit(path)
        if service == "eks" or (not service and split.path.startswith("/clusters")):
            return self._eks(method, split.path, body, split.query)
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)) if body else {}
        params.update(parse_qsl(split.query, keep_blank_values=True))
        action = params.get("Action", "")
        if service == "sts" or action == "GetCallerIdentity":
            return self._sts(action, params, access_key)
        if service == "autoscaling":
            return self._autoscaling(action, params)
        return self._ec2(action, params)

    def _gate(self, api: str, operation: str, detail: dict[str, object]) -> FaultRule | None:
        self.counter.record(api, operation, detail)
        rule = self.faults.decide(api, operation)
        self.faults.apply_latency(rule)
        if rule is not None and rule.hang > 0:
            time.sleep(rule.hang)
        return rule

    def _ec2(self, action: str, params: dict[str, str]) -> tuple[int, str, bytes, bool]:
        recorded = {k: v for k, v in params.items() if k not in ("Action", "Version")}
        # Filters also parsed, for budget assertions such as "every sweep was filtered by vpc-id".
        filters = {f.name: f.values for f in QueryParams(recorded).filters()}
        rule = self._gate("ec2", action, {"params": recorded, "filters": filters})
        content = "text/xml;charset=UTF-8"
        if rule is not None and rule.hang > 0:
            return 0, content, b"", True
        if rule is not None and rule.kind == "error":
            status = _fault_status(rule)
            message = rule.message or _default_message(rule.code, action)
            return status, content, xml.error_response(rule.code or "InternalError", message).encode(), False
        try:
            return 200, content, self.ec2.handle(action, QueryParams(params)).encode(), False
        except Ec2Error as err:
            status = _STATUS_FOR_CODE.get(err.code, err.status)
            return status, content, xml.error_response(err.code, err.message).encode(), False

    def _sts(self, action: str, params: dict[str, str], access_key: str) -> tuple[int, str, bytes, bool]:
        rule = self._gate("sts", action, {"params": params})
        content = "text/xml"
        if rule is not None and rule.hang > 0:
            return 0, content, b"", True
        if rule is not None and rule.kind == "error":
            code = rule.code or "InternalFailure"
            return rule.status, content, sts.error(code, rule.message or code).encode(), False
        if action != "GetCallerIdentity":
            return 400, content, sts.error("InvalidAction", f"Could not find operation {action}").encode(), False
        return 200, content, sts.caller_identity(self.model.account_id, access_key).encode(), False

    def _autoscaling(self, action: str, params: dict[str, str]) -> tuple[int, str, bytes, bool]:
        recorded = {k: v for k, v in params.items() if k not in ("Action", "Version")}
        rule = self._gate("autoscaling", action, {"params": recorded})
        content = "text/xml"
        if rule is not None and rule.hang > 0:
            return 0, content, b"", True
        if rule is not None and rule.kind == "error":
            code = rule.code or "InternalFailure"
            return rule.status, content, xml.error_response(code, rule.message or code).encode(), False
        if self.autoscaling is None:
            return 400, content, xml.error_response("InvalidAction", "no Auto Scaling here").encode(), False
        status, body = self.autoscaling(action, recorded)
        return status, content, body.encode(), False

    def _eks(self, method: str, path: str, body: bytes, query: str = "") -> tuple[int, str, bytes, bool]:
        operation, args = operation_for(method, path)
        args = {**dict(parse_qsl(query)), **args}
        detail: dict[str, object] = {"params": {**args, "body": body.decode("utf-8", "replace")}}
        rule = self._gate("eks", operation, detail)
        content = "application/json"
        if rule is not None and rule.hang > 0:
            return 0, content, b"", True
        try:
            if rule is not None and rule.kind == "error":
                raise EksError(rule.code or "ServerException", rule.message or rule.code, rule.status)
            payload: dict[str, Any] = self.eks.handle(operation, args, body)
            return 200, content, json.dumps(payload).encode(), False
        except EksError as err:
            error_body = {"message": err.message, **err.extra}
            return err.status, f"{content};x-amzn-errortype={err.code}", json.dumps(error_body).encode(), False


def _fault_status(rule: FaultRule) -> int:
    """The rule's status, or the one EC2 uses for its code when the rule kept the default 500."""
    if rule.status != 500 or not rule.code or rule.code in ("InternalError", "ServiceUnavailable", "Unavailable"):
        return rule.status
    return _STATUS_FOR_CODE.get(rule.code, 400)


def _default_message(code: str, action: str) -> str:
    if code == "RequestLimitExceeded":
        return "Request limit exceeded."
    if code == "UnauthorizedOperation":
        return f"You are not authorized to perform this operation. User is not authorized to perform: ec2:{action}"
    return code


class _AwsHandler(BaseHTTPRequestHandler):
    api: AwsApiServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate sends; without this Nagle + delayed ACK add ~40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, content_type, payload, drop = self.api.dispatch(self.command, self.path, headers, body)
        if drop:
            self.close_connection = True
            return
        self.send_response(status)
        if ";x-amzn-errortype=" in content_type:
            content_type, error_type = content_type.split(";x-amzn-errortype=")
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", "sim")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_DELETE = _serve
