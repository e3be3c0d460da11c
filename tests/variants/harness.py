"""Runs the conformance suite against one variant of the simulator, in this process."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pytest

import conformance
from simulator.core.spec import load_spec
from tests.builders import SUITE_KEYS
from tests.variants.broken import Variant

# The rules of the inference route and of the usage counters it drives.
INFERENCE_RULES = (
    *load_spec()["paths"]["/v1/chat/completions"]["post"]["x-rules"],
    "USAGE-LIVE",
    "USAGE-COUNTER",
)

# Each variant is a conformance run of a few seconds, so the tests over variants are marked
# `slow` (.ci/run runs them; so does `pytest -m slow`), but for this fixed sample, which
# stays in the default run: a broken variant editing the spec, a valid one (by default and
# in strict mode), and an inference variant that over-admits.
SAMPLE = {"name_of_256_accepted", "forbidden_for_unknown_keys", "one_call_over_every_limit"}


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
