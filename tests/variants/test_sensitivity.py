"""The conformance suite tells broken simulators from valid ones (its sensitivity).

All but a fixed sample are `slow` (tests/variants/harness.py); tests/conformance/test_broken.py
adds broken stores and an answer rewritten after the fact to the default run.
"""

from __future__ import annotations

import pytest

from tests.variants.broken import BROKEN, Variant
from tests.variants.harness import SAMPLE, judge, sampled
from tests.variants.inference import INFERENCE_BROKEN
from tests.variants.valid import STRICT_BREAKS, VALID
from tests.variants.webhooks import WEBHOOK_BROKEN, WEBHOOK_VALID


@pytest.mark.parametrize("variant", sampled(BROKEN))
def test_suite_catches_broken_variant(variant: Variant) -> None:
    """A variant breaking one rule fails the run, and the failures are exactly that rule and
    the ones the variant lists as seeing the same fault."""
    verdict = judge(variant)
    assert verdict.exit_code == 1, f"{variant.name}: the suite passed a broken simulator"
    assert variant.matches(verdict.failed), (
        f"breaks {sorted(variant.rules)}; not reported {sorted(variant.expected - verdict.failed)}"
        f"; reported but not listed {sorted(verdict.failed - variant.allowed)}"
    )


@pytest.mark.parametrize("variant", sampled(VALID))
def test_suite_passes_valid_variant(variant: Variant) -> None:
    """A variant that differs only where the documentation is silent passes by default."""
    verdict = judge(variant)
    assert verdict.passed, f"{variant.name}: the suite failed {sorted(verdict.failed)}"


@pytest.mark.parametrize("variant", sampled(v for v in VALID if v.name in STRICT_BREAKS))
def test_strict_suite_catches_choices_the_variant_makes_differently(variant: Variant) -> None:
    """--strict checks the simulator's choices: a variant choosing otherwise fails them."""
    verdict = judge(variant, strict=True)
    assert verdict.exit_code == 1, f"{variant.name}: strict mode passed it"
    expected = STRICT_BREAKS[variant.name]
    assert expected <= verdict.failed, (
        f"breaks {sorted(expected)}; reported {sorted(verdict.failed)}"
    )


def test_variant_catalogue_is_large_enough() -> None:
    """At least 30 broken and 6 valid variants, each with a distinct name; the sample names
    real ones."""
    names = [v.name for v in BROKEN + VALID]
    assert len(BROKEN) >= 30
    assert len(VALID) >= 6
    assert len(names) == len(set(names))
    others = INFERENCE_BROKEN + WEBHOOK_BROKEN + WEBHOOK_VALID
    assert set(names + [v.name for v in others]) >= SAMPLE
