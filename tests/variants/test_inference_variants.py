"""The inference checks tell broken simulators from the real one (their sensitivity).

All variants but the sample of tests/variants/harness.py are `slow`.
"""

from __future__ import annotations

import pytest

import conformance
from simulator import create_app
from simulator.core.spec import load_spec
from tests.builders import SUITE_KEYS
from tests.variants.broken import Variant
from tests.variants.harness import sampled
from tests.variants.inference import INFERENCE_BROKEN

# The rules of the inference route and of the usage counters it drives.
RULES = (
    *load_spec()["paths"]["/v1/chat/completions"]["post"]["x-rules"],
    "USAGE-LIVE",
    "USAGE-COUNTER",
)


def failed_rules(app: object, strict: bool = False) -> tuple[int, set[str]]:
    result = conformance.run(
        app=app, inference=True, select=RULES, fuzz=False, strict=strict, **SUITE_KEYS
    )
    return result.exit_code, {rule for rule, o in result.rules.items() if o.outcome == "fail"}


@pytest.mark.parametrize("variant", sampled(INFERENCE_BROKEN))
def test_inference_checks_catch_exactly_the_broken_rules(variant: Variant) -> None:
    """A variant breaking inference rules fails the run on exactly those rules."""
    with pytest.MonkeyPatch.context() as mp:
        exit_code, failed = failed_rules(variant.build(mp))
    assert exit_code == 1, f"{variant.name}: the checks passed a broken simulator"
    assert failed == variant.rules


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_inference_checks_pass_the_simulator(strict: bool) -> None:
    """The simulator passes every inference rule, its choices too with strict."""
    assert failed_rules(create_app(), strict) == (0, set())


def test_the_catalogue_of_inference_variants_covers_the_documented_risks() -> None:
    """Over-admission, an undebited parent, a counted refusal, a local midnight and an
    accepted Bearer are each among the variants."""
    broken = {rule for variant in INFERENCE_BROKEN for rule in variant.rules}
    assert {"LIMIT-ENFORCED", "LIMIT-CASCADING", "LIMIT-REJECTED-FREE", "LIMIT-DAILY"} <= broken
    assert "INF-AUTH-SCHEME" in broken
