"""`frontier-conformance --list-rules`: the rule catalogue, as text or JSON, without a run.

By default it lists the rules a default run checks; `--strict` adds the choice rules,
`--level` and `--select` narrow the list. Each rule names the checks that report on it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any

from conformance.catalogue import CHOICE, LEVELS, Rule, rules
from conformance.suite import all_checks

TEXT, JSON = "text", "json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("listing the rules (no URL or key needed)")
    group.add_argument(
        "--list-rules",
        action="store_true",
        help="print the rules a run checks (ID, level, status, checks, summary, source) and "
        "exit; --strict adds the choice rules, --select and --level narrow the list",
    )
    group.add_argument(
        "--level", nargs="+", choices=LEVELS, metavar="LEVEL", help=f"only {', '.join(LEVELS)}"
    )
    group.add_argument(
        "--format", choices=(TEXT, JSON), help="--list-rules as text (default) or JSON"
    )


def asked(args: argparse.Namespace) -> bool:
    return bool(args.list_rules or args.level or args.format)


def list_rules(args: argparse.Namespace, values: dict[str, Any]) -> str:
    """The listing, or raises ValueError (a usage error) for options it can't use."""
    if not args.list_rules:
        raise ValueError("--level and --format go with --list-rules")
    unknown = [rule_id for rule_id in values["select"] if rule_id not in rules()]
    if unknown:
        raise ValueError(f"unknown rule IDs: {', '.join(unknown)}")
    checks = checks_by_rule(values["strict"])
    chosen = [
        rule
        for rule in rules().values()
        if (values["strict"] or rule.level != CHOICE or checks[rule.id])
        and (not values["select"] or rule.id in values["select"])
        and (not args.level or rule.level in args.level)
    ]
    if args.format == JSON:
        return json.dumps([as_json(rule, checks[rule.id]) for rule in chosen], indent=2)
    return as_text(chosen, checks, hidden=0 if values["strict"] else _strict_only(checks))


def checks_by_rule(strict: bool) -> dict[str, list[str]]:
    """Rule ID → the checks that report on it in this mode (none: not covered yet)."""
    found: dict[str, list[str]] = {rule_id: [] for rule_id in rules()}
    for check in all_checks(strict):
        if check.runs_in(strict):
            for rule_id in check.rules:
                found[rule_id].append(check.name)
    return found


def as_json(rule: Rule, checks: list[str]) -> dict[str, Any]:
    return {
        "id": rule.id,
        "level": rule.level,
        "status": rule.status,
        "summary": rule.summary,
        "source": rule.source,
        "source_url": rule.source_url,
        "checks": checks,
    }


def as_text(chosen: Iterable[Rule], checks: dict[str, list[str]], hidden: int) -> str:
    """One aligned line per rule, its summary and source link last (so grep finds both)."""
    rows = [["RULE", "LEVEL", "STATUS", "CHECKS", "SUMMARY <SOURCE>"]]
    rows += [_row(rule, len(checks[rule.id])) for rule in chosen]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join([*(row[i].ljust(widths[i]) for i in range(4)), row[4]]) for row in rows]
    footer = f"{len(rows) - 1} rules."
    if hidden:
        footer += f" {hidden} choice rules are checked only with --strict: add it to list them."
    return "\n".join([*lines, "", footer])


def _row(rule: Rule, checks: int) -> list[str]:
    status = str(rule.status) if rule.status else "-"
    return [rule.id, rule.level, status, str(checks), f"{rule.summary} <{rule.source_url}>"]


def _strict_only(checks: dict[str, list[str]]) -> int:
    return sum(1 for r in rules().values() if r.level == CHOICE and not checks[r.id])
