"""Registering a caller's own key: signature, length, entropy, prefix, the public key on file.

Every body is signed with the workspace's key (--signing-key) unless the case is about the
signature. Keys are random, so their first 16 characters (the prefix) are new each run.
"""

from __future__ import annotations

import json
import random
import string
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conformance.bodies import PREFIX_LENGTH, PUBLIC_KEY_MESSAGE, SIGNATURE_MESSAGE, group_body
from conformance.checks.api_keys import key_path, path_get
from conformance.ledger import Client
from conformance.registry import CheckFailed, check
from conformance.session import Session
from conformance.signing import sign
from conformance.target import Reply

ALPHABET = string.ascii_letters + string.digits
_random = random.SystemRandom()


def strong_key(length: int) -> str:
    """Letters and digits spread evenly, so the entropy is at least log2(min(length, 62))."""
    chars: list[str] = []
    while len(chars) < length:
        chars += _random.sample(ALPHABET, len(ALPHABET))
    return "".join(chars[:length])


def key_of(distinct: int, length: int) -> str:
    """`distinct` random characters, each used equally often: exactly log2(distinct) bits each."""
    chars = _random.sample(ALPHABET, distinct) * (length // distinct)
    _random.shuffle(chars)
    return "".join(chars)


def body_of(key: str, name: str | None = None) -> bytes:
    return json.dumps({"key": key} if name is None else {"key": key, "name": name}).encode()


def register(s: Session, group: dict[str, Any], key: str, name: str | None = None) -> Reply:
    """Registers `key`, signed with the workspace's key."""
    raw = body_of(key, name)
    return s.register_key(group["id"], key, raw, sign(s.signer, raw))


def _expect_refused(s: Session, group: dict[str, Any], key: str, reply: Reply, what: str) -> None:
    """400, and the key not registered after all."""
    s.expect_status(reply, 400, f"for {what}")
    s.expect_status(
        s.send("GET", key_path(group, key[:PREFIX_LENGTH])), 404, f"for the key refused ({what})"
    )


def _expect_message(reply: Reply, message: str, what: str) -> None:
    if message not in reply.text:
        raise CheckFailed(f"Received: {reply.describe()} for {what} / Documented: 400 {message!r}")


@check("REGISTER-OK", needs=("signing",))
def registered_key_answers_ok_and_reads_back(s: Session) -> None:
    """REGISTER-OK: {"ok": true}, the key not echoed; it then reads back by its first 16
    characters, with the name it was registered under.

    Source: https://docs.baseten.co/reference/gateway/api-keys/register-an-api-key
    """
    group = s.root()
    key = strong_key(40)
    reply = register(s, group, key, "mine")
    s.expect_accepted(reply, "for a signed key of 40 random characters")
    if path_get(reply.json, "ok") is not True or key in reply.text:
        raise CheckFailed(f'Received: {reply.describe()} / Documented: {{"ok": true}}')
    read = s.send("GET", key_path(group, key[:PREFIX_LENGTH]))
    s.expect_accepted(read, "for a get of the registered key by its first 16 characters")
    fields = (path_get(read.json, "prefix"), path_get(read.json, "name"))
    if fields != (key[:PREFIX_LENGTH], "mine"):
        raise CheckFailed(
            f"Received: {read.describe()} / Documented: the key, prefix {key[:PREFIX_LENGTH]!r} "
            "and the name it was registered with, 'mine'"
        )


@check("REGISTER-SIGNATURE", needs=("signing",))
def missing_garbled_or_wrong_signature_is_refused(s: Session) -> None:
    """REGISTER-SIGNATURE: no header, bad base64 (also the right signature with a stray
    character), another key's signature or a signature of other bytes give 400 `Signature
    verification failed`.

    Source: https://docs.baseten.co/reference/gateway/api-keys/register-an-api-key
    """
    group = s.root()
    key = strong_key(40)
    raw = body_of(key)
    good = sign(s.signer, raw)
    cases = {
        "no X-Baseten-Signature": None,
        "a signature that isn't base64": "not base64!",
        "the right signature with a character outside base64 in it": f"{good[:8]}*{good[8:]}",
        "another key's signature": sign(Ed25519PrivateKey.generate(), raw),
        "the signature of other bytes": sign(s.signer, raw + b" "),
    }
    for what, signature in cases.items():
        reply = s.register_key(group["id"], key, raw, signature)
        _expect_refused(s, group, key, reply, what)
        _expect_message(reply, SIGNATURE_MESSAGE, what)


@check("REGISTER-LENGTH", needs=("signing",))
def key_of_32_to_128_characters_is_accepted(s: Session) -> None:
    """REGISTER-LENGTH: 32 and 128 characters are accepted; 31 and 129 give 400.

    Source: https://docs.baseten.co/reference/gateway/api-keys/register-an-api-key
    """
    group = s.root()
    for length in (31, 129):
        key = strong_key(length)
        _expect_refused(s, group, key, register(s, group, key), f"a key of {length} characters")
    for length in (32, 128):
        reply = register(s, group, strong_key(length))
        s.expect_accepted(reply, f"for a signed random key of {length} characters")


@check("REGISTER-ENTROPY", needs=("signing",))
def key_below_3_bits_per_character_is_refused(s: Session) -> None:
    """REGISTER-ENTROPY: 1 and 2.81 bits per character give 400; exactly 3 ("at least
    3.0") and 3.17 are accepted.

    Source: https://docs.baseten.co/reference/gateway/api-keys/register-an-api-key
    """
    group = s.root()
    for distinct, length, bits in ((2, 40, "1.00"), (7, 35, "2.81")):
        key = key_of(distinct, length)
        what = f"a key of {bits} bits per character ({distinct} characters, evenly)"
        _expect_refused(s, group, key, register(s, group, key), what)
    for distinct, length, bits in ((8, 32, "3.00"), (9, 36, "3.17")):
        reply = register(s, group, key_of(distinct, length))
        what = f"a key of {bits} bits per character ({distinct} characters, evenly)"
        s.expect_accepted(reply, f"for {what}")


@check("REGISTER-PREFIX-UNIQUE", needs=("signing",))
def key_with_a_taken_prefix_is_refused(s: Session) -> None:
    """REGISTER-PREFIX-UNIQUE: a key whose first 16 characters are a registered key's gives
    400, under the same group and under another; the first key stays.

    Source: https://docs.baseten.co/reference/gateway/api-keys/register-an-api-key
    """
    first_group, other_group = s.root(), s.root()
    first = strong_key(40)
    s.expect_accepted(register(s, first_group, first, "first"), "for a signed random key")
    for group in (other_group, first_group):
        reply = register(s, group, first[:PREFIX_LENGTH] + strong_key(24), "second")
        s.expect_status(reply, 400, "for a key whose first 16 characters are taken")
    read = s.send("GET", key_path(first_group, first[:PREFIX_LENGTH]))
    s.expect_accepted(read, "for the first key, after the refusals")


@check("REGISTER-PUBLIC-KEY", needs=("no_public_key",))
def workspace_without_a_public_key_is_refused(s: Session) -> None:
    """REGISTER-PUBLIC-KEY: a workspace with no public key on file gets 400 `Must configure a
    public key before registering API keys`.

    Source: https://docs.baseten.co/reference/gateway/api-keys/register-an-api-key
    """
    client: Client = s.client("no_public_key")
    group = s.group(group_body(s.external_id("no-public-key")), client)
    key = strong_key(40)
    raw = body_of(key)
    reply = s.register_key(group["id"], key, raw, sign(Ed25519PrivateKey.generate(), raw), client)
    what = "a signed key in a workspace without a public key"
    s.expect_status(reply, 400, f"for {what}")
    _expect_message(reply, PUBLIC_KEY_MESSAGE, what)
