"""`frontier-conformance` as a user runs it: over a real socket, and its usage errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conformance.cli import build_parser, resolve
from tests.builders import CONTROL, SUITE_ARGS, WEBHOOK_RECEIVERS, WEBHOOK_SECRET
from tests.conformance.conftest import url_groups
from tests.servers import console_script, free_port

STRICT_ONLY = "choice rule: checked only with --strict"
UNCOVERED = "no check in this suite covers it yet"


def conformance(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FRONTIER_")}
    return subprocess.run(
        [console_script("frontier-conformance"), *args],
        capture_output=True, text=True, timeout=300, env={**environ, **(env or {})},
    )  # fmt: skip


def assert_every_rule_passes(report: dict[str, object], strict: bool) -> None:
    for entry in report["rules"]:  # type: ignore[attr-defined]
        if entry["reason"] == UNCOVERED:
            continue
        if entry["id"] == "MGMT-RATE-LIMIT" and entry["outcome"] == "not run":
            # frontier-sim limits to 100 a second, but a busy machine may not send that many
            assert "got no 429" in entry["reason"]
            continue
        if entry["outcome"] == "not run" and entry["id"].startswith("WEBHOOK-"):
            assert not strict  # the strict run has webhooks delivered to it
            assert entry["reason"].startswith("needs --webhook-listen"), entry
        elif entry["outcome"] == "not run":
            assert not strict
            assert (entry["level"], entry["reason"]) == ("choice", STRICT_ONLY)
        else:
            assert entry["outcome"] == "pass", entry


@pytest.mark.e2e
@pytest.mark.slow  # two whole certification runs over a socket
@pytest.mark.parametrize(
    "mode",
    [["--inference"], ["--inference-url", "{url}/v1", "--strict", "--allow-unprefixed-ids"]],
    ids=["default", "strict"],
)
def test_cli_certifies_the_simulator_over_a_socket(
    sim_url: str, tmp_path: Path, mode: list[str]
) -> None:
    """Over HTTP the simulator conforms, every rule passes, and no group is left behind; the
    inference route at the base URL (--inference) or at its own URL (--inference-url)."""
    port = free_port()
    if "--strict" in mode:  # billing webhooks too, from frontier-sim to the run's receiver
        hook = {"url": f"http://127.0.0.1:{port}/billing", "secret": WEBHOOK_SECRET}
        receivers = f"{sim_url}{WEBHOOK_RECEIVERS}/acme"
        answer = requests.put(receivers, json=hook, headers=CONTROL, timeout=10)
        assert answer.status_code == 200, answer.text
        mode = [*mode, "--webhook-listen", f"127.0.0.1:{port}", "--webhook-secret", WEBHOOK_SECRET]
    mode = [arg.format(url=sim_url) for arg in mode]
    done = conformance("--base-url", sim_url, *SUITE_ARGS, *mode, "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert_every_rule_passes(report, strict="--strict" in mode)
    assert report["run_prefix"].startswith("fgc-")
    left = url_groups(sim_url)
    assert not [
        g for g in left if g["metadata"]["external_entity_id"].startswith(report["run_prefix"])
    ]
    assert left == []  # with --allow-unprefixed-ids the one-character id is gone too
    assert "conforms" in done.stdout.splitlines()[-1]  # the verdict is the last line
    assert f"Inference calls: {report['inference_calls']} of a budget of 150" in done.stdout


def test_cli_closed_port_is_one_line_and_exit_2() -> None:
    """Nothing listening: exit 2 and a single clear line on stderr, no traceback."""
    done = conformance("--base-url", f"http://127.0.0.1:{free_port()}", "--api-key", "k")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "cannot connect to http://127.0.0.1:" in lines[0]
    assert "Traceback" not in done.stderr


def test_cli_requires_an_api_key() -> None:
    """Without --api-key (or FRONTIER_API_KEY) the command is a usage error."""
    done = conformance("--base-url", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert "--api-key" in done.stderr


def test_cli_malformed_deviations_file_is_a_usage_error(tmp_path: Path) -> None:
    """A deviations file that isn't a list of entries gives exit 2 before anything runs."""
    bad = tmp_path / "deviations.yaml"
    bad.write_text("rule: OK-200\nreason: not a list\n")
    done = conformance(
        "--app", "simulator.web.app:create_app", *SUITE_ARGS, "--deviations", str(bad)
    )
    assert done.returncode == 2
    assert "must be a YAML list" in done.stderr


def test_cli_reads_options_from_the_environment() -> None:
    """Each FRONTIER_* variable stands in for its option; the command line wins."""
    environ = {
        "FRONTIER_BASE_URL": "http://env",
        "FRONTIER_API_KEY": "env-key",
        "FRONTIER_STRICT": "true",
        "FRONTIER_SELECT": "OK-200, EXTID-UNIQUE",
        "FRONTIER_MAX_EXAMPLES": "7",
        "FRONTIER_MAX_WRITES": "0",
    }
    values = resolve(build_parser().parse_args(["--api-key", "cli-key"]), environ)
    assert values["api_key"] == "cli-key"
    assert values["base_url"] == "http://env"
    assert values["strict"] is True
    assert values["select"] == ("OK-200", "EXTID-UNIQUE")
    assert (values["max_examples"], values["max_writes"]) == (7, 0)


def test_cli_in_process_app_runs_selected_rules(tmp_path: Path) -> None:
    """--app module:factory tests an in-process app; --select narrows the run."""
    done = conformance(
        "--app", "simulator.web.app:create_app", *SUITE_ARGS,
        "--select", "DEPTH-MAX", "EXTID-UNIQUE", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    outcomes = {
        r["id"]: r["outcome"]
        for r in json.loads((tmp_path / "conformance.json").read_text())["rules"]
    }
    assert outcomes["DEPTH-MAX"] == outcomes["EXTID-UNIQUE"] == "pass"
    assert outcomes["OK-200"] == "not run"


@pytest.mark.e2e
def test_cli_sigterm_cleans_up(sim_url: str) -> None:
    """SIGTERM in the middle of a run still deletes everything it created (exit 130)."""
    command = [console_script("frontier-conformance"), "--base-url", sim_url, *SUITE_ARGS]
    process = subprocess.Popen(
        [*command, "--max-examples", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not url_groups(sim_url):  # wait until the run holds something
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 130
    finally:
        if process.poll() is None:
            process.kill()
    assert url_groups(sim_url) == []
