"""A real `frontier-sim` per test module, on a free loopback port, stopped with SIGINT.

Requests go through one `requests.Session` per thread, so many threads can race the
server at once without sharing a connection pool.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
import requests

GROUPS = "/v1/gateway/groups"
MANAGE_KEY = "sim-manage-acme"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def frontier_sim() -> str:
    """The installed console script, as a user starts it."""
    script = Path(sys.executable).with_name("frontier-sim")
    assert script.exists(), "frontier-sim isn't installed: pip install -e ."
    return str(script)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Sim:
    """A running `frontier-sim`: its URL, its process and everything it printed."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes] = field(repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def session(self) -> requests.Session:
        """This thread's own session (a Session isn't shared safely between threads)."""
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session

    def call(self, method: str, path: str, key: str = MANAGE_KEY, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Api-Key {key}", **kw.pop("headers", {})}
        return self.session().request(method, self.url + path, headers=headers, timeout=30, **kw)

    def create(self, body: dict[str, Any], key: str = MANAGE_KEY) -> requests.Response:
        return self.call("POST", GROUPS, key, json=body)

    def stop(self) -> int:
        """SIGINT, as Ctrl-C; the exit code (SIGKILL and a failure if it doesn't stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(self.process.pid)
            self.process.wait()
            pytest.fail(f"frontier-sim didn't stop on SIGINT:\n{self.output()[-2000:]}")
        finally:
            _kill_group(self.process.pid)  # a worker left behind, if any


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # the group start_new_session made: its id is the pid


def start_sim(args: Sequence[str] = ()) -> Sim:
    """`frontier-sim --port P ARGS`, once it answers HTTP (bounded wait)."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115  # open for the server's lifetime
    process = subprocess.Popen(
        [frontier_sim(), "--port", str(port), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: a stuck worker can be killed with it
    )
    sim = Sim(f"http://127.0.0.1:{port}", port, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"frontier-sim exited early ({process.returncode}):\n{sim.output()}")
        try:
            requests.get(sim.url + GROUPS, timeout=1)
            return sim
        except requests.ConnectionError:
            time.sleep(0.05)
    sim.stop()
    pytest.fail(f"frontier-sim gave no answer within {START_TIMEOUT:.0f} s")


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    """The module's `frontier-sim` with its default settings."""
    running = start_sim()
    yield running
    assert running.stop() == 0


def unique(prefix: str) -> str:
    """An external_entity_id no other test or run uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def group_body(
    external_entity_id: str,
    parent: str | None = None,
    mode: str = "INDEPENDENT",
    threshold: int = 1000,
) -> dict[str, Any]:
    return {
        "metadata": {"name": None, "external_entity_id": external_entity_id},
        "models": [
            {
                "slug": "your-org/your-model",
                "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": threshold}],
            }
        ],
        "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent},
    }
