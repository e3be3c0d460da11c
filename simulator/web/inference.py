"""The inference route, POST /v1/chat/completions: a thin view over `core.inference`.

The fake model's latency is slept here, in real time, after the call is admitted: no lock
is held while a reply or a stream waits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, Response, request

from simulator.core.completions import (
    DONE,
    Completion,
    ModelProfile,
    chunks,
    completion_json,
    request_from_json,
    sse_event,
)
from simulator.core.errors import GatewayError, InvalidPayload
from simulator.core.inference import Inference
from simulator.core.spec import BodyValidator

OPERATION = "createChatCompletion"
PATH = "/v1/chat/completions"


def install(app: Flask, inference: Inference, validator: BodyValidator) -> None:
    """Registers the route on `app`; `validator` checks bodies against openapi.yaml."""
    app.add_url_rule(
        PATH, OPERATION, _view(inference, validator), methods=["POST"], strict_slashes=False
    )


def _view(inference: Inference, validator: BodyValidator) -> Callable[[], Response]:
    def create_chat_completion() -> Response:
        key = inference.authenticate(request.headers.get("Authorization"))
        call = request_from_json(completion_body(validator))
        completion = inference.call(key, call)
        profile = inference.models.of(call.model)
        if call.stream:
            return Response(
                stream(completion, profile, call.include_usage),
                mimetype="text/event-stream",
                headers={"Cache-Control": "no-cache"},
            )
        _sleep_until(time.monotonic() + profile.generation_seconds(completion.completion_tokens))
        return Response(json.dumps(completion_json(completion)), mimetype="application/json")

    return create_chat_completion


def stream(completion: Completion, profile: ModelProfile, include_usage: bool) -> Iterator[bytes]:
    """The server-sent events of a stream, paced by the slug's latency profile (INF-STREAM).

    The first token is due the time to first token after the stream starts, each further
    token one gap after the one before. Tokens keep to that schedule rather than sleeping a
    gap after each write, so a late write (a busy machine) doesn't push every later token
    back. The call was admitted and debited before the first byte (LIMIT-TOKEN-ADMISSION).
    """
    gap = profile.inter_token_ms / 1000
    first_token = time.monotonic() + profile.time_to_first_token_ms / 1000
    _sleep_until(first_token)
    tokens_sent = 0
    for chunk in chunks(completion, include_usage):
        if _carries_a_token(chunk):
            _sleep_until(first_token + tokens_sent * gap)
            tokens_sent += 1
        yield sse_event(chunk)
    yield DONE


def _sleep_until(due: float) -> None:
    pause = due - time.monotonic()
    if pause > 0:  # even sleep(0) gives the processor away: no call when nothing is due
        time.sleep(pause)


def completion_body(validator: BodyValidator) -> Any:
    """The JSON body, checked against the operation's schema; every refusal is INF-PAYLOAD
    (or EXTRA-FIELDS in strict mode), and nothing is counted."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise _bad("Content-Type must be application/json.")
    raw = request.get_data()
    if not raw.strip():
        raise _bad("The request body is empty; send a JSON object.")
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise _bad("The request body isn't valid JSON.") from None
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    try:
        validator.validate(body)
    except InvalidPayload as error:
        if error.rule == "PAYLOAD-JSON":  # a node without its own x-rule
            error.rule = "INF-PAYLOAD"  # type: ignore[misc]  # an instance narrows its rule
        raise
    return body


def _carries_a_token(chunk: dict[str, Any]) -> bool:
    choices = chunk["choices"]
    return bool(choices) and "content" in choices[0]["delta"] and choices[0]["delta"]["content"]


def _bad(message: str) -> GatewayError:
    return InvalidPayload(f"{message} (INF-PAYLOAD)", rule="INF-PAYLOAD")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
