"""Recordings of a run (`--record DIR`) and the differences between two (`diff A B`).

A recording keeps every request a run sends and the answer it gets, check by check, so that
one run against the simulator and one against a deployment can be compared. Before it is
written it is normalised: ids, key prefixes, cursors, registered keys and external ids that
lack the run prefix become placeholders numbered within each check (`<id:2>`), timestamps
become `<timestamp>`, the run prefix `<run>`, minted secrets `<secret>`, and API keys the
role that sent them. Hypothesis draws the same cases in every recorded run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from werkzeug.datastructures import Headers

from conformance.catalogue import load_spec, rules
from conformance.target import Reply, Transport

if TYPE_CHECKING:
    from conformance.options import Options
    from conformance.report import RunResult

FORMAT = "frontier-conformance/recording/1"
EXCHANGES = "exchanges.jsonl"
SUMMARY = "summary.json"
TIMESTAMP = "<timestamp>"
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})?"
)
# Answer and request fields whose values are ids, by the kind of placeholder they get.
ID_FIELDS = {"id": "id", "source_group": "id", "parent_group_id": "id", "prefix": "prefix"}
EXTERNAL_ID_FIELDS = ("external_entity_id", "customer_id")
ROLES = ("api", "view", "other", "not_onboarded", "no_public_key")


@dataclass
class Exchange:
    """One request and its answer, as sent and received (before normalisation)."""

    check: str
    method: str
    path: str
    auth: str | None
    body: Any
    status: int
    content_type: str
    answer: Any


@dataclass
class Recording:
    """Collects a run's exchanges; `save` normalises them and writes the directory."""

    directory: Path
    exchanges: list[Exchange] = field(default_factory=list)
    checks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name → its rules
    prefix: str = ""
    roles: dict[str, str] = field(default_factory=dict)  # API key → role
    _check: str = "(setup)"

    def attach(self, transport: Transport, options: Options, prefix: str) -> Transport:
        """The transport a recorded run sends through; `prefix` is the run's own."""
        self.prefix = prefix
        self.roles = {key: role for role in ROLES if (key := options.key(role))}
        return RecordingTransport(transport, self)

    def begin(self, check: str, check_rules: tuple[str, ...]) -> None:
        self._check = check
        self.checks[check] = check_rules

    def add(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None, reply: Reply
    ) -> None:
        self.exchanges.append(
            Exchange(
                check=self._check,
                method=method.upper(),
                path=_path_and_query(target),
                auth=self._auth(_header(headers, "Authorization")),
                body=_parsed(body),
                status=reply.status,
                content_type=(reply.headers.get("Content-Type") or "").split(";")[0].strip(),
                answer=_parsed(reply.text.encode()),
            )
        )

    def add_response(self, response: Any) -> None:
        """A schemathesis answer, with the request it carries."""
        request = response.request
        headers = dict(request.headers.items())
        body = request.body.encode() if isinstance(request.body, str) else request.body
        reply = Reply(response.status_code, _headers(response.headers), _text(response.content))
        self.add(str(request.method), str(request.url), headers, body, reply)

    def _auth(self, header: str | None) -> str | None:
        """`<scheme> <role>`: the key itself is never written down."""
        if header is None:
            return None
        scheme, _, key = header.partition(" ")
        return f"{scheme} <{self.roles.get(key.strip(), 'unknown key')}>"

    def save(self, result: RunResult | None = None) -> Path:
        """Writes `summary.json` and `exchanges.jsonl`; returns the directory."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(e, sort_keys=True) for e in normalised(self.exchanges, self.prefix)]
        (self.directory / EXCHANGES).write_text("".join(f"{line}\n" for line in lines), "utf-8")
        summary = {
            "format": FORMAT,
            "target": result.target if result else None,
            "strict": result.strict if result else None,
            "exit_code": result.exit_code if result else None,
            "rules": {r: o.outcome for r, o in result.rules.items()} if result else {},
            "checks": {name: list(check_rules) for name, check_rules in self.checks.items()},
        }
        (self.directory / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
        return self.directory


class RecordingTransport:
    """Sends through another transport and records each exchange."""

    def __init__(self, inner: Transport, recording: Recording) -> None:
        self.inner = inner
        self.recording = recording

    def send(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> Reply:
        reply = self.inner.send(method, path, headers, body)
        self.recording.add(method, path, headers, body, reply)
        return reply

    def __getattr__(self, name: str) -> Any:  # e.g. the HTTP session schemathesis reuses
        return getattr(self.inner, name)


# Normalisation.


def normalised(exchanges: list[Exchange], prefix: str) -> Iterator[dict[str, Any]]:
    """Each exchange as written: placeholders numbered within its check, in the order met."""
    by_check: dict[str, list[Exchange]] = defaultdict(list)
    for exchange in exchanges:
        by_check[exchange.check].append(exchange)
    for check, own in by_check.items():
        names = Placeholders(prefix)
        for exchange in own:
            names.collect(exchange)
        for number, exchange in enumerate(own, 1):
            yield {
                "check": check,
                "n": number,
                "request": {
                    "method": exchange.method,
                    "path": names.path(exchange.path),
                    "auth": exchange.auth,
                    "body": names.value(exchange.body),
                },
                "response": {
                    "status": exchange.status,
                    "content_type": exchange.content_type,
                    "body": names.value(exchange.answer),
                },
            }


class Placeholders:
    """Ids and other run-specific values of one check, each named by kind and order."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.names: dict[str, str] = {}
        self.counts: dict[str, int] = defaultdict(int)
        # `<run prefix><label>-<n>`: n counts over the whole run, so it is renumbered within
        # the check; a check that sends one request more then shifts no other check's names.
        self.run_ids = re.compile(re.escape(prefix) + r"([a-z0-9-]*)-(\d+)") if prefix else None
        self.serials: dict[str, int] = {}

    def name(self, value: Any, kind: str) -> None:
        if isinstance(value, str) and value and value not in self.names:
            self.counts[kind] += 1
            self.names[value] = f"<{kind}:{self.counts[kind]}>"

    def collect(self, exchange: Exchange) -> None:
        """Names every id the exchange shows, the request first, then the answer."""
        parts = urlsplit(exchange.path)
        for value in _path_parameters(parts.path):
            self.name(value, "id")
        for key, value in parse_qsl(parts.query):
            if key == "cursor":
                self.name(value, "cursor")
            elif key in EXTERNAL_ID_FIELDS:
                self._name_external(value)
        for node in (exchange.body, exchange.answer):
            for key, value in _fields(node):
                self._name_field(key, value)

    def _name_field(self, key: str, value: Any) -> None:
        if key in ID_FIELDS:
            self.name(value, ID_FIELDS[key])
        elif key == "cursor":
            self.name(value, "cursor")
        elif key == "key":
            self.name(value, "key")
        elif key == "api_key" and isinstance(value, str):
            self.name(value.partition(".")[0], "prefix")
        elif key in EXTERNAL_ID_FIELDS:
            self._name_external(value)

    def _name_external(self, value: Any) -> None:
        if isinstance(value, str) and not (self.prefix and self.prefix in value):
            self.name(value, "extid")  # e.g. a one-character id, drawn at random

    def text(self, value: str) -> str:
        if value in self.names:
            return self.names[value]
        if self.run_ids is not None:
            value = self.run_ids.sub(self._renumbered, value).replace(self.prefix, "<run>")
        value = _TIMESTAMP.sub(TIMESTAMP, value)
        for known, name in self.names.items():
            if len(known) >= 8 and known in value:  # ids quoted inside messages
                value = value.replace(known, name)
        return value

    def _renumbered(self, match: re.Match[str]) -> str:
        serial = self.serials.setdefault(match[2], len(self.serials) + 1)
        return f"<run>{match[1]}-{serial}"

    def value(self, node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: self.value(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [self.value(item, key) for item in node]
        if key == "api_key" and isinstance(node, str):
            prefix, dot, _ = node.partition(".")
            return f"{self.text(prefix)}{dot}<secret>" if dot else self.text(node)
        return self.text(node) if isinstance(node, str) else node

    def path(self, target: str) -> str:
        parts = urlsplit(target)
        segments = "/".join(self.text(segment) for segment in parts.path.split("/"))
        if not parts.query:
            return segments
        query = [(k, self.text(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        return f"{segments}?{urlencode(query, safe='<>:')}"


def _fields(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of a JSON document, depth first in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _fields(value)
    elif isinstance(node, list):
        for item in node:
            yield from _fields(item)


def _templates() -> list[list[str]]:
    """openapi.yaml's paths, split in segments; literal paths first (…/register)."""
    paths = [path.split("/") for path in load_spec().get("paths", {})]
    return sorted(paths, key=lambda parts: sum(part.startswith("{") for part in parts))


def _path_parameters(path: str) -> list[str]:
    """The values a request path gives its template's `{parameters}`, in order."""
    segments = path.split("/")
    for template in _templates():
        if len(template) == len(segments) and all(
            t.startswith("{") or t == s for t, s in zip(template, segments, strict=True)
        ):
            return [s for t, s in zip(template, segments, strict=True) if t.startswith("{")]
    return []


def _path_and_query(target: str) -> str:
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _headers(headers: Mapping[str, list[str]]) -> Headers:
    return Headers([(name, value) for name, values in headers.items() for value in values])


def _text(content: bytes | None) -> str:
    return content.decode("utf-8", "replace") if content else ""


def _parsed(body: bytes | None) -> Any:
    """JSON as a document; other text as it is; no body as null."""
    if not body:
        return None
    text = body.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


# Comparing two recordings.


class RecordingError(ValueError):
    """A directory that isn't a recording (a usage error, exit code 2)."""


@dataclass(frozen=True)
class Loaded:
    directory: Path
    summary: dict[str, Any]
    exchanges: dict[str, list[dict[str, Any]]]  # check → its exchanges, in order


def load(directory: str | Path) -> Loaded:
    directory = Path(directory)
    try:
        summary = json.loads((directory / SUMMARY).read_text("utf-8"))
        lines = (directory / EXCHANGES).read_text("utf-8").splitlines()
        exchanges: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for line in lines:
            exchange = json.loads(line)
            exchanges[exchange["check"]].append(exchange)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RecordingError(f"{directory} is not a recording: {error}") from None
    if not isinstance(summary, dict) or summary.get("format") != FORMAT:
        raise RecordingError(f"{directory} is not a recording of format {FORMAT}")
    return Loaded(directory, summary, dict(exchanges))


@dataclass
class RuleDifference:
    rule: str
    outcomes: tuple[str | None, str | None]
    lines: list[str] = field(default_factory=list)
    also: tuple[str, ...] = ()  # the other rules its checks report on (schemathesis's)


def differences(a: Loaded, b: Loaded, per_check: int = 5) -> dict[str, RuleDifference]:
    """Where two recordings differ, by rule: outcomes, then each check's differing exchanges
    (at most `per_check` of them shown)."""
    found: dict[str, RuleDifference] = {}
    outcomes_a, outcomes_b = a.summary.get("rules", {}), b.summary.get("rules", {})

    def entry(rule_id: str) -> RuleDifference:
        if rule_id not in found:
            found[rule_id] = RuleDifference(
                rule_id, (outcomes_a.get(rule_id), outcomes_b.get(rule_id))
            )
        return found[rule_id]

    for rule_id in dict.fromkeys([*outcomes_a, *outcomes_b]):
        if outcomes_a.get(rule_id) != outcomes_b.get(rule_id):
            entry(rule_id)
    checks = {**b.summary.get("checks", {}), **a.summary.get("checks", {})}
    for check in dict.fromkeys([*a.exchanges, *b.exchanges]):
        lines = _check_lines(a.exchanges.get(check, []), b.exchanges.get(check, []), per_check)
        if lines:
            rule_id, *also = checks.get(check) or ["(no rule)"]
            entry(rule_id).lines += [f"  {check}", *lines]
            entry(rule_id).also = tuple(also)
    order = list(rules())
    return dict(sorted(found.items(), key=lambda item: _position(order, item[0])))


def _position(order: list[str], rule_id: str) -> int:
    return order.index(rule_id) if rule_id in order else len(order)


def _check_lines(a: list[dict[str, Any]], b: list[dict[str, Any]], per_check: int) -> list[str]:
    lines: list[str] = []
    shown = 0
    for left, right in zip(a, b, strict=False):
        changes = _exchange_changes(left, right)
        if not changes:
            continue
        shown += 1
        if shown <= per_check:
            request = left["request"]
            lines.append(f"    #{left['n']} {request['method']} {request['path']}")
            lines += [f"      {change}" for change in changes]
    if shown > per_check:
        lines.append(f"    … and {shown - per_check} more exchanges of this check differ")
    if len(a) != len(b):
        lines.append(f"    A made {len(a)} requests in this check, B made {len(b)}")
    return lines


def _exchange_changes(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    changes = []
    if left["request"] != right["request"]:
        sent = _json_changes(left["request"], right["request"], "request")
        changes.append("the runs sent different requests: " + "; ".join(sent[:3]))
    for name in ("status", "content_type"):
        if left["response"][name] != right["response"][name]:
            changes.append(f"{name}: {left['response'][name]} ≠ {right['response'][name]}")
    changes += _json_changes(left["response"]["body"], right["response"]["body"], "body")[:6]
    return changes


_ABSENT = object()


def _json_changes(a: Any, b: Any, where: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found: list[str] = []
        for key in dict.fromkeys([*a, *b]):
            found += _json_changes(a.get(key, _ABSENT), b.get(key, _ABSENT), f"{where}.{key}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [c for i, (x, y) in enumerate(zip(a, b, strict=True))
                for c in _json_changes(x, y, f"{where}[{i}]")]  # fmt: skip
    return [] if a == b else [f"{where}: {_shown(a)} ≠ {_shown(b)}"]


def _shown(value: Any, limit: int = 80) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report(a: Loaded, b: Loaded, found: Mapping[str, RuleDifference]) -> str:
    """The differences as text: one block per rule, then a closing line naming the rules."""
    count_a = sum(len(x) for x in a.exchanges.values())
    count_b = sum(len(x) for x in b.exchanges.values())
    head = [
        f"A: {a.directory} ({a.summary.get('target')}, {count_a} exchanges)",
        f"B: {b.directory} ({b.summary.get('target')}, {count_b} exchanges)",
    ]
    if not found:
        return "\n".join([*head, "", "The recordings do not differ."])
    blocks = []
    for rule_id, difference in found.items():
        level = rules()[rule_id].level if rule_id in rules() else "unknown rule"
        left, right = (o or "absent" for o in difference.outcomes)
        blocks.append(f"{rule_id} ({level}): A {left}, B {right}")
        if difference.also:
            blocks.append(f"  (its checks also report {', '.join(difference.also)})")
        blocks += difference.lines
    tail = f"{len(found)} rule(s) differ: {', '.join(found)}"
    return "\n".join([*head, "", *blocks, "", tail])


def diff_main(argv: list[str], out: Callable[[str], None] = print) -> int:
    """`frontier-conformance diff A B`: 0 the same, 1 they differ, 2 not recordings."""
    parser = argparse.ArgumentParser(
        prog="frontier-conformance diff",
        description="Compare two recordings made with --record and print where they differ, "
        "rule by rule.",
        epilog="Exit codes: 0 the same, 1 they differ, 2 usage error.",
    )
    parser.add_argument("a", metavar="A", help="a directory written by --record")
    parser.add_argument("b", metavar="B", help="another one")
    parser.add_argument("--per-check", type=int, default=5, metavar="N",
                        help="differing exchanges shown per check (default 5)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        a, b = load(args.a), load(args.b)
    except RecordingError as error:
        print(f"frontier-conformance: {error}", file=sys.stderr)
        return 2
    found = differences(a, b, max(1, args.per_check))
    out(report(a, b, found))
    return 1 if found else 0
