"""Runs the killing tests in the suite's own order (hand-written checks, the oracle, then
schemathesis), whatever order mutmut names them in: the quick checks first, so a mutant they
kill costs no fuzzing."""

from __future__ import annotations

import pytest

from benchmarks.mutation.suite import CHECKS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order = {name: index for index, name in enumerate(CHECKS)}
    items.sort(key=lambda item: order.get(item.nodeid.rpartition("[")[2].rstrip("]"), 0))
