"""schemathesis against the target, one check per operation, safe on a real deployment.

Each generated case goes through `cases.CaseRunner`, which edits it so it only touches what
this run created; default mode sees openapi.yaml without what the documentation leaves open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.cases import CaseRunner, Fuzzing
from conformance.catalogue import load_spec
from conformance.options import Options
from conformance.registry import SCHEMA, Check, NotRun
from conformance.session import Session
from conformance.specmap import Operation, collections, operations, relaxed
from conformance.target import TIMEOUT

# Rule ID → the schemathesis check that decides it (looked up when a run fuzzes, see Fuzzer).
CHECKS: dict[str, str] = {
    "SCHEMA-SERVER-ERROR": "not_a_server_error",
    "SCHEMA-STATUS": "status_code_conformance",
    "SCHEMA-NEGATIVE": "negative_data_rejection",
    "SCHEMA-CONTENT-TYPE": "content_type_conformance",
    "SCHEMA-RESPONSE": "response_schema_conformance",
    "SCHEMA-AUTH-HEADER": "missing_required_header",
}
ON_ERRORS = ("SCHEMA-SERVER-ERROR", "SCHEMA-STATUS", "SCHEMA-NEGATIVE")  # ERR-BODY is a choice


def fuzz_checks(strict: bool) -> list[Check]:
    """One check per operation in openapi.yaml, reporting on every schema rule it runs."""
    rules = [r for r in CHECKS if strict or r != "SCHEMA-AUTH-HEADER"]
    return [
        Check(op.label, rules[0], _runner(op), family=SCHEMA, reports=tuple(rules[1:]))
        for op in operations(load_spec())
    ]


def _runner(operation: Operation) -> Callable[[Session], None]:
    def fuzz_operation(s: Session) -> None:
        Fuzzer.of(s).fuzz(s, operation)

    return fuzz_operation


class Fuzzer:
    """The schemathesis schema of one run, built once, pointed at the target."""

    on_errors = ON_ERRORS

    def __init__(self, s: Session) -> None:
        # schemathesis and Hypothesis take a quarter of a second to import: only a run that
        # fuzzes pays for them, and `frontier-conformance --help` works without the extra.
        import schemathesis

        spec = relaxed(load_spec(), s.strict)
        self.fuzzing = Fuzzing(spec, collections(spec), schemathesis_checks(), self.on_errors)
        self.schema = schemathesis.openapi.from_dict(spec)
        options = s.run.options
        self.schema.config.update(
            headers={"Authorization": s.api.authorization}, request_timeout=TIMEOUT
        )
        # A body past the target's size cap may be refused with 413 before it is read: a
        # refusal like the others, which schemathesis's defaults leave out.
        rejection = self.schema.config.checks.negative_data_rejection
        rejection.expected_statuses = [*rejection.expected_statuses, "413"]  # a new list
        if options.app is not None:
            self.schema.app = options.app
        else:
            self.schema.config.update(base_url=options.base_url)

    @classmethod
    def of(cls, s: Session) -> Fuzzer:
        """The run's fuzzer: the schema is loaded once per run, not once per operation."""
        fuzzer = s.run.cache.get(cls.__name__)
        if not isinstance(fuzzer, Fuzzer):
            fuzzer = s.run.cache[cls.__name__] = cls(s)
        return fuzzer

    def fuzz(self, s: Session, operation: Operation) -> None:
        if not s.run.options.fuzz:
            raise NotRun("fuzzing is off")
        if operation.key_kind == "group":
            _may_fuzz_inference(s.run.options)
        # The builder the schemathesis pytest plugin uses: it adds the explicit-example and
        # coverage phases to a Hypothesis test of one operation, which the public
        # `as_strategy()` doesn't. Imported here for the reason given in __init__.
        from schemathesis.generation.hypothesis.builder import create_test

        api_operation = self.schema[operation.path][operation.method]
        runner = CaseRunner(s, operation, self.fuzzing)
        runner.prepare()

        def each_case(case: Any) -> None:
            runner(case)

        create_test(
            operation=api_operation, test_func=each_case, config=self._config(s, api_operation)
        )()
        runner.report()

    def _config(self, s: Session, api_operation: Any) -> Any:
        # Imported here for the reason given in __init__.
        import hypothesis
        from schemathesis.generation import overrides
        from schemathesis.generation.hypothesis.builder import (
            HypothesisTestConfig,
            HypothesisTestMode,
        )

        return HypothesisTestConfig(
            project=self.schema.config,
            modes=[
                HypothesisTestMode.EXAMPLES,
                HypothesisTestMode.COVERAGE,
                HypothesisTestMode.FUZZING,
            ],
            settings=hypothesis.settings(
                max_examples=s.run.options.max_examples,
                deadline=None,
                database=None,
                phases=(hypothesis.Phase.explicit, hypothesis.Phase.generate),
                suppress_health_check=list(hypothesis.HealthCheck),
                derandomize=s.run.recording is not None,  # recordings draw the same cases
            ),
            override=overrides.with_config_headers(self.schema.config, operation=api_operation),
        )


def _may_fuzz_inference(options: Options) -> None:
    """The inference route is fuzzed in-process only: over a URL each generated request
    would be a paid call that --inference-budget can't bound."""
    if not options.checks_inference:
        raise NotRun(
            "needs --inference-url: this operation takes a group's key, which the run mints "
            "only when the inference route is checked"
        )
    if options.app is None or options.inference_url is not None:
        raise NotRun(
            "the inference route is fuzzed only in-process (--app with --inference): over a "
            "URL every generated request would be a paid call outside --inference-budget"
        )


def schemathesis_checks() -> Mapping[str, Callable[..., Any]]:
    """Rule ID → schemathesis's check function."""
    # Imported here for the reason given in Fuzzer.__init__.
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        missing_required_header,
        negative_data_rejection,
        response_schema_conformance,
        status_code_conformance,
    )

    functions: list[Callable[..., Any]] = [
        not_a_server_error,
        status_code_conformance,
        negative_data_rejection,
        content_type_conformance,
        response_schema_conformance,
        missing_required_header,
    ]
    by_name = {function.__name__: function for function in functions}
    return {rule_id: by_name[name] for rule_id, name in CHECKS.items()}
