"""API keys under groups: minting, and the rules for registering a caller's own key.

Only a SHA-256 digest of a key is ever stored; the plaintext of a minted key is returned once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import secrets
import string
from collections import Counter

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from simulator.core.errors import (
    KeyEntropyTooLow,
    KeyTooShortOrLong,
    PublicKeyMissing,
    SignatureInvalid,
)

MINT_PREFIX = "sky_"
PREFIX_LENGTH = 16  # sky_ + 12 for minted keys; the first 16 characters of a registered one
MIN_KEY_LENGTH, MAX_KEY_LENGTH = 32, 128
MIN_ENTROPY_BITS = 3.0
_ALPHANUMERIC = string.ascii_letters + string.digits


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def new_secret() -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(32))


def shannon_entropy(text: str) -> float:
    """Bits per character of the string's own character distribution."""
    return sum(n / len(text) * math.log2(len(text) / n) for n in Counter(text).values())


def check_registered_key(key: str) -> None:
    if not MIN_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH:  # REGISTER-LENGTH
        raise KeyTooShortOrLong(
            f"The key is {len(key)} characters long; it must be {MIN_KEY_LENGTH} to "
            f"{MAX_KEY_LENGTH}."
        )
    bits = shannon_entropy(key)
    if bits < MIN_ENTROPY_BITS:  # REGISTER-ENTROPY
        raise KeyEntropyTooLow(
            f"The key's entropy is {bits:.2f} bits per character; at least "
            f"{MIN_ENTROPY_BITS} is required."
        )


def load_public_key(text: str) -> Ed25519PublicKey:
    """A workspace's Ed25519 public key: PEM, or base64 of the raw 32 bytes."""
    if text.lstrip().startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key isn't an Ed25519 public key")
        return key
    raw = base64.b64decode(text, validate=True)
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_signature(public_key: str | None, signature: str | None, body: bytes) -> None:
    """REGISTER-PUBLIC-KEY, then REGISTER-SIGNATURE over the exact body bytes."""
    if public_key is None:
        raise PublicKeyMissing()
    try:
        load_public_key(public_key).verify(base64.b64decode(signature or "", validate=True), body)
    except (InvalidSignature, binascii.Error, ValueError):
        raise SignatureInvalid() from None
