"""schemathesis, driven by openapi.yaml, one pytest item per operation."""

from __future__ import annotations

from conformance.plugin import Conductor
from conformance.registry import SCHEMA, Check

FAMILY = SCHEMA


def test_operation(check: Check, conformance: Conductor) -> None:
    conformance.check(check)
