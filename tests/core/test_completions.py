"""The fake model: token counting without a tokenizer, request parsing, max_tokens, and the
chat.completion and chunk shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulator.core.completions import (
    DEFAULT_TEXT,
    DONE,
    ModelProfile,
    chunks,
    complete,
    completion_json,
    count_tokens,
    prompt_tokens,
    request_from_json,
    sse_event,
)
from simulator.core.errors import InvalidPayload

SLUG = "your-org/your-model"


def body(**fields: Any) -> dict[str, Any]:
    return {"model": SLUG, "messages": [{"role": "user", "content": "Say hello."}], **fields}


def test_a_token_is_a_white_space_separated_word() -> None:
    """INF-FAKE-MODEL: tokens are counted as words, whatever the white space."""
    assert count_tokens("  one two\nthree\tfour  ") == 4
    assert count_tokens("") == 0


def test_prompt_tokens_count_the_text_of_every_message() -> None:
    """INF-FAKE-MODEL: string contents and text parts count; other parts and nulls don't."""
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "a b c"}, {"type": "image_url"}]},
        {"role": "assistant", "content": None, "tool_calls": []},
    ]
    assert prompt_tokens(messages) == 5


def test_the_default_reply_is_nine_tokens_streamed_word_by_word() -> None:
    """INF-FAKE-MODEL: the default reply's pieces join back to the text, one word each."""
    pieces = ModelProfile().pieces
    assert len(pieces) == 9
    assert "".join(pieces) == DEFAULT_TEXT
    assert pieces[:2] == ("This", " is")


def test_max_tokens_cuts_the_reply_with_finish_reason_length() -> None:
    """INF-MAX-TOKENS: a cap below the reply's length cuts it; the smaller of both caps holds."""
    request = request_from_json(body(max_tokens=5, max_completion_tokens=3))
    completion = complete(request, ModelProfile(), "chatcmpl-1", 0)
    assert (completion.completion_tokens, completion.finish_reason) == (3, "length")
    assert completion.content == "This is a"
    whole = complete(request_from_json(body(max_tokens=9)), ModelProfile(), "chatcmpl-2", 0)
    assert whole.finish_reason == "stop"


def test_stream_options_without_stream_is_refused() -> None:
    """INF-PAYLOAD: stream_options is only allowed with stream: true, as OpenAI answers it."""
    with pytest.raises(InvalidPayload) as refused:
        request_from_json(body(stream_options={"include_usage": True}))
    assert refused.value.rule == "INF-PAYLOAD"
    assert request_from_json(
        body(stream=True, stream_options={"include_usage": True})
    ).include_usage


def test_completion_json_has_the_documented_shape() -> None:
    """INF-ROUTE: the documented response fields, with usage summing prompt and completion."""
    completion = complete(request_from_json(body()), ModelProfile(text="Hi there"), "chatcmpl-x", 7)
    answer = completion_json(completion)
    assert answer["object"] == "chat.completion"
    assert answer["model"] == SLUG
    assert answer["choices"][0]["message"] == {
        "role": "assistant", "content": "Hi there", "refusal": None,
    }  # fmt: skip
    assert answer["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}


@pytest.mark.parametrize("include_usage", [True, False])
def test_chunks_are_role_tokens_finish_and_usage_when_asked(include_usage: bool) -> None:
    """INF-STREAM: a role chunk, one chunk per token, the finish reason, then usage if asked."""
    completion = complete(request_from_json(body()), ModelProfile(text="a b"), "chatcmpl-y", 1)
    sent = list(chunks(completion, include_usage))
    deltas = [c["choices"][0]["delta"] if c["choices"] else None for c in sent]
    assert deltas[:4] == [
        {"role": "assistant", "content": ""},
        {"content": "a"},
        {"content": " b"},
        {},
    ]
    assert sent[3]["choices"][0]["finish_reason"] == "stop"
    assert {c["object"] for c in sent} == {"chat.completion.chunk"}
    if include_usage:
        assert sent[-1]["choices"] == []
        assert sent[-1]["usage"]["total_tokens"] == 4
        assert all(c["usage"] is None for c in sent[:-1])
    else:
        assert len(sent) == 4
        assert all("usage" not in c for c in sent)


def test_server_sent_events_are_data_lines() -> None:
    """INF-STREAM: each event is `data: <json>` and a blank line; the last is [DONE]."""
    assert sse_event({"a": 1}) == b'data: {"a":1}\n\n'
    assert DONE == b"data: [DONE]\n\n"
    assert json.loads(sse_event({"b": [1]})[6:]) == {"b": [1]}


def test_generation_time_is_first_token_then_gaps() -> None:
    """The latency profile: time to first token, then the gap before each next token."""
    profile = ModelProfile(time_to_first_token_ms=200, inter_token_ms=20)
    assert profile.generation_seconds(9) == pytest.approx(0.36)
    assert profile.generation_seconds(1) == pytest.approx(0.2)
