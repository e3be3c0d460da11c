"""Project-wide test settings: under CI a skipped test fails the run."""

from __future__ import annotations

import os

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.environ.get("CI") or hasattr(session.config, "workerinput"):
        return  # only the controlling process of an xdist run decides
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test(s) were skipped; under CI every test must run.")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
