"""What a run found: one record per (check, rule) result, summed up per rule.

A rule passes when a check of it passed and none failed, fails when one failed, is an
accepted deviation when it failed but the deviations file lists it, and is not run (with
the reason) when no check of it ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from conformance.catalogue import Rule, rules
from conformance.deviations import Deviation
from conformance.evidence import Exchange

PASS = "pass"
FAIL = "fail"
NOT_RUN = "not run"
DEVIATION = "accepted deviation"
# What a failure message says was expected: what the docs say, or for a choice rule what the
# simulator chose where they are silent.
DOCUMENTED_LABEL = " / Documented: "
CHOICE_LABEL = " / Simulator's choice: "

# The documented refusals (create, get and delete pages): each should be seen once a run.
REFUSALS = (
    "400 invalid payload",
    "400 duplicate external_entity_id",
    "400 mixed enforcement modes",
    "400 hierarchy deeper than five levels",
    "400 cascading child above an ancestor",
    "403 workspace not onboarded",
    "403 no management scope",
    "403 group in another workspace",
    "404 unknown parent",
    "404 unknown or deleted group",
)


@dataclass(frozen=True)
class Record:
    rule: str
    check: str
    outcome: str
    message: str = ""
    exchange: Exchange | None = None  # the request behind a failure and its answer


@dataclass(frozen=True)
class CheckResult:
    """How one check ended, for the progress lines and junit.xml."""

    label: str  # "OK-200 success_is_200", "POST /v1/gateway/groups"
    family: str
    outcome: str  # PASS, FAIL or NOT_RUN
    message: str = ""  # the failures, one `[RULE] …` per line, or why it didn't run
    seconds: float = 0.0


@dataclass(frozen=True)
class Failure:
    check: str
    rule: str
    message: str
    exchange: Exchange | None = None

    def as_json(self) -> dict[str, Any]:
        exchange = self.exchange.as_json() if self.exchange else None
        return {
            "check": self.check,
            "rule": self.rule,
            "message": self.message,
            "exchange": exchange,
        }


@dataclass
class Recorder:
    records: list[Record] = field(default_factory=list)
    observed: set[str] = field(default_factory=set)

    def add(
        self,
        rule: str,
        check: str,
        outcome: str,
        message: str = "",
        exchange: Exchange | None = None,
    ) -> None:
        self.records.append(Record(rule, check, outcome, message, exchange))


@dataclass
class RuleOutcome:
    rule: Rule
    outcome: str
    reason: str = ""
    records: list[Record] = field(default_factory=list)
    deviation: Deviation | None = None

    @property
    def failures(self) -> list[Failure]:
        return [
            Failure(r.check, r.rule, r.message, r.exchange)
            for r in self.records
            if r.outcome == FAIL
        ]


def summarise(
    records: Iterable[Record],
    deviations: Iterable[Deviation],
    today: date,
    default_reasons: Mapping[str, str],
) -> dict[str, RuleOutcome]:
    """One outcome per catalogue rule; `default_reasons`: why a rule without records didn't run."""
    by_rule: dict[str, list[Record]] = {rule_id: [] for rule_id in rules()}
    for record in records:
        by_rule.setdefault(record.rule, []).append(record)
    allowed = {d.rule: d for d in deviations}
    return {
        rule_id: _outcome(rule, by_rule[rule_id], allowed.get(rule_id), today, default_reasons)
        for rule_id, rule in rules().items()
    }


def _outcome(
    rule: Rule,
    records: list[Record],
    deviation: Deviation | None,
    today: date,
    default_reasons: Mapping[str, str],
) -> RuleOutcome:
    outcomes = {r.outcome for r in records}
    if FAIL in outcomes:
        if deviation is None:
            return RuleOutcome(rule, FAIL, "", records)
        if deviation.expired(today):
            reason = f"deviation expired on {deviation.expires.isoformat()}"
            return RuleOutcome(rule, FAIL, reason, records, deviation)
        return RuleOutcome(rule, DEVIATION, deviation.reason, records, deviation)
    if PASS in outcomes:
        return RuleOutcome(rule, PASS, "", records, deviation)
    reasons = sorted({r.message for r in records if r.message})
    reason = "; ".join(reasons) or default_reasons.get(rule.id, "no check covers this rule")
    return RuleOutcome(rule, NOT_RUN, reason, records, deviation)
