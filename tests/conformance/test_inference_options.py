"""Certifying the inference side: --inference-url, --inference-budget, the clock it moves or
leaves alone, and the command's usage errors."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from contextlib import redirect_stdout
from typing import Any

import pytest
from flask import Flask

import conformance
from conformance import cli
from conformance.inference import inference_root
from conformance.report import RunResult
from simulator import create_app
from simulator.core.spec import load_spec
from tests.builders import SUITE_KEYS
from tests.conformance.conftest import app_groups
from tests.servers import free_port

COMPLETIONS = "/v1/chat/completions"
# The rules of the inference route and of the usage counters it drives.
RULES = (
    *load_spec()["paths"][COMPLETIONS]["post"]["x-rules"],
    "USAGE-LIVE",
    "USAGE-COUNTER",
)
WINDOWS = {"LIMIT-ROLLING": "minute", "LIMIT-DAILY": "day"}


def recording(app: Flask, seen: list[tuple[str, str]], hide: str | None = None) -> Any:
    """A WSGI wrapper noting each (method, path); paths under `hide` answer 404."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        seen.append((environ["REQUEST_METHOD"], path))
        if hide is not None and path.startswith(hide):
            start_response("404 NOT FOUND", [("Content-Type", "application/json")])
            return [b'{"error": "Not found."}']
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return wsgi


def inference_run(app: Any, **options: Any) -> RunResult:
    return conformance.run(
        app=app, inference=True, select=RULES, fuzz=False, **SUITE_KEYS, **options
    )


def calls(seen: list[tuple[str, str]]) -> int:
    return sum(path == COMPLETIONS for _, path in seen)


def not_run(result: RunResult) -> dict[str, str]:
    return {r: o.reason or "" for r, o in result.rules.items() if o.outcome == "not run"}


def test_a_run_counts_its_inference_calls_and_stays_within_the_budget() -> None:
    """The calls the run reports are the calls the target saw, at most the budget; checks the
    remaining budget can't cover are not run, with the reason, and nothing is left behind."""
    app, seen = create_app(), []
    result = inference_run(recording(app, seen), inference_budget=12, strict=True)
    assert result.exit_code == 0
    assert result.inference_calls == calls(seen) <= 12
    reasons = not_run(result)
    assert "LIMIT-INDEPENDENT" in reasons  # it may make up to 12 calls
    assert "inference budget is spent" in reasons["LIMIT-INDEPENDENT"]
    assert "--inference-budget 12" in reasons["LIMIT-INDEPENDENT"]
    assert result.outcome("INF-ROUTE") == "pass"
    assert app_groups(app) == []


def test_a_budget_of_zero_makes_no_call() -> None:
    """--inference-budget 0: every inference check is not run and the route is never called."""
    seen: list[tuple[str, str]] = []
    result = inference_run(recording(create_app(), seen), inference_budget=0)
    assert (result.exit_code, calls(seen), result.inference_calls) == (0, 0, 0)
    assert {r for r in RULES if result.rules[r].outcome == "pass"} <= {"EXTRA-FIELDS"}


def test_without_a_clock_the_windows_are_not_run_and_nothing_is_written_to_it() -> None:
    """A target without /_sim/clock: the checks crossing a minute's or a day's end are not
    run, naming the window; the clock is only read, never set; the rest pass."""
    seen: list[tuple[str, str]] = []
    result = inference_run(recording(create_app(), seen, hide="/_sim/"), strict=True)
    assert result.exit_code == 0
    reasons = not_run(result)
    for rule_id, window in WINDOWS.items():
        assert f"end of a {window} window" in reasons[rule_id]
        assert "/_sim/clock" in reasons[rule_id]
    assert {method for method, path in seen if path.startswith("/_sim/")} == {"GET"}
    assert result.outcome("LIMIT-CASCADING") == result.outcome("USAGE-LIVE") == "pass"


def test_with_the_simulator_in_process_the_clock_is_moved() -> None:
    """In-process the run moves the simulator's clock, so every window rule runs and passes."""
    result = inference_run(create_app(), strict=True)
    assert result.exit_code == 0
    assert {r: result.outcome(r) for r in RULES} == dict.fromkeys(RULES, "pass")


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("https://inference.baseten.co/v1", "https://inference.baseten.co"),
        ("https://inference.baseten.co/v1/", "https://inference.baseten.co"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_the_inference_url_may_end_in_v1(url: str, root: str) -> None:
    """The documented base URL ends in /v1; the route's path goes after it once."""
    assert inference_root(url) == root


def test_the_command_prints_the_calls_used_in_process() -> None:
    """`frontier-conformance --app … --inference` exits 0 and prints the calls it used."""
    out = io.StringIO()
    args = ["--app", "simulator.web.app:create_app", "--inference", "--inference-budget", "40"]
    with redirect_stdout(out):
        code = cli.main([*args, "--api-key", SUITE_KEYS["api_key"], "--select", *RULES[:6]])
    assert code == 0, out.getvalue()[-2000:]
    used = [line for line in out.getvalue().splitlines() if line.startswith("Inference calls:")]
    assert len(used) == 1
    assert used[0].endswith("of a budget of 40")
    assert 0 < int(used[0].split()[2]) <= 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--inference", "--inference-url", "http://127.0.0.1:9"], "at most one of --inference"),
        (["--inference", "--inference-budget", "-1"], "--inference-budget must be at least 0"),
        (["--inference", "--webhook-listen", "nowhere"], "expected HOST:PORT"),
        (["--inference", "--webhook-listen", "127.0.0.1:0"], "expected HOST:PORT"),
        (["--webhook-listen", "127.0.0.1:8099"], "--webhook-listen needs --inference-url"),
        (["--inference", "--webhook-secret", "s"], "--webhook-secret needs --webhook-listen"),
    ],
)
def test_inconsistent_inference_options_are_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Options that can't make a run exit 2 with one line naming the problem."""
    base = ["--app", "simulator.web.app:create_app", "--api-key", SUITE_KEYS["api_key"]]
    assert cli.main([*base, *args]) == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_inference_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listening at --inference-url: exit 2 before any check runs."""
    url = f"http://127.0.0.1:{free_port()}/v1"
    base = ["--app", "simulator.web.app:create_app", "--api-key", SUITE_KEYS["api_key"]]
    assert cli.main([*base, "--inference-url", url]) == 2
    assert f"cannot connect to {url}" in capsys.readouterr().err


def test_the_variables_set_the_inference_options() -> None:
    """FRONTIER_INFERENCE_URL, _BUDGET, FRONTIER_WEBHOOK_LISTEN and _SECRET work as the flags."""
    environ = {
        "FRONTIER_INFERENCE_URL": "https://inference.example.com/v1",
        "FRONTIER_INFERENCE_BUDGET": "30",
        "FRONTIER_WEBHOOK_LISTEN": "0.0.0.0:8099",
        "FRONTIER_WEBHOOK_SECRET": "whsec",
    }
    values = cli.resolve(cli.build_parser().parse_args([]), environ)
    assert (values["inference_url"], values["inference_budget"]) == (
        "https://inference.example.com/v1",
        30,
    )
    assert (values["webhook_listen"], values["webhook_secret"]) == ("0.0.0.0:8099", "whsec")
    assert cli.resolve(cli.build_parser().parse_args([]), {})["inference_budget"] == 150


@pytest.mark.e2e
def test_inference_url_over_a_socket(sim_url: str, tmp_path: Any) -> None:
    """`--base-url URL --inference-url URL/v1` against `frontier-sim`: every inference rule
    passes (the simulator offers its clock over the socket too), within the budget."""
    result = conformance.run(
        base_url=sim_url, inference_url=sim_url + "/v1", select=RULES, fuzz=False, strict=True,
        report_dir=tmp_path, **SUITE_KEYS,
    )  # fmt: skip
    assert result.exit_code == 0, [f"{f.rule}: {f.message}" for f in result.failures]
    assert {r: result.outcome(r) for r in RULES} == dict.fromkeys(RULES, "pass")
    assert result.inference_calls is not None
    assert 0 < result.inference_calls <= 150
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["inference_calls"] == result.inference_calls
