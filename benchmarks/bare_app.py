"""The physical limit: a bare Flask endpoint that parses a create body and keeps it in a dict.

Served by granian with the settings `frontier-sim` uses, through the same WSGI-over-ASGI
shell, so the only difference the throughput benchmark sees is the simulator's own work.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

from flask import Flask, Response, request

from simulator.web.cli import DEFAULTS, server_settings, tune_gc
from simulator.web.shell import WsgiOverAsgi

app = Flask(__name__)
_groups: dict[str, Any] = {}
_lock = threading.Lock()
_ids = itertools.count(1)


@app.post("/v1/gateway/groups")
def create_group() -> Response:
    body = json.loads(request.get_data(cache=False))
    with _lock:
        group_id = f"g{next(_ids)}"
        _groups[group_id] = body
    return Response(json.dumps({"id": group_id, **body}), mimetype="application/json")


tune_gc()  # runs in granian's worker, which imports this module: as frontier-sim's worker


def main(argv: Sequence[str] | None = None) -> None:
    default_threads = DEFAULTS["threads"]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=default_threads)
    parser.add_argument(
        "--wsgi",
        action="store_true",
        help="serve on granian's own WSGI interface instead of frontier-sim's shell",
    )
    args = parser.parse_args(argv)
    from granian import Granian
    from granian.constants import Interfaces

    settings = server_settings()
    if args.wsgi:  # what frontier-sim ran on before its shell: the shell's cost, measured
        settings = {**settings, "interface": Interfaces.WSGI, "blocking_threads": args.threads}
        Granian("benchmarks.bare_app:app", address="127.0.0.1", port=args.port, **settings).serve()
        return
    server = Granian("benchmarks.bare_app:app", address="127.0.0.1", port=args.port, **settings)
    server.serve(target_loader=partial(served, args.threads), wrap_loader=False)


def served(threads: int) -> WsgiOverAsgi:
    """The app as frontier-sim's worker serves its own (in granian's worker process)."""
    return WsgiOverAsgi(app, threads=threads, inline=lambda environ: True)  # it never waits


if __name__ == "__main__":
    main()
