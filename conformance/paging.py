"""Reading cursor-paginated lists: `{items, pagination: {has_more, cursor}}` (LIST-SHAPE).

Cursors are opaque: they are only ever sent back as they came. A workspace may hold what
other people created; callers keep only the items their run made (`own`) and ignore the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from conformance.ledger import Client
from conformance.registry import CheckFailed
from conformance.session import Session

MAX_PAGE = 1000  # LIST-LIMIT's documented maximum
MAX_PAGES = 10_000  # a pagination longer than this is taken to never end
Item = dict[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Item]
    has_more: bool
    cursor: str | None


def with_query(path: str, **query: Any) -> str:
    sent = {name: value for name, value in query.items() if value is not None}
    return f"{path}?{urlencode(sent)}" if sent else path


def read_page(
    s: Session, path: str, shape_rule: str, client: Client | None = None, **query: Any
) -> Page:
    """One page; an answer that isn't one fails `shape_rule`."""
    url = with_query(path, **query)
    reply = s.send("GET", url, client=client)
    s.expect_accepted(reply, f"for GET {url}")
    answer = reply.json
    items = answer.get("items") if isinstance(answer, dict) else None
    pagination = answer.get("pagination") if isinstance(answer, dict) else None
    has_more = pagination.get("has_more") if isinstance(pagination, dict) else None
    cursor = pagination.get("cursor") if isinstance(pagination, dict) else None
    shaped = (
        isinstance(items, list)
        and all(isinstance(item, dict) for item in items)
        and isinstance(has_more, bool)
        and (cursor is None or isinstance(cursor, str))
    )
    if not shaped or has_more != (cursor is not None):
        raise CheckFailed(
            f"Received: {reply.describe(300)} for GET {url} / Documented: "
            '{"items": [...], "pagination": {"has_more": <bool>, "cursor": <string, or null '
            "exactly when has_more is false>}}",
            rule=shape_rule,
        )
    return Page(items or [], bool(has_more), cursor)


def drain(
    s: Session,
    path: str,
    shape_rule: str,
    client: Client | None = None,
    between: Callable[[list[list[Item]]], None] | None = None,
    **query: Any,
) -> list[list[Item]]:
    """Every page, following cursors; `between(pages so far)` runs before each further page."""
    pages: list[list[Item]] = []
    cursors: set[str] = set()
    cursor: str | None = None
    while True:
        page = read_page(s, path, shape_rule, client, cursor=cursor, **query)
        pages.append(page.items)
        if not page.has_more or page.cursor is None:
            return pages
        if page.cursor in cursors or len(pages) >= MAX_PAGES:
            raise CheckFailed(
                f"Received: the cursor {page.cursor!r} again, after {len(pages)} pages / "
                "Documented: following cursors ends with has_more false",
                rule="LIST-CURSOR",
            )
        cursors.add(page.cursor)
        if between is not None:
            between(pages)
        cursor = page.cursor


def expect_hidden_from_other_workspace(
    s: Session, path: str, shape_rule: str, item_id: str, documented: str
) -> None:
    """Another workspace's whole list (every page) holds nothing with `item_id`."""
    pages = drain(s, path, shape_rule, s.client("other"))
    leaked = [item for page in pages for item in page if item.get("id") == item_id]
    if leaked:
        raise CheckFailed(
            f"Received: {leaked} in another workspace's list / Documented: {documented}"
        )


def small_limit(s: Session, path: str, shape_rule: str, pages: int = 8) -> int:
    """A page size that splits the whole list into about `pages` pages (at least 2 a page)."""
    total = sum(len(page) for page in drain(s, path, shape_rule, limit=MAX_PAGE))
    return min(MAX_PAGE, max(2, math.ceil(total / pages)))


def occurrences(pages: Iterable[list[Item]], key: Callable[[Item], Any]) -> dict[Any, int]:
    """How often each key appears across pages."""
    counts: dict[Any, int] = {}
    for page in pages:
        for item in page:
            counts[key(item)] = counts.get(key(item), 0) + 1
    return counts
