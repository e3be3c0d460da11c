"""Inference measures: completions through enforcement against FakeAI and the simulator's own
create throughput, enforcement's cost by depth, concurrent streams and meter memory.

`python -m benchmarks.inference cost|memory` runs one in-process measure and prints a JSON
line (as `benchmarks.inprocess` does); the socket measures are driven from `benchmarks.run`.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.inprocess import Caller
from benchmarks.load import Load, LoadResult, median_result
from benchmarks.servers import (
    API_KEY,
    CREATE_PATH,
    Server,
    launch,
    simulator_argv,
    start,
    stop,
)
from benchmarks.streams import StreamsResult, run_streams
from benchmarks.throughput import WARM_UP, measure
from simulator.core.config import DEFAULT_CONFIG, config_from_mapping
from simulator.web.app import create_app
from simulator.web.server import free_port

SLUG = "bench/model"
CHAT_PATH = "/v1/chat/completions"
CHAT_SCRIPT = Path(__file__).with_name("chat.lua")
FAKEAI_DIR = Path(__file__).with_name(".fakeai")
FAKEAI_PACKAGES = ("fakeai", "pillow")  # fakeai imports PIL without declaring it
# Thresholds far above anything a run reaches: every call is checked, none refused.
HUGE = 10**15
STREAM_WORDS = 50  # tokens per streamed reply


class FakeAIUnavailable(RuntimeError):
    """FakeAI can't be installed or run here; the message says why."""


def ensure_fakeai() -> Path:
    """FakeAI's executable, installed into the git-ignored `.fakeai/` venv on first use."""
    script = FAKEAI_DIR / "bin" / "fakeai"
    if script.exists():
        return script
    python = FAKEAI_DIR / "bin" / "python"
    steps = [
        [sys.executable, "-m", "venv", str(FAKEAI_DIR)],
        [str(python), "-m", "pip", "install", "-q", *FAKEAI_PACKAGES],
    ]
    for argv in steps:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            shutil.rmtree(FAKEAI_DIR, ignore_errors=True)
            raise FakeAIUnavailable(f"{' '.join(argv[:4])} failed: {done.stderr.strip()[-300:]}")
    return script


def fakeai_argv(port: int) -> list[str]:
    """FakeAI with no artificial delay and any key accepted, as in its own quick start."""
    return [
        str(ensure_fakeai()),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--response-delay",
        "0",
        "--no-random-delay",
        "--empty-api-key",
    ]


def chat_body(model: str = SLUG, *, stream: bool = False, max_tokens: int = 16) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": max_tokens,
    }
    if stream:
        body["stream"] = True
    return body


def start_fakeai(port: int, timeout: float = 120.0) -> Server:
    """FakeAI, once it answers a completion (its start-up takes seconds)."""
    server = launch("FakeAI", fakeai_argv(port), port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            stop(server)
            raise FakeAIUnavailable(f"FakeAI exited early:\n{server.output()[-1500:]}")
        if _post(port, CHAT_PATH, chat_body("openai/gpt-oss-120b"), "any")[0] == 200:
            return server
        time.sleep(0.2)
    stop(server)
    raise FakeAIUnavailable(f"FakeAI gave no 200 within {timeout:.0f} s")


def simulator_config_file(inter_token_ms: int = 0) -> Path:
    """A configuration: the default workspaces, and a slug whose reply streams slowly."""
    words = " ".join(f"word{i}" for i in range(STREAM_WORDS))
    data = dict(DEFAULT_CONFIG)
    data["inference"] = {"models": {SLUG: {"text": words, "inter_token_ms": inter_token_ms}}}
    config_from_mapping(data)  # refuse a bad configuration here, not in the server's log
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  # lives as long as the run
        "w", suffix=".yaml", prefix="bench-sim-", delete=False
    )
    with handle:
        yaml.safe_dump(data, handle)
    return Path(handle.name)


# Groups over HTTP: a chain of CASCADING groups and a key under its deepest one.


def limited_body(name: str, parent: str | None, mode: str = "CASCADING") -> dict[str, Any]:
    return {
        "metadata": {"external_entity_id": name},
        "models": [
            {
                "slug": SLUG,
                "rate_limits": [
                    {"type": "REQUEST", "unit": "SECOND", "threshold": HUGE},
                    {"type": "TOKEN", "unit": "MINUTE", "threshold": HUGE},
                ],
                "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": HUGE}],
            }
        ],
        "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent},
    }


def provision(port: int, levels: int, name: str) -> str:
    """Creates a chain of `levels` limited groups; returns a key minted under the deepest."""
    parent: str | None = None
    for level in range(levels):
        status, payload = _post(port, CREATE_PATH, limited_body(f"{name}-{level}", parent))
        if status != 200:
            raise RuntimeError(f"create answered {status}: {payload}")
        parent = payload["id"]
    status, payload = _post(port, f"{CREATE_PATH}/{parent}/api_keys", {"name": name})
    if status != 200:
        raise RuntimeError(f"minting a key answered {status}: {payload}")
    key: str = payload["api_key"]
    return key


def _post(port: int, path: str, body: Any, key: str = API_KEY) -> tuple[int | None, Any]:
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw.startswith(b"{") else raw
    except OSError:
        return None, None
    finally:
        connection.close()


# Measures over a socket.


@dataclass(frozen=True)
class ThroughputFigures:
    completions: LoadResult  # depth-5 CASCADING leaf, every call through five groups' meters
    creates: LoadResult  # documented creates on the same server
    fakeai: LoadResult


def throughput(load: Load, rounds: int) -> ThroughputFigures:
    """Alternating wrk rounds: simulator completions, FakeAI completions, simulator creates."""
    sim_port, fake_port = free_port(), free_port()
    config = simulator_config_file()
    servers = [start("frontier-sim", simulator_argv(sim_port, "--config", str(config)), sim_port)]
    try:
        servers.append(start_fakeai(fake_port))
        key = provision(sim_port, 5, "bench-load")
        sim, fake = servers
        jobs: dict[str, Callable[[Load, str], LoadResult]] = {
            "completions": lambda ld, _p: measure(sim, ld, "", script=CHAT_SCRIPT, args=(key,)),
            "fakeai": lambda ld, _p: measure(
                fake, ld, "", script=CHAT_SCRIPT, args=("any", "openai/gpt-oss-120b")
            ),
            "creates": lambda ld, prefix: measure(sim, ld, prefix),
        }
        warm = Load(load.threads, load.connections, WARM_UP)
        for name, job in jobs.items():
            job(warm, f"warm-{name}")
        results: dict[str, list[LoadResult]] = {name: [] for name in jobs}
        names = list(jobs)
        for i in range(rounds):
            for name in names if i % 2 == 0 else names[::-1]:
                results[name].append(jobs[name](load, f"round{i}"))
    finally:
        for server in servers:
            stop(server)
        config.unlink()
    medians = {name: median_result(r) for name, r in results.items()}
    return ThroughputFigures(medians["completions"], medians["creates"], medians["fakeai"])


@dataclass(frozen=True)
class StreamFigures:
    gap_ms: int
    streams: StreamsResult
    seconds: float  # wall time of the whole batch


def concurrent_streams(streams: int, gap_ms: int) -> StreamFigures:
    """`streams` streamed completions at once, each of STREAM_WORDS tokens `gap_ms` apart.

    Every stream holds one of the server's request threads while it is paced, so the server
    runs with a thread per stream.
    """
    port = free_port()
    config = simulator_config_file(inter_token_ms=gap_ms)
    argv = simulator_argv(port, "--config", str(config), "--threads", str(streams + 8))
    server = start("frontier-sim", argv, port)
    try:
        key = provision(port, 5, "bench-streams")
        started = time.perf_counter()
        result = run_streams(port, key, SLUG, streams, STREAM_WORDS)
        return StreamFigures(gap_ms, result, time.perf_counter() - started)
    finally:
        stop(server)
        config.unlink()


# In-process measures.


def _caller_with_key(levels: int, name: str, mode: str = "CASCADING") -> Caller:
    """An app with a chain of `levels` groups, and a caller holding the deepest one's key."""
    admin = Caller(create_app())
    parent: str | None = None
    for level in range(levels):
        parent, _ = admin.create(limited_body(f"{name}-{level}", parent, mode))
    status, payload, _ = admin.call("POST", f"{CREATE_PATH}/{parent}/api_keys", {})
    if status != 200:
        raise RuntimeError(f"minting a key answered {status}: {payload}")
    return Caller(admin.app, payload["api_key"])


def enforcement_cost(samples: int) -> dict[str, Any]:
    """Median µs of one completion through a root's meters and through a depth-5 chain's.

    Two apps, sampled in turn, so drift of the machine hits both alike.
    """
    callers = {"root": _caller_with_key(1, "root"), "depth5": _caller_with_key(5, "deep")}
    times: dict[str, list[float]] = {name: [] for name in callers}
    for _ in range(200):  # warm-up: lazy imports and caches
        for caller in callers.values():
            caller.call("POST", CHAT_PATH, chat_body())
    for _ in range(samples):
        for name, caller in callers.items():
            status, payload, elapsed = caller.call("POST", CHAT_PATH, chat_body())
            if status != 200:
                raise RuntimeError(f"completion answered {status}: {payload}")
            times[name].append(elapsed)
    return {name: statistics.median(t) * 1e6 for name, t in times.items()}


def window_memory(groups: int) -> dict[str, Any]:
    """Bytes the meters hold per 1,000 active rate windows (tracemalloc).

    Each root group has two rate limits (REQUEST/SECOND, TOKEN/MINUTE) and one usage limit;
    one call per group makes its two rate windows active. Groups and keys are created before
    tracing starts, so only what the calls add is counted; the control API is off, so the
    request journal counts nothing either.
    """
    admin = Caller(create_app(control_api=False))
    keys = []
    for index in range(groups):
        group_id, _ = admin.create(limited_body(f"mem-{index}", None, "INDEPENDENT"))
        _, payload, _ = admin.call("POST", f"{CREATE_PATH}/{group_id}/api_keys", {})
        keys.append(payload["api_key"])
    Caller(admin.app, keys[0]).call("POST", CHAT_PATH, chat_body())  # first-use allocations
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for key in keys[1:]:
        status, payload, _ = Caller(admin.app, key).call("POST", CHAT_PATH, chat_body())
        if status != 200:
            raise RuntimeError(f"completion answered {status}: {payload}")
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    windows = 2 * (groups - 1)
    return {"windows": windows, "bytes_per_1000_windows": (after - before) / windows * 1000}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inference")
    parser.add_argument("measure", choices=["cost", "memory"])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.measure == "cost":
        result = enforcement_cost(args.samples)
    else:
        result = window_memory(args.groups)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
