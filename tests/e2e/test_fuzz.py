"""The soak's small profile: a few hundred schemathesis cases over every operation.

`python -m benchmarks.soak` runs the same engine with 10,000 cases or more.
"""

from __future__ import annotations

import pytest

from benchmarks.fuzz import fuzz, report
from tests.servers import FrontierSim

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_generated_requests_get_no_5xx_and_no_undocumented_answer(sim: FrontierSim) -> None:
    """300 positive and negative cases: no 5xx, every answer as openapi.yaml documents it."""
    tally = fuzz(sim.url, 300, base_seed=20261128)
    assert tally.cases >= 300
    assert (tally.server_errors, tally.spec_breaking, tally.transport_errors) == (0, 0, 0), report(
        tally
    )
