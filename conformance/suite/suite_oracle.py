"""Random hierarchies built through the API, compared with the oracle of the documented rules."""

from __future__ import annotations

from conformance.plugin import Conductor
from conformance.registry import ORACLE, Check

FAMILY = ORACLE


def test_oracle(check: Check, conformance: Conductor) -> None:
    conformance.check(check)
