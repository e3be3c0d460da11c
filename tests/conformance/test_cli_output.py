"""What `frontier-conformance` prints: progress while it runs, the summary, `--list-rules`."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import conformance
from conformance.catalogue import CHOICE, rules
from conformance.outcomes import FAIL, NOT_RUN, PASS, CheckResult
from conformance.progress import Progress
from conformance.registry import ORACLE, Check
from conformance.summary import summary
from simulator.web.app import create_app
from tests.builders import SUITE_ARGS, SUITE_KEYS
from tests.conformance.test_html_report import HOSTILE, synthetic
from tests.servers import console_script
from tests.variants.broken import create_answers_201

ROOT = Path(__file__).resolve().parents[2]
D = "\N{EN DASH}"  # the mark of a check that did not run


def answers_201() -> Flask:
    """The factory --app loads in a subprocess: a create answers 201 (rule OK-200)."""
    return create_answers_201(pytest.MonkeyPatch())


def command(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FRONTIER_")}
    return subprocess.run(
        [console_script("frontier-conformance"), *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


# --list-rules


def test_list_rules_needs_no_url_or_key() -> None:
    """--list-rules prints the rules a default run checks and exits 0 without a target."""
    done = command("--list-rules")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:4] == ["RULE", "LEVEL", "STATUS", "CHECKS"]
    listed = {line.split()[0] for line in lines[1:] if line and not line[0].isdigit()}
    assert "DEPTH-MAX" in listed
    assert "ERR-BODY" not in listed  # a choice rule: only with --strict
    assert "checked only with --strict" in lines[-1]
    depth = next(line for line in lines if line.startswith("DEPTH-MAX "))
    assert " interpreted " in depth
    assert " 400 " in depth
    assert rules()["DEPTH-MAX"].source_url in depth


def test_list_rules_strict_json_is_the_whole_catalogue() -> None:
    """--strict --format json lists every rule, in catalogue order, with its checks."""
    done = command("--list-rules", "--strict", "--format", "json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [entry["id"] for entry in listed] == list(rules())
    depth = next(entry for entry in listed if entry["id"] == "DEPTH-MAX")
    assert depth["level"] == "interpreted"
    assert depth["status"] == 400
    assert depth["source_url"] == rules()["DEPTH-MAX"].source_url
    assert depth["checks"]


def test_list_rules_filters_by_level_and_selection() -> None:
    """--level and --select narrow the list."""
    done = command("--list-rules", "--strict", "--level", "choice", "--format", "json")
    assert {entry["level"] for entry in json.loads(done.stdout)} == {CHOICE}
    done = command("--list-rules", "--select", "OK-200", "DEPTH-MAX", "--format", "json")
    assert [entry["id"] for entry in json.loads(done.stdout)] == ["OK-200", "DEPTH-MAX"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "choice"], "go with --list-rules"),
        (["--list-rules", "--select", "NOPE"], "unknown rule IDs: NOPE"),
    ],
)
def test_list_rules_misuse_is_a_usage_error(args: list[str], message: str) -> None:
    """Listing options without --list-rules, or an unknown rule ID, exit 2 with one line."""
    done = command(*args)
    assert done.returncode == 2
    assert message in done.stderr


# Progress and summary of a real run.


def test_cli_failing_run_shows_progress_and_ends_with_the_verdict() -> None:
    """Off a terminal: a line per family and per failure on stderr; the summary on stdout."""
    module = "tests.conformance.test_cli_output:answers_201"
    done = command("--app", module, *SUITE_ARGS, "--select", "OK-200", "DEPTH-MAX")
    assert done.returncode == 1, done.stderr
    progress = done.stderr.splitlines()
    assert progress[0].startswith("running ")
    assert any(line.startswith("✗ OK-200 success_is_200: Received: 201") for line in progress)
    assert any(line.startswith("hand-written checks: ") for line in progress)
    assert progress[-1].startswith("checks ")
    assert "\r" not in done.stderr
    out = done.stdout.splitlines()
    assert " does NOT conform (partial: " in out[-1]  # --select leaves documented rules out
    assert "(default mode): " in out[-1]
    assert " 1 fail, " in out[-1]
    assert "FAILED OK-200 [documented] success_is_200" in out
    assert "Documented: 200 for a successful create" in " ".join(line.strip() for line in out)


def test_summary_counts_rules_per_level() -> None:
    """The table has a row per level and a total; the verdict is the last line."""
    text = summary(synthetic(HOSTILE))
    lines = text.splitlines()
    assert lines[0].split() == [
        "RULES",
        "PASS",
        "FAIL",
        "NOT",
        "RUN",
        "ACCEPTED",
        "DEVIATION",
        "TOTAL",
    ]
    total = next(line for line in lines if line.startswith("total "))
    assert total.split() == ["total", "1", "1", str(len(rules()) - 2), "0", str(len(rules()))]
    assert lines[-1].startswith("http://x.invalid does NOT conform (partial: ")
    assert lines[-1].endswith(
        f"(strict mode): 1 pass, 1 fail, {len(rules()) - 2} not run, 0 accepted deviation"
    )
    assert "FAILED OK-200 [documented] success_is_200" in lines


def test_run_quiet_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """conformance.run(quiet=True), the default, writes nothing to stdout or stderr."""
    result = conformance.run(app=create_app(), select=["OK-200"], **SUITE_KEYS)
    assert result.outcome("OK-200") == "pass"
    assert capfd.readouterr() == ("", "")


# The progress plugin on its own.


class Clock:
    """A clock the test moves: one second per finished check."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def nothing(_: Any) -> None:
    return None


CHECKS = [
    (Check("success_is_200", "OK-200", nothing), PASS, ""),
    (
        Check("six_levels_are_refused", "DEPTH-MAX", nothing),
        FAIL,
        "[DEPTH-MAX] Received: 201 / Documented: 400\n[CREATE-ATOMIC] Received: …",
    ),
    (Check("view_key_cannot_create", "ACCESS-SCOPE", nothing), NOT_RUN, "needs --view-key"),
    (Check("random_trees", "EFFECTIVE-CASCADING", nothing, family=ORACLE), PASS, ""),
]


def drive(progress: Progress, clock: Clock) -> None:
    """Tells the progress what the runner would for CHECKS, in order, one second each."""
    progress.start([check for check, _, _ in CHECKS])
    for check, outcome, message in CHECKS:
        clock.now += 1
        progress.finished(CheckResult(check.label, check.family, outcome, message, 1.0))
    progress.end()


def test_progress_off_a_terminal_prints_plain_lines() -> None:
    """A line per finished family and per failure, no carriage returns, the tally last."""
    stream, clock = io.StringIO(), Clock()
    drive(Progress(stream, tty=False, clock=clock), clock)
    assert stream.getvalue().splitlines() == [
        "running 4 checks: 3 hand-written checks, 1 oracle",
        "✗ DEPTH-MAX six_levels_are_refused: Received: 201 / Documented: 400",
        f"hand-written checks: 3 done, ✓1 ✗1 {D}1 (3.0 s)",
        f"oracle: 1 done, ✓1 ✗0 {D}0 (1.0 s)",
        f"checks 4/4 ✓2 ✗1 {D}1 in 4.0 s",
    ]


def test_progress_on_a_terminal_redraws_one_counter_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the counter is redrawn in place, naming the check that just finished."""
    monkeypatch.setenv("NO_COLOR", "1")
    stream, clock = io.StringIO(), Clock()
    drive(Progress(stream, tty=True, clock=clock), clock)
    text = stream.getvalue()
    assert f"\r\x1b[Kchecks 1/4 ✓1 ✗0 {D}0 · OK-200 success_is_200" in text
    assert f"\r\x1b[Kchecks 3/4 ✓1 ✗1 {D}1 · ACCESS-SCOPE view_key_cannot_create" in text
    assert text.endswith(f"\r\x1b[Kchecks 4/4 ✓2 ✗1 {D}1 in 4.0 s\n")


def test_progress_colours_marks_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Marks are green and red on a terminal unless NO_COLOR is set."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream, clock = io.StringIO(), Clock()
    drive(Progress(stream, tty=True, clock=clock), clock)
    assert "\x1b[32m✓\x1b[0m2 \x1b[31m✗\x1b[0m1" in stream.getvalue()
