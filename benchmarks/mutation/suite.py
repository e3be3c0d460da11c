"""The killing test of the mutation run: the conformance suite in default mode, in process,
split into one pytest test per check.

`conformance.run(app=create_app(), **KEYS)` runs every check of the default mode against one
app. Here each test runs that same call with the run's check list narrowed to one check, so
mutmut, which records which tests reach each mutated function, runs only the checks that can
see a mutant, and stops at the first that fails it. Fuzzing draws 5 cases per operation, as
the sensitivity tests over variants do.

The tests of one process share one app, built by the first of them, as the checks of one
real run do (building one takes about 80 ms, more than most checks). While mutmut records
which tests reach which function (its `stats` pass), every test builds its own app instead,
so that every test is recorded as reaching the app's construction: a mutant there is then
tested by every check, in a process that builds the app with the mutant in place.

Hypothesis draws the same cases in every run (the suite's recording mode derandomises it; the
recording itself is never written), so a mutant is killed or not, never by luck.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import conformance
import conformance.runner
from conformance.recording import Recording
from conformance.registry import Check
from conformance.suite import all_checks
from simulator.core.config import DEMO_SIGNING_KEY
from simulator.web.app import create_app

# The default simulator's keys, one per role: the suite's options in the README's command.
KEYS: dict[str, Any] = {
    "api_key": "sim-manage-acme",
    "view_key": "sim-view-acme",
    "other_workspace_key": "sim-manage-globex",
    "not_onboarded_key": "sim-manage-initech",
    "no_public_key_workspace_key": "sim-manage-globex",
    "signing_key": DEMO_SIGNING_KEY,
    "org_prefix": "acme",
}


def default_checks() -> list[Check]:
    """The checks a default run performs (strict-only ones and those needing --inference are
    reported "not run" there, so they have nothing to kill with)."""
    checks = all_checks(strict=False)
    return [c for c in checks if c.runs_in(strict=False) and "inference" not in c.needs]


CHECKS = {check.name: check for check in default_checks()}


MAX_EXAMPLES = 5
_apps: dict[int, Flask] = {}  # process id -> its app: a forked process builds its own


def app() -> Flask:
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":  # mutmut's recording pass
        return create_app()
    if os.getpid() not in _apps:
        _apps[os.getpid()] = create_app()
    return _apps[os.getpid()]


def run_one(check: Check, monkeypatch: pytest.MonkeyPatch) -> conformance.RunResult:
    """`conformance.run` in default mode against the simulator, with only `check`."""
    monkeypatch.setattr(conformance.runner, "all_checks", lambda strict: [check])
    recording = Recording(Path("unwritten-recording"))  # derandomises Hypothesis; never saved
    return conformance.run(app=app(), record=recording, max_examples=MAX_EXAMPLES, **KEYS)


@pytest.mark.parametrize("name", list(CHECKS))
def test_check(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_one(CHECKS[name], monkeypatch)
    assert result.exit_code == 0, "\n".join(f.message for f in result.failures)
