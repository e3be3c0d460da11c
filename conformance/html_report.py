"""The HTML report: one self-contained page (inline CSS, no scripts, no fetched assets).

Counts and the verdict on top, then the failures in full, then every rule grouped by the
documentation page it comes from. The only outside links are to the documentation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from html import escape
from pathlib import Path
from urllib.parse import urlparse

from conformance.catalogue import Rule
from conformance.evidence import Exchange
from conformance.outcomes import DEVIATION, FAIL, NOT_RUN, PASS, REFUSALS, Record, RuleOutcome
from conformance.report import (
    RunResult,
    expectation,
    finished,
    headline,
    mode,
    split_message,
    split_reproduction,
    verdict,
)

STYLE = Path(__file__).with_name("report.css")
OUTCOMES = (FAIL, DEVIATION, PASS, NOT_RUN)  # the order of the count tiles
CLASSES = {PASS: "pass", FAIL: "fail", NOT_RUN: "notrun", DEVIATION: "deviation"}
SYMBOLS = {PASS: "✓", FAIL: "✗", NOT_RUN: "\N{EN DASH}", DEVIATION: "~"}
LABELS = {PASS: "pass", FAIL: "fail", NOT_RUN: "not run", DEVIATION: "accepted deviation"}
BADGES = {**LABELS, DEVIATION: "deviation"}  # the narrow outcome column of the matrix
LONG = 240  # characters of a received answer shown before it folds into <details>
WORDS = {"api": "API"}  # page titles come from URLs: "api-keys" reads "API keys"


def page(result: RunResult) -> str:
    title = f"Frontier Gateway conformance: {verdict(result)} · {result.target}"
    body = [
        _header(result),
        _tiles(result),
        _strip(result.rules.values()),
        _notes(result),
        _refusals(result.observed),
        _failures(result.rules.values()),
        _deviations(result.rules.values()),
        *(_group(name, url, outcomes) for (name, url), outcomes in _groups(result).items()),
        "<footer>Written by <code>frontier-conformance</code>. Rule levels: <b>documented</b> "
        "(the documentation says it), <b>interpreted</b> (the only reading of it), <b>choice</b> "
        "(the documentation is silent; checked with <code>--strict</code>).</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{_style()}</style>\n</head>\n"
        "<body>\n<main>\n" + "\n".join(part for part in body if part) + "\n</main>\n</body>\n"
        "</html>\n"
    )


@cache
def _style() -> str:
    return STYLE.read_text(encoding="utf-8")


# The top of the page.


def _header(result: RunResult) -> str:
    state = "pass" if result.exit_code == 0 else "fail"
    if result.interrupted:
        state = "interrupted"
    elif result.partial and result.exit_code == 0:
        state = "pass partial"
    facts = {
        "Target": result.target,
        "Mode": mode(result) + ("" if result.strict else " (choice rules need --strict)"),
        "Run prefix": result.prefix,
        "Finished": finished(result),
        "Exit code": str(result.exit_code),
    }
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts.items())
    return (
        f'<header class="verdict {state}"><p class="kicker">Frontier Gateway conformance</p>'
        f"<h1>{escape(verdict(result).capitalize())}</h1>"
        f'<p class="headline">{escape(headline(result).capitalize())}</p>'
        f'<dl class="meta">{rows}</dl></header>'
    )


def _tiles(result: RunResult) -> str:
    counts = result.counts()
    tiles = "".join(
        f'<div class="tile {CLASSES[o]}{"" if counts.get(o) else " zero"}">'
        f'<span class="n">{counts.get(o, 0)}</span>'
        f'<span class="what">{SYMBOLS[o]} {escape(LABELS[o])}</span></div>'
        for o in OUTCOMES
    )
    return f'<section class="tiles" aria-label="rules by outcome">{tiles}</section>'


def _notes(result: RunResult) -> str:
    items = [f'<li class="problem">{escape(p)}</li>' for p in result.problems]
    items += [f'<li class="warning">{escape(w)}</li>' for w in result.warnings]
    return f'<ul class="notes">{"".join(items)}</ul>' if items else ""


def _refusals(observed: set[str]) -> str:
    chips = "".join(
        f'<li class="{"seen" if r in observed else "unseen"}">'
        f"{'✓' if r in observed else '✗'} {escape(r)}</li>"
        for r in REFUSALS
    )
    return (
        f'<section class="refusals"><h2>Documented refusals observed '
        f'<span class="sub">{len(observed & set(REFUSALS))} of {len(REFUSALS)}</span></h2>'
        f'<ul class="chips">{chips}</ul></section>'
    )


def _strip(outcomes: Iterable[RuleOutcome]) -> str:
    """Every rule as one coloured square, linked to its row: the run at a glance."""
    cells = "".join(
        f'<a class="cell {CLASSES[o.outcome]}" href="#{_anchor(o.rule.id)}" '
        f'title="{escape(o.rule.id)}: {escape(LABELS[o.outcome])}"></a>'
        for o in outcomes
    )
    return f'<nav class="strip" aria-label="every rule">{cells}</nav>'


# Failures and accepted deviations, in full.


def _failures(outcomes: Iterable[RuleOutcome]) -> str:
    failed = [o for o in outcomes if o.outcome == FAIL]
    if not failed:
        return ""
    cards = "".join(_card(o, "fail") for o in failed)
    return f'<section class="failures"><h2>Failures ({len(failed)})</h2>{cards}</section>'


def _deviations(outcomes: Iterable[RuleOutcome]) -> str:
    accepted = [o for o in outcomes if o.outcome == DEVIATION]
    if not accepted:
        return ""
    cards = "".join(_card(o, "deviation") for o in accepted)
    return (
        f'<section class="deviations"><h2>Accepted deviations ({len(accepted)})</h2>'
        f"{cards}</section>"
    )


def _card(outcome: RuleOutcome, kind: str) -> str:
    rule = outcome.rule
    reason = f'<p class="reason">{escape(outcome.reason)}</p>' if outcome.reason else ""
    messages = "".join(_message(r) for r in outcome.records if r.outcome == FAIL)
    return (
        f'<article class="card {kind}" id="{_anchor(rule.id, "card")}">'
        f'<h3><a href="#{_anchor(rule.id)}">{escape(rule.id)}</a> {_level(rule)} '
        f'<span class="doc">{_doc_link(rule)}</span></h3>'
        f'<p class="summary">{_inline(rule.summary)}</p>{reason}{_deviation(outcome)}'
        f"{messages}</article>"
    )


def _deviation(outcome: RuleOutcome) -> str:
    entry = outcome.deviation
    if entry is None:
        return ""
    link = (
        f'<a href="{escape(entry.link)}">{escape(entry.link)}</a>'
        if _is_web(entry.link)
        else escape(entry.link)
    )
    return f'<p class="entry">Listed in the deviations file: {link}, expires {entry.expires}</p>'


def _message(record: Record) -> str:
    """A failure as `check`, then its Received and Documented (or Simulator's choice) parts
    one under the other, then the request behind it, a curl line and the exact answer."""
    lead, received, documented = split_message(record.message)
    exchange = record.exchange
    if received is None:  # not in that form (a crash, say): shown as it is
        body = f"<pre>{escape(record.message)}</pre>"
    else:
        received, curl = split_reproduction(received)
        if exchange is not None:
            curl = exchange.curl()
        again = f"<dt>Reproduce</dt><dd><pre>{escape(curl)}</pre></dd>" if curl else ""
        body = (
            (f'<p class="lead">{escape(lead)}</p>' if lead else "")
            + f'<dl class="rd"><dt>Received</dt><dd>{_received(received)}</dd>'
            + f"<dt>{escape(expectation(record.message))}</dt><dd>{escape(documented)}</dd>"
            + f"{again}</dl>"
        )
    return (
        f'<div class="message"><p class="check">✗ {escape(record.check)}</p>{body}'
        f"{_exchange(exchange, with_curl=received is None)}</div>"
    )


def _exchange(exchange: Exchange | None, *, with_curl: bool) -> str:
    """The request (method, path, headers with keys filtered, JSON body) and the answer."""
    if exchange is None:
        return ""
    curl = f"<dt>Reproduce</dt><dd><pre>{escape(exchange.curl())}</pre></dd>" if with_curl else ""
    return (
        f'<dl class="rd exchange"><dt>Request</dt><dd><pre>{escape(exchange.request_text())}'
        f"</pre></dd>{curl}<dt>Response</dt><dd>{_folded(exchange.response_text())}</dd></dl>"
    )


def _folded(text: str) -> str:
    if len(text) <= LONG * 4:
        return f"<pre>{escape(text)}</pre>"
    return (
        f"<details><summary><code>{escape(text.splitlines()[0])}</code> …</summary>"
        f"<pre>{escape(text)}</pre></details>"
    )


def _received(text: str) -> str:
    if len(text) <= LONG and "\n" not in text:
        return f"<code>{escape(text)}</code>"
    return (
        f"<details><summary><code>{escape(text[:LONG].splitlines()[0])}</code> …</summary>"
        f"<pre>{escape(text)}</pre></details>"
    )


# The matrix: every rule, grouped by documentation page.


def _groups(result: RunResult) -> dict[tuple[str, str], list[RuleOutcome]]:
    """Rules by documentation page, pages in catalogue order."""
    groups: dict[tuple[str, str], list[RuleOutcome]] = {}
    for outcome in result.rules.values():
        key = (_page_title(outcome.rule), outcome.rule.source_url)
        groups.setdefault(key, []).append(outcome)
    return groups


def _group(name: str, url: str, outcomes: list[RuleOutcome]) -> str:
    ran = any(o.outcome != NOT_RUN for o in outcomes)
    failed = any(o.outcome == FAIL for o in outcomes)
    counts = " · ".join(
        f'<span class="{CLASSES[k]}">{n} {escape(LABELS[k])}</span>'
        for k in OUTCOMES
        if (n := sum(o.outcome == k for o in outcomes))
    )
    link = f'<a href="{escape(url)}">{escape(url)}</a>' if _is_web(url) else escape(url)
    rows = "".join(_rule_row(o) for o in outcomes)
    return (
        f'<section class="group{" has-fail" if failed else ""}"><details{" open" if ran else ""}>'
        f'<summary><span class="name">{escape(name)}</span><span class="counts">{counts}</span>'
        f'</summary><p class="source">Source: {link}</p><table class="rules"><thead><tr>'
        "<th>Outcome</th><th>Rule</th><th>Level</th><th>What is checked</th><th>Checks</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></details></section>"
    )


def _rule_row(outcome: RuleOutcome) -> str:
    rule = outcome.rule
    state = CLASSES[outcome.outcome]
    return (
        f'<tr id="{_anchor(rule.id)}" class="{state}">'
        f'<td><span class="badge {state}" title="{escape(LABELS[outcome.outcome])}">'
        f"{SYMBOLS[outcome.outcome]} {escape(BADGES[outcome.outcome])}</span></td>"
        f'<td class="id">{escape(rule.id)}<br><span class="doc">{_doc_link(rule)}</span></td>'
        f"<td>{_level(rule)}</td>"
        f"<td>{_inline(rule.summary)}{_row_note(outcome)}</td>"
        f"<td>{_checks(outcome.records)}</td></tr>"
    )


def _row_note(outcome: RuleOutcome) -> str:
    """Why it didn't run, or the first failure's Documented part with a link to the card."""
    if outcome.outcome in (FAIL, DEVIATION):
        failures = [r for r in outcome.records if r.outcome == FAIL]
        first = split_message(failures[0].message) if failures else (outcome.reason, None, "")
        text = first[2] if first[1] is not None else first[0]
        more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
        return (
            f'<p class="note {CLASSES[outcome.outcome]}">{escape(_short(text, 200))}{more} '
            f'<a href="#{_anchor(outcome.rule.id, "card")}">details ↑</a></p>'
        )
    return f'<p class="note">{escape(outcome.reason)}</p>' if outcome.reason else ""


def _checks(records: list[Record]) -> str:
    """Each check that reported on the rule, with its own outcome; many fold away."""
    verdicts: dict[str, str] = {}
    for record in records:
        if verdicts.get(record.check) != FAIL:
            verdicts[record.check] = record.outcome
    items = "".join(
        f'<li class="{CLASSES[v]}">{SYMBOLS[v]} {_breakable(check)}</li>'
        for check, v in verdicts.items()
    )
    if len(verdicts) <= 4:
        return f'<ul class="checks">{items}</ul>' if items else ""
    tally = ", ".join(
        f"{sum(v == k for v in verdicts.values())} {SYMBOLS[k]}"
        for k in OUTCOMES
        if k in verdicts.values()
    )
    return (
        f"<details><summary>{len(verdicts)} checks ({tally})</summary>"
        f'<ul class="checks">{items}</ul></details>'
    )


# Small pieces.


def _level(rule: Rule) -> str:
    return f'<span class="level {escape(rule.level)}">{escape(rule.level)}</span>'


def _doc_link(rule: Rule) -> str:
    if not _is_web(rule.source_url):
        return escape(rule.source_url)
    return f'<a href="{escape(rule.source_url)}">{escape(rule.source)} ↗</a>'


def _page_title(rule: Rule) -> str:
    """`…/groups/create-a-group` reads "Groups > Create a group", with a typographic `>`."""
    if not _is_web(rule.source_url):
        return f"{rule.source_url} (schemathesis)"
    parts = [p for p in urlparse(rule.source_url).path.split("/") if p][-2:]
    return " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} ".join(_words(p) for p in parts)


def _words(slug: str) -> str:
    words = [WORDS.get(w, w) for w in slug.split("-")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def _breakable(name: str) -> str:
    """A check's long snake_case name may wrap after each underscore or slash."""
    return re.sub(r"([_/])", r"\1<wbr>", escape(name))


def _inline(text: str) -> str:
    """The catalogue's `code` spans, escaped."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _anchor(rule_id: str, kind: str = "rule") -> str:
    return f"{kind}-{re.sub(r'[^A-Za-z0-9_-]', '-', rule_id)}"


def _is_web(url: str) -> bool:
    return urlparse(url).scheme in ("http", "https")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
