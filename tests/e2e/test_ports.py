"""`frontier-sim` and its port: a port in use is refused, a port out of range too, and the
server's worker process never outlives its parent, however the parent dies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import FrontierSim, start_frontier_sim

pytestmark = pytest.mark.e2e

GONE_WITHIN = 15.0  # seconds: a bounded wait for the kernel and the watch thread


def run_simulator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_port_in_use_is_refused_with_one_line_and_exit_2(sim: FrontierSim) -> None:
    """A second simulator on the first one's port stops at once: no banner, no traceback,
    and the first keeps serving alone."""
    done = run_simulator("--port", str(sim.port))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"frontier-sim: port {sim.port} on 127.0.0.1 is in use (another simulator?); "
        "choose another --port (0: a free one)"
    ]
    assert sim.session().get(sim.url + "/", timeout=10).status_code == 200


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_a_port_out_of_range_is_refused_with_one_line_and_exit_2(port: str) -> None:
    done = run_simulator("--port", port)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"frontier-sim: --port must be 0 to 65535, not {port}"
    ]
    from_env = subprocess.run(
        [sys.executable, "-m", "simulator"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "FRONTIER_SIM_PORT": port},
    )
    assert from_env.returncode == 2
    assert "Traceback" not in from_env.stderr


def children(pid: int) -> list[int]:
    """The pids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # a zombie serves nothing


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_the_worker_dies_when_frontier_sim_is_killed_hard() -> None:
    """SIGKILL to frontier-sim alone (not its group): its worker goes too, and the port is
    free again within a bounded wait. No ghost keeps serving the old state."""
    sim = start_frontier_sim("--quiet")
    try:
        workers = children(sim.process.pid)
        assert workers, "granian's worker process wasn't found"
        sim.process.send_signal(signal.SIGKILL)
        sim.process.wait(10)
        deadline = time.monotonic() + GONE_WITHIN
        while time.monotonic() < deadline and (
            any(alive(w) for w in workers) or not port_free(sim.port)
        ):
            time.sleep(0.1)
        assert not [w for w in workers if alive(w)]
        assert port_free(sim.port)
    finally:
        sim.stop()  # kills the group: whatever is left, if the test failed
