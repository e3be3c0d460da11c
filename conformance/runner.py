"""`conformance.run()`: one run of the suite through `pytest.main`, in this process.

Runs can repeat in one process (the plugin holds all per-run state; no cache, importlib
imports). SIGINT and SIGTERM stop a run at its next request, so clean-up always runs.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from conformance.catalogue import rules
from conformance.deviations import Deviation, load_deviations
from conformance.options import DEFAULT_MAX_EXAMPLES, DEFAULT_MAX_WRITES, Options
from conformance.outcomes import DEVIATION, FAIL, PASS, RuleOutcome, summarise
from conformance.plugin import SUITE_DIR, ConformancePlugin, all_checks
from conformance.recording import Recording
from conformance.report import UNCOVERED, RunResult, write_reports
from conformance.signing import load_signing_key
from conformance.target import STOP, TargetUnreachable, preflight

INTERRUPTED = 130
_ORG_PREFIX = re.compile(r"^[^/\s]+$")


class UsageError(ValueError):
    """Options that can't make a run (exit code 2)."""


def run(
    *,
    api_key: str,
    app: Any = None,
    base_url: str | None = None,
    view_key: str | None = None,
    other_workspace_key: str | None = None,
    not_onboarded_key: str | None = None,
    no_public_key_workspace_key: str | None = None,
    signing_key: str | None = None,
    org_prefix: str | None = None,
    allow_unprefixed_ids: bool = False,
    inference: bool = False,
    strict: bool = False,
    select: tuple[str, ...] | list[str] = (),
    report_dir: str | Path | None = None,
    deviations: tuple[Deviation, ...] | str | Path = (),
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    max_writes: int = DEFAULT_MAX_WRITES,
    fuzz: bool = True,
    quiet: bool = True,
    record: Recording | None = None,
) -> RunResult:
    """Runs the suite against `app` (a WSGI app) or `base_url`; `deviations` may be a file.

    `inference=True` also checks the inference route, POST /v1/chat/completions, at the same
    base URL (as the simulator serves it), with keys the run mints under its own groups.

    Raises UsageError, DeviationsError or TargetUnreachable (nothing listens) before a run.
    """
    if isinstance(deviations, str | Path):
        deviations = load_deviations(deviations)
    options = Options(
        api_key=api_key, base_url=base_url, app=app, view_key=view_key,
        other_workspace_key=other_workspace_key, not_onboarded_key=not_onboarded_key,
        no_public_key_workspace_key=no_public_key_workspace_key, signing_key=signing_key,
        org_prefix=org_prefix, allow_unprefixed_ids=allow_unprefixed_ids, inference=inference,
        strict=strict,
        select=tuple(select), deviations=deviations, fuzz=fuzz, quiet=quiet,
        report_dir=Path(report_dir).resolve() if report_dir else None,
        max_examples=max_examples, max_writes=max_writes, record=record,
    )  # fmt: skip
    validate(options)
    if app is None:
        preflight(str(base_url))
    return execute(options)


def validate(options: Options) -> None:
    if (options.app is None) == (options.base_url is None):
        raise UsageError("give exactly one of a base URL or an app")
    if not options.api_key:
        raise UsageError("an API key (--api-key) is required")
    unknown = [rule_id for rule_id in options.select if rule_id not in rules()]
    if unknown:
        raise UsageError(f"unknown rule IDs: {', '.join(unknown)}")
    if options.max_examples < 1 or options.max_writes < 0:
        raise UsageError("--max-examples must be at least 1 and --max-writes at least 0")
    if options.org_prefix is not None and not _ORG_PREFIX.match(options.org_prefix):
        raise UsageError(f"--org-prefix must be one word without '/', not {options.org_prefix!r}")
    if options.signing_key:
        try:
            load_signing_key(options.signing_key)
        except (ValueError, TypeError, OSError) as error:  # never echo the key itself
            raise UsageError(f"--signing-key: {error}") from None


def execute(options: Options) -> RunResult:
    plugin = ConformancePlugin(options)
    args = _pytest_args(options, plugin)
    try:
        with _signals_stop_the_run(), _without_outer_addopts():
            status = pytest.main(args, plugins=[plugin]) if plugin.checks else pytest.ExitCode.OK
    finally:
        plugin.run.ledger.cleanup()  # a second pass after pytest's own: nothing may stay
    if status in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise UsageError(f"pytest could not run the suite (exit status {int(status)})")
    result = _result(options, plugin)
    if status == pytest.ExitCode.INTERRUPTED or STOP.is_set():
        result.exit_code = INTERRUPTED
        result.problems.append("the run was interrupted; what it created was deleted")
    if options.report_dir is not None:
        result.reports.update(write_reports(result, options.report_dir))
        result.reports["junit"] = options.report_dir / "junit.xml"
    return result


def _pytest_args(options: Options, plugin: ConformancePlugin) -> list[str]:
    args = [
        *plugin.modules(),
        "-c", str(SUITE_DIR / "pytest.ini"),
        "--rootdir", str(SUITE_DIR),
        "--confcutdir", str(SUITE_DIR),
        "--import-mode=importlib",
        "-p", "no:cacheprovider",
        "-p", "no:xdist",
        "-p", "no:randomly",
    ]  # fmt: skip
    args += ["-p", "no:terminal"] if options.quiet else ["-q", "--no-header", "-rN"]
    if options.report_dir is not None:
        options.report_dir.mkdir(parents=True, exist_ok=True)
        args.append(f"--junitxml={options.report_dir / 'junit.xml'}")
    return args


def _result(options: Options, plugin: ConformancePlugin) -> RunResult:
    today = date.today()
    outcomes = summarise(
        plugin.run.recorder.records, options.deviations, today, _default_reasons(options)
    )
    if not options.strict:  # a choice rule checked by default is checked leniently (AUTH-MISSING)
        for outcome in outcomes.values():
            if outcome.rule.strict_only and outcome.outcome == PASS:
                outcome.reason = "lenient default check; --strict checks the choice itself"
    problems = [
        f"deviation for {d.rule} expired on {d.expires.isoformat()} ({d.reason}; {d.link}): "
        "fix the implementation or renew the entry"
        for d in options.deviations
        if d.expired(today)
    ]
    failed = any(o.outcome == FAIL for o in outcomes.values())
    return RunResult(
        exit_code=1 if failed or problems else 0,
        rules=outcomes,
        failures=[f for o in outcomes.values() if o.outcome == FAIL for f in o.failures],
        accepted=[f for o in outcomes.values() if o.outcome == DEVIATION for f in o.failures],
        observed=set(plugin.run.recorder.observed),
        problems=problems,
        warnings=_warnings(plugin, outcomes),
        prefix=plugin.run.prefix,
        target=options.target,
        strict=options.strict,
    )


def _warnings(plugin: ConformancePlugin, outcomes: dict[str, RuleOutcome]) -> list[str]:
    warnings = [f"clean-up: {error}" for error in plugin.run.ledger.cleanup_errors]
    return warnings + [
        f"deviation for {o.rule.id} is no longer needed: the rule passes"
        for o in outcomes.values()
        if o.outcome == PASS and o.deviation is not None
    ]


def _default_reasons(options: Options) -> dict[str, str]:
    """Why a rule that no check recorded didn't run: not selected, strict only, or no check."""
    checked = {rule_id for check in all_checks(options.strict) for rule_id in check.rules}
    reasons = {}
    for rule_id, rule in rules().items():
        if options.select and rule_id not in options.select:
            reasons[rule_id] = "not selected"
        elif rule.strict_only and not options.strict:
            reasons[rule_id] = f"{rule.level} rule: checked only with --strict"
        elif rule_id not in checked:
            reasons[rule_id] = UNCOVERED
    return reasons


@contextmanager
def _signals_stop_the_run() -> Iterator[None]:
    """SIGINT and SIGTERM stop the run at its next request (target.STOP), so the clean-up
    always runs; a second signal stops it at once."""
    STOP.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        if STOP.is_set():
            raise KeyboardInterrupt
        STOP.set()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def _without_outer_addopts() -> Iterator[None]:
    """The caller's PYTEST_ADDOPTS is for the caller's tests, not for this run."""
    saved = os.environ.pop("PYTEST_ADDOPTS", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["PYTEST_ADDOPTS"] = saved


__all__ = ["RuleOutcome", "RunResult", "TargetUnreachable", "UsageError", "run"]
