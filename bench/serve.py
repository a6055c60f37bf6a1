"""Serve a generated benchmark site on loopback: nginx from Debian when present, else a threaded server.

Why nginx: a benchmark of crawlers must not measure the web server. nginx with one worker, sendfile and
keep-alive answers tens of thousands of requests per second on one core (measured with wrk, see
BENCHMARKS.md), far above any crawler here. The Python fallback (ThreadingHTTPServer with a 1024-deep
accept queue, HTTP/1.1 keep-alive) keeps the benchmark and its test runnable where nginx is absent, but
then the server shares the crawler's cores and becomes part of what is measured.

Only 127.0.0.1 is ever bound; nothing here talks to any other address.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include {mime};
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    etag on;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        server_name localhost;
        root {root};
        index index.html;
        # LinkChecker honours maxrequestspersecond above 10/s only for servers that send this header
        add_header LinkChecker "disclosure-audit-bench" always;
        location / {{ try_files $uri $uri/ =404; }}
    }}
}}
"""


@dataclass
class Served:
    url: str  # http://127.0.0.1:PORT/ (the start URL of the site)
    kind: str  # "nginx" or "python"
    version: str
    pid: int | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_binary() -> str | None:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def nginx_version(binary: str) -> str:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10)
    return (out.stderr or out.stdout).strip().split("/")[-1]


def _wait_up(url: str, proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the web server exited at start (code {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read(1)
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the web server did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def serve_nginx(root: Path, port: int | None = None) -> Iterator[Served]:
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (apt-get install -y nginx)")
    port = port or free_port()
    tmp = Path(tempfile.mkdtemp(prefix="da-nginx-"))
    os.chmod(tmp, 0o755)
    mime = "/etc/nginx/mime.types"
    if not os.path.exists(mime):
        (tmp / "mime.types").write_text("types { text/html html; application/pdf pdf; text/css css; "
                                         "image/png png; image/x-icon ico; }\n")
        mime = str(tmp / "mime.types")
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, root=Path(root).resolve(), mime=mime))
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            _wait_up(url, proc)
        except RuntimeError as exc:
            err = proc.stderr.read().decode(errors="replace")[-500:] if proc.poll() is not None else ""
            raise RuntimeError(f"{exc}: {err}".strip(": ")) from None
        yield Served(url=url, kind="nginx", version=f"nginx {nginx_version(binary)}", pid=proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGQUIT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


class QuietHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx does

    def end_headers(self) -> None:
        self.send_header("LinkChecker", "disclosure-audit-bench")  # as nginx: see NGINX_CONF
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


class BenchServer(ThreadingHTTPServer):
    request_queue_size = 1024  # the stdlib's 5 refuses connections under a concurrent crawler
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A crawler closing a kept-alive connection is normal, not an error worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve_python(root: Path, port: int | None = None) -> Iterator[Served]:
    server = BenchServer(("127.0.0.1", port or 0), partial(QuietHandler, directory=str(Path(root).resolve())))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        _wait_up(url, None)
        yield Served(url=url, kind="python", version="python http.server (threaded)")
    finally:
        server.shutdown()
        server.server_close()


def serve(root: Path, prefer: str = "nginx") -> contextlib.AbstractContextManager[Served]:
    """nginx when asked for and installed, else the threaded Python server."""
    if prefer == "nginx" and nginx_binary():
        return serve_nginx(root)
    return serve_python(root)
