"""``parsl web``: a small web view of the runs under a ``runinfo`` directory, on 127.0.0.1.

::

    browser ──GET /──────────────▶ list of runs (newest first, live ones marked)
            ──GET /run/NNN───────▶ the run's report page (refreshes itself while live)
            ──GET /api/run/NNN───▶ the summary as JSON

Only directory names that exist under the runinfo directory are served; nothing else on disk
is reachable. The server binds 127.0.0.1 unless told otherwise, and then says so loudly.
"""
from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import query, report
from .schema import DB_NAME
from .store import open_store

logger = logging.getLogger("parsl.monitoring")
_RUN = re.compile(r"^/(run|api/run)/([A-Za-z0-9_][A-Za-z0-9_.-]*)/?$")


def list_runs(runinfo: Path) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    if not runinfo.is_dir():
        return runs
    for d in runinfo.iterdir():
        if not (d / DB_NAME).exists():
            continue
        try:
            db = open_store(d)
            try:
                meta = query.load_meta(db)
                states, _ = query.task_states(db)
            finally:
                db.close()
        except sqlite3.Error:
            continue
        counts: dict[str, int] = {}
        for st in states.values():
            counts[st] = counts.get(st, 0) + 1
        runs.append({"name": d.name, "meta": meta, "tasks": len(states), "counts": counts, "live": "ended" not in meta})
    runs.sort(key=lambda r: float(r["meta"].get("started", 0)), reverse=True)
    return runs


def _index(runinfo: Path, refresh: float) -> str:
    rows = []
    for r in list_runs(runinfo):
        status = "<b>live</b>" if r["live"] else "finished"
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(r["counts"].items()))
        rows.append(
            f"<tr class='run'><td><a href='/run/{escape(r['name'])}'>{escape(r['name'])}</a></td><td>{escape(r['meta'].get('script', ''))}</td>"
            f"<td>{status}</td><td class='num'>{r['tasks']:,}</td><td>{escape(counts)}</td></tr>"
        )
    table = "".join(rows) or "<tr><td colspan='5'>no run with a monitoring store yet</td></tr>"
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><meta http-equiv='refresh' content='{refresh:g}'><title>Parsl runs</title>"
        "<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px} td,th{padding:3px 10px;text-align:left} .num{text-align:right}</style></head>"
        f"<body><h1>Parsl runs in {escape(str(runinfo))}</h1><table id='runs'><tr><th>run</th><th>script</th><th>status</th><th class='num'>tasks</th><th>states</th></tr>{table}</table></body></html>"
    )


def make_server(runinfo: str | Path = "runinfo", host: str = "127.0.0.1", port: int = 0, refresh: float = 2.0) -> ThreadingHTTPServer:
    """A server for the web view (not yet serving: call ``serve_forever``)."""
    root = Path(runinfo).resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "parsl-web"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("web: " + format, *args)

        def _send(self, status: int, body: str, ctype: str = "text/html; charset=utf-8") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, _index(root, refresh))
                return
            m = _RUN.match(path)
            run_dir = (root / m.group(2)).resolve() if m else None
            if m is None or run_dir is None or run_dir.parent != root or not (run_dir / DB_NAME).exists():
                self._send(HTTPStatus.NOT_FOUND, "<h1>not found</h1><p><a href='/'>all runs</a></p>")
                return
            try:
                db = open_store(run_dir)
                try:
                    if m.group(1) == "run":
                        self._send(HTTPStatus.OK, report.render(db, f"Parsl run {run_dir.name}", refresh=refresh))
                    else:
                        s = query.summarize(db)
                        doc = {"meta": s.meta, "live": s.live, "tasks": s.total, "by_state": dict(s.by_state), "retries": s.retries,
                               "root_causes": {str(k): v for k, v in s.root_causes.items()}}
                        self._send(HTTPStatus.OK, json.dumps(doc), "application/json")
                finally:
                    db.close()
            except sqlite3.Error as e:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, f"<h1>store busy or damaged</h1><p>{escape(str(e))}</p>")

    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("parsl web listens on %s: anyone who can reach that address can read your runs' task names and errors", host)
    return ThreadingHTTPServer((host, port), Handler)


def serve_in_thread(runinfo: str | Path = "runinfo", port: int = 0, refresh: float = 2.0) -> tuple[ThreadingHTTPServer, str]:
    """Start the web view in a daemon thread; return the server and its URL (for notebooks and tests)."""
    server = make_server(runinfo, port=port, refresh=refresh)
    threading.Thread(target=server.serve_forever, name="parsl-web", daemon=True).start()
    host, p = server.server_address[:2]
    return server, f"http://{host!s}:{p}/"
