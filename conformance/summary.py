"""The summary the command line prints at the end of a run, ending with the verdict.

Rules by outcome per level, the failing rules with their first message, the others
grouped by outcome and reason, the documented refusals observed, and the reports.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from conformance.catalogue import LEVELS
from conformance.outcomes import DEVIATION, FAIL, NOT_RUN, PASS, RuleOutcome
from conformance.report import RunResult, headline, mode, refusals_line, shorten

COLUMNS = (PASS, FAIL, NOT_RUN, DEVIATION)
HEADINGS = {PASS: "pass", FAIL: "fail", NOT_RUN: "not run", DEVIATION: "accepted deviation"}
WIDTH = 100
FIRST_MESSAGE = 400  # characters of a failure's first message; the reports have all of it


def summary(result: RunResult) -> str:
    outcomes = list(result.rules.values())
    sections = [
        table(outcomes),
        _failed(outcomes),
        _accepted(outcomes),
        _grouped(outcomes, NOT_RUN, "Not run"),
        _grouped(outcomes, PASS, "Passed"),
        textwrap.wrap(refusals_line(result.observed), WIDTH, subsequent_indent="  "),
        [f"PROBLEM {p}" for p in result.problems] + [f"WARNING {w}" for w in result.warnings],
        [f"report ({kind}): {path}" for kind, path in result.reports.items()],
    ]
    text = "\n\n".join("\n".join(lines) for lines in sections if lines)
    return f"{text}\n\n{verdict_line(result)}"


def verdict_line(result: RunResult) -> str:
    counts = result.counts()
    totals = ", ".join(f"{counts.get(k, 0)} {HEADINGS[k]}" for k in COLUMNS)
    if result.interrupted:
        return f"{result.target}: {headline(result)} ({mode(result)} mode)"
    shout = headline(result)
    if result.exit_code != 0:
        shout = shout.replace("does not conform", "does NOT conform", 1)
    return f"{result.target} {shout} ({mode(result)} mode): {totals}"


def table(outcomes: list[RuleOutcome]) -> list[str]:
    """Rules by outcome, one row per evidence level and a total."""
    rows = [["RULES", *(HEADINGS[k].upper() for k in COLUMNS), "TOTAL"]]
    rows += [[level, *_counts(o for o in outcomes if o.rule.level == level)] for level in LEVELS]
    rows.append(["total", *_counts(outcomes)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(_align(cells, widths)).rstrip() for cells in rows]


def _align(cells: list[str], widths: list[int]) -> list[str]:
    """The first column to the left, the numbers to the right."""
    first, *numbers = zip(cells, widths, strict=True)
    return [first[0].ljust(first[1]), *(cell.rjust(width) for cell, width in numbers)]


def _counts(outcomes: Iterable[RuleOutcome]) -> list[str]:
    found = [o.outcome for o in outcomes]
    return [str(found.count(k)) for k in COLUMNS] + [str(len(found))]


def _failed(outcomes: list[RuleOutcome]) -> list[str]:
    failed = [o for o in outcomes if o.outcome == FAIL]
    if not failed:
        return []
    return [f"Failed ({len(failed)}):", *(_failure(o) for o in failed)]


def _failure(outcome: RuleOutcome) -> str:
    """`FAILED RULE [level] check (+n more)`, then its first message, shortened and indented."""
    head = f"FAILED {outcome.rule.id} [{outcome.rule.level}]"
    failures = outcome.failures
    if not failures:
        return f"{head}: {outcome.reason}"
    more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
    reason = f" ({outcome.reason})" if outcome.reason else ""
    lines = textwrap.wrap(
        shorten(failures[0].message, FIRST_MESSAGE),
        WIDTH,
        initial_indent="    ",
        subsequent_indent="    ",
    )
    exchange = failures[0].exchange
    if exchange is not None:  # the request to send again; the reports have the whole answer
        lines.append(f"    reproduce: {shorten(exchange.curl(), FIRST_MESSAGE)}")
    return "\n".join([f"{head}{reason} {failures[0].check}{more}", *lines])


def _accepted(outcomes: list[RuleOutcome]) -> list[str]:
    accepted = [o for o in outcomes if o.outcome == DEVIATION]
    lines = [
        f"ACCEPTED {o.rule.id} [{o.rule.level}]: {o.reason}"
        + (f" ({o.deviation.link}, expires {o.deviation.expires})" if o.deviation else "")
        for o in accepted
    ]
    return [f"Accepted deviations ({len(accepted)}):", *lines] if lines else []


def _grouped(outcomes: list[RuleOutcome], outcome: str, title: str) -> list[str]:
    """Rule IDs with one outcome, wrapped, a group per reason."""
    by_reason: dict[str, list[str]] = {}
    for o in outcomes:
        if o.outcome == outcome:
            by_reason.setdefault(o.reason, []).append(o.rule.id)
    if not by_reason:
        return []
    lines = [f"{title} ({sum(len(ids) for ids in by_reason.values())}):"]
    for reason, ids in by_reason.items():
        label = f"{reason} ({len(ids)}): " if reason else ""
        lines += textwrap.wrap(
            label + ", ".join(ids),
            WIDTH,
            initial_indent="  ",
            subsequent_indent="    ",
            break_on_hyphens=False,  # rule IDs stay whole
        )
    return lines


__all__ = ["summary", "table", "verdict_line"]
