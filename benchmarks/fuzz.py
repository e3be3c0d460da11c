"""Hostile input at volume: schemathesis cases for every operation of openapi.yaml, tallied.

Each generated case is sent to a running server and its response put through
schemathesis's checks; the tally counts 5xx answers and answers that break openapi.yaml.
`positive_data_acceptance` is left out: a schema-valid create is still refused by business
rules (an unknown parent gives 404, a duplicate id 400), which the spec documents.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.failures import Failure, FailureGroup

from benchmarks.servers import API_KEY, SPEC

# Checks whose failure means the response itself contradicts openapi.yaml.
SPEC_CHECKS = frozenset(
    {
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    }
)
MAX_PASSES = 25  # small input spaces exhaust early; each pass reseeds, the count is bounded


@dataclass
class Tally:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # "ST code title" -> responses
    spec_breaking: int = 0  # responses that failed at least one of SPEC_CHECKS
    transport_errors: int = 0  # no response at all (connection refused or reset)
    examples: dict[str, str] = field(default_factory=dict)  # failure -> a curl reproducer
    no_cases: list[str] = field(default_factory=list)  # "METHOD /path mode" with none

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def record(self, case: Any, response: requests.Response | None, failed: list[Failure]) -> None:
        self.cases += 1
        if response is None:
            self.transport_errors += 1
            return
        self.statuses[response.status_code] += 1
        for failure in failed:
            name = f"{failure.code} {failure.title}"
            self.failures[name] += 1
            self.examples.setdefault(name, case.as_curl_command())
        if any(SPEC_CHECKS.intersection(f.checks) for f in failed):
            self.spec_breaking += 1


def load_schema(base_url: str, api_key: str = API_KEY) -> Any:
    schema = schemathesis.openapi.from_path(str(SPEC))
    schema.config.update(base_url=base_url, headers={"Authorization": f"Api-Key {api_key}"})
    return schema


def fuzz(base_url: str, cases: int, *, api_key: str = API_KEY, base_seed: int = 0) -> Tally:
    """Sends at least `cases` generated cases, spread evenly over operations and modes."""
    schema = load_schema(base_url, api_key)
    session = requests.Session()
    tally = Tally()
    pairs = [(r.ok(), mode) for r in schema.get_all_operations() for mode in GenerationMode]
    for attempt in range(MAX_PASSES):
        if tally.cases >= cases or not pairs:
            break
        quota = math.ceil((cases - tally.cases) / len(pairs))
        pairs = [p for p in pairs if _run(p, quota, base_seed + attempt, session, tally)]
    return tally


def _run(
    pair: tuple[Any, GenerationMode], quota: int, seed_: int, session: Any, tally: Tally
) -> bool:
    """Up to `quota` cases of one operation in one mode; False if it has none to give."""
    operation, mode = pair

    @seed(seed_)
    @settings(
        max_examples=quota,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],  # nothing is raised, so there is nothing to shrink
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        _send(case, session, tally)

    try:
        send()
    except Unsatisfiable:  # e.g. a lone string path parameter has no negative form
        tally.no_cases.append(f"{operation.label} {mode.value}")
        return False
    return True


def _send(case: Any, session: requests.Session, tally: Tally) -> None:
    try:
        response = case.call(session=session)
    except requests.RequestException:
        tally.record(case, None, [])
        return
    try:
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
    except FailureGroup as group:
        tally.record(case, response, list(group.exceptions))
    except Failure as failure:
        tally.record(case, response, [failure])
    else:
        tally.record(case, response, [])


def report(tally: Tally) -> str:
    lines = [
        f"cases sent: {tally.cases:,}",
        "answers by status: " + ", ".join(f"{s}: {n:,}" for s, n in sorted(tally.statuses.items())),
        f"5xx answers: {tally.server_errors}",
        f"answers that break openapi.yaml: {tally.spec_breaking}",
        f"no answer (transport errors): {tally.transport_errors}",
    ]
    for name, count in tally.failures.most_common():
        lines.append(f"  {count:>6}  {name}\n          e.g. {tally.examples[name][:300]}")
    if tally.no_cases:
        lines.append("no cases can be generated for: " + "; ".join(tally.no_cases))
    return "\n".join(lines)
