"""The HTTP plumbing the cloud fakes share: a threaded server on 127.0.0.1 (an ephemeral port)
that routes ``(method, path regex)`` to handler methods and answers JSON.

::

    SDK client ──HTTP──▶ ThreadingHTTPServer(127.0.0.1:0) ─▶ route(method, path)
                                                           ─▶ handler(match, query, body, headers)
                                                           ◀── (status, JSON body, extra headers)
    every request is appended to ``requests`` (method, path, headers, body) for the tests
"""
from __future__ import annotations

import json
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

Reply = tuple[int, Any] | tuple[int, Any, dict[str, str]]


class FakeREST:
    """Subclasses list ``routes``: ``(method, regex, handler name)``. With ``tls`` (a server
    SSLContext) the fake speaks HTTPS."""

    routes: list[tuple[str, str, str]] = []
    #: match paths case-insensitively (Azure Resource Manager's paths are)
    ignore_case = False

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.lock = threading.RLock()
        self.requests: list[dict[str, Any]] = []
        flags = re.IGNORECASE if self.ignore_case else 0
        self._compiled = [(m, re.compile(r"^" + rx + r"$", flags), h) for m, rx, h in self.routes]
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                # header names are case-insensitive: the fakes see them in their canonical case
                heads = {"-".join(w.capitalize() for w in k.split("-")): v for k, v in self.headers.items()}
                status, body, headers = fake.dispatch(self.command, self.path, raw, heads)
                data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=type(self).__name__, daemon=True)

    def __enter__(self) -> FakeREST:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.close()

    def close(self) -> None:
        """Subclasses stop their VMs here."""

    def dispatch(self, method: str, target: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        ctype = headers.get("Content-Type", "")
        body: Any = raw
        if raw and "json" in ctype:
            body = json.loads(raw)
        elif raw and "x-www-form-urlencoded" in ctype:
            body = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        with self.lock:
            self.requests.append({"method": method, "path": parts.path, "query": query, "headers": headers, "body": body})
        denied = self.authorize(method, parts.path, headers)
        if denied is not None:
            return self._norm(denied)
        for m, rx, name in self._compiled:
            match = rx.match(parts.path)
            if match and m == method:
                handler: Callable[..., Reply] = getattr(self, name)
                try:
                    return self._norm(handler(match, query, body, headers))
                except KeyError as e:
                    return self._norm(self.not_found(str(e)))
        return self._norm(self.not_found(f"{method} {parts.path}"))

    @staticmethod
    def _norm(reply: Reply) -> tuple[int, Any, dict[str, str]]:
        if len(reply) == 2:
            return reply[0], reply[1], {}
        return reply  # type: ignore[return-value]

    def authorize(self, method: str, path: str, headers: dict[str, str]) -> Reply | None:
        return None

    def not_found(self, what: str) -> Reply:
        return 404, {"error": {"code": 404, "message": f"not found: {what}"}}
