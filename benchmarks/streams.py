"""Concurrent streamed completions over loopback: the gap between tokens as clients see it.

An asyncio client with no dependencies: each stream is one HTTP/1.1 connection that POSTs a
`stream: true` chat completion and timestamps every server-sent event as it arrives.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class StreamsResult:
    streams: int
    completed: int
    gaps_ms: list[float]  # time between consecutive content chunks of one stream

    def percentile(self, q: float) -> float:
        ordered = sorted(self.gaps_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.gaps_ms) if self.gaps_ms else 0.0


async def _one_stream(port: int, key: str, body: bytes) -> list[float] | None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Api-Key {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    writer.write(head + body)
    await writer.drain()
    arrivals: list[float] = []
    buffer = b""
    status_line = await reader.readline()
    ok = b" 200 " in status_line
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            break
        now = time.perf_counter()
        buffer += chunk
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            data = event.rpartition(b"data: ")[2]
            if data.startswith(b"{") and b'"content"' in data:
                arrivals.append(now)
    writer.close()
    if not ok:
        return None
    return [(b - a) * 1000 for a, b in itertools.pairwise(arrivals)]


async def _all(port: int, key: str, model: str, streams: int, max_tokens: int) -> StreamsResult:
    body = json.dumps(
        {
            "model": model,
            "messages": [{"role": "user", "content": "Say something."}],
            "max_tokens": max_tokens,
            "stream": True,
        }
    ).encode()
    results = await asyncio.gather(*(_one_stream(port, key, body) for _ in range(streams)))
    done = [r for r in results if r is not None]
    return StreamsResult(streams, len(done), [g for r in done for g in r])


def run_streams(port: int, key: str, model: str, streams: int, max_tokens: int) -> StreamsResult:
    return asyncio.run(_all(port, key, model, streams, max_tokens))
