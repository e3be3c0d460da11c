"""The conventions of the two commands: `--version`, `FRONTIER_SIM_*` variables, the access
log, the `GET /` and `GET /_sim/` indexes, a banner whose example works as pasted, and a
server that reads every file it needs at start."""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

import simulator
from conformance import cli as conformance_cli
from simulator import create_app
from simulator.core.config import Config, default_config, load_config
from simulator.web import cli
from simulator.web.access_log import AccessLog
from simulator.web.index import installed_version
from tests.builders import GROUPS, MANAGE, VIEW, control_client, group_body

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = version("frontier-gateway-sim")
LINE = re.compile(r"^\d\d:\d\d:\d\d (\S+) (\S+) (\d{3}) (\S+) (\d+\.\d) ms$")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Replaces the server with a recorder, so main() returns instead of serving."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(cli, "serve", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setattr(cli, "bind_error", lambda host, port: None)  # nothing is bound
    return calls


# --version


@pytest.mark.parametrize(
    ("main", "prog"),
    [(cli.main, "frontier-sim"), (conformance_cli.main, "frontier-conformance")],
    ids=["frontier-sim", "frontier-conformance"],
)
def test_version_prints_the_installed_version(
    main: Any, prog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--version` prints the command's name and the package's version, and exits 0."""
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"{prog} {INSTALLED}\n"


def test_version_is_the_same_everywhere() -> None:
    """The package, the index and the commands agree on one version."""
    assert simulator.__version__ == installed_version() == INSTALLED


# FRONTIER_SIM_* variables


def option_flags() -> list[str]:
    return [flag for flag, _, _, _ in cli.OPTIONS]


def test_every_option_has_a_variable_named_in_the_help() -> None:
    """Every option but --help and --version reads FRONTIER_SIM_<FLAG>, and --help says so."""
    parser = cli.build_parser()
    flags = {
        action.option_strings[-1]
        for action in parser._actions  # argparse has no public list of its options
        if action.option_strings and action.dest not in ("help", "version")
    }
    assert flags == set(option_flags())
    text = " ".join(parser.format_help().split())
    for flag in flags:
        assert f"[{cli.env_name(flag)}]" in text.replace("- ", "-"), flag
    assert cli.env_name("--no-control-api") == "FRONTIER_SIM_NO_CONTROL_API"


def test_variables_reach_the_server(
    tmp_path: Path, served: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Each variable sets its option when the command line doesn't."""
    config = tmp_path / "sim.yaml"
    config.write_text("workspaces:\n  umbrella:\n    keys: {u-manage: management}\n")
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "workspaces:\n  umbrella:\n    groups:\n"
        "      - {external_entity_id: s1, models: [{slug: umbrella/m}]}\n"
    )
    environ = {
        "FRONTIER_SIM_HOST": "127.0.0.2",
        "FRONTIER_SIM_PORT": "8766",
        "FRONTIER_SIM_CONFIG": str(config),
        "FRONTIER_SIM_SEED": str(seed),
        "FRONTIER_SIM_THREADS": "3",
        "FRONTIER_SIM_STRICT_FIELDS": "true",
        "FRONTIER_SIM_MAX_BODY_BYTES": "4096",
        "FRONTIER_SIM_NO_CONTROL_API": "1",
        "FRONTIER_SIM_LOG_FORMAT": "json",
    }
    assert cli.main([], environ) == 0
    (args, kwargs) = served[0]
    config_served, host, port, threads = args
    assert (host, port, threads) == ("127.0.0.2", 8766, 3)
    assert [k.key for k in config_served.keys] == ["u-manage"]
    assert (config_served.strict_fields, config_served.max_body_bytes) == (True, 4096)
    assert kwargs["control_api"] is False
    assert kwargs["access_log"] == "json"
    assert kwargs["state"] is not None  # the seed was created
    out = capsys.readouterr().out
    assert "http://127.0.0.2:8766" in out
    assert "/_sim/" not in out


def test_quiet_from_the_environment_turns_the_access_log_off(
    served: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--port", "1"], {"FRONTIER_SIM_QUIET": "yes"}) == 0
    assert served[0][1]["access_log"] is None
    assert "per request" not in capsys.readouterr().out


def test_the_command_line_wins_over_the_environment(served: list[Any]) -> None:
    environ = {"FRONTIER_SIM_PORT": "9999", "FRONTIER_SIM_LOG_FORMAT": "json"}
    assert cli.main(["--port", "8767", "--log-format", "text"], environ) == 0
    assert served[0][0][2] == 8767
    assert served[0][1]["access_log"] == "text"


def test_defaults_without_options_or_variables(served: list[Any]) -> None:
    assert cli.main([], {}) == 0
    (args, kwargs) = served[0]
    assert args[1:] == ("127.0.0.1", 8080, 128)
    assert kwargs == {
        "body_timeout": 30,
        "state": None,
        "control_api": True,
        "access_log": "text",
        "control_token": None,
    }


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FRONTIER_SIM_PORT", "eighty", "FRONTIER_SIM_PORT must be a whole number, not 'eighty'"),
        ("FRONTIER_SIM_THREADS", "", "FRONTIER_SIM_THREADS must be a whole number, not ''"),
        ("FRONTIER_SIM_QUIET", "maybe", "FRONTIER_SIM_QUIET must be one of 1, true, yes, on,"),
        ("FRONTIER_SIM_LOG_FORMAT", "xml", "FRONTIER_SIM_LOG_FORMAT must be one of text, json"),
        ("FRONTIER_SIM_MAX_BODY_BYTES", "0", "invalid configuration: --max-body-bytes"),
    ],
)
def test_a_variable_that_doesnt_fit_stops_start_up_with_one_line(
    served: list[Any], capsys: pytest.CaptureFixture[str], variable: str, value: str, message: str
) -> None:
    assert cli.main([], {variable: value}) == 2
    out, err = capsys.readouterr()
    assert (out, served) == ("", [])
    assert err.count("\n") == 1
    assert err.startswith(f"frontier-sim: {message}"), err


def test_a_false_flag_variable_leaves_the_flag_off(served: list[Any]) -> None:
    assert cli.main([], {"FRONTIER_SIM_NO_CONTROL_API": "0", "FRONTIER_SIM_QUIET": "off"}) == 0
    assert served[0][1]["control_api"] is True
    assert served[0][1]["access_log"] == "text"


# The access log


class Clock:
    """perf_counter for the log: each reading 2.5 ms after the one before."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.0025
        return self.now


def logged(app: Flask, log_format: str = "text") -> tuple[Any, io.StringIO]:
    stream = io.StringIO()
    new_year = datetime(2026, 1, 2, 0, 0, 0, 250_000, tzinfo=UTC).timestamp()
    app.wsgi_app = AccessLog(  # type: ignore[method-assign]  # Flask's documented hook
        app.wsgi_app, stream, log_format, clock=Clock(), wall=lambda: new_year
    )
    return control_client(app), stream


def test_access_log_has_one_line_per_request_with_its_rule() -> None:
    """Method, path, status, the X-Frontier-Rule of the answer (`-` when none), duration."""
    client, stream = logged(create_app())
    client.post(GROUPS, json=group_body("log-1"), headers=MANAGE)
    client.post(GROUPS, json=group_body("log-1"), headers=MANAGE)
    client.get(GROUPS + "?limit=5&external_entity_id=log-1", headers=VIEW)
    client.get("/nowhere")
    client.post("/_sim/reset")
    lines = stream.getvalue().splitlines()
    assert [LINE.match(line).groups() for line in lines] == [  # type: ignore[union-attr]
        ("POST", GROUPS, "200", "-", "2.5"),
        ("POST", GROUPS, "400", "EXTID-UNIQUE", "2.5"),
        ("GET", GROUPS, "200", "-", "2.5"),  # the path without its query string
        ("GET", "/nowhere", "404", "-", "2.5"),
        ("POST", "/_sim/reset", "200", "-", "2.5"),
    ]


def test_access_log_never_writes_a_key_or_an_authorization_value() -> None:
    client, stream = logged(create_app())
    secret = "sim-manage-acme"
    made = client.post(GROUPS, json=group_body("log-2"), headers=MANAGE).get_json()
    minted = client.post(f"{GROUPS}/{made['id']}/api_keys", json={}, headers=MANAGE).get_json()
    client.get(GROUPS, headers={"Authorization": "Bearer unknown-key-123"})
    client.get(GROUPS, headers={"Authorization": f"Api-Key {minted['api_key']}"})
    text = stream.getvalue()
    for value in (secret, "unknown-key-123", minted["api_key"], "Api-Key", "Bearer"):
        assert value not in text
    assert " 401 AUTH-MISSING " in text  # the refusal is logged, by its rule


def test_access_log_json_lines() -> None:
    """--log-format json: one JSON object per line with the same facts."""
    client, stream = logged(create_app(), "json")
    client.post(GROUPS, json=group_body("log-3"), headers=VIEW)
    client.get("/v1/gateway/gro%0Aups")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first == {
        "time": "2026-01-02T00:00:00.250Z",
        "method": "POST",
        "path": GROUPS,
        "status": 403,
        "rule": "ACCESS-SCOPE",
        "duration_ms": 2.5,
    }
    assert (first["status"], first["rule"]) == (403, "ACCESS-SCOPE")
    assert second["path"] == "/v1/gateway/gro%0Aups"  # one line per request, always


def test_access_log_keeps_one_line_for_a_hostile_path() -> None:
    """A path holding spaces and line breaks is written percent-encoded, on one line."""
    app = create_app()
    stream = io.StringIO()
    log = AccessLog(app.wsgi_app, stream, clock=Clock())
    environ = EnvironBuilder(path="/x").get_environ()
    environ["PATH_INFO"] = "/a b\r\nX-Injected: 1"  # what a WSGI server may hand over
    list(log(environ, lambda status, headers, exc_info=None: None))
    (line,) = stream.getvalue().splitlines()
    assert LINE.match(line), line
    assert "/a%20b%0D%0AX-Injected:%201" in line


def test_access_log_stops_quietly_when_the_console_goes_away() -> None:
    """A closed stdout (a pipe whose reader left) doesn't break serving."""
    stream = io.StringIO()
    app = create_app()
    app.wsgi_app = AccessLog(app.wsgi_app, stream)  # type: ignore[method-assign]  # as above
    stream.close()
    assert app.test_client().get(GROUPS, headers=MANAGE).status_code == 200


def test_access_log_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="text, json"):
        AccessLog(create_app().wsgi_app, io.StringIO(), "xml")


# GET / and GET /_sim/


def test_root_lists_the_routes_the_version_and_the_control_api(app: Flask) -> None:
    answer = app.test_client().get("/")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    index = answer.get_json()
    assert index["version"] == INSTALLED
    assert index["control_api"] == "/_sim/"
    routes = {(r["method"], r["path"]): r for r in index["routes"]}
    assert routes[("POST", GROUPS)]["operation"] == "createGroup"
    assert ("GET", "/v1/gateway/groups/{group_id}") in routes
    assert not [path for _, path in routes if path == "/" or path.startswith("/_sim")]


def test_control_index_lists_the_control_operations(app: Flask) -> None:
    index = app.test_client().get("/_sim/").get_json()
    assert index["version"] == INSTALLED
    operations = {(op["method"], op["path"]): op["operation"] for op in index["operations"]}
    assert operations[("POST", "/_sim/reset")] == "reset"
    assert operations[("GET", "/_sim/")] == "getIndex"


def test_without_the_control_api_the_root_says_so_and_sim_is_404() -> None:
    client = create_app(control_api=False).test_client()
    assert client.get("/").get_json()["control_api"] is None
    assert client.get("/_sim/").status_code == 404


def test_root_takes_only_get(app: Flask) -> None:
    answer = app.test_client().post("/")
    assert answer.status_code == 405
    assert "error" in answer.get_json()


# The banner's example


def example_request(line: str) -> tuple[str, dict[str, str]]:
    """The URL and headers of the banner's `Try: curl ...` line, as a shell reads it."""
    words = shlex.split(line.removeprefix("Try: "))
    assert words[0] == "curl"
    headers: dict[str, str] = {}
    rest = words[1:]
    while rest and rest[0] == "-H":
        name, _, value = rest[1].partition(":")
        headers[name.strip()] = value.strip()
        rest = rest[2:]
    (url,) = rest
    return url, headers


def try_line(config: Config) -> str:
    text = cli.banner(config, "http://127.0.0.1:8080")
    return next(line for line in text.splitlines() if line.startswith("Try: "))


@pytest.mark.parametrize(
    "config_text",
    [
        None,
        "workspaces:\n  a: {onboarded: false, keys: {k1: management}}\n"
        '  b: {keys: {v1: view, "m\'1": management}}\n',
        "workspaces:\n  a: {onboarded: false, keys: {k1: management}}\n",
    ],
    ids=["defaults", "quoted-key", "none-onboarded"],
)
def test_banner_example_works_as_pasted(config_text: str | None, tmp_path: Path) -> None:
    """The `Try:` command, read as a shell reads it, answers 200 from that configuration."""
    config = default_config()
    if config_text is not None:
        (tmp_path / "sim.yaml").write_text(config_text)
        config = load_config(tmp_path / "sim.yaml")
    line = try_line(config)
    url, headers = example_request(line)
    path = url.removeprefix("http://127.0.0.1:8080")
    answer = create_app(config).test_client().get(path, headers=headers)
    assert answer.status_code == 200, line
    assert ("items" in answer.get_json()) == bool(headers)


def test_banner_example_uses_a_management_key_of_an_onboarded_workspace() -> None:
    line = try_line(default_config())
    assert "Api-Key sim-manage-acme" in line
    assert line.endswith(" http://127.0.0.1:8080/v1/gateway/groups")


def test_banner_url_is_loopback_for_a_wildcard_address(
    served: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--host", "0.0.0.0", "--port", "8768"], {}) == 0
    assert "listening on http://127.0.0.1:8768" in capsys.readouterr().out


# Files read at start


def test_a_running_app_needs_no_file_of_its_package(tmp_path: Path) -> None:
    """Built from a copy of the package whose data files are then removed (as a reinstall
    does under a running server), the app still resets, imports, loads seeds and takes faults.
    """
    shutil.copytree(ROOT / "simulator", tmp_path / "simulator", symlinks=False)
    model = {"slug": "acme/m"}
    seed = {"workspaces": {"acme": {"groups": [{"external_entity_id": "s", "models": [model]}]}}}
    steps = [
        ("post", GROUPS, group_body("kept"), 200),
        ("get", "/_sim/state", None, 200),
        ("post", "/_sim/reset", None, 200),
        ("put", "/_sim/state", {"groups": 1}, 400),
        ("post", "/_sim/load", seed, 200),
        ("post", "/_sim/faults", {"status": 503, "path": "/nowhere"}, 201),
        ("post", "/_sim/faults", {"status": "x"}, 400),
        ("post", "/_sim/seed", {"seed": 7}, 200),
        ("get", "/", None, 200),
        ("get", "/_sim/", None, 200),
    ]
    script = textwrap.dedent(
        f"""
        import json, pathlib, sys
        sys.path.insert(0, {str(tmp_path)!r})
        import simulator
        assert simulator.__file__.startswith({str(tmp_path)!r}), simulator.__file__
        app = simulator.create_app()
        for data in pathlib.Path({str(tmp_path / "simulator")!r}).rglob("*.yaml"):
            data.unlink()
        client = app.test_client()
        for method, path, body, _ in {steps!r}:
            headers = {{**{MANAGE!r}, "X-Sim-Control": "1"}}
            answer = getattr(client, method)(path, json=body, headers=headers)
            print(method.upper(), path, answer.status_code, answer.get_data(as_text=True)[:200])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = [line.split(" ", 3) for line in done.stdout.splitlines()]
    expected = [[method.upper(), path, str(status)] for method, path, _, status in steps]
    assert [answer[:3] for answer in answers] == expected, done.stdout


def test_the_body_timeout_comes_from_the_command_line_or_the_environment(
    served: list[Any],
) -> None:
    assert cli.main(["--body-timeout", "5"], {}) == 0
    assert cli.main([], {"FRONTIER_SIM_BODY_TIMEOUT": "7"}) == 0
    assert [kwargs["body_timeout"] for _, kwargs in served] == [5, 7]


@pytest.mark.parametrize("option", [["--body-timeout", "0"], ["--threads", "0"]])
def test_a_body_timeout_or_thread_count_below_one_stops_start_up_with_one_line(
    served: list[Any], capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    assert cli.main(option, {}) == 2
    assert served == []
    err = capsys.readouterr().err
    assert err == "frontier-sim: --threads and --body-timeout must be at least 1\n"
