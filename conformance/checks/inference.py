"""The inference route and the enforcement of limits (opt-in: --inference-url or --inference).

Each check makes its own groups and keys and calls POST /v1/chat/completions at the
inference target. REQUEST limits carry most checks, since a request costs exactly one
whatever the model says; `costs(n)` is the most calls a check makes, so the run's
--inference-budget decides up front whether it runs. Checks that cross a window's end move
the simulator's clock (see `conformance.inference`) and are not run on a target without one.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.bodies import CASCADING, OTHER_SLUG, SLUG, limit, model
from conformance.compare import is_rfc3339_utc
from conformance.inference import (
    call,
    calls_until,
    completion_body,
    costs,
    events,
    expect,
    frozen_clock,
    member,
    request_limits,
    stream,
    usage_entry,
)
from conformance.registry import CheckFailed, NotRun, check
from conformance.session import Session

INFERENCE = ("inference",)
WORDS = "one two three four five six seven eight nine ten eleven twelve"


def _ok(s: Session, key: str, body: Any = None, what: str = "for a call within every limit") -> Any:
    return expect(s, call(s, key, body), 200, what)


@check("INF-ROUTE", needs=INFERENCE)
@costs(1)
def completion_answers_the_documented_shape(s: Session) -> None:
    """INF-ROUTE: a group's key calls a slug of its model set and gets a chat.completion with
    the slug as model, an assistant message, a finish_reason and token usage.

    Source: https://docs.baseten.co/frontier-gateway/calling-your-model
    """
    caller = member(s)
    answer = _ok(s, caller.key)
    choice = (answer.get("choices") or [{}])[0] if isinstance(answer, dict) else {}
    usage = answer.get("usage") if isinstance(answer, dict) else None
    shaped = (
        isinstance(answer.get("id"), str)
        and answer.get("object") == "chat.completion"
        and answer.get("model") == SLUG
        and isinstance(choice, dict)
        and (choice.get("message") or {}).get("role") == "assistant"
        and isinstance((choice.get("message") or {}).get("content"), str)
        and isinstance(choice.get("finish_reason"), str)
        and isinstance(usage, dict)
        and all(isinstance(usage.get(k), int) for k in ("prompt_tokens", "completion_tokens"))
        and usage.get("total_tokens") == usage["prompt_tokens"] + usage["completion_tokens"]
    )
    if not shaped:
        raise CheckFailed(
            f"Received: {json.dumps(answer)[:400]} / Documented: {{id, object: "
            f'"chat.completion", model: "{SLUG}", choices: [{{message: {{role: "assistant", '
            "content}, finish_reason}], usage: {prompt_tokens, completion_tokens, total_tokens "
            "= their sum}}"
        )


@check("INF-AUTH-SCHEME", needs=INFERENCE)
@costs(2)
def bearer_is_rejected(s: Session) -> None:
    """INF-AUTH-SCHEME: the key that works as `Api-Key` gets 401 when sent as `Bearer`.

    Source: https://docs.baseten.co/frontier-gateway/calling-your-model
    """
    caller = member(s)
    _ok(s, caller.key, what="as Api-Key")
    expect(s, call(s, caller.key, scheme="Bearer"), 401, "for a group key sent as Bearer")


@check("INF-AUTH-KEY", needs=INFERENCE)
@costs(6)
def missing_unknown_and_revoked_keys_get_401(s: Session) -> None:
    """INF-AUTH-KEY: no key, an unknown key, a revoked key and a key of a deleted group all
    get 401, the last two on their very next call.

    Source: https://docs.baseten.co/inference/errors
    """
    caller = member(s)
    expect(s, call(s, None), 401, "without an Authorization header")
    expect(s, call(s, caller.key + "x"), 401, "for an unknown key")
    _ok(s, caller.key)
    prefix = caller.key.split(".")[0]
    s.expect_accepted(s.revoke_key(caller.id, prefix), "revoking the key")
    expect(s, call(s, caller.key), 401, "for a key revoked a moment ago")
    orphan = member(s, label="deleted")
    _ok(s, orphan.key)
    s.expect_accepted(s.delete(orphan.id), "deleting the key's group")
    expect(s, call(s, orphan.key), 401, "for a key of a group deleted a moment ago")


@check("INF-WORKSPACE-KEY", needs=INFERENCE)
@costs(1)
def workspace_key_is_not_an_inference_key(s: Session) -> None:
    """INF-WORKSPACE-KEY (choice): the run's workspace management key gets 401.

    Source: https://docs.baseten.co/frontier-gateway/calling-your-model
    """
    member(s)
    expect(s, call(s, s.api.key), 401, "for a workspace management key")


@check("INF-MODEL-SET", needs=INFERENCE)
@costs(2)
def slug_outside_the_model_set_gets_404(s: Session) -> None:
    """INF-MODEL-SET (choice): a slug the group doesn't list gets 404 and counts nothing.

    Source: https://docs.baseten.co/frontier-gateway/calling-your-model
    """
    caller = member(s, request_limits(1))
    answer = expect(s, call(s, caller.key, completion_body(OTHER_SLUG)), 404, "for another slug")
    if not isinstance(answer, dict) or not isinstance(answer.get("error"), str):
        raise CheckFailed(f'Received: {answer!r} / Documented: {{"error": "<message>"}}')
    _ok(s, caller.key, what="for the group's own slug after a refused call")


BAD_BODIES: list[tuple[str, Any]] = [
    ("no messages", {"model": SLUG}),
    ("empty messages", {"model": SLUG, "messages": []}),
    ("no model", {"messages": [{"role": "user", "content": "x"}]}),
    ("max_tokens 0", completion_body(max_tokens=0)),
    ("max_completion_tokens -1", completion_body(max_completion_tokens=-1)),
    ("temperature 3", completion_body(temperature=3)),
    ("stream as a string", completion_body(stream="yes")),
    ("stream_options without stream", completion_body(stream_options={"include_usage": True})),
    ("a message without a role", {"model": SLUG, "messages": [{"content": "x"}]}),
    ("an array body", [completion_body()]),
]


@check("INF-PAYLOAD", needs=INFERENCE)
@costs(12)
def malformed_requests_get_400_and_count_nothing(s: Session) -> None:
    """INF-PAYLOAD: bodies that aren't Chat Completions requests get 400, and none of them
    uses the group's one request a minute.

    Source: https://docs.baseten.co/frontier-gateway/calling-your-model
    """
    caller = member(s, request_limits(1))
    for what, body in BAD_BODIES:
        expect(s, call(s, caller.key, body), 400, f"for {what}")
    expect(s, call(s, caller.key, raw=b"{not json"), 400, "for a body that isn't JSON")
    _ok(s, caller.key, what="after the refused calls: they counted nothing")


@check("INF-ERR-BODY", needs=INFERENCE)
@costs(4)
def inference_errors_are_error_objects(s: Session) -> None:
    """INF-ERR-BODY: the 400, 401 and 429 of the inference route are JSON {"error": "..."}.

    Source: https://docs.baseten.co/inference/errors
    """
    caller = member(s, request_limits(1))
    _ok(s, caller.key)
    for what, reply in (
        ("400", call(s, caller.key, {"model": SLUG})),
        ("401", call(s, None)),
        ("429", call(s, caller.key)),
    ):
        body = reply.json
        if not (isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]):
            raise CheckFailed(
                f"Received: {reply.describe()} for the {what} / Documented: every failed "
                'response is JSON, in the form {"error": "<message>"}'
            )


@check("INF-FAKE-MODEL", needs=INFERENCE)
@costs(2)
def the_fake_model_is_deterministic(s: Session) -> None:
    """INF-FAKE-MODEL (choice): the same request gets the same reply; completion tokens are
    the reply's words and prompt tokens the prompt's words.

    Source: https://docs.baseten.co/frontier-gateway/calling-your-model
    """
    caller = member(s)
    body = completion_body(prompt=WORDS)
    first, second = _ok(s, caller.key, body), _ok(s, caller.key, body)
    content = first["choices"][0]["message"]["content"]
    if second["choices"][0]["message"]["content"] != content:
        raise CheckFailed("Received: two different replies to one request / Documented: the same")
    usage = first["usage"]
    if (usage["prompt_tokens"], usage["completion_tokens"]) != (12, len(content.split())):
        raise CheckFailed(
            f"Received: usage {usage} for a 12-word prompt and the reply {content!r} / "
            f"Documented: prompt_tokens 12, completion_tokens {len(content.split())} (words)"
        )


@check("INF-MAX-TOKENS", needs=INFERENCE)
@costs(3)
def max_tokens_cuts_the_reply_with_length(s: Session) -> None:
    """INF-MAX-TOKENS: max_tokens 1 (and max_completion_tokens 1) gives at most one
    completion token and finish_reason "length" when the reply was longer.

    Source: https://platform.openai.com/docs/api-reference/chat/create
    """
    caller = member(s)
    full = _ok(s, caller.key)["usage"]["completion_tokens"]
    if full < 2:
        raise NotRun(f"the model's reply has {full} token(s): nothing for a cap of 1 to cut")
    for field in ("max_tokens", "max_completion_tokens"):
        answer = _ok(s, caller.key, {**completion_body(), field: 1}, f"with {field} 1")
        got = (answer["usage"]["completion_tokens"], answer["choices"][0]["finish_reason"])
        if got[0] > 1 or got[1] != "length":
            raise CheckFailed(
                f"Received: completion_tokens {got[0]}, finish_reason {got[1]!r} with {field} 1 "
                f'/ Documented: at most 1 token and finish_reason "length"'
            )


@check("INF-STREAM", needs=INFERENCE)
@costs(2)
def stream_sends_chunks_usage_and_done(s: Session) -> None:
    """INF-STREAM: stream: true answers text/event-stream of chat.completion.chunk events,
    a usage chunk with empty choices when include_usage is set, then data: [DONE].

    Source: https://docs.baseten.co/frontier-gateway/calling-your-model
    """
    caller = member(s)
    for include_usage in (True, False):
        options = {"stream_options": {"include_usage": True}} if include_usage else {}
        answer = stream(s, caller.key, {**completion_body(stream=True), **options})
        kind = answer.headers.get("Content-Type", "")
        found = events(answer.text)
        if answer.status != 200 or not kind.startswith("text/event-stream") or not found:
            raise CheckFailed(
                f"Received: {answer.status} {kind} {answer.text[:200]!r} / Documented: 200 "
                "text/event-stream"
            )
        if found[-1] != "[DONE]":
            raise CheckFailed(f"Received: last event {found[-1][:120]!r} / Documented: [DONE]")
        chunks = [json.loads(data) for data in found[:-1]]
        if not chunks or any(c.get("object") != "chat.completion.chunk" for c in chunks):
            raise CheckFailed(
                f"Received: events {found[:3]} / Documented: chat.completion.chunk objects"
            )
        usage_chunks = [c for c in chunks if c.get("usage")]
        wanted = [chunks[-1]] if include_usage else []
        if usage_chunks != wanted or (include_usage and chunks[-1].get("choices") != []):
            raise CheckFailed(
                f"Received: usage in {usage_chunks} with include_usage {include_usage} / "
                "Documented: one last chunk with empty choices and the usage, only when asked"
            )


@check("INF-STREAM-CUT", needs=INFERENCE)
@costs(1)
def a_cut_stream_ends_early_after_its_200(s: Session) -> None:
    """INF-STREAM-CUT: a stream failing partway (provoked with the simulator's
    `X-Sim-Fault: cut=2`) has begun with 200 and ends early: no [DONE], never a 5xx.

    Source: https://docs.baseten.co/inference/errors
    """
    caller = member(s)
    answer = stream(s, caller.key, completion_body(stream=True), **{"X-Sim-Fault": "cut=2"})
    found = events(answer.text)
    if answer.status == 200 and found and found[-1] == "[DONE]":
        raise NotRun("needs a target that can fail a stream on demand (X-Sim-Fault: cut=N)")
    if answer.status != 200 or answer.complete or "[DONE]" in found or len(found) > 2:
        raise CheckFailed(
            f"Received: {answer.status}, {len(found)} event(s), ended cleanly: "
            f"{answer.complete} / Documented: 200, then the stream ends early"
        )


@check("LIMIT-ENFORCED", needs=INFERENCE)
@costs(6)
def calls_past_a_limit_get_429(s: Session) -> None:
    """LIMIT-ENFORCED: with REQUEST/MINUTE 3 exactly three calls are admitted, the fourth
    gets 429.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    caller = member(s, request_limits(3))
    admitted = calls_until(s, caller.key, 429, 6)
    if admitted != 3:
        raise CheckFailed(f"Received: 429 after {admitted} calls / Documented: after exactly 3")


@check("LIMIT-429-BODY", needs=INFERENCE)
@costs(2)
def the_429_names_the_limit(s: Session) -> None:
    """LIMIT-429-BODY (choice): the 429's error names the slug, type, unit, threshold and
    source_group; X-Frontier-Rule is set; Retry-After is whole seconds up to the window.

    Source: https://docs.baseten.co/inference/errors
    """
    caller = member(s, request_limits(1))
    _ok(s, caller.key)
    reply = call(s, caller.key)
    body = expect(s, reply, 429, "for the call past REQUEST/MINUTE 1")
    text = body.get("error", "") if isinstance(body, dict) else ""
    named = all(part in text for part in (SLUG, "REQUEST", "MINUTE", "1", caller.id))
    retry = reply.headers.get("Retry-After", "")
    if not named or not reply.headers.get("X-Frontier-Rule") or not retry.isdigit():
        raise CheckFailed(
            f"Received: {reply.describe()}, Retry-After {retry!r}, X-Frontier-Rule "
            f"{reply.headers.get('X-Frontier-Rule')!r} / Documented: an error naming {SLUG}, "
            f"REQUEST, MINUTE, 1 and {caller.id}, with both headers"
        )
    if not 1 <= int(retry) <= 60:
        raise CheckFailed(f"Received: Retry-After {retry} / Documented: 1 to 60 s")


@check("LIMIT-TOKENS", needs=INFERENCE)
@costs(3)
def token_limits_count_prompt_and_completion(s: Session) -> None:
    """LIMIT-TOKENS: a TOKEN/MINUTE limit of one call's total tokens (prompt plus
    completion) admits that call and refuses the next.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    body = completion_body(prompt=WORDS)
    total = _ok(s, member(s).key, body)["usage"]["total_tokens"]
    caller = member(s, [model(SLUG, rate=[limit("TOKEN", "MINUTE", total)])])
    _ok(s, caller.key, body, f"for a call of {total} tokens under TOKEN/MINUTE {total}")
    expect(s, call(s, caller.key, body), 429, f"for a second call past TOKEN/MINUTE {total}")


@check("LIMIT-PER-SLUG", needs=INFERENCE)
@costs(3)
def each_slug_has_its_own_limits(s: Session) -> None:
    """LIMIT-PER-SLUG: with REQUEST/MINUTE 1 on two slugs, using up one leaves the other.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    one = [limit("REQUEST", "MINUTE", 1)]
    caller = member(s, [model(SLUG, rate=one), model(OTHER_SLUG, rate=one)])
    _ok(s, caller.key)
    expect(s, call(s, caller.key), 429, f"for a second call to {SLUG}")
    _ok(s, caller.key, completion_body(OTHER_SLUG), f"for {OTHER_SLUG}")


@check("LIMIT-ROLLING", needs=INFERENCE)
@costs(4)
def rate_windows_roll(s: Session) -> None:
    """LIMIT-ROLLING: REQUEST/MINUTE 2 used at hh:mm:30 is still used at hh:(mm+1):29, past
    the clock's minute, and free again at hh:(mm+1):30.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    with frozen_clock(s, "2026-05-13T12:00:30Z", "minute") as clock:
        caller = member(s, request_limits(2))
        _ok(s, caller.key), _ok(s, caller.key)
        clock.advance(59)
        expect(s, call(s, caller.key), 429, "59 s later: a rolling minute hasn't passed")
        clock.advance(1)
        _ok(s, caller.key, what="a minute after the calls")


@check("LIMIT-SLIDING-LOG", needs=INFERENCE)
@costs(6)
def each_call_counts_for_exactly_one_window(s: Session) -> None:
    """LIMIT-SLIDING-LOG (choice): REQUEST/MINUTE 2 with calls at t and t+30 s: at t+30 a
    third is refused; at t+60 one fits again and a second doesn't; at t+90 one fits.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    with frozen_clock(s, "2026-05-13T12:00:00Z", "minute") as clock:
        caller = member(s, request_limits(2))
        _ok(s, caller.key)
        clock.advance(30)
        _ok(s, caller.key)
        expect(s, call(s, caller.key), 429, "at t+30: two calls in the last minute")
        clock.advance(30)
        _ok(s, caller.key, what="at t+60: the first call has aged out")
        expect(s, call(s, caller.key), 429, "at t+60: the calls of t+30 and t+60 fill it")
        clock.advance(30)
        _ok(s, caller.key, what="at t+90: the call of t+30 has aged out")


@check("LIMIT-DAILY", needs=INFERENCE)
@costs(5)
def daily_limits_reset_at_midnight_utc(s: Session) -> None:
    """LIMIT-DAILY: REQUEST/DAY 2 used at 23:59 UTC refuses calls until midnight UTC, then
    admits again.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    with frozen_clock(s, "2026-05-13T23:59:00Z", "day") as clock:
        caller = member(s, [model(SLUG, usage=[limit("REQUEST", "DAY", 2)])])
        _ok(s, caller.key), _ok(s, caller.key)
        expect(s, call(s, caller.key), 429, "past REQUEST/DAY 2")
        clock.advance(59.5)
        expect(s, call(s, caller.key), 429, "at 23:59:59.5 UTC, the same day")
        clock.advance(1)
        _ok(s, caller.key, what="at 00:00:00.5 UTC, a new daily window")


@check("LIMIT-INDEPENDENT", needs=INFERENCE)
@costs(12)
def independent_groups_are_metered_alone(s: Session) -> None:
    """LIMIT-INDEPENDENT: children inheriting REQUEST/MINUTE 2 each get two calls of their
    own, and their parent too.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    parent = member(s, request_limits(2), label="parent")
    children = [member(s, [model(SLUG)], parent=parent, label="child") for _ in range(2)]
    for caller in (*children, parent):
        admitted = calls_until(s, caller.key, 429, 4)
        if admitted != 2:
            raise CheckFailed(
                f"Received: 429 after {admitted} calls of group {caller.id} / Documented: 2 "
                "calls each: siblings never draw each other down"
            )


@check("LIMIT-CASCADING", needs=INFERENCE)
@costs(5)
def cascading_calls_debit_every_ancestor(s: Session) -> None:
    """LIMIT-CASCADING: org REQUEST/MINUTE 3 over finance and engineering at 2: after finance
    uses 2, engineering gets 429 on its second call, its own limit untouched; so does org.

    Source: https://baseten-preview.mintlify.app/frontier-gateway/rate-limits.md
    """
    org = member(s, request_limits(3), mode=CASCADING, label="org")
    finance, engineering = (
        member(s, request_limits(2), mode=CASCADING, parent=org, label=name)
        for name in ("finance", "engineering")
    )
    _ok(s, finance.key), _ok(s, finance.key)
    _ok(s, engineering.key, what="for engineering's first call: org has 1 left")
    expect(s, call(s, engineering.key), 429, "for engineering's second call: org is used up")
    expect(s, call(s, org.key), 429, "for org itself: its pool is used up")


@check("LIMIT-REJECTED-FREE", needs=INFERENCE)
@costs(6)
def rejected_calls_count_nothing(s: Session) -> None:
    """LIMIT-REJECTED-FREE: after one admitted call and refused ones (429, 400, 404), the
    group's daily usage shows one request.

    Source: https://baseten-preview.mintlify.app/frontier-gateway/rate-limits.md
    """
    models = [
        model(SLUG, rate=[limit("REQUEST", "MINUTE", 1)], usage=[limit("REQUEST", "DAY", 50)])
    ]
    caller = member(s, models)
    _ok(s, caller.key)
    for _ in range(3):
        expect(s, call(s, caller.key), 429, "past REQUEST/MINUTE 1")
    expect(s, call(s, caller.key, {"model": SLUG}), 400, "for a body without messages")
    expect(s, call(s, caller.key, completion_body(OTHER_SLUG)), 404, "for another slug")
    used = usage_entry(s, caller.id, "REQUEST").get("current_usage")
    if used != 1:
        raise CheckFailed(f"Received: current_usage {used} / Documented: 1, the admitted call")


@check("LIMIT-TOKEN-ADMISSION", needs=INFERENCE)
@costs(4)
def a_call_must_fit_whole(s: Session) -> None:
    """LIMIT-TOKEN-ADMISSION (choice): under TOKEN/MINUTE of 1.5 calls' tokens the second call
    is refused (it doesn't fit whole); under less than one call's tokens, every call is.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    body = completion_body(prompt=WORDS)
    total = _ok(s, member(s).key, body)["usage"]["total_tokens"]
    roomy = member(s, [model(SLUG, rate=[limit("TOKEN", "MINUTE", total + total // 2)])])
    _ok(s, roomy.key, body)
    expect(s, call(s, roomy.key, body), 429, f"for a call of {total} with {total // 2} left")
    tight = member(s, [model(SLUG, rate=[limit("TOKEN", "MINUTE", total - 1)])])
    expect(
        s, call(s, tight.key, body), 429, f"for a call of {total} under TOKEN/MINUTE {total - 1}"
    )


@check("LIMIT-LIVE", needs=INFERENCE)
@costs(4)
def limit_changes_apply_to_the_next_call(s: Session) -> None:
    """LIMIT-LIVE: after REQUEST/MINUTE 1 is used, raising it to 3 admits the next call, and
    lowering it to 2 refuses the one after.

    Source: https://docs.baseten.co/reference/gateway/groups/update-a-group
    """
    caller = member(s, request_limits(1))
    _ok(s, caller.key)
    expect(s, call(s, caller.key), 429, "past REQUEST/MINUTE 1")
    for threshold, status in ((3, 200), (2, 429)):
        s.expect_accepted(s.patch(caller.id, {"models": request_limits(threshold)}), "a PATCH")
        expect(s, call(s, caller.key), status, f"right after setting REQUEST/MINUTE {threshold}")


@check("USAGE-LIVE", needs=INFERENCE)
@costs(2)
def usage_counts_the_day_for_every_key(s: Session) -> None:
    """USAGE-LIVE: current_usage and reset_at are null before the first call, then count the
    calls of every key of the group, with reset_at the next midnight UTC.

    Source: https://docs.baseten.co/reference/gateway/groups/get-group-usage
    """
    caller = member(s, [model(SLUG, usage=[limit("REQUEST", "DAY", 100)])])
    before = usage_entry(s, caller.id, "REQUEST")
    if (before.get("current_usage"), before.get("reset_at")) != (None, None):
        raise CheckFailed(f"Received: {before} before any call / Documented: both null")
    second = _second_key(s, caller.id)
    _ok(s, caller.key), _ok(s, second)
    after = usage_entry(s, caller.id, "REQUEST")
    reset = after.get("reset_at")
    if after.get("current_usage") != 2 or not (
        is_rfc3339_utc(reset) and str(reset).endswith("T00:00:00Z")
    ):
        raise CheckFailed(
            f"Received: {after} after one call by each of two keys / Documented: "
            "current_usage 2 and reset_at the next midnight UTC"
        )


@check("USAGE-COUNTER", needs=INFERENCE)
@costs(1)
def usage_shows_the_group_counter_and_resets(s: Session) -> None:
    """USAGE-COUNTER (choice): a CASCADING parent's usage counts its child's calls; after
    midnight UTC it reads 0 with the next midnight as reset_at.

    Source: https://docs.baseten.co/reference/gateway/groups/get-group-usage
    """
    with frozen_clock(s, "2026-05-13T23:59:00Z", "day") as clock:
        daily = [model(SLUG, usage=[limit("REQUEST", "DAY", 100)])]
        parent = member(s, daily, mode=CASCADING, label="parent")
        child = member(s, [model(SLUG)], mode=CASCADING, parent=parent, label="child")
        _ok(s, child.key)
        entry = usage_entry(s, parent.id, "REQUEST")
        if (entry.get("current_usage"), entry.get("reset_at")) != (1, "2026-05-14T00:00:00Z"):
            raise CheckFailed(f"Received: {entry} / Documented: 1 (the child's call), 00:00 next")
        clock.advance(61)
        entry = usage_entry(s, parent.id, "REQUEST")
        if (entry.get("current_usage"), entry.get("reset_at")) != (0, "2026-05-15T00:00:00Z"):
            raise CheckFailed(f"Received: {entry} after midnight / Documented: 0, next midnight")


def _second_key(s: Session, group_id: str) -> str:
    reply = s.mint_key(group_id)
    answer = expect(s, reply, 200, "minting a second key")
    return str(answer["api_key"])
