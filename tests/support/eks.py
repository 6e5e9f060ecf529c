"""Checks an EKS authenticator would make, and a TLS API server that records who called it.

`verify_presigned` recomputes the SigV4 query signature of a presigned STS URL from the secret key, as STS
does, so a test can prove a token was signed with the bot's own credentials over the cluster-id header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit


def presigned_params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def verify_presigned(url: str, secret_key: str, headers: dict[str, str]) -> bool:
    """True if the URL's X-Amz-Signature is the SigV4 signature of this request under `secret_key`.

    `headers` are the extra headers the caller sends with the GET (lower-case names); host comes from the URL.
    """
    parts = urlsplit(url)
    params = presigned_params(url)
    signature = params.pop("X-Amz-Signature")
    signed = params["X-Amz-SignedHeaders"].split(";")
    sent = {"host": parts.netloc, **{k.lower(): v for k, v in headers.items()}}
    if any(name not in sent for name in signed):
        return False
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    canonical_headers = "".join(f"{name}:{sent[name].strip()}\n" for name in signed)
    empty_body = hashlib.sha256(b"").hexdigest()  # a presigned GET signs the hash of its empty body
    canonical = "\n".join(["GET", parts.path or "/", query, canonical_headers, ";".join(signed), empty_body])
    _akid, date, region, service, terminator = params["X-Amz-Credential"].split("/")
    scope = f"{date}/{region}/{service}/{terminator}"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + secret_key).encode(), date)
    for part in (region, service, terminator):
        key = _hmac(key, part)
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature)


@dataclass
class TlsIdentity:
    """A self-signed certificate for 127.0.0.1, as an EKS cluster CA would be handed out."""

    cert_file: Path
    key_file: Path

    @property
    def pem(self) -> str:
        return self.cert_file.read_text()

    @property
    def ca_data(self) -> str:
        """What DescribeCluster returns in certificateAuthority.data: the PEM, base64-encoded."""
        return base64.b64encode(self.pem.encode()).decode()


def make_tls_identity(directory: Path, name: str = "cluster") -> TlsIdentity:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return TlsIdentity(cert, key)


@dataclass
class RecordingApiServer:
    """An HTTPS Kubernetes API stand-in: answers node lists and records each request's Authorization header."""

    identity: TlsIdentity
    authorizations: list[str] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)

    def start(self) -> str:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                owner.authorizations.append(self.headers.get("Authorization", ""))
                body = json.dumps(
                    {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": owner.nodes}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.identity.cert_file, self.identity.key_file)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._httpd.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        threading.Thread(target=self._httpd.serve_forever, name="tls-api", daemon=True).start()
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
