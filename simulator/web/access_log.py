"""The access log of `frontier-sim`: one line per request on the console.

Each line holds the time, the method, the path (without its query string), the status, the
rule ID the answer named in `X-Frontier-Rule` (`-` when none) and how long the simulator
took until the answer started. Nothing else from the request is written: never a key, an
`Authorization` value or a body. `text` lines are for people, `json` lines for tools.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from simulator.web.app import RULE_HEADER

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

TEXT, JSON = "text", "json"
FORMATS = (TEXT, JSON)
_RULE = RULE_HEADER.lower()
_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # what a path may hold unescaped (RFC 3986 pchar and "/")


class AccessLog:
    """WSGI middleware writing one line per request to `stream`."""

    def __init__(
        self,
        app: WSGIApplication,
        stream: TextIO,
        log_format: str = TEXT,
        *,
        clock: Callable[[], float] = time.perf_counter,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if log_format not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
        self.app, self.stream, self.log_format = app, stream, log_format
        self.clock, self.wall = clock, wall
        self.lock = threading.Lock()
        self.broken = False  # the console went away (a closed pipe): serving goes on
        self._stamps = (-1, "", "")  # (second, local HH:MM:SS, UTC date and time) of the last

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = self.clock()
        seen: dict[str, Any] = {"status": 500, "rule": None}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = int(status.split(" ", 1)[0])
            seen["rule"] = next((v for k, v in headers if k.lower() == _RULE), None)
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, capture)
        finally:  # also when the app raised: the line says 500
            self.write(environ, seen["status"], seen["rule"], self.clock() - started)

    def write(
        self, environ: WSGIEnvironment, status: int, rule: str | None, seconds: float
    ) -> None:
        if self.broken:
            return
        line = self.line(
            str(environ.get("REQUEST_METHOD", "-")),
            str(environ.get("PATH_INFO", "")),
            status,
            rule,
            seconds,
        )
        with self.lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed pipe or stream: stop logging, keep serving
                self.broken = True

    def line(self, method: str, path: str, status: int, rule: str | None, seconds: float) -> str:
        local, utc = self._stamp(self.wall())
        shown = quote(path.encode("latin-1", "replace"), safe=_PATH_SAFE)  # WSGI's path text
        duration_ms = round(seconds * 1000, 2)
        if self.log_format == JSON:
            return json.dumps(
                {
                    "time": utc,
                    "method": method,
                    "path": shown,
                    "status": status,
                    "rule": rule,
                    "duration_ms": duration_ms,
                }
            )
        return f"{local} {method} {shown} {status} {rule or '-'} {duration_ms:.1f} ms"

    def _stamp(self, wall: float) -> tuple[str, str]:
        """The local time of day and the UTC timestamp; formatting a time zone takes longer
        than the rest of a line, so each second is formatted once."""
        second = int(wall)
        cached, local, utc = self._stamps
        if second != cached:
            local = time.strftime("%H:%M:%S", time.localtime(second))
            utc = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._stamps = (second, local, utc)  # one assignment: threads see either tuple
        return local, f"{utc}.{int((wall - second) * 1000):03d}Z"
