"""The test harness of one app: reset, state export and import, seeds, faults and journal.

Pure Python; the control API (`control.py`) and the pytest plugin drive it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from simulator.core.clock import parse_rfc3339, rfc3339_ms
from simulator.harness.control_schema import ControlInputError, check
from simulator.harness.faults import FaultBook
from simulator.harness.journal import Journal, release_free_memory
from simulator.harness.seed import Seed, SeededKey, apply_seed
from simulator.harness.snapshot import (
    Domain,
    counts,
    export_state,
    ids_in_use,
    install_state,
    prepare_state,
    reserve_ids,
    scratch_of,
)

T = TypeVar("T")


class Harness:
    """Everything the control API can do to one app's state; every change is all or nothing."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.faults = FaultBook()
        self.journal = Journal()
        self.id_seed = domain.config.id_seed
        self.seeded_keys: list[SeededKey] = []
        self._lock = threading.RLock()
        self._baseline = export_state(domain)
        self.on_reset: list[Callable[[], None]] = []  # other parts a reset returns to start

    def start_from(self, state: Mapping[str, Any]) -> None:
        """Makes `state` the current state and the one every reset returns to."""
        self.import_state(state)
        self.mark_baseline()

    def mark_baseline(self) -> None:
        """Every reset will return to the state as it is now."""
        self._baseline = export_state(self.domain)

    def load_seed(self, seed: Seed) -> list[SeededKey]:
        return self._atomically(lambda d: apply_seed(d, seed))

    def reset(self) -> dict[str, int]:
        """Back to the start-up state (its clock, real time unless the state held another),
        with no fault rules and an empty journal (and whatever `on_reset` returns to it)."""
        with self._lock:
            # Built off the domain's locks (valid: it was exported), swapped in under them.
            prepared = prepare_state(self.domain, self._baseline)
            taken, result = ids_in_use(prepared), counts(prepared)
            with self._locked():
                if self.id_seed is not None:
                    self.domain.store.new_id.reseed(self.id_seed)
                install_state(self.domain, prepared, taken)
                self.faults.clear()
                self.journal.clear(release=False)
                for reset in self.on_reset:
                    reset()
        del prepared  # the state before the reset, freed outside the locks
        release_free_memory()  # after the reset, so it never widens the reset's own window
        return result

    def export_state(self) -> dict[str, Any]:
        return export_state(self.domain)

    def import_state(self, state: Any) -> dict[str, int]:
        """All or nothing: the state is built off the domain's locks, then swapped in."""
        with self._lock:
            prepared = prepare_state(self.domain, state)
            taken, result = ids_in_use(prepared), counts(prepared)
            install_state(self.domain, prepared, taken)
        return result

    def seed_ids(self, seed: int | None) -> None:
        """The id sequence restarts from `seed`; ids in use stay taken (RESP-ID)."""
        with self._locked():
            self.id_seed = seed
            self.domain.store.new_id.reseed(seed)
            reserve_ids(self.domain)

    def clock(self) -> dict[str, Any]:
        """`ClockReading`: the time, and whether it is frozen or shifted."""
        clock = self.domain.clock
        state = clock.state()
        return {
            "now": rfc3339_ms(clock.now()),
            "frozen": state.frozen,
            "offset_seconds": None if state.frozen else state.offset,
        }

    def set_clock(self, body: Any) -> dict[str, Any]:
        """A `ClockSet` body: jump to its time, frozen unless it says otherwise."""
        check("ClockSet", body)
        try:
            instant = parse_rfc3339(body["time"])
        except ValueError as error:
            raise ControlInputError(f"time: {error}") from None
        self.domain.clock.set(instant, frozen=body.get("frozen", True))
        return self.clock()

    def advance_clock(self, body: Any) -> dict[str, Any]:
        """A `ClockAdvance` body: move forward that many seconds."""
        check("ClockAdvance", body)
        self.domain.clock.advance(float(body["seconds"]))
        return self.clock()

    def real_time(self) -> dict[str, Any]:
        self.domain.clock.real_time()
        return self.clock()

    def _atomically(self, change: Callable[[Domain], T]) -> T:
        """Tries `change` on a scratch copy of the state first, so a refusal leaves the state
        untouched. The whole of it holds the domain's locks, as the trial must meet the
        state the change then meets; the copy takes time linear in the groups and
        endpoints, and shares their model sets, keys and meters."""
        with self._locked():
            scratch = scratch_of(self.domain)
            self.domain.store.copy_contents_to(scratch.store)
            self.domain.endpoints.copy_contents_to(scratch.endpoints)
            change(scratch)
            return change(self.domain)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Views take only one of the two domain locks, so taking both here can't deadlock.
        with self._lock, self.domain.store.lock, self.domain.endpoints.lock:
            yield
