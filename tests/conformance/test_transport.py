"""The HTTP transport's connection reuse: idle kept-alive connections are not reused.

A server may close an idle connection whenever it likes; a request sent on it just as the
close arrives is lost. The simulator closes after 30 s idle, which once failed a check that
reused a connection left idle since the preflight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conformance.target import HttpTransport


class _KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection open between requests

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
        self.connections += 1
        super().process_request(request, client_address)


@pytest.fixture
def server() -> Iterator[_Counting]:
    httpd = _Counting(("127.0.0.1", 0), _KeepAlive)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _transport(server: _Counting, idle: float) -> HttpTransport:
    transport = HttpTransport(f"http://127.0.0.1:{server.server_address[1]}")
    transport.idle_reuse = idle
    return transport


def test_back_to_back_requests_share_one_connection(server: _Counting) -> None:
    transport = _transport(server, idle=60.0)
    for _ in range(3):
        assert transport.send("GET", "/", {}, None).status == 200
    assert server.connections == 1


def test_a_connection_idle_past_the_limit_is_not_reused(server: _Counting) -> None:
    transport = _transport(server, idle=0.05)
    assert transport.send("GET", "/", {}, None).status == 200
    time.sleep(0.2)  # only a lower bound matters: longer is the same outcome
    assert transport.send("GET", "/", {}, None).status == 200
    assert server.connections == 2
