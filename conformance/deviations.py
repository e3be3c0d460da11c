"""Known deviations: rules an implementation is allowed to fail, each until a date.

The file is a YAML list of `{rule, reason, link, expires}`. A failure of a listed rule is
reported as an accepted deviation; an entry past its date fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from conformance.catalogue import rules

FIELDS = ("rule", "reason", "link", "expires")


class DeviationsError(ValueError):
    """The deviations file can't be used (a usage error, exit code 2)."""


@dataclass(frozen=True)
class Deviation:
    rule: str
    reason: str
    link: str
    expires: date

    def expired(self, today: date) -> bool:
        return self.expires < today

    def as_json(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "reason": self.reason,
            "link": self.link,
            "expires": self.expires.isoformat(),
        }


def load_deviations(path: str | Path) -> tuple[Deviation, ...]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise DeviationsError(f"{path}: can't be read: {error}") from None
    except yaml.YAMLError as error:
        raise DeviationsError(f"{path}: isn't valid YAML: {error}") from None
    return parse_deviations(data, str(path))


def parse_deviations(data: Any, source: str = "deviations") -> tuple[Deviation, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise DeviationsError(f"{source}: must be a YAML list of {{{', '.join(FIELDS)}}} entries")
    entries = tuple(_entry(item, f"{source}: entry {n}") for n, item in enumerate(data, 1))
    seen: set[str] = set()
    for entry in entries:
        if entry.rule in seen:
            raise DeviationsError(f"{source}: rule {entry.rule} is listed twice")
        seen.add(entry.rule)
    return entries


def _entry(item: Any, where: str) -> Deviation:
    if not isinstance(item, dict):
        raise DeviationsError(f"{where}: must be a mapping with {', '.join(FIELDS)}")
    missing = [f for f in FIELDS if f not in item]
    unknown = sorted(set(item) - set(FIELDS))
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        raise DeviationsError(f"{where}: {problem} (fields: {', '.join(FIELDS)})")
    for name in ("rule", "reason", "link"):
        if not isinstance(item[name], str) or not item[name].strip():
            raise DeviationsError(f"{where}: {name} must be a non-empty string")
    if item["rule"] not in rules():
        raise DeviationsError(f"{where}: unknown rule {item['rule']!r}")
    return Deviation(item["rule"], item["reason"], item["link"], _date(item["expires"], where))


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DeviationsError(f"{where}: expires must be a date like 2026-12-31") from None
