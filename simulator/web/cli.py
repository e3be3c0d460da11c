"""`frontier-sim`: serve the simulator on granian, a production HTTP server.

The Flask app is served over granian's ASGI interface (shell.py): on the event loop for a
small create or model call, else in a pool of request threads. One worker process holds the
one in-memory store, shared under the store's lock. Every option also reads a
`FRONTIER_SIM_*` variable; the worker writes the access log (access_log.py) unless `--quiet`.
"""

from __future__ import annotations

import argparse
import gc
import os
import shlex
import signal
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from simulator.core.access import Scope
from simulator.core.config import Config, ConfigError, default_config, describe, load_config
from simulator.harness.seed import SeededKey, SeedError, load_seed
from simulator.web.access_log import FORMATS, TEXT, AccessLog
from simulator.web.app import create_app
from simulator.web.control import harness
from simulator.web.guard import new_token
from simulator.web.index import installed_version
from simulator.web.interceptor import answered_without_waiting
from simulator.web.server import bind_error, die_with_parent, free_port, is_loopback
from simulator.web.shell import WsgiOverAsgi

ENV_PREFIX = "FRONTIER_SIM_"
MAX_PORT = 65535
HEADER_READ_TIMEOUT_MS = 30_000
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
MANAGEMENT_RATE_LIMIT = 100  # MGMT-RATE-LIMIT: on in frontier-sim unless configured otherwise
DEFAULTS: dict[str, Any] = {
    "host": "127.0.0.1",
    "port": 8080,
    # Request threads start as they are needed: a high ceiling costs nothing at rest. A
    # client with a valid key that stalls its upload holds one until its body timeout; 128
    # leave other clients served beside 64 of them.
    "threads": 128,
    "body_timeout": 30,
    "log_format": TEXT,
}
# Each option: its flags, its destination, argparse settings and its help. The environment
# variable of an option is FRONTIER_SIM_ and the long flag in capitals (--no-control-api:
# FRONTIER_SIM_NO_CONTROL_API); a flag given on the command line wins over it.
OPTIONS: list[tuple[str, str, dict[str, Any], str]] = [
    ("--host", "host", {"metavar": "ADDRESS"},
     "address to bind (default 127.0.0.1; anything but loopback prints a warning)"),
    ("--port", "port", {"type": int, "metavar": "PORT"},
     "port; 0 picks a free one (default 8080)"),
    ("--config", "config", {"metavar": "FILE"}, "YAML or JSON file of workspaces and keys"),
    ("--seed", "seed", {"metavar": "FILE"},
     "YAML or JSON file of groups, API keys and endpoints to create at start"),
    ("--threads", "threads", {"type": int, "metavar": "N"},
     "request threads, started as needed (default 128)"),
    ("--body-timeout", "body_timeout", {"type": int, "metavar": "SECONDS"},
     "seconds a request body may take to arrive once read, then 408 (default 30)"),
    ("--strict-fields", "strict_fields", {"action": "store_true", "default": None},
     "refuse unknown request fields instead of ignoring them (rule EXTRA-FIELDS)"),
    ("--max-body-bytes", "max_body_bytes", {"type": int, "metavar": "N"},
     "largest request body accepted (default: 1 MiB)"),
    ("--management-rate-limit", "management_rate_limit", {"type": int, "metavar": "N"},
     "management requests per second per key, then 429 (default 100, the documented limit; "
     "0 turns it off)"),
    ("--no-control-api", "no_control_api", {"action": "store_true", "default": None},
     "leave out the test-only /_sim/ routes and the X-Sim-Fault header"),
    ("--control-token", "control_token", {"metavar": "TOKEN"},
     "the control API's token, sent as X-Sim-Control (default: none on loopback; bound "
     "beyond loopback, a random one, printed at start)"),
    ("--quiet", "quiet", {"action": "store_true", "default": None},
     "no access log: print nothing per request"),
    ("--log-format", "log_format", {"choices": FORMATS},
     "the access log's lines: text for people (default), json for tools"),
]  # fmt: skip


class UsageError(ValueError):
    """An environment variable that doesn't fit its option (exit code 2)."""


def env_name(flag: str) -> str:
    return ENV_PREFIX + flag.removeprefix("--").replace("-", "_").upper()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontier-sim",
        description="Serve an in-memory Frontier Gateway with its default workspaces and keys. "
        "Every option also reads the environment variable shown in brackets; the command "
        "line wins.",
        epilog="Routes: GET / lists the Gateway routes, GET /_sim/ the control API. "
        "Exit codes: 0 stopped, 2 a configuration, seed or option that doesn't fit.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    for flag, dest, settings, text in OPTIONS:
        parser.add_argument(flag, dest=dest, help=f"{text} [{env_name(flag)}]", **settings)
    return parser


def resolve(args: argparse.Namespace, environ: Mapping[str, str]) -> argparse.Namespace:
    """The command line's values, else the environment's, else the defaults."""
    values = vars(args).copy()
    for flag, dest, settings, _ in OPTIONS:
        variable = env_name(flag)
        if values.get(dest) is None and variable in environ:
            values[dest] = _from_env(variable, environ[variable], settings)
        if values.get(dest) is None:
            values[dest] = False if settings.get("action") == "store_true" else DEFAULTS.get(dest)
    values["control_api"] = not values.pop("no_control_api")
    return argparse.Namespace(**values)


def _from_env(variable: str, text: str, settings: Mapping[str, Any]) -> Any:
    if settings.get("action") == "store_true":
        if text.strip().lower() in TRUE:
            return True
        if text.strip().lower() in FALSE:
            return False
        raise UsageError(f"{variable} must be one of 1, true, yes, on, 0, false, no, off")
    if settings.get("type") is int:
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"{variable} must be a whole number, not {text!r}") from None
    choices = settings.get("choices")
    if choices and text not in choices:
        raise UsageError(f"{variable} must be one of {', '.join(choices)}, not {text!r}")
    return text


def resolve_config(args: argparse.Namespace) -> Config:
    config = load_config(args.config) if args.config else default_config()
    overrides: dict[str, Any] = {}
    if args.strict_fields:
        overrides["strict_fields"] = True
    if args.max_body_bytes is not None:
        if args.max_body_bytes < 1:
            raise ConfigError("--max-body-bytes must be at least 1")
        overrides["max_body_bytes"] = args.max_body_bytes
    if args.management_rate_limit is not None:
        if args.management_rate_limit < 0:
            raise ConfigError("--management-rate-limit must be 0 (off) or more")
        overrides["management_rate_limit"] = args.management_rate_limit
    elif config.management_rate_limit is None:  # neither the file nor the command line says
        overrides["management_rate_limit"] = MANAGEMENT_RATE_LIMIT
    if not overrides:
        return config
    return Config(**{**config.__dict__, **overrides})


def banner(
    config: Config,
    url: str,
    seeded: Sequence[SeededKey] = (),
    control_api: bool = True,
    access_log: bool = True,
    token: str | None = None,
) -> str:
    lines = [
        f"Frontier Gateway simulator {installed_version()} listening on {url}",
        f"Workspaces ({config.source}):",
    ]
    for workspace, keys in describe(config).items():
        lines.append(f"  {workspace}")
        lines.extend(f"    {key:<28} {role}" for key, role in keys)
    if seeded:
        lines.append("Seeded group API keys (plaintext, shown once):")
        lines.extend(f"  {k.workspace}/{k.group:<20} {k.api_key}" for k in seeded)
    lines.append(f"Routes: {url}/")
    if config.management_rate_limit:
        lines.append(
            f"Management rate limit: {config.management_rate_limit} requests/s per key "
            "(off: --management-rate-limit 0)"
        )
    for workspace, receiver in config.webhooks.items():
        lines.append(f"Billing webhooks of {workspace}: {receiver.url}")
    if control_api and token:
        lines.append(f"Control API (test only): {url}/_sim/  (off: --no-control-api)")
        lines.append(f"  its token, for every call and X-Sim-Fault: X-Sim-Control: {token}")
    elif control_api:
        lines.append(f"Control API (test only, no key): {url}/_sim/  (off: --no-control-api)")
    lines.append(f"Try: {example_command(config, url)}")
    if access_log:
        lines.append("One line per request follows (off: --quiet).")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def example_command(config: Config, url: str) -> str:
    """A command that works as pasted: list the groups with a key of an onboarded workspace
    (a management key if there is one), else ask for the route index."""
    usable = [key for key in config.keys if key.workspace.onboarded]
    usable.sort(key=lambda key: key.scope != Scope.MANAGEMENT)  # stable: the file's order
    if not usable:
        return f"curl {shlex.quote(url + '/')}"
    header = shlex.quote(f"Authorization: Api-Key {usable[0].key}")
    return f"curl -H {header} {shlex.quote(url + '/v1/gateway/groups')}"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    try:
        args = resolve(build_parser().parse_args(argv), os.environ if environ is None else environ)
    except UsageError as error:
        print(f"frontier-sim: {error}", file=sys.stderr)
        return 2
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
    if not 0 <= args.port <= MAX_PORT:
        print(f"frontier-sim: --port must be 0 to {MAX_PORT}, not {args.port}", file=sys.stderr)
        return 2
    if args.threads < 1 or args.body_timeout < 1:
        print("frontier-sim: --threads and --body-timeout must be at least 1", file=sys.stderr)
        return 2
    port = args.port or free_port(args.host)
    refused = bind_error(args.host, port)
    if refused is not None:
        print(f"frontier-sim: {refused}; choose another --port (0: a free one)", file=sys.stderr)
        return 2
    if _binds_beyond_loopback(args.host):
        print(
            f"frontier-sim: WARNING: bound to {args.host}, reachable from other machines; "
            "its keys are public defaults.",
            file=sys.stderr,
        )
    token = control_token(args)
    text = banner(config, _url(args.host, port), seeded, args.control_api, not args.quiet, token)
    print(text, flush=True)
    serve(
        config,
        args.host,
        port,
        args.threads,
        body_timeout=args.body_timeout,
        state=state,
        control_api=args.control_api,
        access_log=None if args.quiet else args.log_format,
        control_token=token,
    )
    print("frontier-sim: stopped.", flush=True)
    return 0


def control_token(args: argparse.Namespace) -> str | None:
    """The control API's token (SIM-TOKEN): the one given, else a fresh one when bound
    beyond loopback, else none (loopback: Host, Origin and X-Sim-Control guard it)."""
    if not args.control_api:
        return None
    if args.control_token:
        return str(args.control_token)
    return new_token() if _binds_beyond_loopback(args.host) else None


def _url(host: str, port: int) -> str:
    """Where a client on this machine reaches the server: loopback for a wildcard address."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


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
    body_timeout: float = DEFAULTS["body_timeout"],
    state: dict[str, Any] | None = None,
    control_api: bool = True,
    access_log: str | None = TEXT,
    control_token: str | None = None,
) -> None:
    """Serves on granian until Ctrl-C; `access_log` is the log's format, None for none."""
    from granian import Granian  # imported here: `--help` and config errors stay instant

    server = Granian("simulator.web.app:create_app", address=host, port=port, **server_settings())
    loader = partial(
        _load_app, config, state, control_api, access_log, control_token,
        parent=os.getpid(), threads=threads, body_timeout=body_timeout,
    )  # fmt: skip
    server.serve(target_loader=loader, wrap_loader=False)


def server_settings() -> dict[str, Any]:
    """Granian's settings for the simulator (the throughput benchmark's reference uses them too).

    The WSGI app is served over granian's ASGI interface (shell.py): there a body read can
    time out, which granian's WSGI interface can't do.
    """
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    return {
        "interface": Interfaces.ASGI,
        # Headers are read by granian's own runtime, never by a request thread, and a client
        # that hasn't sent them all within this time is disconnected. A body arrives on
        # granian's event loop, and only once the app, having accepted the key in the
        # headers, reads it (shell.py), within the body timeout.
        "http1_settings": HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        "workers": 1,  # one process, one store
        # granian's own log is off: the simulator writes its access log itself (access_log.py),
        # with the rule ID of every answer and never an Authorization header.
        "log_enabled": False,
        # A worker that doesn't stop within this many seconds of Ctrl-C is killed; in-memory
        # state has nothing to flush.
        "workers_kill_timeout": 10,
    }


def _load_app(
    config: Config,
    state: dict[str, Any] | None = None,
    control_api: bool = True,
    access_log: str | None = None,
    control_token: str | None = None,
    *,
    parent: int | None = None,
    threads: int = DEFAULTS["threads"],
    body_timeout: float = DEFAULTS["body_timeout"],
) -> WsgiOverAsgi:
    # Runs in granian's worker process. Ctrl-C in a terminal reaches the whole process
    # group; left to the worker too, it races granian's own shutdown and can hang both
    # processes. The parent alone handles it and stops the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:  # killed hard, the parent can't stop it: it goes by itself
        die_with_parent(parent)
    # reads every file it needs, now
    app = create_app(config, control_api=control_api, control_token=control_token)
    if state is not None:
        harness(app).start_from(state)  # what the seed made, ids and digests alike
    if access_log is not None:
        app.wsgi_app = AccessLog(app.wsgi_app, sys.stdout, access_log)  # type: ignore[method-assign]  # Flask's documented hook
    tune_gc()
    inline = answered_without_waiting(
        harness(app).faults if control_api else None, paced_model=config.models.paced
    )
    return WsgiOverAsgi(app, threads=threads, body_timeout=body_timeout, inline=inline)


def tune_gc() -> None:
    """Collects cyclic garbage less often, for throughput and shorter pauses.

    A request frees nearly all it allocates by reference counting, while the store's
    objects live long; the default threshold (700) ran a collection every few dozen
    creates. What start-up made is frozen out of every later collection.
    """
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def _binds_beyond_loopback(host: str) -> bool:
    return not is_loopback(host)


if __name__ == "__main__":
    sys.exit(main())
