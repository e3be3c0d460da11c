"""The inference checks tell broken simulators from the real one (their sensitivity).

All variants but the sample of tests/variants/harness.py are `slow`.
"""

from __future__ import annotations

import pytest

from simulator import create_app
from tests.variants.broken import Variant
from tests.variants.harness import judge_inference, sampled
from tests.variants.inference import INFERENCE_BROKEN


@pytest.mark.parametrize("variant", sampled(INFERENCE_BROKEN))
def test_inference_checks_catch_exactly_the_broken_rules(variant: Variant) -> None:
    """A variant breaking inference rules fails the run on exactly those rules."""
    verdict = judge_inference(variant)
    assert verdict.exit_code == 1, f"{variant.name}: the checks passed a broken simulator"
    assert verdict.failed == variant.rules


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_inference_checks_pass_the_simulator(strict: bool) -> None:
    """The simulator passes every inference rule, its choices too with strict."""
    simulator = Variant("simulator", frozenset(), lambda mp: create_app(), "")
    verdict = judge_inference(simulator, strict=strict)
    assert (verdict.exit_code, verdict.failed) == (0, frozenset())


def test_the_catalogue_of_inference_variants_covers_the_documented_risks() -> None:
    """Over-admission, an undebited parent, a counted refusal, a local midnight and an
    accepted Bearer are each among the variants."""
    broken = {rule for variant in INFERENCE_BROKEN for rule in variant.rules}
    assert {"LIMIT-ENFORCED", "LIMIT-CASCADING", "LIMIT-REJECTED-FREE", "LIMIT-DAILY"} <= broken
    assert "INF-AUTH-SCHEME" in broken
