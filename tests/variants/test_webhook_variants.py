"""The webhook checks tell simulators with broken billing webhooks from valid ones (their
sensitivity), each broken one failing exactly the rules it names.

All variants but the sample of tests/variants/harness.py are `slow`.
"""

from __future__ import annotations

import pytest

from simulator import create_app
from tests.variants.broken import Variant
from tests.variants.harness import WEBHOOK_RULES, judge_webhooks, sampled
from tests.variants.webhooks import WEBHOOK_BROKEN, WEBHOOK_VALID


@pytest.mark.parametrize("variant", sampled(WEBHOOK_BROKEN))
def test_webhook_checks_catch_exactly_the_broken_rules(variant: Variant) -> None:
    """A variant breaking webhook rules fails the run on exactly those rules."""
    verdict = judge_webhooks(variant)
    assert verdict.exit_code == 1, f"{variant.name}: the checks passed a broken simulator"
    assert verdict.failed == variant.rules


@pytest.mark.parametrize("variant", sampled(WEBHOOK_VALID))
def test_webhook_checks_pass_a_valid_variant(variant: Variant) -> None:
    """Duplicate deliveries, undocumented fields and a second signature are all allowed."""
    verdict = judge_webhooks(variant)
    assert verdict.passed, f"{variant.name}: the checks failed {sorted(verdict.failed)}"


def test_webhook_checks_pass_the_simulator() -> None:
    """The simulator passes every webhook rule and every inference rule with them."""
    verdict = judge_webhooks(Variant("simulator", frozenset(), lambda mp: create_app(), ""))
    assert (verdict.exit_code, verdict.failed) == (0, frozenset())


def test_every_webhook_rule_is_broken_by_some_variant() -> None:
    """Each rule has a variant; among them the documented risks: a signature over
    re-serialised JSON, a retry after a 4xx, a new request id per retry, an event for a
    rejected call and externalEntityId from the wrong group."""
    assert {rule for v in WEBHOOK_BROKEN for rule in v.rules} == set(WEBHOOK_RULES)
    names = {v.name for v in WEBHOOK_BROKEN}
    assert {
        "signature_over_reserialised_json",
        "a_4xx_is_retried",
        "new_request_id_per_retry",
        "event_for_a_rejected_call",
        "external_entity_id_of_the_root",
    } <= names
