"""A loopback HTTP server for fetch tests: Range requests, 404s, stalls, truncations.

Routes map a URL path to a `Route`: serve a file's bytes (optionally truncated), stall for
N seconds before answering or in the middle of the body, leave out the Content-Length
header, or answer an HTTP status. Binds 127.0.0.1 only.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar


@dataclasses.dataclass(frozen=True)
class Route:
    body: bytes = b""
    content_type: str = "video/mp4"
    status: int = 200
    stall: float = 0.0  # seconds to sleep before sending anything
    truncate_to: int | None = None  # declare the full length but send only this many bytes
    drip: float = 0.0  # seconds to sleep after every 64 KiB (a slow server)
    stall_body: float = 0.0  # seconds to sleep after the headers and `stall_after` body bytes
    stall_after: int = 0  # body bytes sent before the `stall_body` sleep
    content_length: bool = True  # False: no Content-Length; the body ends when the server closes

    @classmethod
    def file(cls, path: Path, **kwargs: object) -> Route:
        return cls(body=path.read_bytes(), **kwargs)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Route]] = {}
    hits: ClassVar[dict[str, int]] = {}
    proxied: ClassVar[list[str]] = []  # absolute-URI requests (this server used as a proxy)
    cookies: ClassVar[list[str]] = []  # Cookie headers received

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        if "://" in path:  # "GET http://host/p HTTP/1.1": a client using this as its proxy
            self.proxied.append(path)
            path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
        if self.headers.get("Cookie"):
            self.cookies.append(self.headers["Cookie"])
        self.hits[path] = self.hits.get(path, 0) + 1
        route = self.routes.get(path)
        if route is None:
            self.send_error(404)
            return
        if route.stall:
            time.sleep(route.stall)
        if route.status != 200:
            self.send_error(route.status)
            return
        self._send_body(route, head)

    def _send_body(self, route: Route, head: bool) -> None:
        body = route.body
        start, end = _byte_range(self.headers.get("Range"), len(body))
        partial = bool(body) and (start != 0 or end != len(body) - 1)
        self.send_response(206 if partial else 200)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Accept-Ranges", "bytes")
        if route.content_length:  # an empty body declares 0 (not the 1 of the range 0-0)
            self.send_header("Content-Length", str(end - start + 1 if body else 0))
        else:
            self.close_connection = True
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
        self.end_headers()
        if head:
            return
        chunk = body[start : end + 1]
        if route.truncate_to is not None:
            chunk = chunk[: max(0, route.truncate_to - start)]
        try:
            if route.stall_body:
                self.wfile.write(chunk[: route.stall_after])
                self.wfile.flush()
                time.sleep(route.stall_body)
                chunk = chunk[route.stall_after :]
            for offset in range(0, len(chunk), 1 << 16):
                self.wfile.write(chunk[offset : offset + (1 << 16)])
                if route.drip:
                    self.wfile.flush()
                    time.sleep(route.drip)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if route.truncate_to is not None:
            self.close_connection = True


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    match = re.match(r"bytes=(\d*)-(\d*)", header or "")
    if not match or size == 0:
        return 0, max(size - 1, 0)
    first, last = match.groups()
    if first == "":
        return max(size - int(last), 0), size - 1
    return int(first), min(int(last) if last else size - 1, size - 1)


class LoopbackServer:
    def __init__(self, routes: dict[str, Route]) -> None:
        state = {"routes": dict(routes), "hits": {}, "proxied": [], "cookies": []}
        handler = type("Handler", (_Handler,), state)
        self._handler: type[_Handler] = handler
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        return self._handler.hits.get(path, 0)

    @property
    def proxied(self) -> list[str]:
        return self._handler.proxied

    @property
    def cookies(self) -> list[str]:
        return self._handler.cookies


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[LoopbackServer]:
    server = LoopbackServer(routes)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
