"""Progress of a run on the terminal.

On a terminal one counter line is redrawn (`checks 37/76 ✓35 ✗1 …`); elsewhere
(CI logs) a line per finished family of checks, plus a counter now and then. Failures show
as they happen. Only the command line asks for it; `conformance.run()` stays quiet.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TextIO

from conformance.outcomes import FAIL, NOT_RUN, PASS, CheckResult
from conformance.registry import ORACLE, RULES, SCHEMA, Check
from conformance.report import shorten

FAMILIES = {RULES: "hand-written checks", ORACLE: "oracle", SCHEMA: "schemathesis"}
UNICODE = {PASS: "✓", FAIL: "✗", NOT_RUN: "\N{EN DASH}"}
ASCII = {PASS: "ok ", FAIL: "FAIL ", NOT_RUN: "skip "}
COLOURS = {PASS: "\x1b[32m", FAIL: "\x1b[31m", NOT_RUN: "\x1b[2m"}
RESET, CLEAR = "\x1b[0m", "\r\x1b[K"
HEARTBEAT = 15.0  # seconds between counter lines when not on a terminal
LINE = 300  # characters of a failure line when not on a terminal


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
        self.results: list[CheckResult] = []
        self.total = 0
        self.done: Counter[str] = Counter()
        self.family_done: Counter[str] = Counter()
        self.family_counts: Counter[str] = Counter()
        self.started = self.family_started = self.last_line = clock()

    # What the runner reports.

    def start(self, checks: Sequence[Check]) -> None:
        self.started = self.family_started = self.clock()
        self.total = len(checks)
        self.family_counts.update(check.family for check in checks)
        families = ", ".join(f"{n} {FAMILIES.get(f, f)}" for f, n in self.family_counts.items())
        self._line(f"running {self.total} checks: {families}")

    def finished(self, result: CheckResult) -> None:
        self.results.append(result)
        self.done[result.outcome] += 1
        self.family_done[result.family] += 1
        if result.outcome == FAIL:
            self._failure(result)
        if self.family_done[result.family] == self.family_counts[result.family]:
            self._family_line(result.family)
        self._counter(result)

    def end(self) -> None:
        if self.total:
            self._line(f"{self._tally()} in {self.clock() - self.started:.1f} s")

    # Output.

    def _family_line(self, family: str) -> None:
        counts = Counter(r.outcome for r in self.results if r.family == family)
        seconds = self.clock() - self.family_started
        self.family_started = self.clock()
        name = FAMILIES.get(family, family)
        done = self.family_counts[family]
        self._line(f"{name}: {done} done, {self._counts(counts)} ({seconds:.1f} s)")

    def _failure(self, result: CheckResult) -> None:
        """The first message, on one terminal line (the summary and reports have the rest)."""
        message = result.message.splitlines()[0] if result.message else ""
        rule = result.label.split(" ", 1)[0]
        message = message.removeprefix(f"[{rule}] ")  # the label names the rule already
        width = shutil.get_terminal_size().columns if self.tty else LINE
        limit = max(width - len(result.label) - 5, 60)
        self._line(f"{self._mark(FAIL)} {result.label}: {shorten(message, limit)}")

    def _counter(self, result: CheckResult) -> None:
        """On a terminal: redraw the counter line. Elsewhere: print it now and then."""
        if self.tty:
            room = shutil.get_terminal_size().columns - len(self._tally(plain=True)) - 4
            self._write(f"{CLEAR}{self._tally()} · {result.label[: max(room, 0)]}")
        elif self.clock() - self.last_line >= self.heartbeat:
            self._line(self._tally())

    def _tally(self, plain: bool = False) -> str:
        counts = self._counts(self.done, plain)
        return f"checks {sum(self.done.values())}/{self.total} {counts}"

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
