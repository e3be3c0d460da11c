"""Prints the suite's sensitivity score: `python -m tests.variants.score [--jobs N]`.

Each variant runs in its own process (a variant patches the simulator for its lifetime).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor

from tests.variants.broken import BROKEN, Variant
from tests.variants.harness import Verdict, judge, judge_inference, judge_webhooks
from tests.variants.inference import INFERENCE_BROKEN
from tests.variants.valid import STRICT_BREAKS, VALID
from tests.variants.webhooks import WEBHOOK_BROKEN, WEBHOOK_VALID


def _judge(variant: Variant) -> Verdict:
    return judge(variant)


def _judge_strict(variant: Variant) -> Verdict:
    return judge(variant, strict=True)


def _judge_inference(variant: Variant) -> Verdict:
    return judge_inference(variant)


def _judge_webhooks(variant: Variant) -> Verdict:
    return judge_webhooks(variant)


def table(verdicts: list[Verdict]) -> str:
    lines = [
        "| variant | kind | breaks | suite reported failed | verdict |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        kind = "broken" if v.variant.rules else "valid"
        ok = v.caught if v.variant.rules else v.passed
        word = ("caught" if ok else "MISSED") if v.variant.rules else ("passed" if ok else "FAILED")
        breaks = ", ".join(sorted(v.variant.rules)) or "-"
        if v.variant.also:
            breaks += " (also " + ", ".join(rule for rule, _reason in v.variant.also) + ")"
        if v.variant.maybe:
            breaks += " (maybe " + ", ".join(rule for rule, _reason in v.variant.maybe) + ")"
        reported = ", ".join(sorted(v.failed)) or "-"
        lines.append(f"| {v.variant.name} | {kind} | {breaks} | {reported} | {word} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2, help="processes (default: %(default)s)")
    args = parser.parse_args(argv)
    choosers = [v for v in VALID if v.name in STRICT_BREAKS]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        verdicts = list(pool.map(_judge, BROKEN + VALID))
        strict = list(pool.map(_judge_strict, choosers))
        verdicts += pool.map(_judge_inference, INFERENCE_BROKEN)
        verdicts += pool.map(_judge_webhooks, WEBHOOK_BROKEN + WEBHOOK_VALID)
    broken = BROKEN + INFERENCE_BROKEN + WEBHOOK_BROKEN
    valid = VALID + WEBHOOK_VALID
    caught = sum(v.caught for v in verdicts if v.variant.rules)
    passed = sum(v.passed for v in verdicts if not v.variant.rules)
    strict_caught = sum(
        v.exit_code == 1 and STRICT_BREAKS[v.variant.name] <= v.failed for v in strict
    )
    print(table(verdicts))
    print("\n| valid variant, --strict | its choice rules | suite reported failed |\n|---|---|---|")
    for v in strict:
        names = ", ".join(sorted(STRICT_BREAKS[v.variant.name]))
        print(f"| {v.variant.name} | {names} | {', '.join(sorted(v.failed)) or '-'} |")
    print(
        f"\ncaught {caught} of {len(broken)} broken variants "
        "(each failing exactly its listed rules); "
        f"{passed} of {len(valid)} valid variants passed; "
        f"--strict caught {strict_caught} of {len(choosers)} valid variants on their choice rules"
    )
    complete = (caught, passed, strict_caught) == (len(broken), len(valid), len(choosers))
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
