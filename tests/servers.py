"""Every way the tests start a simulator, in one place.

- `start_frontier_sim(...)`: `frontier-sim` in a subprocess on a loopback port, as a user
  starts it (end-to-end tests, the conformance suite over HTTP).
- `ThreadedSimulator`: the app served from a thread of the test process; the pytest plugin's
  `frontier_gateway` fixture is one of these.

A subprocess runs in its own process group, so stopping it also stops the worker granian
forks; what it prints goes to files, so a chatty server never blocks on a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
import requests

from simulator.testing import ThreadedSimulator, free_port
from tests.builders import GROUPS, MANAGE_KEY

__all__ = ["FrontierSim", "ThreadedSimulator", "free_port", "start_frontier_sim"]

START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
BANNER_END = "Press Ctrl-C to stop."


def console_script(name: str) -> str:
    """A console script installed beside this interpreter (as `pip install` puts it)."""
    script = Path(sys.executable).with_name(name)
    assert script.exists(), f"{name} isn't installed: pip install -e ."
    return str(script)


@dataclass
class FrontierSim:
    """A running `frontier-sim`: its URL, its process and everything it printed.

    Requests go through one `requests.Session` per thread, so many threads can race the
    server at once without sharing a connection pool.
    """

    url: str
    port: int
    process: subprocess.Popen[bytes]
    stdout_file: IO[bytes] = field(repr=False)
    stderr_file: IO[bytes] = field(repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def stdout(self) -> str:
        return _read(self.stdout_file)

    def stderr(self) -> str:
        return _read(self.stderr_file)

    def output(self) -> str:
        """Everything it printed so far, standard output then standard error."""
        return self.stdout() + self.stderr()

    def banner(self) -> str:
        """What it printed on start, up to the line saying how to stop it."""
        head, found, _ = self.stdout().partition(BANNER_END)
        return head + found

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

    def stop(self, *, group: bool = False) -> int:
        """SIGINT and its exit code: to the server alone, as `kill -INT` sends it, or with
        `group` to the whole process group, as Ctrl-C in a terminal does. SIGKILL and a
        failure if it doesn't stop within STOP_TIMEOUT."""
        if self.process.poll() is None:
            if group:
                _signal_group(self.process.pid, signal.SIGINT)
            else:
                self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait()
            pytest.fail(f"frontier-sim didn't stop on SIGINT:\n{self.output()[-2000:]}")
        finally:
            _signal_group(self.process.pid, signal.SIGKILL)  # a worker left behind, if any


def start_frontier_sim(*args: str, port: int | None = None, module: bool = False) -> FrontierSim:
    """`frontier-sim --port PORT ARGS`, returned once it answers HTTP (a bounded wait).

    `port`: a free one by default; 0 lets the server pick and reads the URL off its banner.
    `module`: start `python -m simulator` instead of the installed script.
    """
    command = [sys.executable, "-m", "simulator"] if module else [console_script("frontier-sim")]
    chosen = free_port() if port is None else port
    stdout = tempfile.TemporaryFile()  # noqa: SIM115  # open for the server's lifetime
    stderr = tempfile.TemporaryFile()  # noqa: SIM115  # open for the server's lifetime
    process = subprocess.Popen(
        [*command, "--port", str(chosen), *args],
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,  # its own group: a stuck worker can be killed with it
    )
    sim = FrontierSim(f"http://127.0.0.1:{chosen}", chosen, process, stdout, stderr)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"frontier-sim exited early ({process.returncode}):\n{sim.output()}")
        if chosen == 0:
            found = re.search(r"listening on (http://\S+)", sim.stdout())
            if found is None:
                time.sleep(0.05)
                continue
            sim.url = found.group(1)
            sim.port = int(sim.url.rpartition(":")[2])
            chosen = sim.port
        try:
            requests.get(sim.url + GROUPS, timeout=1)
            return sim
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.05)
    sim.stop()
    pytest.fail(f"frontier-sim gave no answer within {START_TIMEOUT:.0f} s:\n{sim.output()}")


def _read(file: IO[bytes]) -> str:
    # pread leaves the offset the server writes at alone: seeking could make it overwrite.
    fd = file.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # the group start_new_session made: its id is the pid
