"""Hypothesis: random call sequences against the meters, compared with brute-force oracles."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.core.clock import parse_rfc3339
from simulator.core.errors import LimitExceeded
from simulator.core.metering import admit, usage
from simulator.core.model import CASCADING, Group, Limit
from tests.core.test_metering import SLUG, config, day, group

T0 = parse_rfc3339("2026-05-13T23:58:00Z")
# (seconds since the previous call, tokens of this call)
calls = st.lists(
    st.tuples(st.sampled_from([0.0, 0.25, 0.5, 1.0, 7.5, 30.0, 59.75, 60.0]), st.integers(1, 40)),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(calls=calls, tokens=st.integers(1, 120), requests=st.integers(1, 5))
def test_admission_matches_an_exact_sliding_window_oracle(
    calls: list[tuple[float, int]], tokens: int, requests: int
) -> None:
    """LIMIT-SLIDING-LOG: a call is admitted exactly when, with it, the tokens of the last
    60 s stay within TOKEN/MINUTE and the calls of the last second within REQUEST/SECOND;
    so no window ever holds more than its threshold."""
    limits = (Limit("TOKEN", "MINUTE", tokens), Limit("REQUEST", "SECOND", requests))
    g = group("g", config(rate=limits))
    now, kept = T0, []  # kept: (time, tokens) of admitted calls
    for gap, amount in calls:
        now += gap
        in_minute = sum(a for t, a in kept if now - 60 < t <= now)
        in_second = sum(1 for t, _ in kept if now - 1 < t <= now)
        fits = in_minute + amount <= tokens and in_second + 1 <= requests
        try:
            admit(g, SLUG, amount, now)
            admitted = True
        except LimitExceeded:
            admitted = False
        assert admitted == fits, (now - T0, amount, in_minute, in_second)
        if admitted:
            kept.append((now, amount))


@settings(max_examples=100, deadline=None)
@given(
    callers=st.lists(st.integers(0, 3), max_size=40),
    thresholds=st.tuples(st.integers(1, 30), st.integers(1, 30), st.integers(1, 30)),
)
def test_cascading_usage_of_a_parent_covers_its_children(
    callers: list[int], thresholds: tuple[int, int, int]
) -> None:
    """LIMIT-CASCADING, LIMIT-ENFORCED: in a random CASCADING tree a parent's daily count is
    at least the sum of its children's, no count passes its threshold, and every accepted
    call appears once at each level above it."""
    root_cap, child_cap, leaf_cap = thresholds
    root = group("root", config(daily=day("REQUEST", root_cap)), mode=CASCADING)
    left = group("left", config(daily=day("REQUEST", min(child_cap, root_cap))), parent=root)
    right = group("right", config(), parent=root)
    leaf_limit = day("REQUEST", min(leaf_cap, child_cap, root_cap))
    leaf = group("leaf", config(daily=leaf_limit), parent=left)
    members = [root, left, right, leaf]
    accepted = dict.fromkeys([m.id for m in members], 0)
    for index in callers:
        try:
            admit(members[index], SLUG, 1, T0)
            accepted[members[index].id] += 1
        except LimitExceeded:
            pass

    def used(g: Group) -> int:
        count = g.meters.daily.get((SLUG, "REQUEST"))
        return 0 if count is None else count.used

    assert used(root) == sum(accepted.values()) <= root_cap
    assert used(root) >= used(left) + used(right)
    assert used(left) == accepted["left"] + accepted["leaf"] <= min(child_cap, root_cap)
    assert used(leaf) == accepted["leaf"]
    shown = usage(root, T0)[SLUG][0]["current_usage"]
    assert shown == (used(root) if accepted["root"] + used(left) + used(right) else None)
