"""The inference route over a real socket with the official `openai` SDK, and calls racing
the real `frontier-sim` server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import openai
import pytest
import requests

from simulator.testing import SimulatorClient
from tests.builders import SLUG, group_body, model, unique
from tests.e2e.test_races import THREADS, race
from tests.servers import FrontierSim, ThreadedSimulator

pytestmark = pytest.mark.e2e
HI = [{"role": "user", "content": "hi"}]  # 1 prompt token + the 9-token reply = 10


@pytest.fixture(scope="module")
def shared() -> Iterator[SimulatorClient]:
    with ThreadedSimulator() as gateway:
        yield gateway


@pytest.fixture
def gateway(shared: SimulatorClient) -> SimulatorClient:
    shared.reset()
    return shared


def tokens(threshold: int) -> list[dict[str, Any]]:
    return [
        {"slug": SLUG, "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": threshold}]}
    ]


def ask(client: openai.OpenAI, stream: bool) -> int:
    """One call of 10 tokens; its total tokens as the SDK reports them."""
    if not stream:
        return client.chat.completions.create(model=SLUG, messages=HI).usage.total_tokens  # type: ignore[union-attr]
    chunks = client.chat.completions.create(
        model=SLUG, messages=HI, stream=True, stream_options={"include_usage": True}
    )
    return next(c.usage for c in chunks if c.usage).total_tokens


def tree(gateway: SimulatorClient, mode: str) -> tuple[openai.OpenAI, openai.OpenAI]:
    """org TOKEN/MINUTE 100 with finance and engineering at 70: the documented example."""
    org = gateway.create_group(tokens(100), mode=mode, external_entity_id="org")
    finance = gateway.create_group(tokens(70), parent=org["id"], external_entity_id="finance")
    engineering = gateway.create_group(tokens(70), parent=org["id"], external_entity_id="eng")
    return gateway.openai_client(finance["id"]), gateway.openai_client(engineering["id"])


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_cascading_parent_pool_runs_dry_for_a_sibling(
    gateway: SimulatorClient, stream: bool
) -> None:
    """LIMIT-CASCADING: after finance uses 70 tokens, engineering gets 429 once it has used
    30, with 40 of its own 70 untouched."""
    finance, engineering = tree(gateway, "CASCADING")
    assert sum(ask(finance, stream) for _ in range(7)) == 70
    assert sum(ask(engineering, stream) for _ in range(3)) == 30
    with pytest.raises(openai.RateLimitError) as refused:
        ask(engineering, stream)
    assert refused.value.response.headers["X-Frontier-Rule"] == "LIMIT-ENFORCED"
    assert "TOKEN/MINUTE threshold 100" in str(refused.value.body)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_independent_siblings_do_not_interfere(gateway: SimulatorClient, stream: bool) -> None:
    """LIMIT-INDEPENDENT: the same tree INDEPENDENT gives engineering all of its 70."""
    finance, engineering = tree(gateway, "INDEPENDENT")
    assert sum(ask(finance, stream) for _ in range(7)) == 70
    assert sum(ask(engineering, stream) for _ in range(7)) == 70
    with pytest.raises(openai.RateLimitError):
        ask(engineering, stream)


def test_daily_window_resets_at_midnight_utc(gateway: SimulatorClient) -> None:
    """LIMIT-DAILY, USAGE-LIVE: 429 until the clock passes midnight UTC, then 200; reset_at
    is that midnight before and the next one after."""
    gateway.set_time("2026-05-13T23:59:00Z")
    daily = [{"slug": SLUG, "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 20}]}]
    group = gateway.create_group(daily)
    client = gateway.openai_client(group["id"])
    ask(client, False), ask(client, True)
    with pytest.raises(openai.RateLimitError) as refused:
        ask(client, False)
    assert refused.value.response.headers["Retry-After"] == "60"
    (entry,) = gateway.usage(group["id"])["usage"][SLUG]
    assert (entry["current_usage"], entry["reset_at"]) == (20, "2026-05-14T00:00:00Z")
    gateway.advance(59.9)
    with pytest.raises(openai.RateLimitError):
        ask(client, False)
    gateway.advance(0.1)
    assert ask(client, False) == 10
    (entry,) = gateway.usage(group["id"])["usage"][SLUG]
    assert (entry["current_usage"], entry["reset_at"]) == (10, "2026-05-15T00:00:00Z")


def test_rejected_calls_leave_usage_and_revoked_keys_stop(gateway: SimulatorClient) -> None:
    """LIMIT-REJECTED-FREE, INF-AUTH-KEY: refusals don't count; a revoked key gets 401."""
    limits = [{"slug": SLUG, "rate_limits": [{"type": "REQUEST", "unit": "MINUTE", "threshold": 1}],
               "usage_limits": [{"type": "REQUEST", "unit": "DAY", "threshold": 50}]}]  # fmt: skip
    group = gateway.create_group(limits)
    key = gateway.group_key(group["id"])
    client = gateway.openai_client(key=key)
    ask(client, False)
    for _ in range(3):
        with pytest.raises(openai.RateLimitError):
            ask(client, True)
    assert gateway.usage(group["id"])["usage"][SLUG][0]["current_usage"] == 1
    prefix = key.split(".")[0]
    revoked = requests.delete(
        f"{gateway.url}/v1/gateway/groups/{group['id']}/api_keys/{prefix}",
        headers=gateway.headers(),
        timeout=30,
    )
    assert revoked.status_code == 200
    with pytest.raises(openai.AuthenticationError):
        ask(client, False)


def test_an_sdk_left_on_bearer_is_rejected(gateway: SimulatorClient) -> None:
    """INF-AUTH-SCHEME: the SDK's default Bearer header gets 401, as documented."""
    key = gateway.group_key(gateway.create_group()["id"])
    plain = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        plain.chat.completions.create(model=SLUG, messages=HI)
    assert refused.value.response.headers["X-Frontier-Rule"] == "INF-AUTH-SCHEME"


def test_a_cut_stream_ends_early_for_the_sdk(gateway: SimulatorClient) -> None:
    """INF-STREAM-CUT: the SDK reads the first events, then the connection ends early."""
    client = gateway.openai_client()
    gateway.cut_next(3, path="/v1/chat/completions")
    received: list[str] = []

    def read() -> None:
        for chunk in client.chat.completions.create(model=SLUG, messages=HI, stream=True):
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIConnectionError):
        read()
    assert received == ["", "This", " is"]


def test_concurrent_calls_never_over_admit(sim: FrontierSim) -> None:
    """LIMIT-ENFORCED under concurrency: 32 racing calls against REQUEST/MINUTE 10 on the
    real server give exactly ten 200s, the rest 429."""
    body = group_body(unique("race"), models=[model(rate=[("REQUEST", "MINUTE", 10)])])
    created = sim.create(body)
    assert created.status_code == 200, created.text
    group_id = created.json()["id"]
    key = sim.call("POST", f"/v1/gateway/groups/{group_id}/api_keys", json={}).json()["api_key"]
    chat = {"model": SLUG, "messages": HI}
    answers = race(THREADS, lambda _: sim.call("POST", "/v1/chat/completions", key, json=chat))
    assert Counter(a.status_code for a in answers) == {200: 10, 429: THREADS - 10}
    assert {a.headers["X-Frontier-Rule"] for a in answers if a.status_code == 429} == {
        "LIMIT-ENFORCED"
    }
