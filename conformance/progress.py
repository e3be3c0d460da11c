"""Progress of a run on the terminal, in place of pytest's own output.

On a terminal one counter line is redrawn (`checks 37/76 ✓35 ✗1 …`); elsewhere
(CI logs) a line per finished family of checks, plus a counter now and then. Failures show
as they happen. Only the command line asks for it; `conformance.run()` stays quiet.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

import pytest

from conformance.registry import ORACLE, RULES, SCHEMA
from conformance.report import shorten

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
FAMILIES = {RULES: "hand-written checks", ORACLE: "oracle", SCHEMA: "schemathesis"}
UNICODE = {PASSED: "✓", FAILED: "✗", SKIPPED: "\N{EN DASH}"}
ASCII = {PASSED: "ok ", FAILED: "FAIL ", SKIPPED: "skip "}
COLOURS = {PASSED: "\x1b[32m", FAILED: "\x1b[31m", SKIPPED: "\x1b[2m"}
RESET, CLEAR = "\x1b[0m", "\r\x1b[K"
HEARTBEAT = 15.0  # seconds between counter lines when not on a terminal
LINE = 300  # characters of a failure line when not on a terminal


def install(config: pytest.Config, stream: TextIO | None = None) -> Progress:
    """Replaces pytest's terminal reporter (its dots and sections) with a Progress."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        config.pluginmanager.unregister(reporter)
    progress = Progress(stream or sys.stderr)
    config.pluginmanager.register(progress, "conformance-progress")
    return progress


@dataclass
class Item:
    label: str  # what a line names: "OK-200 success_is_200", "POST /v1/gateway/groups"
    family: str
    outcome: str = PASSED
    message: str = ""


class Progress:
    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        heartbeat: float = HEARTBEAT,
    ) -> None:
        self.stream = stream
        self.tty = _is_tty(stream) if tty is None else tty
        self.colour = self.tty and not os.environ.get("NO_COLOR")
        self.marks = UNICODE if _can_encode(stream, "".join(UNICODE.values())) else ASCII
        self.clock, self.heartbeat = clock, heartbeat
        self.items: dict[str, Item] = {}
        self.done: Counter[str] = Counter()
        self.family_done: Counter[str] = Counter()
        self.family_counts: Counter[str] = Counter()
        self.started = self.family_started = self.last_line = clock()

    # pytest hooks.

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            check = getattr(getattr(item, "callspec", None), "params", {}).get("check")
            family = getattr(check, "family", "") or "checks"
            label = getattr(check, "node_id", "") or item.name
            self.items[item.nodeid] = Item(label, family)
            self.family_counts[family] += 1
        families = ", ".join(f"{n} {FAMILIES.get(f, f)}" for f, n in self.family_counts.items())
        self._line(f"running {len(self.items)} checks: {families}")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._line(f"error collecting {report.nodeid}: {report.longreprtext.strip()}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        item = self.items.get(report.nodeid)
        if item is None or item.outcome == FAILED:
            return
        if report.failed:
            item.outcome, item.message = FAILED, report.longreprtext.strip()
        elif report.skipped:
            item.outcome = SKIPPED

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        item = self.items.get(nodeid)
        if item is None:
            return
        self.done[item.outcome] += 1
        self.family_done[item.family] += 1
        if item.outcome == FAILED:
            self._failure(item)
        if self.family_done[item.family] == self.family_counts[item.family]:
            self._family_line(item.family)
        self._counter(item)

    def pytest_sessionfinish(self) -> None:
        if self.items:
            self._line(f"{self._tally()} in {self.clock() - self.started:.1f} s")

    # Output.

    def _family_line(self, family: str) -> None:
        counts = Counter(i.outcome for i in self.items.values() if i.family == family)
        seconds = self.clock() - self.family_started
        self.family_started = self.clock()
        name = FAMILIES.get(family, family)
        done = self.family_counts[family]
        self._line(f"{name}: {done} done, {self._counts(counts)} ({seconds:.1f} s)")

    def _failure(self, item: Item) -> None:
        """The first message, on one terminal line (the summary and reports have the rest)."""
        message = item.message.splitlines()[0] if item.message else ""
        rule = item.label.split(" ", 1)[0]
        message = message.removeprefix(f"[{rule}] ")  # pytest's text names the rule again
        width = shutil.get_terminal_size().columns if self.tty else LINE
        limit = max(width - len(item.label) - 5, 60)
        self._line(f"{self._mark(FAILED)} {item.label}: {shorten(message, limit)}")

    def _counter(self, item: Item) -> None:
        """On a terminal: redraw the counter line. Elsewhere: print it now and then."""
        if self.tty:
            room = shutil.get_terminal_size().columns - len(self._tally(plain=True)) - 4
            self._write(f"{CLEAR}{self._tally()} · {item.label[: max(room, 0)]}")
        elif self.clock() - self.last_line >= self.heartbeat:
            self._line(self._tally())

    def _tally(self, plain: bool = False) -> str:
        counts = self._counts(self.done, plain)
        return f"checks {sum(self.done.values())}/{len(self.items)} {counts}"

    def _counts(self, counts: Counter[str], plain: bool = False) -> str:
        return " ".join(f"{self._mark(k, plain)}{counts.get(k, 0)}" for k in UNICODE)

    def _mark(self, outcome: str, plain: bool = False) -> str:
        mark = self.marks[outcome]
        return f"{COLOURS[outcome]}{mark}{RESET}" if self.colour and not plain else mark

    def _line(self, text: str) -> None:
        self._write((CLEAR if self.tty else "") + text + "\n")
        self.last_line = self.clock()

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def _can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
