"""What a run found (`RunResult`), as the JSON report and the Markdown scorecard, and the
helpers the other views share (`html_report.py` the page, `summary.py` the terminal's,
`writer.py` puts them all in the report directory).

The scorecard has one row per rule ID and a line saying which documented refusals
(400/403/404 reasons) the run observed at least once.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.catalogue import DOCUMENTED
from conformance.outcomes import (
    CHOICE_LABEL,
    DEVIATION,
    DOCUMENTED_LABEL,
    FAIL,
    NOT_RUN,
    PASS,
    REFUSALS,
    CheckResult,
    Failure,
    RuleOutcome,
)

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
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    checks: list[CheckResult] = field(default_factory=list)  # in the order they ran
    interrupted: bool = False  # Ctrl-C or SIGTERM: no verdict
    inference_calls: int | None = None  # calls to the inference route; None: not checked

    def outcome(self, rule_id: str) -> str:
        return self.rules[rule_id].outcome

    def counts(self) -> Counter[str]:
        return Counter(o.outcome for o in self.rules.values())

    @property
    def documented(self) -> list[RuleOutcome]:
        return [o for o in self.rules.values() if o.rule.level == DOCUMENTED]

    @property
    def documented_not_run(self) -> list[RuleOutcome]:
        return [o for o in self.documented if o.outcome == NOT_RUN]

    @property
    def partial(self) -> bool:
        """Documented rules were left out: the verdict covers only the others."""
        return bool(self.documented_not_run)


def not_run_hint(outcomes: list[RuleOutcome]) -> str:
    """What would run them: `pass --signing-key, --org-prefix; not selected`."""
    options: dict[str, None] = {}
    others: dict[str, None] = {}
    for outcome in outcomes:
        for reason in outcome.reason.split("; "):
            named = re.findall(r"--[a-z][a-z-]*", reason)
            if reason.startswith("needs") and named:
                options.update(dict.fromkeys(named))
            else:
                others[reason] = None
    parts = ([f"pass {', '.join(options)}"] if options else []) + list(others)
    return "; ".join(parts)


def partial_note(result: RunResult) -> str:
    """`15 of 79 documented rules not run: pass --signing-key, …` ("" for a complete run)."""
    missing = result.documented_not_run
    if not missing:
        return ""
    return (
        f"{len(missing)} of {len(result.documented)} documented rules not run: "
        f"{not_run_hint(missing)}"
    )


def headline(result: RunResult) -> str:
    """The verdict in words, the same in every report: `conforms`, `conforms on 64 of 79
    documented rules (partial); 15 not run: pass --signing-key, …`, `does not conform`,
    `interrupted: no verdict`."""
    if result.interrupted:
        return f"interrupted after {len(result.checks)} checks: no verdict"
    missing = result.documented_not_run
    if result.exit_code == 0:
        if not missing:
            return "conforms"
        ran = len(result.documented) - len(missing)
        return (
            f"conforms on {ran} of {len(result.documented)} documented rules (partial); "
            f"{len(missing)} not run: {not_run_hint(missing)}"
        )
    return "does not conform" + (f" (partial: {partial_note(result)})" if missing else "")


def refusals_line(observed: set[str]) -> str:
    marks = [f"{reason} {'✓' if reason in observed else '✗'}" for reason in REFUSALS]
    return "Documented refusals observed: " + ", ".join(marks)


def as_json(result: RunResult) -> dict[str, Any]:
    return {
        "target": result.target,
        "strict": result.strict,
        "run_prefix": result.prefix,
        "finished_at": result.finished_at.isoformat(timespec="seconds"),
        "exit_code": result.exit_code,
        "verdict": headline(result),
        "partial": result.partial,
        "interrupted": result.interrupted,
        "documented_rules": {
            "total": len(result.documented),
            "not_run": [o.rule.id for o in result.documented_not_run],
            "to_run_them": not_run_hint(result.documented_not_run),
        },
        "counts": dict(result.counts()),
        "rules": [_rule_json(o) for o in result.rules.values()],
        "failures": [f.as_json() for f in result.failures],
        "accepted_deviations": [f.as_json() for f in result.accepted],
        "documented_refusals_observed": {r: r in result.observed for r in REFUSALS},
        "problems": result.problems,
        "warnings": result.warnings,
        "inference_calls": result.inference_calls,
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
        f"Target: {result.target} · mode: {mode(result)} · run prefix: `{result.prefix}` · "
        f"finished: {finished(result)}",
        "",
        f"Result: **{headline(result)}** · "
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


def verdict(result: RunResult) -> str:
    if result.interrupted:
        return "interrupted"
    word = "conforms" if result.exit_code == 0 else "does not conform"
    return f"{word} (partial)" if result.partial else word


def mode(result: RunResult) -> str:
    return "strict" if result.strict else "default"


def finished(result: RunResult) -> str:
    return result.finished_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def split_message(message: str) -> tuple[str, str | None, str]:
    """`lead Received: … / Documented: …` (or `/ Simulator's choice: …`) into its three parts
    (received None: not that form)."""
    start = message.find("Received:")
    label = expectation(message)
    middle = message.rfind(f" / {label}:")
    if start < 0 or middle < start:
        return message, None, ""
    received = message[start + len("Received:") : middle].strip()
    return message[:start].strip(), received, message[middle + len(f" / {label}:") :].strip()


def expectation(message: str) -> str:
    """What the message compares the answer with: `Documented`, or for a choice rule
    `Simulator's choice`."""
    label = CHOICE_LABEL if CHOICE_LABEL.rstrip() in message else DOCUMENTED_LABEL
    return label.strip(" /:")


def split_reproduction(received: str) -> tuple[str, str]:
    """schemathesis ends what it received with `for `curl …``: the answer and the request."""
    found = re.search(r"\s+for `(curl [^`]*)`\s*$", received)
    return (received[: found.start()], found.group(1)) if found else (received, "")


def shorten(message: str, limit: int) -> str:
    """One line of at most about `limit` characters that keeps what is documented whole."""
    flat = " ".join(message.split())
    if len(flat) <= limit:
        return flat
    lead, received, documented = split_message(flat)
    if received is None:
        return flat[: limit - 1] + "…"
    head = f"{lead} Received: ".lstrip()
    received = split_reproduction(received)[0]
    room = max(limit - len(head) - len(documented) - len(f" / {expectation(flat)}: "), 40)
    cut = received if len(received) <= room else received[: room - 1] + "…"
    short = f"{head}{cut} / {expectation(flat)}: {documented}"
    return short if len(short) <= limit else short[: limit - 1] + "…"
