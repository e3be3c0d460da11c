"""The management API's own rate limit (M-ratelimit): 100 requests per second per key."""

from __future__ import annotations

import time

from conformance.registry import CheckFailed, NotRun, check
from conformance.session import Session
from conformance.target import MAX_WAIT, Reply

MESSAGE = "Rate limit exceeded. Please try again later."
LIMIT = 100  # requests per second per key
BURST = 1000  # at most this many requests, sent one after another as fast as they go
BURST_SECONDS = 3.0  # for at most this long
PATH = "/v1/gateway/groups?limit=1"  # a read: the burst changes nothing


def _documented_429(reply: Reply) -> int | None:
    """`retry_after` of a 429 in the documented shape; None for any other answer."""
    body = reply.json
    if reply.status != 429 or not isinstance(body, dict) or body.get("error") != MESSAGE:
        return None
    wait = body.get("retry_after")
    return wait if isinstance(wait, int) and not isinstance(wait, bool) and wait >= 0 else None


@check("MGMT-RATE-LIMIT")
def management_burst_gets_the_documented_429_and_then_through(s: Session) -> None:
    """MGMT-RATE-LIMIT: a burst of requests on one key gets 429 (not before 100 requests in
    a second) with exactly
    `{"error": "Rate limit exceeded. Please try again later.", "retry_after": N}`, and
    after N seconds the key gets through again. Not run when 1000 requests or 3 seconds of
    them get no 429 (the limit is off, or the link is too slow for 100 requests a second).

    Source: https://docs.baseten.co/reference/management-api/rate-limits
    """
    transport, headers = s.run.transport, {"Authorization": s.api.authorization}
    sent, refused = 0, None
    time.sleep(1.0)  # the key's last second is empty: every request of the burst counts
    started = time.monotonic()
    while sent < BURST and refused is None and time.monotonic() - started < BURST_SECONDS:
        reply = transport.send("GET", PATH, headers, None)  # no back-off: the 429 is the point
        sent += 1
        refused = reply if reply.status == 429 else None
    if refused is None:
        rate = sent / max(time.monotonic() - started, 1e-9)
        raise NotRun(f"{sent} requests at {rate:.0f}/s on one key got no 429")
    if sent - 1 < LIMIT and time.monotonic() - started < 1.0:
        raise CheckFailed(
            f"Received: 429 after {sent - 1} requests within a second / Documented: "
            f"{LIMIT} requests per second per key"
        )
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
