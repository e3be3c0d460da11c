"""Prints the suite's sensitivity score: `python -m tests.variants.score [--jobs N]`.

Each variant runs in its own process (a variant patches the simulator for its lifetime).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor

from tests.variants.broken import BROKEN, Variant
from tests.variants.harness import Verdict, judge
from tests.variants.valid import VALID


def _judge(variant: Variant) -> Verdict:
    return judge(variant)


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
        reported = ", ".join(sorted(v.failed)) or "-"
        lines.append(f"| {v.variant.name} | {kind} | {breaks} | {reported} | {word} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2, help="processes (default: %(default)s)")
    args = parser.parse_args(argv)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        verdicts = list(pool.map(_judge, BROKEN + VALID))
    caught = sum(v.caught for v in verdicts if v.variant.rules)
    passed = sum(v.passed for v in verdicts if not v.variant.rules)
    print(table(verdicts))
    print(
        f"\ncaught {caught} of {len(BROKEN)} broken variants; "
        f"{passed} of {len(VALID)} valid variants passed"
    )
    return 0 if (caught, passed) == (len(BROKEN), len(VALID)) else 1


if __name__ == "__main__":
    sys.exit(main())
