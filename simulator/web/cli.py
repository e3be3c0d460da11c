"""`frontier-sim`: serve the simulator on granian, a multi-threaded production WSGI server.

One worker process holds the one in-memory store; its request threads share it under
the store's lock.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import signal
import socket
import sys
from collections.abc import Sequence
from functools import partial
from typing import Any

from simulator.core.config import Config, ConfigError, default_config, describe, load_config
from simulator.harness.seed import SeededKey, SeedError, load_seed
from simulator.web.app import create_app
from simulator.web.control import harness


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontier-sim",
        description="Serve an in-memory Frontier Gateway with its default workspaces and keys.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument("--config", metavar="FILE", help="YAML or JSON file of workspaces and keys")
    parser.add_argument(
        "--threads", type=int, default=8, help="request threads (default: %(default)s)"
    )
    parser.add_argument(
        "--strict-fields",
        action="store_true",
        help="refuse unknown request fields instead of ignoring them (rule EXTRA-FIELDS)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        metavar="N",
        help="largest request body accepted (default: 1 MiB)",
    )
    parser.add_argument(
        "--seed",
        metavar="FILE",
        help="YAML or JSON file of groups, API keys and endpoints to create at start",
    )
    parser.add_argument(
        "--no-control-api",
        dest="control_api",
        action="store_false",
        help="leave out the test-only /_sim/ routes and the X-Sim-Fault header",
    )
    return parser


def resolve_config(args: argparse.Namespace) -> Config:
    config = load_config(args.config) if args.config else default_config()
    overrides: dict[str, Any] = {}
    if args.strict_fields:
        overrides["strict_fields"] = True
    if args.max_body_bytes is not None:
        if args.max_body_bytes < 1:
            raise ConfigError("--max-body-bytes must be at least 1")
        overrides["max_body_bytes"] = args.max_body_bytes
    if not overrides:
        return config
    return Config(**{**config.__dict__, **overrides})


def banner(
    config: Config, url: str, seeded: Sequence[SeededKey] = (), control_api: bool = True
) -> str:
    lines = [f"Frontier Gateway simulator listening on {url}", f"Workspaces ({config.source}):"]
    for workspace, keys in describe(config).items():
        lines.append(f"  {workspace}")
        lines.extend(f"    {key:<28} {role}" for key, role in keys)
    if seeded:
        lines.append("Seeded group API keys (plaintext, shown once):")
        lines.extend(f"  {k.workspace}/{k.group:<20} {k.api_key}" for k in seeded)
    if control_api:
        lines.append(f"Control API (test only, no key): {url}/_sim/  (off: --no-control-api)")
    lines.append("Try: curl -H 'Authorization: Api-Key <key>' " + url + "/v1/gateway/groups/<id>")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = resolve_config(args)
    except ConfigError as error:
        print(f"frontier-sim: invalid configuration: {error}", file=sys.stderr)
        return 2
    try:
        state, seeded = seeded_state(config, args.seed)
    except ConfigError as error:
        print(f"frontier-sim: invalid seed: {error}", file=sys.stderr)
        return 2
    port = args.port or _free_port(args.host)
    if _binds_beyond_loopback(args.host):
        print(
            f"frontier-sim: WARNING: bound to {args.host}, reachable from other machines; "
            "its keys are public defaults.",
            file=sys.stderr,
        )
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(banner(config, f"http://{host}:{port}", seeded, args.control_api), flush=True)
    serve(config, args.host, port, args.threads, state=state, control_api=args.control_api)
    print("frontier-sim: stopped.", flush=True)
    return 0


def seeded_state(
    config: Config, seed_file: str | None
) -> tuple[dict[str, Any] | None, list[SeededKey]]:
    """The seed's state and keys, created here once: a refusal stops start-up, and the
    worker process starts from this exact state (its ids, and the keys the banner shows).
    """
    if seed_file is None:
        return None, []
    try:
        bench = harness(create_app(config, seed=load_seed(seed_file)))
    except SeedError as error:
        raise ConfigError(str(error)) from error
    return bench.export_state(), bench.seeded_keys


def serve(
    config: Config,
    host: str,
    port: int,
    threads: int,
    *,
    state: dict[str, Any] | None = None,
    control_api: bool = True,
) -> None:
    from granian import Granian  # imported here: `--help` and config errors stay instant

    settings = server_settings(threads)
    server = Granian("simulator.web.app:create_app", address=host, port=port, **settings)
    loader = partial(_load_app, config, state, control_api)
    server.serve(target_loader=loader, wrap_loader=False)


def server_settings(threads: int) -> dict[str, Any]:
    """Granian's settings for the simulator (the throughput benchmark's reference uses them too)."""
    from granian.constants import Interfaces

    return {
        "interface": Interfaces.WSGI,
        "workers": 1,  # one process, one store
        "blocking_threads": max(1, threads),
        "log_enabled": False,  # no access log: an Authorization header is never written anywhere
        # A worker that doesn't stop within this many seconds of Ctrl-C is killed; in-memory
        # state has nothing to flush.
        "workers_kill_timeout": 10,
    }


def _load_app(config: Config, state: dict[str, Any] | None = None, control_api: bool = True) -> Any:
    # Runs in granian's worker process. Ctrl-C in a terminal reaches the whole process
    # group; left to the worker too, it races granian's own shutdown and can hang both
    # processes. The parent alone handles it and stops the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    app = create_app(config, control_api=control_api)
    if state is not None:
        harness(app).start_from(state)  # what the seed made, ids and digests alike
    tune_gc()
    return app


def tune_gc() -> None:
    """Collects cyclic garbage less often, for throughput and shorter pauses.

    A request frees nearly all it allocates by reference counting, while the store's
    objects live long; the default threshold (700) ran a collection every few dozen
    creates. What start-up made is frozen out of every later collection.
    """
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _binds_beyond_loopback(host: str) -> bool:
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host != "localhost"


if __name__ == "__main__":
    sys.exit(main())
