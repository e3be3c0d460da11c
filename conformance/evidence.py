"""What a failure card shows: the request a check sent last and the exact answer it got.

Keys never appear: an `Authorization` header names the environment variable of the option
that gave the key (`Api-Key $FRONTIER_API_KEY`), so the `curl` line both hides the secret and
reproduces the request once the variable is set.
"""

from __future__ import annotations

import json
import re
import shlex
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from conformance.target import Reply, Streamed, Transport

BODY = 4000  # characters of a request or answer body kept in a report
HISTORY = 64  # exchanges of one check kept to find the one a failure describes
BASE_URL = "$FRONTIER_BASE_URL"  # the curl line's base when the target is an in-process app
# The environment variable of each key option, by the role the run gives it.
KEY_VARIABLES = {
    "api": "FRONTIER_API_KEY",
    "view": "FRONTIER_VIEW_KEY",
    "other": "FRONTIER_OTHER_WORKSPACE_KEY",
    "not_onboarded": "FRONTIER_NOT_ONBOARDED_KEY",
    "no_public_key": "FRONTIER_NO_PUBLIC_KEY_WORKSPACE_KEY",
}


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, secrets filtered."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: str | None
    status: int
    response_headers: dict[str, str]
    response: str
    base_url: str = BASE_URL

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "curl": self.curl()}

    def curl(self) -> str:
        """A command that sends the same request (keys read from their variables)."""
        parts = ["curl", "-X", self.method, _quote(self.base_url + self.path)]
        for name, value in self.headers.items():
            parts += ["-H", _quote(f"{name}: {value}")]
        if self.body is not None:
            parts += ["--data-raw", _quote(self.body)]
        return " ".join(parts)

    def request_text(self) -> str:
        lines = [f"{self.method} {self.path}", *(f"{k}: {v}" for k, v in self.headers.items())]
        return "\n".join(lines + ([f"\n{_pretty(self.body)}"] if self.body is not None else []))

    def response_text(self) -> str:
        lines = [str(self.status), *(f"{k}: {v}" for k, v in self.response_headers.items())]
        return "\n".join(lines + ([f"\n{self.response}"] if self.response else []))


def _quote(text: str) -> str:
    """Single quotes, but a leading `$VARIABLE` (and an Authorization value) stays expandable."""
    for variable in (BASE_URL, *(f"${v}" for v in KEY_VARIABLES.values())):
        if variable in text:
            head, _, tail = text.partition(variable)
            return f'"{head}{variable}"' + (shlex.quote(tail) if tail else "")
    return shlex.quote(text)


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _text(body: bytes | str | None) -> str | None:
    if body is None:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text if len(text) <= BODY else text[: BODY - 1] + "…"


class Redactor:
    """Replaces each key of the run with its variable, in headers and in any text."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        # Longest first, so a key that contains another is replaced whole.
        self.keys = sorted(
            (
                (key, f"${KEY_VARIABLES.get(role, 'FRONTIER_API_KEY')}")
                for role, key in keys.items()
            ),
            key=lambda pair: -len(pair[0]),
        )

    def __call__(self, text: str) -> str:
        for key, variable in self.keys:
            text = text.replace(key, variable)
        return text

    def exchange(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes | str | None,
        reply: Reply,
        base_url: str | None,
    ) -> Exchange:
        return Exchange(
            method=method.upper(),
            path=self(path),
            headers={name: self(value) for name, value in headers.items()},
            body=_text(body),
            status=reply.status,
            response_headers=dict(reply.headers.items()),
            response=_text(reply.text) or "",
            base_url=base_url.rstrip("/") if base_url else BASE_URL,
        )

    def response(self, method: str, url: str, headers: Mapping[str, str], body: Any,
                 reply: Reply) -> Exchange:  # fmt: skip
        """An exchange from a full URL (schemathesis's requests)."""
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else None
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.exchange(method, path, headers, body, reply, base)


class Witness:
    """A transport that remembers the exchanges of the current check (for its failure card)."""

    def __init__(self, inner: Transport, redact: Redactor, base_url: str | None) -> None:
        self.inner = inner
        self.redact = redact
        self.base_url = base_url
        self.history: deque[Exchange] = deque(maxlen=HISTORY)

    @property
    def last(self) -> Exchange | None:
        return self.history[-1] if self.history else None

    def forget(self) -> None:
        self.history.clear()

    def behind(self, message: str) -> Exchange | None:
        """The exchange a failure message describes: the latest whose status and start of body
        match its `Received: <status> <body>`, else the latest with that status, else the last."""
        found = re.search(r"Received: (\d{3})\b ?(.*)", message)
        if found is None:
            return self.last
        status, body = int(found.group(1)), " ".join(found.group(2).split())[:40]
        same = [e for e in reversed(self.history) if e.status == status]
        matching = [e for e in same if " ".join(e.response.split()).startswith(body)]
        return next(iter(matching or same), self.last)

    def send(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> Reply:
        reply = self.inner.send(method, path, headers, body)
        self.history.append(self.redact.exchange(method, path, headers, body, reply, self.base_url))
        return reply

    def stream(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> Streamed:
        answer = self.inner.stream(method, path, headers, body)
        reply = Reply(answer.status, answer.headers, answer.text)
        self.history.append(self.redact.exchange(method, path, headers, body, reply, self.base_url))
        return answer

    def __getattr__(self, name: str) -> Any:  # what else the transport offers
        return getattr(self.inner, name)
