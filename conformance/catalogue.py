"""The rule catalogue: openapi.yaml's `x-rules` and `x-sources`, plus the suite's schema rules.

The suite reads the spec next to this module (a link to the repository's openapi.yaml),
so a rule's level, status and source link are never copied into Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SPEC_PATH = Path(__file__).with_name("openapi.yaml")

DOCUMENTED = "documented"
INTERPRETED = "interpreted"
CHOICE = "choice"
LEVELS = (DOCUMENTED, INTERPRETED, CHOICE)

# Rules the schemathesis layer reports on: one per schemathesis check it runs. They come
# from openapi.yaml as a whole rather than from one sentence of the documentation.
SCHEMA_RULES: dict[str, dict[str, Any]] = {
    "SCHEMA-SERVER-ERROR": {
        "level": DOCUMENTED,
        "check": "not_a_server_error",
        "summary": "No generated request, valid or not, gets a 5xx answer.",
    },
    "SCHEMA-STATUS": {
        "level": DOCUMENTED,
        "check": "status_code_conformance",
        "summary": "Every answer's status is one openapi.yaml documents for the operation.",
    },
    "SCHEMA-CONTENT-TYPE": {
        "level": DOCUMENTED,
        "check": "content_type_conformance",
        "summary": "Every success answer has the content type openapi.yaml documents "
        "(error answers too with --strict, rule ERR-BODY).",
    },
    "SCHEMA-RESPONSE": {
        "level": DOCUMENTED,
        "check": "response_schema_conformance",
        "summary": "Every success body matches its openapi.yaml schema "
        "(error bodies too with --strict, rule ERR-BODY).",
    },
    "SCHEMA-NEGATIVE": {
        "level": DOCUMENTED,
        "check": "negative_data_rejection",
        "summary": "A request that breaks openapi.yaml's request schema is refused with a 4xx.",
    },
    "SCHEMA-AUTH-HEADER": {
        "level": CHOICE,
        "check": "missing_required_header",
        "summary": "A request without `Authorization` gets exactly 401 (rule AUTH-MISSING).",
    },
}
SCHEMA_SOURCE = "openapi.yaml"


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    summary: str
    source: str  # the x-sources tag, or "openapi.yaml" for the schema rules
    source_url: str
    status: int | None = None

    @property
    def strict_only(self) -> bool:
        return self.level == CHOICE


@cache
def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.safe_load(handle)
    return spec


@cache
def rules() -> Mapping[str, Rule]:
    """Every rule the suite can report on, in catalogue order, the schema rules last."""
    spec = load_spec()
    sources: Mapping[str, str] = spec.get("x-sources", {})
    catalogue: dict[str, Rule] = {}
    for rule_id, entry in spec.get("x-rules", {}).items():
        tag = str(entry.get("source", ""))
        catalogue[rule_id] = Rule(
            id=rule_id,
            level=str(entry["level"]),
            summary=str(entry.get("summary", "")),
            source=tag,
            source_url=sources.get(tag, tag),
            status=entry.get("status"),
        )
    for rule_id, entry in SCHEMA_RULES.items():
        catalogue[rule_id] = Rule(
            rule_id, entry["level"], entry["summary"], SCHEMA_SOURCE, SCHEMA_SOURCE
        )
    return catalogue


def rule(rule_id: str) -> Rule:
    return rules()[rule_id]


def source_url(tag: str) -> str:
    sources: Mapping[str, str] = load_spec().get("x-sources", {})
    return sources.get(tag, tag)
