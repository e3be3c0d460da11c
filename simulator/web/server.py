"""The simulator served from a thread of this process, on werkzeug's threaded server (tests)."""

from __future__ import annotations

import ipaddress
import socket
import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """Serves `app` from a daemon thread on werkzeug's threaded server (tests only).

    In-process, so a test and the server share one interpreter; it starts in milliseconds;
    and werkzeug hands the app its socket, so a `drop` fault closes the connection cleanly.
    Stop it with `server.shutdown()`.
    """
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    # A short poll interval: shutdown() waits for the loop's next turn.
    loop = threading.Thread(target=server.serve_forever, args=(0.1,), name="frontier-sim")
    loop.daemon = True
    loop.start()
    return server


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at `host` right now (`--port 0`, tests and benchmarks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def is_loopback(host: str) -> bool:
    """True for a loopback address or `localhost`: only this machine can connect."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class _QuietHandler(WSGIRequestHandler):
    """No access log: test output stays clean (and the log never holds a request line)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None
