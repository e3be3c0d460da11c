"""The simulator served from a thread of this process, on werkzeug's threaded server (tests);
and what `frontier-sim`'s server needs of the operating system: a free port, and a worker
process that never outlives its parent."""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import signal
import socket
import sys
import threading
import time

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


def bind_error(host: str, port: int) -> str | None:
    """Why `frontier-sim` can't serve on (host, port), or None when it can.

    A port another server listens on is refused here: granian binds with SO_REUSEPORT, so
    a second simulator would start and the kernel would split requests between two stores.
    SO_REUSEADDR lets a port whose last connections are still closing (TIME_WAIT) pass.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use (another simulator?)"
            return f"can't listen on {host} port {port}: {error.strerror or error}"
    return None


PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_SECONDS = 0.5


def die_with_parent(parent: int) -> None:
    """Ends this (worker) process when `parent` does, however it ends, SIGKILL included.

    On Linux the kernel sends SIGKILL at the parent's death (prctl PR_SET_PDEATHSIG); a
    daemon thread also polls the parent's pid, for other systems and as a second line. A
    parent already gone ends this process at once. So no worker ever serves as a ghost.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the signal was armed
        os._exit(1)
    watch = threading.Thread(target=_watch_parent, args=(parent,), name="frontier-sim-parent")
    watch.daemon = True
    watch.start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


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
