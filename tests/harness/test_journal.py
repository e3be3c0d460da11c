"""The request journal (GET /_sim/journal): recent Gateway requests in a bounded ring buffer,
never holding an Authorization value or a key's plaintext."""

from __future__ import annotations

import base64
import io
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from simulator.core.config import DEMO_SIGNING_KEY
from simulator.harness.journal import Journal, JournalEntry, body_for_journal
from tests.builders import GROUPS, MANAGE, VIEW, create_group, group_body

REGISTERED = "Q2x3Vb8nR4tYp6LmZ9kW1sD5fG7hJ0aEuIq"


def entries(client: FlaskClient, query: str = "") -> list[dict[str, object]]:
    response = client.get(f"/_sim/journal{query}")
    assert response.status_code == 200
    found: list[dict[str, object]] = response.get_json()["entries"]
    return found


def signed(body: bytes) -> str:
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(DEMO_SIGNING_KEY))
    return base64.b64encode(key.sign(body)).decode()


def test_journal_records_each_gateway_request(client: FlaskClient) -> None:
    """Each request shows method, path, query, caller, body, status and the refusing rule."""
    create_group(client)
    client.post(GROUPS, json=group_body(), headers=MANAGE)  # duplicate: EXTID-UNIQUE
    client.get(f"{GROUPS}?limit=5", headers=VIEW)
    client.get(GROUPS)
    first, duplicate, listed, anonymous = entries(client)
    assert (first["method"], first["path"], first["status"], first["rule"]) == (
        "POST",
        GROUPS,
        200,
        None,
    )
    assert first["body"] == group_body()
    assert first["caller"] == {"workspace": "acme", "scope": "management"}
    assert (duplicate["status"], duplicate["rule"]) == (400, "EXTID-UNIQUE")
    assert (listed["query"], listed["caller"]) == (
        "limit=5",
        {"workspace": "acme", "scope": "view"},
    )
    assert (anonymous["status"], anonymous["caller"]) == (401, None)
    assert [e["id"] for e in (first, duplicate, listed, anonymous)] == sorted(
        e["id"] for e in (first, duplicate, listed, anonymous)
    )


def test_journal_never_holds_authorization_or_key_plaintexts(client: FlaskClient) -> None:
    """Neither the Authorization value nor a minted or registered key appears in the journal."""
    group_id = create_group(client)["id"]
    minted = client.post(f"{GROUPS}/{group_id}/api_keys", json={"name": "k"}, headers=MANAGE)
    body = f'{{"key": "{REGISTERED}", "name": "mine"}}'.encode()
    registered = client.post(
        f"{GROUPS}/{group_id}/api_keys/register",
        data=body,
        content_type="application/json",
        headers={**MANAGE, "X-Baseten-Signature": signed(body)},
    )
    assert registered.status_code == 200, registered.get_json()
    text = client.get("/_sim/journal").get_data(as_text=True)
    assert "sim-manage-acme" not in text
    assert minted.get_json()["api_key"] not in text
    assert REGISTERED not in text
    assert entries(client)[-1]["body"] == {"key": "[redacted]", "name": "mine"}


def test_journal_shows_injected_faults(client: FlaskClient) -> None:
    """A faulted request is journaled with its status and the fault that applied."""
    client.post("/_sim/faults", json={"status": 429, "retry_after": 3, "times": 1})
    client.get(GROUPS, headers=MANAGE)
    client.get(GROUPS, headers={**MANAGE, "X-Sim-Fault": "latency_ms=1"})
    faulted, delayed = entries(client)
    assert faulted["status"] == 429
    assert faulted["fault"] == {"source": "f1", "status": 429, "retry_after": 3}
    assert (delayed["status"], delayed["fault"]) == (200, {"source": "header", "latency_ms": 1})


def test_journal_filters_by_method_path_and_limit(client: FlaskClient) -> None:
    """`method`, `path` (a glob) and `limit` (the most recent) narrow the entries."""
    group_id = create_group(client, "a")["id"]
    create_group(client, "b")
    client.get(f"{GROUPS}/{group_id}", headers=MANAGE)
    assert len(entries(client, "?method=post")) == 2
    assert [e["path"] for e in entries(client, f"?path={GROUPS}/*")] == [f"{GROUPS}/{group_id}"]
    assert [e["method"] for e in entries(client, "?limit=1")] == ["GET"]
    assert client.get("/_sim/journal?limit=0").status_code == 400


def test_journal_leaves_out_control_routes(client: FlaskClient) -> None:
    """Requests to /_sim/ aren't journaled, so reading the journal doesn't change it."""
    client.post("/_sim/faults", json={"latency_ms": 0})
    client.get("/_sim/state")
    assert entries(client) == []


def test_journal_delete_and_reset_empty_it(client: FlaskClient) -> None:
    """DELETE /_sim/journal empties it, and so does a reset."""
    create_group(client)
    assert client.delete("/_sim/journal").get_json() == {"entries": 1}
    assert entries(client) == []
    create_group(client, "again")
    client.post("/_sim/reset")
    assert entries(client) == []


def test_journal_is_a_bounded_ring_buffer() -> None:
    """Past its size, the oldest entries make room for new ones."""
    journal = Journal(size=3)
    for i in range(5):
        journal.record(JournalEntry("t", "GET", f"/{i}", "", None, None, 200))
    assert [e["path"] for e in journal.entries()] == ["/2", "/3", "/4"]
    assert [e["id"] for e in journal.entries()] == [3, 4, 5]


def test_journal_body_redacts_nested_secret_fields() -> None:
    """Fields named key or api_key are redacted at any depth; non-JSON bodies are left out."""
    raw = b'{"api_key": "s", "items": [{"key": "t", "name": "n"}]}'
    assert body_for_journal(raw) == {
        "api_key": "[redacted]",
        "items": [{"key": "[redacted]", "name": "n"}],
    }
    assert body_for_journal(b"not json") is None
    assert body_for_journal(b"[NaN]") is None
    assert body_for_journal(b"") is None


def test_journal_is_bounded_in_bytes_and_keeps_truncated_bodies() -> None:
    """Past `max_bytes` by its own accounting the oldest entries go; each keeps at most
    `body_bytes` of its body, and clearing gives every byte back."""
    journal = Journal(size=1000, max_bytes=64 * 1024, body_bytes=1024)
    for i in range(500):
        entry = JournalEntry("t", "POST", f"/{i}", "", None, None, 404)
        entry.raw_body, entry.body_size = b"x" * 10_000, 10_000
        journal.record(entry)
        assert journal.bytes <= journal.max_bytes
    kept = journal.entries()
    assert 1 < len(kept) < 500
    assert kept[-1]["path"] == "/499"
    assert {(e["body"], e["body_bytes"], e["body_truncated"]) for e in kept} == {
        (None, 10_000, True)
    }
    assert journal.clear() == len(kept)
    assert journal.bytes == 0


def test_journal_keeps_a_large_body_truncated_and_a_small_one_whole(client: FlaskClient) -> None:
    """A body past the journal's per-entry share is kept in part: no parsed body, its size,
    and a flag; a body within it is parsed as before."""
    padded = json.dumps(group_body("big")).encode() + b" " * 100_000
    response = client.post(GROUPS, data=padded, headers=MANAGE, content_type="application/json")
    assert response.status_code == 200
    create_group(client, "small")
    big, small = entries(client)
    assert (big["body"], big["body_bytes"], big["body_truncated"]) == (None, len(padded), True)
    assert small["body"] == group_body("small")
    assert small["body_truncated"] is False


class Unreadable(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        raise AssertionError("the body was read before the key was checked")


def test_a_request_without_a_valid_key_has_its_body_left_unread(client: FlaskClient) -> None:
    """The key is checked from the headers first; neither the Gateway nor the journal reads
    the body of a request refused for its key."""
    for headers in ({}, {"Authorization": "Api-Key not-a-key"}):
        response = client.post(
            GROUPS,
            headers=headers,
            content_type="application/json",
            environ_overrides={"wsgi.input": Unreadable(b"{}" * 50_000)},
            environ_base={"CONTENT_LENGTH": "100000"},
        )
        assert response.status_code == 401
    assert [(e["status"], e["body"], e["body_bytes"]) for e in entries(client)] == [
        (401, None, 0),
        (401, None, 0),
    ]
