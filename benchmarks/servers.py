"""Servers the benchmarks start, probe and stop: `frontier-sim`, the bare reference and Prism.

Each runs in its own process group, so stopping it also stops the worker it forked.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
API_KEY = "sim-manage-acme"
CREATE_PATH = "/v1/gateway/groups"


def documented_body(external_entity_id: str) -> dict[str, object]:
    """The create body of the documentation's example, with a caller-chosen id."""
    return {
        "metadata": {"name": "Acme prod", "external_entity_id": external_entity_id},
        "models": [
            {
                "slug": "your-org/your-model",
                "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 1000000}],
                "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 10000000}],
            }
        ],
        "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
    }


def console_script(name: str) -> str | None:
    """The script installed beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")


def launch(name: str, argv: list[str], port: int) -> Server:
    log = tempfile.TemporaryFile()  # noqa: SIM115  # open for the server's lifetime
    process = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )
    return Server(name, port, process, log)


def start(name: str, argv: list[str], port: int, timeout: float = 60.0) -> Server:
    """Launches a server and waits for its first 200 to a documented create."""
    server = launch(name, argv, port)
    try:
        wait_until_created(server, timeout)
    except BaseException:
        stop(server)
        raise
    return server


def wait_until_created(server: Server, timeout: float) -> float:
    """Seconds from now to the server's first 200 to a create (polled every 5 ms)."""
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited early:\n{server.output()[-2000:]}")
        if post_create(server.port, f"probe-{time.monotonic_ns()}") == 200:
            return time.perf_counter() - started
        time.sleep(0.005)
    raise TimeoutError(f"{server.name} gave no 200 within {timeout:.0f} s")


def post_create(port: int, external_entity_id: str) -> int | None:
    """The status of one documented create, or None while nothing listens."""
    body = json.dumps(documented_body(external_entity_id))
    headers = {"Authorization": f"Api-Key {API_KEY}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("POST", CREATE_PATH, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def stop(server: Server, timeout: float = 15.0) -> None:
    """SIGINT to the server's process group, as Ctrl-C would; SIGKILL if it lingers."""
    if server.process.poll() is None:
        _signal_group(server.process.pid, signal.SIGINT)
        try:
            server.process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(server.process.pid, signal.SIGKILL)
            server.process.wait()
    _signal_group(server.process.pid, signal.SIGKILL)  # a worker left behind by the group
    server.log.close()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # the group was made by start_new_session, its id is the pid


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (Linux /proc; just the pid elsewhere)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(c) for c in children.read_text().split()] if children.exists() else []
    return [pid, *(p for kid in kids for p in process_tree(kid))]


def cpu_seconds(server: Server) -> float:
    """User plus system CPU the server's processes have used so far (0 without /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in process_tree(server.process.pid):
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists():
            fields = stat.read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


def rss_bytes(server: Server) -> int:
    """Resident bytes of the server's processes (granian forks a worker); 0 without /proc."""
    total = 0
    for pid in process_tree(server.process.pid):
        status = Path(f"/proc/{pid}/status")
        lines = status.read_text().splitlines() if status.exists() else []
        total += sum(int(x.split()[1]) * 1024 for x in lines if x.startswith("VmRSS:"))
    return total


def simulator_argv(port: int, *extra: str) -> list[str]:
    script = console_script("frontier-sim")
    if script is None:
        raise RuntimeError("frontier-sim isn't installed: pip install -e . first")
    # --quiet: like the references, which log nothing per request. No management rate
    # limit: the references have none, and a load from one key runs far past 100 per second.
    return [script, "--port", str(port), "--quiet", "--management-rate-limit", "0", *extra]


def bare_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "benchmarks.bare_app", "--port", str(port)]


def bare_wsgi_argv(port: int) -> list[str]:
    """The bare endpoint on granian's own WSGI interface, without frontier-sim's shell."""
    return [*bare_argv(port), "--wsgi"]
