"""Runs the conformance suite against one variant of the simulator, in this process."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pytest

import conformance
from conformance.catalogue import load_spec
from simulator.web.app import EXTENSION
from tests.builders import SUITE_KEYS, deliver_webhooks_to
from tests.servers import free_port
from tests.variants.broken import Variant

# The rules of the inference route and of the usage counters it drives.
INFERENCE_RULES = (
    *load_spec()["paths"]["/v1/chat/completions"]["post"]["x-rules"],
    "USAGE-LIVE",
    "USAGE-COUNTER",
)
WEBHOOK_RULES = tuple(load_spec()["webhooks"]["billingUsage"]["post"]["x-rules"])

# Each variant is a conformance run of a few seconds, so the tests over variants are marked
# `slow` (.ci/run runs them; so does `pytest -m slow`), but for this fixed sample, which
# stays in the default run: a broken variant editing the spec, a valid one (by default and
# in strict mode), an inference variant that over-admits and a webhook variant that signs
# re-serialised JSON.
SAMPLE = {
    "name_of_256_accepted",
    "forbidden_for_unknown_keys",
    "one_call_over_every_limit",
    "signature_over_reserialised_json",
}


def sampled(variants: Iterable[Variant]) -> list[object]:
    """The variants as test parameters: the sample's unmarked, every other one `slow`."""
    return [
        pytest.param(v, id=v.name, marks=() if v.name in SAMPLE else pytest.mark.slow)
        for v in variants
    ]


@dataclass(frozen=True)
class Verdict:
    variant: Variant
    exit_code: int
    failed: frozenset[str]  # rule IDs the suite reported as failed

    @property
    def caught(self) -> bool:
        """A broken variant is caught when the run fails exactly the rules it lists: those it
        breaks and those listed, with the reason, as seeing the same fault."""
        return self.exit_code == 1 and self.variant.matches(self.failed)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.failed


def judge(variant: Variant, *, max_examples: int = 5, strict: bool = False) -> Verdict:
    with pytest.MonkeyPatch.context() as mp:
        app = variant.build(mp)
        result = conformance.run(app=app, max_examples=max_examples, strict=strict, **SUITE_KEYS)
    failed = frozenset(rule for rule, o in result.rules.items() if o.outcome == "fail")
    return Verdict(variant, result.exit_code, failed)


def judge_inference(variant: Variant, *, strict: bool = False) -> Verdict:
    """The inference rules' checks (and nothing else) against one variant."""
    with pytest.MonkeyPatch.context() as mp:
        app = variant.build(mp)
        result = conformance.run(
            app=app, inference=True, select=INFERENCE_RULES, fuzz=False, strict=strict,
            **SUITE_KEYS,
        )  # fmt: skip
    failed = frozenset(rule for rule, o in result.rules.items() if o.outcome == "fail")
    return Verdict(variant, result.exit_code, failed)


def judge_webhooks(variant: Variant) -> Verdict:
    """The inference and webhook rules' checks against one variant whose workspace `acme`
    delivers its billing webhooks to the run's receiver."""
    port = free_port()
    with pytest.MonkeyPatch.context() as mp:
        app = variant.build(mp)
        secret = deliver_webhooks_to(app, f"http://127.0.0.1:{port}/billing")
        try:
            result = conformance.run(
                app=app, inference=True, select=(*INFERENCE_RULES, *WEBHOOK_RULES), fuzz=False,
                webhook_listen=f"127.0.0.1:{port}", webhook_secret=secret, **SUITE_KEYS,
            )  # fmt: skip
        finally:
            app.extensions[EXTENSION].webhooks.close()
    failed = frozenset(rule for rule, o in result.rules.items() if o.outcome == "fail")
    return Verdict(variant, result.exit_code, failed)
