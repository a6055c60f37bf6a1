"""Hostile loopback servers for tests/crawler/test_hostile.py and tests/crawler/test_tls.py (issue 7).

Real sockets only: a route table with prefix routes (URLs that grow forever), raw listeners that
accept and never answer or drip a byte a second, HTTPS sites with certificates made by `trustme`, and
a gzip body that inflates to 2 GiB. Everything binds 127.x addresses; nothing reaches the network.
"""

from __future__ import annotations

import resource
import socket
import ssl
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from servers import Handler, Server, Site

from checks.facts import SiteFacts
from crawler.store import Store
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site


class PrefixHandler(Handler):
    """The shared handler, plus `site.prefixes`: (prefix, route) tried when no exact route matches."""

    def _serve(self) -> None:
        site = self.server.site
        path = self.path
        if path not in site.routes and path.split("?")[0] not in site.routes:
            for prefix, route in getattr(site, "prefixes", []):
                if path.startswith(prefix):
                    site.hits.append((self.command, path))
                    if callable(route):
                        route(self)
                    else:
                        self.reply(*route)
                    return
        super()._serve()

    do_GET = _serve
    do_HEAD = _serve


@dataclass
class HostileSite(Site):
    prefixes: list[tuple[str, Any]] = field(default_factory=list)
    tls: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.server.server_address[1]}"

    def start(self) -> HostileSite:
        self.server = Server((self.host, 0), PrefixHandler)
        self.server.site = self
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self


class RawServer:
    """A TCP listener whose connections get `behaviour(conn)` in a thread; counts what it accepted."""

    def __init__(self, host: str, behaviour: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.host = host
        self.behaviour = behaviour
        self.accepted = 0
        self.stopped = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.sock.getsockname()[1]}"

    def _loop(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        if self.behaviour == "hang":  # accept, read nothing, answer nothing
            self.stopped.wait()
            return
        if self.behaviour == "drip":  # a valid start, then one byte a second
            try:
                request = conn.recv(4096)
                if request.startswith(b"HEAD"):  # refuse HEAD so that the body must be read
                    conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    request = conn.recv(4096)
                    if not request:
                        return
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
                while not self.stopped.is_set():
                    conn.sendall(b"x")
                    time.sleep(1)
            except OSError:
                return

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()
        for conn in self.conns:
            try:
                conn.close()
            except OSError:
                pass


@lru_cache(maxsize=1)
def gzip_bomb(gib: int = 2) -> bytes:
    """A valid gzip body of about 2 MB that inflates to `gib` GiB of an HTML page full of NULs.

    Built from one compressed 1 MiB block repeated (each ends with a full flush, so the blocks are
    independent), which takes a second instead of compressing gigabytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    prefix = b"<html><head><title>bomb</title></head><body>"
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    zeros = b"\0" * (1 << 20)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    n = gib * 1024
    crc = zlib.crc32(prefix)
    for _ in range(n):
        crc = zlib.crc32(zeros, crc)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return head + block * n + end + struct.pack("<II", crc, (len(prefix) + n * (1 << 20)) & 0xFFFFFFFF)


@dataclass
class Audit:
    results: dict
    facts: SiteFacts
    seconds: float
    out: Path

    @property
    def site(self) -> dict:
        return self.results["sites"][0]

    def findings(self, rule: str | None = None) -> list[dict]:
        return [f for f in self.site["findings"] if rule is None or f["rule"] == rule]

    def by_target(self, suffix: str, rule: str | None = None) -> list[dict]:
        return [f for f in self.findings(rule) if (f["target"] or "").endswith(suffix)]


def run_audit(url: str, out: Path, **options: Any) -> Audit:
    """audit_site with accessibility off and a 3-second download timeout; wall time measured."""
    options.setdefault("accessibility", False)
    options.setdefault("download_timeout", 3)
    t0 = time.monotonic()
    results = audit_site(AuditOptions(url=url, out_dir=out, **options))
    seconds = time.monotonic() - t0
    store = Store(f"sqlite:///{out / 'audit.sqlite'}")
    try:
        facts = store.load_site_facts(store_site_id(store))
    finally:
        store.close()
    return Audit(results, facts, seconds, out)


def store_site_id(store: Store) -> int:
    from crawler.store import SiteRow

    with store.session() as s:
        return max(row.id for row in s.query(SiteRow).all())


def peak_child_rss_mb() -> float:
    """Peak resident memory of any finished child of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
