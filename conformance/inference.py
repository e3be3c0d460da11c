"""What the inference checks work with: groups with keys, calls to the inference route, their
streams, the run's budget of calls, and the simulator's clock when the target has one.

Calls go to the inference target (`--inference-url`, else the management target) straight
through its transport: a 429 is what these checks look for, so nothing here backs off. Each
call spends one of the run's `--inference-budget`, and each check says up front how many it
may make (`costs`), so a check the budget can't cover is not run rather than cut short.
Groups and keys are made through `Session`, so clean-up deletes them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from conformance.bodies import INDEPENDENT, SLUG, group_body, limit, model
from conformance.recording import RecordingTransport
from conformance.registry import CheckFailed, CheckFunction, NotRun
from conformance.session import Run, Session
from conformance.target import STOP, HttpTransport, Reply, Streamed, Transport

COMPLETIONS = "/v1/chat/completions"
CLOCK = "/_sim/clock"
PROMPT = "Say hello."
NO_CLOCK = (
    "crosses the end of a {window} window, which a run can't wait out against a deployment: "
    "needs a clock the run can move (the simulator's /_sim/clock)"
)


class Calls:
    """The run's way to the inference route: its transport, and the calls left in its budget."""

    def __init__(self, run: Run) -> None:
        options = run.options
        self.transport: Transport = run.transport
        if options.inference_url is not None:
            self.transport = HttpTransport(inference_root(options.inference_url))
            if run.recording is not None:
                self.transport = RecordingTransport(self.transport, run.recording)
        self.budget = options.inference_budget
        self.used = 0

    @classmethod
    def of(cls, run: Run) -> Calls:
        """The run's one `Calls`, made at its first use."""
        calls = run.cache.get(cls.__name__)
        if not isinstance(calls, Calls):
            calls = run.cache[cls.__name__] = cls(run)
        return calls

    @property
    def left(self) -> int:
        return self.budget - self.used

    def need(self, calls: int) -> None:
        """NotRun unless `calls` more calls fit the budget."""
        if calls > self.left:
            raise NotRun(
                f"the inference budget is spent: this check makes up to {calls} calls and "
                f"{self.left} of --inference-budget {self.budget} are left"
            )

    def send(self, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        self._spend()
        return self.transport.send("POST", path, headers, body)

    def stream(self, path: str, headers: Mapping[str, str], body: bytes) -> Streamed:
        self._spend()
        return self.transport.stream("POST", path, headers, body)

    def _spend(self) -> None:
        if STOP.is_set():  # Ctrl-C: stop between two requests, as the management calls do
            raise KeyboardInterrupt
        self.need(1)
        self.used += 1


def inference_root(url: str) -> str:
    """The URL the route's path goes after: `https://inference.baseten.co/v1`, as documented,
    or without its `/v1`."""
    root = url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def costs(calls: int) -> Callable[[CheckFunction], CheckFunction]:
    """A check making at most `calls` inference calls: not run unless the budget covers them."""

    def wrap(function: CheckFunction) -> CheckFunction:
        @functools.wraps(function)
        def check(s: Session) -> None:
            Calls.of(s.run).need(calls)
            function(s)

        return check

    return wrap


def calls_used(run: Run) -> int | None:
    """The inference calls the run made, or None when it checked no inference."""
    calls = run.cache.get(Calls.__name__)
    if isinstance(calls, Calls):
        return calls.used
    return 0 if run.options.checks_inference else None


@dataclass(frozen=True)
class Member:
    """A group this run made, and a key minted under it."""

    group: dict[str, Any]
    key: str

    @property
    def id(self) -> str:
        return str(self.group["id"])

    @property
    def external_id(self) -> str:
        return str(self.group["metadata"]["external_entity_id"])

    @property
    def prefix(self) -> str:
        """The key's prefix: what comes before its first dot."""
        return self.key.split(".")[0]


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
    return Calls.of(s.run).send(COMPLETIONS, sent, data)


def stream(s: Session, key: str, body: dict[str, Any], **headers: str) -> Streamed:
    sent = {"Content-Type": "application/json", "Authorization": f"Api-Key {key}", **headers}
    return Calls.of(s.run).stream(COMPLETIONS, sent, json.dumps(body).encode())


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
    """The simulator's clock at the inference target, frozen for one check: `advance(seconds)`
    moves it. It is used only where a GET of /_sim/clock reads one, so nothing is ever written
    to a deployment that has none."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def set(self, time: str, window: str) -> None:
        reading = self._control("GET", CLOCK, None)
        answer = reading.json
        if reading.status != 200 or not isinstance(answer, dict) or "frozen" not in answer:
            raise NotRun(NO_CLOCK.format(window=window))
        reply = self._control("PUT", CLOCK, {"time": time, "frozen": True})
        self.s.expect_status(reply, 200, "from the simulator's clock")

    def advance(self, seconds: float) -> None:
        reply = self._control("POST", CLOCK + "/advance", {"seconds": seconds})
        self.s.expect_status(reply, 200, "from the simulator's clock")

    def release(self) -> None:
        self._control("DELETE", CLOCK, None)

    def _control(self, method: str, path: str, body: Any) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        # X-Sim-Control: the simulator takes state-changing control calls only with it.
        headers = {"X-Sim-Control": "1", **({"Content-Type": "application/json"} if data else {})}
        return Calls.of(self.s.run).transport.send(method, path, headers, data)


@contextmanager
def frozen_clock(s: Session, time: str, window: str) -> Iterator[Clock]:
    """The target's clock frozen at `time` for the block, then back to real time; NotRun
    when the target has no clock a run can move (`window`, e.g. "minute", says why it's
    needed)."""
    clock = Clock(s)
    clock.set(time, window)
    try:
        yield clock
    finally:
        clock.release()
