"""What the inference checks work with: groups with keys, calls to the inference route, their
streams, and the simulator's clock when the target has one.

Calls go straight to the transport: a 429 is what these checks look for, so nothing here
backs off. Groups and keys are made through `Session`, so clean-up deletes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from conformance.bodies import INDEPENDENT, SLUG, group_body, limit, model
from conformance.registry import CheckFailed, NotRun
from conformance.session import Session
from conformance.target import Reply, Streamed

COMPLETIONS = "/v1/chat/completions"
CLOCK = "/_sim/clock"
PROMPT = "Say hello."
NO_CLOCK = (
    "needs a clock the run can move (the simulator's /_sim/clock): this check crosses "
    "a window's end"
)


@dataclass(frozen=True)
class Member:
    """A group this run made, and a key minted under it."""

    group: dict[str, Any]
    key: str

    @property
    def id(self) -> str:
        return str(self.group["id"])


def request_limits(threshold: int, unit: str = "MINUTE") -> list[dict[str, Any]]:
    return [model(SLUG, rate=[limit("REQUEST", unit, threshold)])]


def member(
    s: Session,
    models: list[dict[str, Any]] | None = None,
    *,
    mode: str = INDEPENDENT,
    parent: Member | None = None,
    label: str = "inference",
) -> Member:
    """A group (a child of `parent` if given) and a key minted under it."""
    body = group_body(
        s.external_id(label), models=models, mode=mode, parent=parent.id if parent else None
    )
    group = s.group(body)
    return Member(group, mint(s, group["id"]))


def mint(s: Session, group_id: str) -> str:
    reply = s.mint_key(group_id)
    answer = reply.json
    if not reply.ok or not isinstance(answer, dict) or not isinstance(answer.get("api_key"), str):
        raise CheckFailed(
            f"Setup: minting a key was refused. Received: {reply.describe()} / Documented: 200 "
            "with the key's plaintext in api_key"
        )
    return str(answer["api_key"])


def completion_body(slug: str = SLUG, prompt: str = PROMPT, **fields: object) -> dict[str, Any]:
    return {"model": slug, "messages": [{"role": "user", "content": prompt}], **fields}


def call(
    s: Session,
    key: str | None,
    body: Any = None,
    *,
    scheme: str = "Api-Key",
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One POST to the inference route, with `key` (None: no Authorization header)."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        sent["Authorization"] = f"{scheme} {key}"
    data = raw if raw is not None else json.dumps(body or completion_body()).encode()
    return s.run.transport.send("POST", COMPLETIONS, sent, data)


def stream(s: Session, key: str, body: dict[str, Any], **headers: str) -> Streamed:
    sent = {"Content-Type": "application/json", "Authorization": f"Api-Key {key}", **headers}
    return s.run.transport.stream("POST", COMPLETIONS, sent, json.dumps(body).encode())


def events(text: str) -> list[str]:
    """The `data:` payloads of a server-sent event stream, in order."""
    found = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if data:
            found.append("\n".join(data))
    return found


def expect(s: Session, reply: Reply, status: int, what: str) -> Any:
    """The answer's JSON, once its status is `status`."""
    s.expect_status(reply, status, what)
    return reply.json


def calls_until(s: Session, key: str, status: int, limit_: int, body: Any = None) -> int:
    """How many calls answered 200 before one answered `status` (at most `limit_` calls)."""
    for admitted in range(limit_):
        reply = call(s, key, body)
        if reply.status == status:
            return admitted
        s.expect_status(reply, 200, f"for call {admitted + 1}, within the limit")
    raise CheckFailed(
        f"Received: {limit_} calls admitted in a row / Documented: {status} once the limit is used"
    )


def usage_entry(s: Session, group_id: str, type_: str) -> dict[str, Any]:
    """The group's usage entry of `type_`/DAY for SLUG."""
    reply = s.send("GET", f"/v1/gateway/groups/{group_id}/usage")
    answer = expect(s, reply, 200, "for the usage of a group this run created")
    entries = (answer.get("usage") or {}).get(SLUG) if isinstance(answer, dict) else None
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("type") == type_ and entry.get("unit") == "DAY":
            return entry
    raise CheckFailed(
        f"Received: {reply.describe()} / Documented: an entry for {SLUG} {type_}/DAY, the "
        "group's usage limit"
    )


class Clock:
    """The simulator's clock, frozen for one check: `advance(seconds)` moves it."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def set(self, time: str) -> None:
        reply = self._control("PUT", CLOCK, {"time": time, "frozen": True})
        if reply.status != 200:
            raise NotRun(NO_CLOCK)

    def advance(self, seconds: float) -> None:
        reply = self._control("POST", CLOCK + "/advance", {"seconds": seconds})
        self.s.expect_status(reply, 200, "from the simulator's clock")

    def release(self) -> None:
        self._control("DELETE", CLOCK, None)

    def _control(self, method: str, path: str, body: Any) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        # X-Sim-Control: the simulator takes state-changing control calls only with it.
        headers = {"X-Sim-Control": "1", **({"Content-Type": "application/json"} if data else {})}
        return self.s.run.transport.send(method, path, headers, data)


@contextmanager
def frozen_clock(s: Session, time: str) -> Iterator[Clock]:
    """The target's clock frozen at `time` for the block, then back to real time; NotRun
    when the target has no clock a run can move."""
    clock = Clock(s)
    clock.set(time)
    try:
        yield clock
    finally:
        clock.release()
