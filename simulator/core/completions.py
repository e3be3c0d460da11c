"""The fake model behind POST /v1/chat/completions: deterministic text, counted tokens, and the
OpenAI Chat Completions response and stream shapes (INF-FAKE-MODEL, INF-ROUTE, INF-STREAM).

Tokens are counted without a tokenizer: one token per white-space-separated word. A prompt's
tokens are the words of its messages' text; a reply's tokens are the words of the text
configured for the slug, each streamed as one chunk with the white space before it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.core.errors import InvalidPayload

DEFAULT_TEXT = "This is a deterministic reply from the Gateway simulator."
_PIECE = re.compile(r"\s*\S+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What the fake model answers for one slug, and how fast (real time, never the clock)."""

    text: str = DEFAULT_TEXT
    time_to_first_token_ms: int = 0  # before the first token (or the whole answer)
    inter_token_ms: int = 0  # between two tokens

    @property
    def pieces(self) -> tuple[str, ...]:
        """The reply's tokens: each word with the white space before it."""
        return tuple(_PIECE.findall(self.text))

    def generation_seconds(self, tokens: int) -> float:
        """How long producing `tokens` tokens takes: the first, then a gap before each next."""
        gaps = max(tokens - 1, 0) * self.inter_token_ms
        return (self.time_to_first_token_ms + gaps) / 1000


@dataclass(frozen=True, slots=True)
class ModelProfiles:
    """Per-slug profiles, and the one for every slug not listed (instant by default)."""

    default: ModelProfile = field(default_factory=ModelProfile)
    by_slug: Mapping[str, ModelProfile] = field(default_factory=dict)

    def of(self, slug: str) -> ModelProfile:
        return self.by_slug.get(slug, self.default)

    @property
    def paced(self) -> bool:
        """True when some slug's answers take time (a profile with a latency)."""
        return any(
            profile.time_to_first_token_ms or profile.inter_token_ms
            for profile in (self.default, *self.by_slug.values())
        )


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """A validated request body, reduced to what the fake model and the meters need."""

    model: str
    prompt_tokens: int
    max_tokens: int | None
    stream: bool
    include_usage: bool


@dataclass(frozen=True, slots=True)
class Completion:
    """One answer, decided before anything is sent: its length is known at admission."""

    id: str
    created: int
    model: str
    pieces: tuple[str, ...]
    finish_reason: str  # "stop", or "length" when max_tokens cut it (INF-MAX-TOKENS)
    prompt_tokens: int

    @property
    def completion_tokens(self) -> int:
        return len(self.pieces)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def content(self) -> str:
        return "".join(self.pieces)


def count_tokens(text: str) -> int:
    """One token per white-space-separated word."""
    return len(_WORD.findall(text))


def prompt_tokens(messages: list[Mapping[str, Any]]) -> int:
    """The words of every message's text: `content` as a string, or its `text` parts."""
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += count_tokens(content)
        elif isinstance(content, list):
            total += sum(
                count_tokens(part["text"])
                for part in content
                if isinstance(part, Mapping) and isinstance(part.get("text"), str)
            )
    return total


def request_from_json(body: Mapping[str, Any]) -> CompletionRequest:
    """A schema-valid body as a CompletionRequest; the rules a schema can't say are here."""
    stream = bool(body.get("stream"))
    options = body.get("stream_options")
    if options is not None and not stream:  # INF-PAYLOAD, as OpenAI answers it
        raise InvalidPayload(
            "stream_options is only allowed when stream is true (INF-PAYLOAD)", rule="INF-PAYLOAD"
        )
    caps = [body[k] for k in ("max_tokens", "max_completion_tokens") if body.get(k) is not None]
    return CompletionRequest(
        model=body["model"],
        prompt_tokens=prompt_tokens(body["messages"]),
        max_tokens=min(caps) if caps else None,  # both sent: the smaller cap holds
        stream=stream,
        include_usage=bool(options and options.get("include_usage")),
    )


def complete(
    request: CompletionRequest, profile: ModelProfile, completion_id: str, created: int
) -> Completion:
    """The fake model's answer: the profile's tokens, cut at max_tokens (INF-MAX-TOKENS)."""
    pieces = profile.pieces
    cut = request.max_tokens is not None and request.max_tokens < len(pieces)
    if cut:
        pieces = pieces[: request.max_tokens]
    return Completion(
        id=completion_id,
        created=created,
        model=request.model,
        pieces=pieces,
        finish_reason="length" if cut else "stop",
        prompt_tokens=request.prompt_tokens,
    )


def completion_json(completion: Completion) -> dict[str, Any]:
    """The `chat.completion` object (INF-ROUTE)."""
    return {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": completion.content, "refusal": None},
                "logprobs": None,
                "finish_reason": completion.finish_reason,
            }
        ],
        "usage": usage_json(completion),
    }


def usage_json(completion: Completion) -> dict[str, int]:
    return {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "total_tokens": completion.total_tokens,
    }


def chunks(completion: Completion, include_usage: bool) -> Iterator[dict[str, Any]]:
    """The `chat.completion.chunk` objects of a stream, in order (INF-STREAM): the role,
    one chunk per token, the finish reason, and the usage chunk when asked for."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": completion.id,
            "object": "chat.completion.chunk",
            "created": completion.created,
            "model": completion.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:  # every other chunk carries usage: null, as OpenAI's do
            body["usage"] = None
        return body

    yield chunk({"role": "assistant", "content": ""})
    for piece in completion.pieces:
        yield chunk({"content": piece})
    yield chunk({}, completion.finish_reason)
    if include_usage:
        yield {
            "id": completion.id,
            "object": "chat.completion.chunk",
            "created": completion.created,
            "model": completion.model,
            "choices": [],
            "usage": usage_json(completion),
        }


def sse_event(data: Mapping[str, Any] | str) -> bytes:
    """One server-sent event: `data: <json>` and a blank line."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


DONE = sse_event("[DONE]")
