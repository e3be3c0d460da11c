"""The request body cap over the real server: 413 in the error shape, sized or chunked.

Granian hands a chunked body to the app without a Content-Length, a path the Flask test
client never takes, so the cap is checked here on both paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from simulator.core.config import DEFAULT_CONFIG
from tests.builders import GROUPS, MANAGE_KEY, group_body, unique
from tests.servers import FrontierSim, start_frontier_sim

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024
HEADERS = {"Authorization": f"Api-Key {MANAGE_KEY}", "Content-Type": "application/json"}


def padded(size: int) -> bytes:
    """A valid create body grown to exactly `size` bytes with trailing white space."""
    body = json.dumps(group_body(unique("padded"))).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """A generator body: requests sends it chunked, with no Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def post(sim: FrontierSim, data: bytes | Iterator[bytes]) -> requests.Response:
    return requests.post(sim.url + GROUPS, data=data, headers=HEADERS, timeout=60)


def assert_too_large(response: requests.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}
    assert response.json()["error"]


def test_sized_body_at_the_default_cap_is_read_and_one_byte_more_is_413(sim: FrontierSim) -> None:
    """1 MiB by default: a body of exactly 1 MiB is served, 1 MiB + 1 byte gets 413."""
    assert post(sim, padded(MIB)).status_code == 200
    assert_too_large(post(sim, padded(MIB + 1)))


def test_chunked_body_past_the_default_cap_is_413_not_cut_short(sim: FrontierSim) -> None:
    """A chunked valid body with 2 MiB of trailing spaces is refused, not parsed truncated."""
    assert_too_large(post(sim, chunks(padded(2 * MIB))))


def test_chunked_body_within_the_default_cap_is_served(sim: FrontierSim) -> None:
    """No Content-Length is no reason to refuse: a chunked body of exactly 1 MiB gets 200."""
    response = post(sim, chunks(padded(MIB)))
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def small_cap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrontierSim]:
    """A server whose cap comes from a configuration file: max_body_bytes 4096."""
    config = {**DEFAULT_CONFIG, "max_body_bytes": 4096}
    path = Path(tmp_path_factory.mktemp("config")) / "sim.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    running = start_frontier_sim("--config", str(path))
    yield running
    assert running.stop() == 0


def test_config_max_body_bytes_sets_the_cap(small_cap: FrontierSim) -> None:
    """`max_body_bytes` in the configuration file: 4096 bytes served, 4097 refused, chunked too."""
    assert post(small_cap, padded(4096)).status_code == 200
    assert post(small_cap, chunks(padded(4096), 1000)).status_code == 200
    assert_too_large(post(small_cap, padded(4097)))
    assert_too_large(post(small_cap, chunks(padded(4097), 1000)))


def test_max_body_bytes_option_sets_the_cap() -> None:
    """`--max-body-bytes 2048`: a 2049-byte body gets 413, sized or chunked, and 2048 is served."""
    sim = start_frontier_sim("--max-body-bytes", "2048")
    try:
        assert post(sim, padded(2048)).status_code == 200
        assert_too_large(post(sim, padded(2049)))
        assert_too_large(post(sim, chunks(padded(2049), 512)))
    finally:
        assert sim.stop() == 0
