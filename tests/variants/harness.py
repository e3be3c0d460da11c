"""Runs the conformance suite against one variant of the simulator, in this process."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import conformance
from tests.builders import SUITE_KEYS
from tests.variants.broken import Variant


@dataclass(frozen=True)
class Verdict:
    variant: Variant
    exit_code: int
    failed: frozenset[str]  # rule IDs the suite reported as failed

    @property
    def caught(self) -> bool:
        """A broken variant is caught when the run fails and names every rule it breaks."""
        return self.exit_code == 1 and self.variant.rules <= self.failed

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.failed


def judge(variant: Variant, *, max_examples: int = 5, strict: bool = False) -> Verdict:
    with pytest.MonkeyPatch.context() as mp:
        app = variant.build(mp)
        result = conformance.run(app=app, max_examples=max_examples, strict=strict, **SUITE_KEYS)
    failed = frozenset(rule for rule, o in result.rules.items() if o.outcome == "fail")
    return Verdict(variant, result.exit_code, failed)
