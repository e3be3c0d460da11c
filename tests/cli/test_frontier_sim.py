"""Tests of `frontier-sim`'s start-up, without serving: configuration refusals, the banner,
the warning off loopback, and the options that reach the served app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator.core.config import Config
from simulator.web import cli

VALID_YAML = """\
workspaces:
  umbrella:
    keys: {u-manage: management, u-view: view}
  hooli:
    onboarded: false
    keys: {h-manage: management}
"""

# (file name, contents, what the one-line message must name)
MALFORMED = [
    ("bad.yaml", "workspaces:\n  acme:\n    keys: {a: management\n  b: [\n", "isn't valid YAML"),
    ("bad.json", '{"workspaces": {"acme": ', "isn't valid JSON"),
    ("scope.yaml", "workspaces:\n  acme:\n    keys: {k: admin}\n", "'admin' is not one of"),
    (
        "twice.yaml",
        "workspaces:\n  a: {keys: {k: view}}\n  b: {keys: {k: management}}\n",
        "key 'k' is already a key of workspace 'a'",
    ),
    ("nokeys.yaml", "workspaces:\n  acme: {onboarded: true}\n", "'keys' is a required property"),
    ("noworkspaces.yaml", "strict_fields: true\n", "'workspaces' is a required property"),
    (
        "onboarded.yaml",
        'workspaces:\n  a: {onboarded: "yes", keys: {k: view}}\n',
        "not of type 'boolean'",
    ),
    ("keyslist.json", '{"workspaces": {"a": {"keys": ["k"]}}}', "not of type 'object'"),
    ("maxbody.yaml", "workspaces:\n  a: {keys: {k: view}}\nmax_body_bytes: 0\n", "minimum of 1"),
    ("empty-workspaces.yaml", "workspaces: {}\n", "should be non-empty"),
    ("empty.yaml", "", "(top level)"),
    ("typo.yaml", "workspace:\n  a: {keys: {k: view}}\n", "(top level)"),
    ("publickey.yaml", "workspaces:\n  a: {keys: {k: view}, public_key: nope}\n", "public_key"),
]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Replaces the server with a recorder, so main() returns instead of serving."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(cli, "serve", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setattr(cli, "bind_error", lambda host, port: None)  # nothing is bound
    return calls


@pytest.mark.parametrize(("name", "text", "fragment"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_cli_refuses_a_malformed_config_with_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    served: list[Any],
    name: str,
    text: str,
    fragment: str,
) -> None:
    """A configuration that doesn't fit stops start-up: exit 2, one stderr line naming it."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert cli.main(["--config", str(path), "--port", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert served == []
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("frontier-sim: invalid configuration: ")
    assert str(path) in err
    assert fragment in err


def test_cli_refuses_a_missing_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], served: list[Any]
) -> None:
    """A --config path that can't be read stops start-up with exit 2."""
    assert cli.main(["--config", str(tmp_path / "absent.yaml"), "--port", "1"]) == 2
    assert "can't be read" in capsys.readouterr().err
    assert served == []


def test_cli_refuses_a_nonpositive_max_body_bytes(
    capsys: pytest.CaptureFixture[str], served: list[Any]
) -> None:
    """--max-body-bytes 0 stops start-up with exit 2."""
    assert cli.main(["--max-body-bytes", "0", "--port", "1"]) == 2
    assert "--max-body-bytes" in capsys.readouterr().err
    assert served == []


def test_cli_process_exits_2_on_a_malformed_config(tmp_path: Path) -> None:
    """The real `python -m simulator` process exits 2 with one line naming the problem."""
    path = tmp_path / "sim.yaml"
    path.write_text("workspaces:\n  acme:\n    keys: {k: admin}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "--config", str(path), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"frontier-sim: invalid configuration: {path}: workspaces.acme.keys.k: "
        "'admin' is not one of ['management', 'view']"
    ]


def test_cli_prints_the_url_and_every_key_with_its_role(
    capsys: pytest.CaptureFixture[str], served: list[Any]
) -> None:
    """The banner names the URL and, per workspace, each key with its role."""
    assert cli.main(["--port", "8765"]) == 0
    out, err = capsys.readouterr()
    assert "http://127.0.0.1:8765" in out
    lines = [line.split() for line in out.splitlines()]
    for workspace, key, role in [
        ("acme", "sim-manage-acme", "management"),
        ("acme", "sim-view-acme", "view"),
        ("globex", "sim-manage-globex", "management"),
        ("initech", "sim-manage-initech", "management,"),
    ]:
        assert [workspace] in lines
        assert any(line[:2] == [key, role] for line in lines), key
    assert "not onboarded" in next(
        line for line in out.splitlines() if "initech" in line and "sim-" in line
    )
    assert err == ""
    assert out.rstrip().endswith("frontier-sim: stopped.")


def test_cli_banner_lists_a_config_files_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], served: list[Any]
) -> None:
    """With --config the banner shows that file's workspaces and keys, and no default key."""
    path = tmp_path / "sim.yaml"
    path.write_text(VALID_YAML, encoding="utf-8")
    assert cli.main(["--config", str(path), "--port", "8765"]) == 0
    out = capsys.readouterr().out
    assert str(path) in out
    for text in ("umbrella", "u-manage", "u-view", "hooli", "h-manage"):
        assert text in out
    assert "sim-manage-acme" not in out
    config = served[0][0][0]
    assert {k.key for k in config.keys} == {"u-manage", "u-view", "h-manage"}


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.test"])
def test_cli_warns_when_bound_beyond_loopback(
    capsys: pytest.CaptureFixture[str], served: list[Any], host: str
) -> None:
    """Binding anything but loopback prints a warning on stderr (the server isn't started here)."""
    assert cli.main(["--host", host, "--port", "8765"]) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err
    assert host in err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_cli_stays_quiet_on_loopback(
    capsys: pytest.CaptureFixture[str], served: list[Any], host: str
) -> None:
    """Loopback addresses give no warning; an IPv6 host is bracketed in the URL."""
    assert cli.main(["--host", host, "--port", "8765"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert (f"http://[{host}]:8765" if ":" in host else f"http://{host}:8765") in out


def test_cli_strict_fields_flag_reaches_the_served_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], served: list[Any]
) -> None:
    """EXTRA-FIELDS: --strict-fields turns strict fields on, also over a config file."""
    path = tmp_path / "sim.yaml"
    path.write_text(VALID_YAML + "strict_fields: false\n", encoding="utf-8")
    assert (
        cli.main(
            ["--config", str(path), "--strict-fields", "--max-body-bytes", "99", "--port", "1"]
        )
        == 0
    )
    config: Config = served[0][0][0]
    assert (config.strict_fields, config.max_body_bytes) == (True, 99)
    assert cli.resolve_config(cli.build_parser().parse_args([])).strict_fields is False
