"""Enforcement of a group's effective limits on one call, and the usage it shows.

A call is admitted only if it fits every limit in its slug's effective configuration; then,
and only then, it is debited (LIMIT-REJECTED-FREE). The caller holds the store's lock for
the check and the debit together, so no two calls can both take the last unit.

Whose counter a limit reads:
- INDEPENDENT: the calling group's own, whichever group the limit is inherited from
  (LIMIT-INDEPENDENT);
- CASCADING: the counter of the group that declares the limit (`source_group`), which
  every call in its subtree debits 1:1 (LIMIT-CASCADING).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simulator.core.clock import day_of, next_midnight, rfc3339
from simulator.core.errors import LimitExceeded, ModelNotInGroup, echo
from simulator.core.limits import EffectiveLimit, effective_model, effective_models
from simulator.core.model import CASCADING, Group
from simulator.core.windows import SlidingLog

TOKEN, REQUEST, DAY = "TOKEN", "REQUEST", "DAY"


@dataclass(frozen=True, slots=True)
class Charge:
    """One limit a call must fit: the counter it reads and what the call adds to it."""

    limit: EffectiveLimit
    owner: Group  # whose counter
    amount: int


def charges(group: Group, slug: str, tokens: int) -> list[Charge]:
    """The limits a call of `tokens` tokens to `slug` must fit, in the order they are
    checked: rate limits, then usage limits, each the group's own before its ancestors'.

    Raises ModelNotInGroup when the slug isn't in the group's effective model set.
    """
    model = effective_model(group, slug)
    if model is None:  # INF-MODEL-SET
        raise ModelNotInGroup(
            f"The model {echo(slug)} isn't in this key's group's model set; "
            "add it to the group's models to call it."
        )
    cascading = group.mode == CASCADING
    owners = {g.id: g for g in group.lineage()} if cascading else {}
    return [
        Charge(limit, owners[limit.source_group] if cascading else group, _amount(limit, tokens))
        for limit in (*model.rate_limits, *model.usage_limits)
    ]


def admit(group: Group, slug: str, tokens: int, now: float) -> None:
    """Checks every limit, then debits the call: all of it, or nothing (LIMIT-ENFORCED).

    The first limit that the call doesn't fit is named in the refusal. The caller holds the
    store's lock.
    """
    plan = charges(group, slug, tokens)
    for charge in plan:
        used = counted(charge, slug, now)
        if used + charge.amount > charge.limit.threshold:
            raise refusal(charge, slug, used, now)
    for charge in plan:
        if charge.limit.unit != DAY:
            window_of(charge, slug).add(now, charge.amount)
    debited = group.lineage() if group.mode == CASCADING else (group,)
    for member in debited:  # daily usage is metered for every slug, limited or not
        member.meters.day_count(slug, REQUEST, now).add(now, 1)
        member.meters.day_count(slug, TOKEN, now).add(now, tokens)


def usage(group: Group, now: float) -> dict[str, list[dict[str, Any]]]:
    """USAGE-RESPONSE and USAGE-LIVE: per slug with effective usage limits, one entry per
    (type, unit) with the closest declaring group's threshold and the group's own counter.

    `current_usage` and `reset_at` stay null until a call of that slug lands on the group.
    """
    today = day_of(now)
    found: dict[str, list[dict[str, Any]]] = {}
    for model in effective_models(group):
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        for limit in model.usage_limits:
            if (limit.type, limit.unit) in entries:
                continue
            count = group.meters.daily.get((model.slug, limit.type))
            entries[(limit.type, limit.unit)] = {
                "type": limit.type,
                "unit": limit.unit,
                "threshold": limit.threshold,
                "current_usage": None if count is None else count.used_on(today),
                "reset_at": None if count is None else rfc3339(next_midnight(now)),
            }
        if entries:
            found[model.slug] = list(entries.values())
    return found


def _amount(limit: EffectiveLimit, tokens: int) -> int:
    return tokens if limit.type == TOKEN else 1  # LIMIT-TOKENS: prompt plus completion


def window_of(charge: Charge, slug: str) -> SlidingLog:
    """The sliding log a rate-limit charge reads and debits."""
    return charge.owner.meters.window(slug, charge.limit.type, charge.limit.unit)


def counted(charge: Charge, slug: str, now: float) -> int:
    """What the charge's counter holds now: its sliding window, or today's count for DAY."""
    limit = charge.limit
    if limit.unit == DAY:
        count = charge.owner.meters.daily.get((slug, limit.type))
        return 0 if count is None else count.used_on(day_of(now))
    log = charge.owner.meters.rate.get((slug, limit.type, limit.unit))
    return 0 if log is None else log.used(now)


def refusal(charge: Charge, slug: str, used: int, now: float) -> LimitExceeded:
    """The 429 for a call that doesn't fit `charge`, naming the limit and when to retry."""
    limit = charge.limit
    allowed = limit.threshold - charge.amount
    if allowed < 0:
        wait: float | None = None
    elif limit.unit == DAY:
        wait = next_midnight(now) - now  # LIMIT-DAILY: refused for the rest of the day
    else:
        wait = window_of(charge, slug).wait(now, allowed)
    kind = "Usage" if limit.unit == DAY else "Rate"
    needs = "" if charge.amount == 1 else f", this request needs {charge.amount}"
    when = (
        "it can never fit this limit"
        if wait is None
        else "the daily window resets at midnight UTC"
        if limit.unit == DAY
        else f"retry in {math.ceil(wait)} s"
    )
    return LimitExceeded(
        f"{kind} limit exceeded for model {slug}: {limit.type}/{limit.unit} threshold "
        f"{limit.threshold}, source_group {limit.source_group}; {used} used{needs}; {when}.",
        retry_after=wait,
    )
