"""Real HTTP and FTP servers on 127.0.0.1 for tests and benchmarks (nothing leaves the machine).

::

    HTTPTestServer(root)  http.server on a free port, files under root, with Range requests
                          (HTTPS with ``tls=(cert, key)``);
      /slow/<f>      sends half, then waits for ``release`` (set by the test) before the rest
      /cut/<f>       announces the whole length, sends half, closes the connection
      /cut-once/<f>  like /cut the first time each file is asked for, whole afterwards
    FTPTestServer(root)   pyftpdlib on a free port: anonymous read-only, ``user``/``password``
                          read-write (pyftpdlib comes with the ``test`` extra)
    sort_strings_example  the 0.5.0 guide's staging example, run on a given kernel
"""
from __future__ import annotations

import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        srv = self.server
        asked = self.path.split("?", 1)[0].lstrip("/")
        mode, _, name = asked.partition("/")
        if mode not in ("slow", "cut", "cut-once"):
            mode, name = "", asked
        with srv.lock:
            srv.requests.append((self.path, self.headers.get("Range")))
            if mode == "cut-once":
                mode = "cut" if name not in srv.cut_done else ""
                srv.cut_done.add(name)
        path = os.path.join(srv.root, name)
        if not name or not os.path.isfile(path):
            self.send_error(404, "Not Found")
            return
        with open(path, "rb") as f:
            body = f.read()
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if m and int(m.group(1)) < len(body):
            start = int(m.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
            self.send_header("Accept-Ranges", "bytes")
        part = body[start:]
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        half = len(part) // 2
        if mode == "cut":
            self.wfile.write(part[:half])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "slow":
            self.wfile.write(part[:half])
            self.wfile.flush()
            srv.halfway.set()
            srv.release.wait(30)
            part = part[half:]
        self.wfile.write(part)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str | None]] = []
        self.cut_done: set[str] = set()
        self.halfway = threading.Event()
        self.release = threading.Event()


class HTTPTestServer:
    """``with HTTPTestServer(root) as srv: srv.url('x.txt')``; with ``tls=(certfile,
    keyfile)`` it speaks HTTPS."""

    def __init__(self, root: str, tls: tuple[str, str] | None = None) -> None:
        self.httpd = _HTTPServer(root)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls else "http"
        if tls is not None:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="http-test-server", daemon=True)

    def url(self, name: str, mode: str = "") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/{mode + '/' if mode else ''}{name}"

    @property
    def requests(self) -> list[tuple[str, str | None]]:
        return self.httpd.requests

    def __enter__(self) -> HTTPTestServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.httpd.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


class FTPTestServer:
    """``with FTPTestServer(root) as srv: srv.url('in/x.txt')`` (anonymous, read-only) or
    ``srv.url('out/y.txt', login=True)`` (user ``user``, password ``password``, read-write)."""

    user = "parsl"
    password = "staging-test"

    def __init__(self, root: str) -> None:
        import warnings

        with warnings.catch_warnings():  # pyftpdlib still imports asyncore/asynchat
            warnings.simplefilter("ignore", DeprecationWarning)
            from pyftpdlib.authorizers import DummyAuthorizer
            from pyftpdlib.handlers import FTPHandler
            from pyftpdlib.servers import ThreadedFTPServer

        auth = DummyAuthorizer()
        auth.add_user(self.user, self.password, root, perm="elradfmw")
        auth.add_anonymous(root)
        handler = type("Handler", (FTPHandler,), {"authorizer": auth, "passive_ports": None, "masquerade_address": None, "log_prefix": ""})
        self.server = ThreadedFTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 0.05, "blocking": True}, name="ftp-test-server", daemon=True)

    def url(self, name: str, login: bool = False) -> str:
        who = f"{self.user}:{self.password}@" if login else ""
        return f"ftp://{who}127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> FTPTestServer:
        import logging

        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.close_all()
        self._thread.join(5)


def leftovers(directory: str | os.PathLike[str]) -> list[str]:
    """The names in ``directory``, partial downloads included (sorted)."""
    return sorted(os.listdir(directory))


def sort_strings_example(dfk: Any, unsorted_url: str, sorted_url: str) -> Any:
    """The 0.5.0 guide's sort-strings example (§3.5), as the guide writes it, on ``dfk``, with
    the two URLs in place of its Globus files; returns the app's result (None)."""
    from parsl import App, File

    @App('python', dfk)
    def sort_strings(inputs=[], outputs=[]):  # noqa: B006  (the guide's code)
        with open(inputs[0]) as u:
            strs = u.readlines()
            strs.sort()
            with open(outputs[0].filepath, 'w') as s:
                for e in strs:
                    s.write(e)

    unsorted_file = File(unsorted_url)
    sorted_file = File(sorted_url)

    dfu = unsorted_file.stage_in()
    dfu.result()

    f = sort_strings(inputs=[unsorted_file], outputs=[sorted_file])
    result = f.result()

    dfs = sorted_file.stage_out()
    dfs.result()
    return result
