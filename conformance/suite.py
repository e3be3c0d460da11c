"""The checks of a run, in the order they run: hand-written, then the oracle, then schemathesis."""

from __future__ import annotations

from conformance.checks import registered
from conformance.fuzz import fuzz_checks
from conformance.registry import ORACLE, RULES, SCHEMA, Check

FAMILIES = (RULES, ORACLE, SCHEMA)


def all_checks(strict: bool) -> list[Check]:
    """Every check of a run in this mode, family by family, each in registration order."""
    return sorted([*registered(), *fuzz_checks(strict)], key=lambda c: FAMILIES.index(c.family))


def selected(check: Check, select: tuple[str, ...]) -> bool:
    """Whether `--select` (empty: everything) names a rule the check reports on."""
    return not select or any(rule_id in select for rule_id in check.rules)
