"""Cursor pagination over sequence-numbered items (LIST-*).

Every stored item gets a number from one counter that only grows, and a cursor names the
last number a page showed. So a page is stable while items are added (they come later) or
deleted (they drop out) between calls.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import TypeVar

from simulator.core.errors import InvalidCursor

T = TypeVar("T")


def encode_cursor(kind: str, after: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{after}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> int:
    """The sequence number a cursor of `kind` names; 0 (the start) for no cursor."""
    if cursor is None:
        return 0
    try:
        found_kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        after = int(number)
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidCursor() from None
    if found_kind != kind or after < 0:
        raise InvalidCursor()
    return after


def page(
    items: Sequence[T], after: int, limit: int, seq: Callable[[T], int]
) -> tuple[list[T], int | None]:
    """The items numbered above `after`, at most `limit`, and the number to continue from."""
    start = bisect_right(items, after, key=seq)
    chunk = list(items[start : start + limit])
    more = start + limit < len(items)
    return chunk, (seq(chunk[-1]) if more and chunk else None)
