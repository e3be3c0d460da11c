"""The suite's billing webhook receiver: what it answers, what it keeps, how it verifies."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket

import pytest
import requests

from conformance.webhooks import Receiver, check_listen, listening, signature, signed_by
from tests.servers import free_port

SECRET = "whsec-test"


def envelope(*entities: str) -> bytes:
    events = [{"externalEntityId": e, "idempotencyKey": f"k-{e}"} for e in entities]
    return json.dumps({"type": "API_BILLING_USAGE", "data": {"events": events}}).encode()


def post(port: int, body: bytes) -> int:
    answer = requests.post(f"http://127.0.0.1:{port}/hook", data=body, timeout=5)
    return answer.status_code


def test_signature_is_the_hex_hmac_of_the_raw_body() -> None:
    """v1=<hex HMAC-SHA256>, over the bytes as sent: the same JSON spaced otherwise fails."""
    body = b'{"a":1}'
    assert signature(SECRET, body) == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signed_by(f"v1={signature(SECRET, body)}", SECRET, body)
    assert not signed_by(f"v1={signature(SECRET, body)}", SECRET, b'{"a": 1}')
    assert not signed_by(signature(SECRET, body), SECRET, body)  # no v1=
    assert not signed_by(None, SECRET, body)


def test_a_rotation_header_with_several_signatures_verifies() -> None:
    """During a rotation `v1=<new>,<old>`: either one signing the body is enough."""
    body = b"{}"
    header = f"v1={signature('new', body)},{signature('old', body)}"
    assert signed_by(header, "old", body)
    assert signed_by(header, "new", body)
    assert not signed_by(header, "other", body)


@pytest.mark.parametrize("listen", ["nowhere", "127.0.0.1:0", "127.0.0.1:70000", ":8080"])
def test_listen_must_be_host_and_port(listen: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        check_listen(listen)


def test_a_port_in_use_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match="cannot listen"):
            check_listen(f"127.0.0.1:{port}")


def test_the_receiver_answers_as_planned_per_entity_then_200() -> None:
    """`answer(entity, 503)` answers that entity's first delivery 503, then 200; other
    entities get 200; every delivery is kept with its raw body and headers."""
    port = free_port()
    with listening(f"127.0.0.1:{port}") as receiver:
        receiver.answer("mine", 503, 400)
        assert post(port, envelope("other")) == 200
        assert post(port, envelope("mine")) == 503
        assert post(port, envelope("mine", "other")) == 400
        assert post(port, envelope("mine")) == 200
        mine = receiver.of(["mine"])
        assert [d.answered for d in mine] == [503, 400, 200]
        assert mine[0].body == envelope("mine")
        assert mine[0].header("content-length") == str(len(envelope("mine")))
        assert len(receiver.of(["other"])) == 2
        assert receiver.wait(lambda: len(receiver.of(["mine"])) == 3, 0.1)
        assert not receiver.wait(lambda: len(receiver.of(["mine"])) == 4, 0.2)


def test_a_body_that_is_not_the_envelope_is_kept_with_no_events() -> None:
    port = free_port()
    with listening(f"127.0.0.1:{port}") as receiver:
        assert post(port, b"not json") == 200
        assert receiver.of(["x"]) == []


def test_the_receiver_stops_listening_when_closed() -> None:
    port = free_port()
    receiver = Receiver("127.0.0.1", port)
    receiver.start()
    receiver.close()
    with pytest.raises(requests.ConnectionError):
        post(port, envelope("x"))
