"""The management API's own rate limit (M-ratelimit): 100 requests per second per key."""

from __future__ import annotations

import time

from conformance.registry import CheckFailed, NotRun, check
from conformance.session import Session
from conformance.target import MAX_WAIT, Reply, Transport

MESSAGE = "Rate limit exceeded. Please try again later."
LIMIT = 100  # requests per second per key
BURST = 150  # this many requests, one after another, unless a 429 comes first
WINDOW = 1.0  # seconds
PATH = "/v1/gateway/groups?limit=1"  # a read: the burst changes nothing


def _burst(transport: Transport, headers: dict[str, str]) -> tuple[int, float, Reply | None]:
    """(requests sent, seconds taken, the first 429) of a burst on one key, without the
    suite's back-off: it stops at the first 429 or after BURST requests. The count doesn't
    depend on how fast the link is, so two runs against the same target send the same
    requests (a recording compares them)."""
    sent, started = 0, time.monotonic()
    while sent < BURST:
        reply = transport.send("GET", PATH, headers, None)
        sent += 1
        if reply.status == 429:
            return sent, time.monotonic() - started, reply
    return sent, time.monotonic() - started, None


def _documented_429(reply: Reply) -> int | None:
    """`retry_after` of a 429 in the documented shape; None for any other answer."""
    body = reply.json
    if not isinstance(body, dict) or body.get("error") != MESSAGE:
        return None
    wait = body.get("retry_after")
    return wait if isinstance(wait, int) and not isinstance(wait, bool) and wait >= 0 else None


@check("MGMT-RATE-LIMIT")
def management_burst_gets_the_documented_429_and_then_through(s: Session) -> None:
    """MGMT-RATE-LIMIT: a burst of reads on one key gets 429, not before its 101st request
    of a second, with exactly
    `{"error": "Rate limit exceeded. Please try again later.", "retry_after": N}`, and
    after N seconds the key gets through again. Not run when 150 requests get no 429: the
    limit is off, the link can't carry 100 requests a second, or the limit counts fixed
    one-second windows that a burst of 150 may straddle.

    Source: https://docs.baseten.co/reference/management-api/rate-limits
    """
    transport, headers = s.run.transport, {"Authorization": s.api.authorization}
    sent, took, refused = _burst(transport, headers)
    if refused is not None and sent - 1 < LIMIT:  # the key's earlier requests may count
        time.sleep(WINDOW)  # so again, after a quiet second
        sent, took, refused = _burst(transport, headers)
        if refused is not None and sent - 1 < LIMIT:
            raise CheckFailed(
                f"Received: 429 after {sent - 1} requests in {took:.2f} s, after a quiet "
                f"second / Documented: {LIMIT} requests per second per key"
            )
    if refused is None:
        raise NotRun(f"{sent} requests on one key, one after another, got no 429")
    wait = _documented_429(refused)
    if wait is None:
        raise CheckFailed(
            f"Received: {refused.describe()} / Documented: 429 "
            f'{{"error": "{MESSAGE}", "retry_after": N}} with N whole seconds'
        )
    time.sleep(min(wait, MAX_WAIT))
    after = transport.send("GET", PATH, headers, None)
    if after.status == 429:
        raise CheckFailed(
            f"Received: {after.describe()} after waiting retry_after {wait} s / Documented: "
            "the key gets through once retry_after has passed"
        )
