"""The pytest plugin of a run: it parametrizes the suite modules with checks, runs each
check through `Run`, and cleans up at the end of the session (Ctrl-C included).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import progress
from conformance.catalogue import rule
from conformance.fuzz import fuzz_checks
from conformance.options import Options
from conformance.outcomes import NOT_RUN
from conformance.registry import NEEDS, ORACLE, RULES, SCHEMA, Check, registered
from conformance.session import Run

SUITE_DIR = Path(__file__).with_name("suite")
MODULES = {RULES: "suite_rules.py", ORACLE: "suite_oracle.py", SCHEMA: "suite_schema.py"}


def all_checks(strict: bool) -> list[Check]:
    return [*registered(), *fuzz_checks(strict)]


def selected(check: Check, select: tuple[str, ...]) -> bool:
    return not select or any(rule_id in select for rule_id in check.rules)


class Conductor:
    """The `conformance` fixture: runs one check and turns its verdict into a pytest outcome."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def reason_not_to_run(self, check: Check) -> str | None:
        options = self.run.options
        if not check.runs_in(options.strict):
            return f"{rule(check.rule).level} rule: checked only with --strict"
        missing = [NEEDS[need] for need in check.needs if not self.run.has(need)]
        if missing:
            return f"needs {', '.join(missing)}"
        if check.family == SCHEMA and not options.fuzz:
            return "fuzzing is off"
        return None

    def check(self, check: Check) -> None:
        reason = self.reason_not_to_run(check)
        if reason is not None:
            for rule_id in check.rules:
                self.run.recorder.add(rule_id, check.name, NOT_RUN, reason)
            pytest.skip(reason)
        verdict = self.run.execute(check)
        if verdict.not_run is not None:
            pytest.skip(verdict.not_run)
        if verdict.failures:
            pytest.fail("\n".join(verdict.failures), pytrace=False)


class ConformancePlugin:
    def __init__(self, options: Options, run: Run | None = None) -> None:
        self.options = options
        self.run = run or Run(options)
        self.checks = [c for c in all_checks(options.strict) if selected(c, options.select)]

    def modules(self) -> list[str]:
        """The suite modules that have at least one check to run."""
        families = {c.family for c in self.checks}
        return [str(SUITE_DIR / module) for family, module in MODULES.items() if family in families]

    @pytest.fixture(scope="session")
    def conformance(self) -> Conductor:
        return Conductor(self.run)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "check" not in metafunc.fixturenames:
            return
        family = getattr(metafunc.module, "FAMILY", RULES)
        checks = [c for c in self.checks if c.family == family]
        metafunc.parametrize("check", checks, ids=[c.node_id for c in checks])

    @pytest.hookimpl(trylast=True)  # after pytest's terminal reporter exists, to replace it
    def pytest_configure(self, config: pytest.Config) -> None:
        if not self.options.quiet:
            progress.install(config)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # Also runs after Ctrl-C (and SIGTERM, which the runner turns into one).
        self.run.ledger.cleanup()
