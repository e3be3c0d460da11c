"""Deliberately broken simulators for the inference rules: each overrides one piece of the
enforcement, the usage counters or the key check, and so breaks the rules it names.

Built like the variants of `broken.py`: inside a `pytest.MonkeyPatch` context, returning a
fresh `create_app()`. The inference checks of the conformance suite must catch each one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

import simulator.core.inference as inference
import simulator.core.metering as metering
import simulator.core.serialize as serialize
import simulator.core.windows as windows
import simulator.web.inference as inference_view
from simulator import create_app
from simulator.core.clock import DAY_SECONDS
from simulator.core.completions import Completion
from simulator.core.inference import Inference
from simulator.core.metering import REQUEST, TOKEN, Charge, charges
from simulator.core.model import CASCADING, Group, KeyRecord
from simulator.core.store import Store
from tests.variants.broken import Build, Variant

INFERENCE_BROKEN: list[Variant] = []
_original_counted = metering.counted
_original_charges = metering.charges
_original_usage = metering.usage
_original_chunks = inference_view.chunks


def broken(*rules: str) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        doc = build.__doc__ or ""
        INFERENCE_BROKEN.append(Variant(build.__name__, frozenset(rules), build, doc))
        return build

    return register


def _admit_with(
    mp: pytest.MonkeyPatch,
    admit: Callable[[Group, str, int, float], None],
) -> Flask:
    mp.setattr(inference, "admit", admit)
    return create_app()


@broken(
    "LIMIT-ENFORCED",
    "LIMIT-PER-SLUG",
    "LIMIT-ROLLING",
    "LIMIT-DAILY",
    "LIMIT-INDEPENDENT",
    "LIMIT-CASCADING",
    "LIMIT-REJECTED-FREE",
    "LIMIT-LIVE",
    "INF-ERR-BODY",
)
def one_call_over_every_limit(mp: pytest.MonkeyPatch) -> Flask:
    """Over-admission: a counter reads one less than it holds, so each limit admits one
    call more than its threshold (the classic `>` for `>=`)."""
    mp.setattr(
        metering, "counted", lambda charge, slug, now: _original_counted(charge, slug, now) - 1
    )
    return create_app()


@broken("LIMIT-CASCADING")
def parent_not_debited(mp: pytest.MonkeyPatch) -> Flask:
    """CASCADING calls are checked against the ancestors' limits but debit only the group."""

    def admit(group: Group, slug: str, tokens: int, now: float) -> None:
        plan = charges(group, slug, tokens)
        for charge in plan:
            if metering.counted(charge, slug, now) + charge.amount > charge.limit.threshold:
                raise metering.refusal(charge, slug, metering.counted(charge, slug, now), now)
        for charge in plan:
            if charge.owner is group and charge.limit.unit != "DAY":
                metering.window_of(charge, slug).add(now, charge.amount)
        group.meters.day_count(slug, REQUEST, now).add(now, 1)
        group.meters.day_count(slug, TOKEN, now).add(now, tokens)

    return _admit_with(mp, admit)


@broken("LIMIT-REJECTED-FREE")
def rejected_call_counted(mp: pytest.MonkeyPatch) -> Flask:
    """A call is debited before its limits are checked, so a refused call still counts."""

    def admit(group: Group, slug: str, tokens: int, now: float) -> None:
        plan = charges(group, slug, tokens)
        for charge in plan:
            if charge.limit.unit != "DAY":
                metering.window_of(charge, slug).add(now, charge.amount)
        for member in group.lineage() if group.mode == CASCADING else (group,):
            member.meters.day_count(slug, REQUEST, now).add(now, 1)
            member.meters.day_count(slug, TOKEN, now).add(now, tokens)
        for charge in plan:
            used = metering.counted(charge, slug, now)
            if used > charge.limit.threshold:
                raise metering.refusal(charge, slug, used - charge.amount, now)

    return _admit_with(mp, admit)


@broken("LIMIT-DAILY", "USAGE-LIVE")
def resets_at_local_midnight(mp: pytest.MonkeyPatch) -> Flask:
    """Daily windows run from midnight in New York (UTC-5), not midnight UTC."""
    shift = 5 * 3600

    def day_of(instant: float) -> int:
        return int((instant - shift) // DAY_SECONDS)

    def next_midnight(instant: float) -> float:
        return (day_of(instant) + 1) * DAY_SECONDS + shift

    for module in (windows, metering):
        mp.setattr(module, "day_of", day_of)
    mp.setattr(metering, "next_midnight", next_midnight)
    return create_app()


@broken("INF-AUTH-SCHEME")
def bearer_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A group key sent as `Bearer` is accepted like `Api-Key`."""
    original = Inference.authenticate

    def authenticate(self: Inference, authorization: str | None) -> bytes:
        scheme, _, credential = (authorization or "").strip().partition(" ")
        if scheme.lower() == "bearer":
            return original(self, f"Api-Key {credential}")
        return original(self, authorization)

    mp.setattr(Inference, "authenticate", authenticate)
    return create_app()


@broken("INF-AUTH-KEY")
def revoked_key_still_calls(mp: pytest.MonkeyPatch) -> Flask:
    """Revoking a key removes it from its group's list, but it still calls models."""

    def revoke_key(self: Store, workspace: str, group_id: str, prefix: str) -> KeyRecord:
        with self.lock:
            record = self.get_key(workspace, group_id, prefix)
            del self.get_group(workspace, group_id).keys[prefix]
            return record

    mp.setattr(Store, "revoke_key", revoke_key)
    return create_app()


@broken("LIMIT-INDEPENDENT")
def independent_children_share_the_parent_counter(mp: pytest.MonkeyPatch) -> Flask:
    """INDEPENDENT children are metered on the counter of the group that declares the limit,
    as if the tree were CASCADING."""

    def shared(group: Group, slug: str, tokens: int) -> list[Charge]:
        owners = {g.id: g for g in group.lineage()}
        return [
            Charge(c.limit, owners[c.limit.source_group], c.amount)
            for c in _original_charges(group, slug, tokens)
        ]

    mp.setattr(metering, "charges", shared)
    return create_app()


@broken("USAGE-LIVE", "LIMIT-REJECTED-FREE")  # that check reads the usage counters
def usage_stays_null(mp: pytest.MonkeyPatch) -> Flask:
    """Usage never shows a count: current_usage and reset_at stay null after calls."""

    def usage(group: Group, now: float) -> dict[str, list[dict[str, Any]]]:
        found = _original_usage(group, now)
        return {
            slug: [{**e, "current_usage": None, "reset_at": None} for e in entries]
            for slug, entries in found.items()
        }

    mp.setattr(serialize, "usage", usage)
    return create_app()


@broken("INF-STREAM")
def stream_without_usage_chunk(mp: pytest.MonkeyPatch) -> Flask:
    """A stream asked for `stream_options.include_usage` never sends its usage chunk."""

    def chunks(completion: Completion, include_usage: bool) -> Iterator[dict[str, Any]]:
        return _original_chunks(completion, False)

    mp.setattr(inference_view, "chunks", chunks)
    return create_app()
