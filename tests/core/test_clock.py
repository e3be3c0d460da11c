"""The simulator's clock: real time by default, set, frozen, shifted and advanced; the UTC day
arithmetic of daily windows."""

from __future__ import annotations

import pytest

from simulator.core.clock import (
    DAY_SECONDS,
    Clock,
    ClockState,
    clock_state_from_json,
    day_of,
    next_midnight,
    parse_rfc3339,
    rfc3339,
    rfc3339_ms,
)

MAY_13_NOON = parse_rfc3339("2026-05-13T12:00:00Z")


class FakeTime:
    """A real-time source a test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_clock_is_real_time_by_default() -> None:
    """Unset, the clock reads its real-time source and reports itself real."""
    real = FakeTime(1000.0)
    clock = Clock(real)
    assert clock.now() == 1000.0
    real.now = 1001.5
    assert clock.now() == 1001.5
    assert clock.state().is_real


def test_clock_set_frozen_stands_still_until_advanced() -> None:
    """Frozen at an instant, the clock ignores real time and moves only when advanced."""
    real = FakeTime(1000.0)
    clock = Clock(real)
    clock.set(MAY_13_NOON)
    real.now += 30
    assert clock.now() == MAY_13_NOON
    assert clock.advance(60) == MAY_13_NOON + 60
    assert clock.state() == ClockState(frozen=True, time=MAY_13_NOON + 60)


def test_clock_set_unfrozen_runs_on_from_the_instant() -> None:
    """Not frozen, a set clock is real time shifted, and advancing adds to the shift."""
    real = FakeTime(1000.0)
    clock = Clock(real)
    clock.set(MAY_13_NOON, frozen=False)
    real.now += 5
    assert clock.now() == MAY_13_NOON + 5
    clock.advance(10)
    assert clock.now() == MAY_13_NOON + 15
    assert not clock.state().frozen


def test_clock_refuses_to_advance_backwards_and_returns_to_real_time() -> None:
    """advance() only goes forward; real_time() drops any setting."""
    clock = Clock(FakeTime(1000.0))
    with pytest.raises(ValueError, match="only advances"):
        clock.advance(-1)
    clock.set(MAY_13_NOON)
    clock.real_time()
    assert clock.now() == 1000.0


def test_clock_state_round_trips_through_json() -> None:
    """A frozen state and a shifted one survive json() and clock_state_from_json()."""
    for state in (ClockState(frozen=True, time=MAY_13_NOON + 0.25), ClockState(offset=-42.5)):
        assert clock_state_from_json(state.json()) == state


def test_timestamps_are_rfc3339_utc() -> None:
    """Whole seconds for documented timestamps, milliseconds for the journal and clock."""
    assert rfc3339(MAY_13_NOON + 0.9) == "2026-05-13T12:00:00Z"
    assert rfc3339_ms(MAY_13_NOON + 0.25) == "2026-05-13T12:00:00.250Z"
    assert parse_rfc3339("2026-05-13T14:00:00+02:00") == MAY_13_NOON


def test_parse_rfc3339_refuses_a_time_without_a_zone() -> None:
    """A timestamp without Z or an offset is ambiguous and refused."""
    with pytest.raises(ValueError, match="no time zone"):
        parse_rfc3339("2026-05-13T12:00:00")


@pytest.mark.parametrize(
    ("when", "midnight"),
    [
        ("2026-05-13T00:00:00Z", "2026-05-14T00:00:00Z"),
        ("2026-05-13T23:59:59Z", "2026-05-14T00:00:00Z"),
        ("2026-12-31T12:00:00Z", "2027-01-01T00:00:00Z"),
    ],
)
def test_next_midnight_is_the_next_utc_midnight(when: str, midnight: str) -> None:
    """LIMIT-DAILY: a daily window ends at the first midnight UTC after the instant."""
    assert rfc3339(next_midnight(parse_rfc3339(when))) == midnight


def test_day_of_changes_exactly_at_midnight_utc() -> None:
    """The last instant before midnight and midnight itself fall in different days."""
    midnight = parse_rfc3339("2026-05-14T00:00:00Z")
    assert day_of(midnight) == day_of(midnight - 0.001) + 1
    assert day_of(midnight) == midnight // DAY_SECONDS
