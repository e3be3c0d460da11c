"""Whole-process timings: `frontier-sim` start-up, and the conformance suite's wall time."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

from benchmarks.servers import (
    ROOT,
    console_script,
    launch,
    simulator_argv,
    start,
    stop,
    wait_until_created,
)
from simulator.web.server import free_port

KEYS = [
    "--api-key",
    "sim-manage-acme",
    "--view-key",
    "sim-view-acme",
    "--other-workspace-key",
    "sim-manage-globex",
    "--not-onboarded-key",
    "sim-manage-initech",
]


def startup_seconds(runs: int) -> list[float]:
    """Seconds from launching `frontier-sim` to its first 200, once per run."""
    times = []
    for _ in range(runs):
        port = free_port()
        started = time.perf_counter()
        server = launch("frontier-sim", simulator_argv(port), port)
        try:
            wait_until_created(server, timeout=30)
            times.append(time.perf_counter() - started)
        finally:
            stop(server)
    return times


@dataclass(frozen=True)
class SuiteRun:
    seconds: float
    returncode: int  # 0: every check passed; 1: some failed (the run itself is still timed)
    summary: str


class SuiteUnavailable(RuntimeError):
    """`frontier-conformance` is missing or couldn't run; the message says why."""


def conformance_inprocess() -> SuiteRun:
    return _run_suite(["--app", "simulator.web.app:create_app", *KEYS])


def conformance_http() -> SuiteRun:
    port = free_port()
    server = start("frontier-sim", simulator_argv(port), port)
    try:
        return _run_suite(["--base-url", server.url, *KEYS])
    finally:
        stop(server)


def _run_suite(args: list[str]) -> SuiteRun:
    script = console_script("frontier-conformance")
    if script is None:
        raise SuiteUnavailable("frontier-conformance isn't installed")
    probe = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        last = (probe.stderr.strip() or "(no output)").splitlines()[-1]
        raise SuiteUnavailable(f"frontier-conformance --help failed: {last[:160]}")
    started = time.perf_counter()
    done = subprocess.run(
        [script, *args], capture_output=True, text=True, cwd=ROOT, timeout=900, check=False
    )
    elapsed = time.perf_counter() - started
    last = (done.stdout.strip() or done.stderr.strip() or "(no output)").splitlines()[-1]
    if done.returncode not in (0, 1) or "Traceback (most recent call last)" in done.stderr:
        raise SuiteUnavailable(f"frontier-conformance exited {done.returncode}: {last[:160]}")
    return SuiteRun(elapsed, done.returncode, last[:160])
