"""Enforcement on groups built in memory: sliding windows, daily counts, INDEPENDENT and
CASCADING trees, what a refusal names, and the usage a group shows."""

from __future__ import annotations

import pytest

from simulator.core.clock import DAY_SECONDS, parse_rfc3339
from simulator.core.errors import LimitExceeded, ModelNotInGroup
from simulator.core.metering import admit, charges, usage
from simulator.core.model import CASCADING, INDEPENDENT, Group, Limit, ModelConfig
from simulator.core.windows import DailyCount, SlidingLog

SLUG, OTHER = "your-org/your-model", "your-org/other-model"
T0 = parse_rfc3339("2026-05-13T12:00:00Z")


def config(
    slug: str = SLUG, rate: tuple[Limit, ...] = (), daily: tuple[Limit, ...] = ()
) -> ModelConfig:
    return ModelConfig(slug, rate, daily)


def group(
    gid: str,
    *models: ModelConfig,
    parent: Group | None = None,
    mode: str = INDEPENDENT,
) -> Group:
    made = Group(
        id=gid,
        workspace="acme",
        external_entity_id=gid,
        name=None,
        models=models or (config(),),
        mode=parent.mode if parent else mode,
        parent=parent,
        created_at="2026-05-13T12:00:00Z",
        depth=parent.depth + 1 if parent else 1,
    )
    if parent is not None:
        parent.children.append(made)
    return made


def minute(type_: str, threshold: int) -> tuple[Limit, ...]:
    return (Limit(type_, "MINUTE", threshold),)


def day(type_: str, threshold: int) -> tuple[Limit, ...]:
    return (Limit(type_, "DAY", threshold),)


def admitted(g: Group, tokens: int, now: float = T0, slug: str = SLUG) -> bool:
    try:
        admit(g, slug, tokens, now)
    except LimitExceeded:
        return False
    return True


def test_sliding_log_counts_an_amount_for_exactly_its_width() -> None:
    """LIMIT-SLIDING-LOG: an amount counts from its instant until just before instant + width."""
    log = SlidingLog(60)
    log.add(T0, 5)
    log.add(T0 + 30, 2)
    assert log.used(T0 + 59.999) == 7
    assert log.used(T0 + 60) == 2
    assert log.used(T0 + 90) == 0


def test_sliding_log_merges_amounts_of_one_instant() -> None:
    """Under a frozen clock a window keeps one entry however many calls it meters."""
    log = SlidingLog(1)
    for _ in range(1000):
        log.add(T0, 1)
    assert log.entries() == [(T0, 1000)]


def test_sliding_log_wait_is_when_enough_ages_out() -> None:
    """wait() is the time until the window holds at most `allowed`; None if never."""
    log = SlidingLog(60)
    log.add(T0, 3)
    log.add(T0 + 20, 3)
    assert log.wait(T0 + 30, 3) == pytest.approx(30)
    assert log.wait(T0 + 30, 0) == pytest.approx(50)
    assert log.wait(T0 + 30, 6) == 0
    assert log.wait(T0 + 30, -1) is None


def test_sliding_log_forgets_amounts_after_a_clock_set_back() -> None:
    """Amounts later than `now` haven't happened yet: a clock set back doesn't see them."""
    log = SlidingLog(60)
    log.add(T0 + 100, 4)
    assert log.used(T0) == 0
    assert log.entries() == []


def test_daily_count_reads_zero_on_another_day() -> None:
    """LIMIT-DAILY: a count is for one UTC day; the next day it reads 0 and starts again."""
    count = DailyCount(int(T0 // DAY_SECONDS))
    count.add(T0, 7)
    assert count.used_on(count.day) == 7
    assert count.used_on(count.day + 1) == 0
    count.add(T0 + DAY_SECONDS, 2)
    assert count.used == 2


def test_request_limit_admits_exactly_its_threshold() -> None:
    """LIMIT-ENFORCED: REQUEST/MINUTE 3 admits three calls, then refuses."""
    g = group("g", config(rate=minute("REQUEST", 3)))
    assert [admitted(g, 10) for _ in range(4)] == [True, True, True, False]


def test_token_limit_counts_the_whole_call_at_admission() -> None:
    """LIMIT-TOKENS, LIMIT-TOKEN-ADMISSION: a call is admitted only if all its tokens fit."""
    g = group("g", config(rate=minute("TOKEN", 25)))
    assert admitted(g, 10)
    assert admitted(g, 15)
    assert not admitted(g, 1)
    roomy = group("h", config(rate=minute("TOKEN", 25)))
    assert not admitted(roomy, 26)  # larger than the limit: never admitted


def test_rolling_window_frees_up_exactly_a_minute_later() -> None:
    """LIMIT-ROLLING: a MINUTE limit used at T0 is free again at T0+60, not before."""
    g = group("g", config(rate=minute("REQUEST", 1)))
    assert admitted(g, 1, T0)
    assert not admitted(g, 1, T0 + 59.9)
    assert admitted(g, 1, T0 + 60)


def test_second_window_is_one_second_wide() -> None:
    """LIMIT-ROLLING: a SECOND limit frees up one second after a call."""
    g = group("g", config(rate=(Limit("REQUEST", "SECOND", 2),)))
    assert admitted(g, 1, T0)
    assert admitted(g, 1, T0 + 0.5)
    assert not admitted(g, 1, T0 + 0.9)
    assert admitted(g, 1, T0 + 1.0)


def test_daily_limit_holds_until_midnight_utc() -> None:
    """LIMIT-DAILY: REQUEST/DAY 2 refuses until midnight UTC, then admits."""
    late = parse_rfc3339("2026-05-13T23:59:00Z")
    g = group("g", config(daily=day("REQUEST", 2)))
    assert admitted(g, 1, late)
    assert admitted(g, 1, late)
    assert not admitted(g, 1, late + 59.999)
    assert admitted(g, 1, late + 60)


def test_limits_are_per_slug() -> None:
    """LIMIT-PER-SLUG: using one slug's limit leaves another slug's alone."""
    g = group("g", config(rate=minute("REQUEST", 1)), config(OTHER, rate=minute("REQUEST", 1)))
    assert admitted(g, 1)
    assert not admitted(g, 1)
    assert admitted(g, 1, slug=OTHER)


def test_slug_outside_the_model_set_is_refused_and_counts_nothing() -> None:
    """INF-MODEL-SET: a slug the group doesn't list raises ModelNotInGroup."""
    g = group("g", config(daily=day("REQUEST", 5)))
    with pytest.raises(ModelNotInGroup):
        admit(g, OTHER, 1, T0)
    assert g.meters.daily == {}


def documented_tree(mode: str) -> tuple[Group, Group, Group]:
    """The documented example scaled down: org TOKEN/MINUTE 100, two children at 70."""
    org = group("org", config(rate=minute("TOKEN", 100)), mode=mode)
    finance = group("finance", config(rate=minute("TOKEN", 70)), parent=org)
    engineering = group("engineering", config(rate=minute("TOKEN", 70)), parent=org)
    return org, finance, engineering


def test_cascading_siblings_compete_for_the_parent_pool() -> None:
    """LIMIT-CASCADING: after finance uses 70, engineering gets 429 once it has used 30."""
    _, finance, engineering = documented_tree(CASCADING)
    assert [admitted(finance, 10) for _ in range(7)] == [True] * 7
    assert [admitted(engineering, 10) for _ in range(4)] == [True, True, True, False]
    with pytest.raises(LimitExceeded, match="source_group org"):
        admit(engineering, SLUG, 10, T0)


def test_independent_siblings_never_interfere() -> None:
    """LIMIT-INDEPENDENT: the same tree INDEPENDENT gives each child its own 70."""
    org, finance, engineering = documented_tree(INDEPENDENT)
    assert all(admitted(finance, 10) for _ in range(7))
    assert all(admitted(engineering, 10) for _ in range(7))
    assert not admitted(engineering, 10)
    assert all(admitted(org, 10) for _ in range(10))


def test_independent_child_is_metered_alone_against_an_inherited_limit() -> None:
    """LIMIT-INDEPENDENT: a child without limits gets the parent's threshold on its own count."""
    parent = group("p", config(rate=minute("REQUEST", 2)))
    child = group("c", config(), parent=parent)
    assert admitted(parent, 1)
    assert admitted(parent, 1)
    assert admitted(child, 1)
    assert admitted(child, 1)
    assert not admitted(child, 1)
    assert {c.owner.id for c in charges(child, SLUG, 1)} == {"c"}


def test_cascading_refusal_names_the_first_limit_hit_and_when_it_fits() -> None:
    """LIMIT-429-BODY: the refusal names slug, type, unit, threshold and source_group, and
    Retry-After is the time until enough of the window ages out."""
    org = group("org", config(rate=minute("REQUEST", 2)), mode=CASCADING)
    child = group("kid", config(rate=minute("REQUEST", 5)), parent=org)
    admit(child, SLUG, 1, T0)
    admit(child, SLUG, 1, T0 + 10)
    with pytest.raises(LimitExceeded) as refused:
        admit(child, SLUG, 1, T0 + 20)
    message = refused.value.message
    for part in (SLUG, "REQUEST/MINUTE", "threshold 2", "source_group org", "2 used"):
        assert part in message
    assert refused.value.headers() == {"Retry-After": "40"}


def test_a_call_that_can_never_fit_has_no_retry_after() -> None:
    """LIMIT-429-BODY: a call larger than a limit says so and carries no Retry-After."""
    g = group("g", config(rate=minute("TOKEN", 5)))
    with pytest.raises(LimitExceeded, match="can never fit") as refused:
        admit(g, SLUG, 6, T0)
    assert refused.value.headers() == {}


def test_a_refused_call_counts_nothing_anywhere() -> None:
    """LIMIT-REJECTED-FREE: a call refused by an ancestor's limit leaves every counter as is."""
    org = group("org", config(rate=minute("REQUEST", 1), daily=day("TOKEN", 1000)), mode=CASCADING)
    child = group("kid", config(daily=day("TOKEN", 1000)), parent=org)
    admit(org, SLUG, 7, T0)
    before = usage(child, T0), usage(org, T0)
    assert not admitted(child, 9)
    assert (usage(child, T0), usage(org, T0)) == before


def test_a_limit_change_applies_to_the_next_call() -> None:
    """LIMIT-LIVE: raising a threshold admits the next call; lowering it refuses the next."""
    g = group("g", config(rate=minute("REQUEST", 1)))
    assert admitted(g, 1)
    g.models = (config(rate=minute("REQUEST", 3)),)
    assert admitted(g, 1)
    g.models = (config(rate=minute("REQUEST", 2)),)
    assert not admitted(g, 1)


def test_usage_is_null_until_the_first_call_then_counts_the_day() -> None:
    """USAGE-LIVE: null before any call; then the day's usage and the next midnight UTC."""
    g = group("g", config(daily=(Limit("TOKEN", "DAY", 100), Limit("REQUEST", "DAY", 9))))
    assert usage(g, T0)[SLUG][0] == {
        "type": "TOKEN", "unit": "DAY", "threshold": 100, "current_usage": None, "reset_at": None,
    }  # fmt: skip
    admit(g, SLUG, 12, T0)
    entries = {e["type"]: e for e in usage(g, T0)[SLUG]}
    assert (entries["TOKEN"]["current_usage"], entries["REQUEST"]["current_usage"]) == (12, 1)
    assert entries["TOKEN"]["reset_at"] == "2026-05-14T00:00:00Z"


def test_usage_after_midnight_reads_zero_with_the_next_reset() -> None:
    """USAGE-COUNTER: the next UTC day reads 0, with the following midnight as reset_at."""
    g = group("g", config(daily=day("REQUEST", 9)))
    admit(g, SLUG, 1, T0)
    (entry,) = usage(g, T0 + DAY_SECONDS)[SLUG]
    assert (entry["current_usage"], entry["reset_at"]) == (0, "2026-05-15T00:00:00Z")


def test_cascading_parent_usage_counts_its_descendants() -> None:
    """USAGE-COUNTER: a CASCADING group's count includes every call of its subtree."""
    org = group("org", config(daily=day("REQUEST", 100)), mode=CASCADING)
    child = group("kid", config(), parent=org)
    grandchild = group("grandkid", config(), parent=child)
    for caller in (org, child, grandchild, grandchild):
        admit(caller, SLUG, 3, T0)
    assert usage(org, T0)[SLUG][0]["current_usage"] == 4
    assert grandchild.meters.daily[(SLUG, "REQUEST")].used == 2
