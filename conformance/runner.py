"""`conformance.run()`: one run of the suite, check after check, in this process.

The checks run in order (hand-written, oracle, schemathesis), each through `Run.execute`,
with nothing of a test runner around them: no pytest session, so the caller's pytest, its
version, plugins and options never meet the suite's. Runs can repeat in one process (a
`Run` holds all per-run state). SIGINT and SIGTERM stop a run at its next request, so
clean-up always runs.
"""

from __future__ import annotations

import importlib.util
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

from conformance.bodies import GROUPS, group_path
from conformance.catalogue import DOCUMENTED, rules
from conformance.deviations import Deviation, load_deviations
from conformance.inference import calls_used
from conformance.options import (
    DEFAULT_INFERENCE_BUDGET,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_MAX_WRITES,
    Options,
)
from conformance.outcomes import DEVIATION, FAIL, NOT_RUN, PASS, CheckResult, RuleOutcome, summarise
from conformance.progress import Progress
from conformance.recording import Recording
from conformance.registry import ROLE_OPTIONS, Check
from conformance.report import UNCOVERED, RunResult, not_run_hint
from conformance.session import Run, Verdict
from conformance.signing import load_signing_key
from conformance.suite import all_checks, selected
from conformance.target import STOP, TargetUnreachable, preflight
from conformance.webhooks import check_listen
from conformance.writer import write_reports

INTERRUPTED = 130
_ORG_PREFIX = re.compile(r"^[^/\s]+$")
DISTRIBUTION = "frontier-gateway-sim"
# What a run needs beyond the base install: `pip install 'frontier-gateway-sim[conformance]'`.
EXTRA = f"{DISTRIBUTION}[conformance]"
EXTRA_MODULES = ("hypothesis", "schemathesis")


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
    inference_url: str | None = None,
    inference_budget: int = DEFAULT_INFERENCE_BUDGET,
    webhook_listen: str | None = None,
    webhook_secret: str | None = None,
    strict: bool = False,
    require_all: bool = False,
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

    `require_all=True` fails the run when documented rules were not run (a partial run).

    `inference_url=` also checks the inference route, POST /v1/chat/completions, there (a
    trailing /v1 is allowed), with keys the run mints under its own groups, in at most
    `inference_budget` calls; `inference=True` checks it at the management target instead
    (the base URL or the app), as the simulator serves it. `webhook_listen="HOST:PORT"` runs a
    billing webhook receiver there and checks what the target delivers to it; with
    `webhook_secret` its signatures too.

    Raises UsageError, DeviationsError or TargetUnreachable (nothing listens) before a run.
    """
    if isinstance(deviations, str | Path):
        deviations = load_deviations(deviations)
    options = Options(
        api_key=api_key, base_url=base_url, app=app, view_key=view_key,
        other_workspace_key=other_workspace_key, not_onboarded_key=not_onboarded_key,
        no_public_key_workspace_key=no_public_key_workspace_key, signing_key=signing_key,
        org_prefix=org_prefix, allow_unprefixed_ids=allow_unprefixed_ids, inference=inference,
        inference_url=inference_url, inference_budget=inference_budget,
        webhook_listen=webhook_listen, webhook_secret=webhook_secret, strict=strict,
        require_all=require_all,
        select=tuple(select), deviations=deviations, fuzz=fuzz, quiet=quiet,
        report_dir=Path(report_dir).resolve() if report_dir else None,
        max_examples=max_examples, max_writes=max_writes, record=record,
    )  # fmt: skip
    validate(options)
    if app is None:
        preflight(str(base_url))
    if inference_url is not None:
        preflight(inference_url)
    return execute(options)


def validate(options: Options) -> None:
    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"a run needs {' and '.join(missing)} (the conformance extra): pip install '{EXTRA}'"
        )
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
    validate_inference(options)
    if options.signing_key:
        try:
            load_signing_key(options.signing_key)
        except (ValueError, TypeError, OSError) as error:  # never echo the key itself
            raise UsageError(f"--signing-key: {error}") from None


def validate_inference(options: Options) -> None:
    if options.inference and options.inference_url is not None:
        raise UsageError(
            "give at most one of --inference (the route at the management target) and "
            "--inference-url"
        )
    if options.inference_budget < 0:
        raise UsageError("--inference-budget must be at least 0")
    if options.webhook_listen is not None:
        if not options.checks_inference:
            raise UsageError("--webhook-listen needs --inference-url: the events come from calls")
        try:
            check_listen(options.webhook_listen)
        except ValueError as error:
            raise UsageError(f"--webhook-listen: {error}") from None
    elif options.webhook_secret:
        raise UsageError("--webhook-secret needs --webhook-listen")


def execute(options: Options) -> RunResult:
    run = Run(options)
    checks = [c for c in all_checks(options.strict) if selected(c, options.select)]
    progress = None if options.quiet else Progress(sys.stderr)
    results: list[CheckResult] = []
    try:
        with _signals_stop_the_run():
            try:
                check_keys(run)  # UsageError: a wrong key stops the run before any check
            except KeyboardInterrupt:
                interrupted = True
            else:
                results, interrupted = _run_checks(run, checks, progress)
    finally:
        run.ledger.cleanup()  # after the last check, after Ctrl-C too: nothing may stay
    result = _result(options, run, results)
    result.inference_calls = calls_used(run)
    if interrupted or STOP.is_set():
        result.exit_code = INTERRUPTED
        result.interrupted = True
        result.problems.append("the run was interrupted; what it created was deleted")
    if options.report_dir is not None:
        result.reports.update(write_reports(result, options.report_dir))
    return result


# Keys of onboarded workspaces with management scope; the others' roles are what the ACCESS
# rules check, so only whether they authenticate is asked of them here.
MANAGEMENT_ROLES = ("api", "other", "no_public_key")


def check_keys(run: Run) -> None:
    """Before any check, each key is tried once: a key that doesn't authenticate, or a key
    that should manage and can't, is a usage error naming its option, not a run of failures
    blamed on the implementation. Only answers no conforming implementation gives a right key
    count: 401 for any key; 403 listing groups, or on a group that doesn't exist, for a
    management key. Raises UsageError."""
    if run.recording is not None:
        run.recording.begin("preflight", ())
    for role, client in run.clients.items():
        option = ROLE_OPTIONS.get(role, "--api-key")
        listed = client.send("GET", f"{GROUPS}?limit=1")
        if listed.status == 401:
            raise UsageError(
                f"{option}: the key doesn't authenticate (401 on GET {GROUPS}); check the key"
            )
        if role not in MANAGEMENT_ROLES:
            continue
        if listed.status == 403:
            raise UsageError(
                f"{option}: the key may not list groups (403 on GET {GROUPS}): it is unknown, "
                "or its workspace isn't onboarded; pass a management key of an onboarded "
                "workspace"
            )
        unknown = group_path(f"{run.prefix}preflight")
        if client.send("GET", unknown).status == 403:
            raise UsageError(
                f"{option}: the key has no management scope (403 on GET {unknown}, a group "
                "that doesn't exist): a view-only key? pass a management key"
            )


def _run_checks(
    run: Run, checks: Sequence[Check], progress: Progress | None
) -> tuple[list[CheckResult], bool]:
    """Each check in turn; (the results, whether Ctrl-C or SIGTERM cut the run short)."""
    results: list[CheckResult] = []
    if progress is not None:
        progress.start(checks)
    try:
        for check in checks:
            started = time.perf_counter()
            verdict = run.execute(check)
            result = _check_result(check, verdict, time.perf_counter() - started)
            results.append(result)
            if progress is not None:
                progress.finished(result)
    except KeyboardInterrupt:  # raised at the next request once STOP is set (target.STOP)
        return results, True
    finally:
        if progress is not None:
            progress.end()
    return results, False


def _check_result(check: Check, verdict: Verdict, seconds: float) -> CheckResult:
    if verdict.failures:
        return CheckResult(check.label, check.family, FAIL, "\n".join(verdict.failures), seconds)
    if verdict.not_run is not None:
        return CheckResult(check.label, check.family, NOT_RUN, verdict.not_run, seconds)
    return CheckResult(check.label, check.family, PASS, "", seconds)


def _result(options: Options, run: Run, checks: list[CheckResult]) -> RunResult:
    today = date.today()
    outcomes = summarise(run.recorder.records, options.deviations, today, _default_reasons(options))
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
    left_out = [o for o in outcomes.values() if o.rule.level == DOCUMENTED and o.outcome == NOT_RUN]
    if options.require_all and left_out:
        problems.append(
            f"--require-all: {len(left_out)} documented rules not run "
            f"({', '.join(o.rule.id for o in left_out)}): {not_run_hint(left_out)}"
        )
    failed = any(o.outcome == FAIL for o in outcomes.values())
    return RunResult(
        exit_code=1 if failed or problems else 0,
        rules=outcomes,
        failures=[f for o in outcomes.values() if o.outcome == FAIL for f in o.failures],
        accepted=[f for o in outcomes.values() if o.outcome == DEVIATION for f in o.failures],
        observed=set(run.recorder.observed),
        problems=problems,
        warnings=_warnings(run, outcomes),
        prefix=run.prefix,
        target=options.target,
        strict=options.strict,
        checks=checks,
    )


def _warnings(run: Run, outcomes: dict[str, RuleOutcome]) -> list[str]:
    found = [f"clean-up: {error}" for error in run.ledger.cleanup_errors]
    return found + [
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


__all__ = ["RuleOutcome", "RunResult", "TargetUnreachable", "UsageError", "run"]
