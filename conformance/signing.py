"""The workspace's Ed25519 signing key, for registering API keys (REGISTER-SIGNATURE).

`--signing-key` takes base64 of the raw 32 private bytes, PEM text, or the path of a PEM file.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

PEM_START = "-----BEGIN"


def load_signing_key(value: str) -> Ed25519PrivateKey:
    """The private key `value` names; ValueError with the reason if it names none."""
    text = value.strip()
    if not text.startswith(PEM_START) and _is_file(text):
        text = Path(text).read_text(encoding="utf-8").strip()
    if text.startswith(PEM_START):
        try:
            key = load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ValueError("not an unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM key isn't an Ed25519 private key")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("neither base64 of 32 bytes, PEM, nor a PEM file") from None
    if len(raw) != 32:
        raise ValueError(f"base64 of {len(raw)} bytes; an Ed25519 private key has 32")
    return Ed25519PrivateKey.from_private_bytes(raw)


def sign(key: Ed25519PrivateKey, body: bytes) -> str:
    """The `X-Baseten-Signature` value: base64 of the Ed25519 signature of the exact bytes."""
    return base64.b64encode(key.sign(body)).decode()


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:  # e.g. a name too long to be a path
        return False
