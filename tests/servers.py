"""Real HTTP servers on loopback for tests: a route table per host, threaded, with a large backlog.

Python's http.server listens with a backlog of 5 by default; concurrent crawls then see refused
connections that look like broken links, so `request_queue_size` is raised here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = Callable[["Handler"], None] | tuple[int, dict[str, str], bytes | str]


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True
    allow_reuse_address = True


class Handler(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet tests
        pass

    def _serve(self) -> None:
        site: Site = self.server.site
        path = self.path
        site.hits.append((self.command, path))
        route = site.routes.get(path) or site.routes.get(path.split("?")[0])
        if route is None:
            self.reply(404, {"Content-Type": "text/html; charset=utf-8"}, "<html><title>404</title>找不到網頁</html>")
            return
        if callable(route):
            route(self)
            return
        status, headers, body = route
        self.reply(status, headers, body)

    def reply(self, status: int, headers: dict[str, str], body: bytes | str = b"") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if not any(k.lower() == "content-length" for k in headers):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = _serve
    do_HEAD = _serve
    do_POST = _serve


@dataclass
class Site:
    host: str = "127.0.0.1"
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[tuple[str, str]] = field(default_factory=list)
    server: Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}"

    def start(self) -> Site:
        self.server = Server((self.host, 0), Handler)
        self.server.site = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def html(self, path: str, body: str, status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, {"Content-Type": "text/html; charset=utf-8", **headers}, body)


def free_port() -> int:
    """A loopback port nothing listens on (for refused connections and servers started by tests)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def page(title: str, body: str = "", lang: str = "zh-Hant-TW") -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f"</head><body><h1>{title}</h1>{body}</body></html>")
