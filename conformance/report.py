"""Reports of a run: the JSON report, the Markdown scorecard, and the terminal summary.

The scorecard has one row per rule ID and a line saying which documented refusals
(400/403/404 reasons) the run observed at least once.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.outcomes import DEVIATION, FAIL, NOT_RUN, PASS, REFUSALS, Failure, RuleOutcome

UNCOVERED = "no check in this suite covers it yet"
MARKS = {PASS: "pass", FAIL: "FAIL", NOT_RUN: "not run", DEVIATION: "accepted deviation"}


@dataclass
class RunResult:
    exit_code: int
    rules: dict[str, RuleOutcome]
    failures: list[Failure]
    accepted: list[Failure]
    observed: set[str]
    problems: list[str]  # expired deviations: each fails the run
    warnings: list[str]  # clean-up trouble, deviations no longer needed
    prefix: str
    target: str
    strict: bool
    reports: dict[str, Path] = field(default_factory=dict)

    def outcome(self, rule_id: str) -> str:
        return self.rules[rule_id].outcome

    def counts(self) -> Counter[str]:
        return Counter(o.outcome for o in self.rules.values())


def refusals_line(observed: set[str]) -> str:
    marks = [f"{reason} {'✓' if reason in observed else '✗'}" for reason in REFUSALS]
    return "Documented refusals observed: " + ", ".join(marks)


def as_json(result: RunResult) -> dict[str, Any]:
    return {
        "target": result.target,
        "strict": result.strict,
        "run_prefix": result.prefix,
        "exit_code": result.exit_code,
        "counts": dict(result.counts()),
        "rules": [_rule_json(o) for o in result.rules.values()],
        "failures": [f.__dict__ for f in result.failures],
        "accepted_deviations": [f.__dict__ for f in result.accepted],
        "documented_refusals_observed": {r: r in result.observed for r in REFUSALS},
        "problems": result.problems,
        "warnings": result.warnings,
    }


def _rule_json(outcome: RuleOutcome) -> dict[str, Any]:
    return {
        "id": outcome.rule.id,
        "level": outcome.rule.level,
        "summary": outcome.rule.summary,
        "source": outcome.rule.source_url,
        "outcome": outcome.outcome,
        "reason": outcome.reason,
        "checks": sorted({r.check for r in outcome.records}),
        "failures": [r.message for r in outcome.records if r.outcome == FAIL],
        "deviation": outcome.deviation.as_json() if outcome.deviation else None,
    }


def scorecard(result: RunResult) -> str:
    counts = result.counts()
    lines = [
        "# Frontier Gateway conformance scorecard",
        "",
        f"Target: {result.target} · mode: {'strict' if result.strict else 'default'} · "
        f"run prefix: `{result.prefix}`",
        "",
        f"Result: **{'conforms' if result.exit_code == 0 else 'does not conform'}** · "
        + " · ".join(f"{MARKS[k]}: {counts.get(k, 0)}" for k in MARKS),
        "",
        refusals_line(result.observed),
        "",
        "| Rule | Level | Outcome | Source |",
        "|---|---|---|---|",
    ]
    lines += [_row(o) for o in result.rules.values()]
    lines += [f"\n- {p}" for p in result.problems + result.warnings]
    return "\n".join(lines) + "\n"


def _row(outcome: RuleOutcome) -> str:
    text = MARKS[outcome.outcome]
    if outcome.reason:
        text += f" ({outcome.reason})"
    source = outcome.rule.source_url
    link = f"[{outcome.rule.source}]({source})" if source.startswith("http") else source
    return f"| {outcome.rule.id} | {outcome.rule.level} | {_cell(text)} | {link} |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_reports(result: RunResult, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "conformance.json", "markdown": directory / "scorecard.md"}
    paths["json"].write_text(json.dumps(as_json(result), indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(scorecard(result), encoding="utf-8")
    return paths


def summary(result: RunResult) -> str:
    """The table the command line prints at the end: one line per rule, then the totals."""
    shown = [o for o in result.rules.values() if o.reason != UNCOVERED]
    uncovered = [o.rule.id for o in result.rules.values() if o.reason == UNCOVERED]
    width = max(len(o.rule.id) for o in shown) if shown else 4
    lines = [f"{'RULE'.ljust(width)}  {'LEVEL':<11}  OUTCOME"]
    for outcome in shown:
        reason = f" ({outcome.reason})" if outcome.reason else ""
        lines.append(
            f"{outcome.rule.id.ljust(width)}  {outcome.rule.level:<11}  "
            f"{MARKS[outcome.outcome]}{reason}"
        )
    if uncovered:
        lines.append(f"Not run, {UNCOVERED} ({len(uncovered)}): {', '.join(uncovered)}")
    lines += ["", refusals_line(result.observed)]
    lines += [f"FAILED {f.rule} {f.check}: {f.message}" for f in result.failures]
    lines += [f"PROBLEM {p}" for p in result.problems] + [f"WARNING {w}" for w in result.warnings]
    counts = result.counts()
    verdict = "conforms" if result.exit_code == 0 else "does NOT conform"
    totals = ", ".join(f"{counts.get(k, 0)} {MARKS[k]}" for k in MARKS)
    lines.append(
        f"{result.target} {verdict} ({'strict' if result.strict else 'default'} mode): {totals}"
    )
    return "\n".join(lines)
