"""Hand-written checks, one pytest item per check, named after its rule and property."""

from __future__ import annotations

from conformance.plugin import Conductor
from conformance.registry import RULES, Check

FAMILY = RULES


def test_rule(check: Check, conformance: Conductor) -> None:
    conformance.check(check)
