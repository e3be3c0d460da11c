"""Unit tests of simulator.core.config: the defaults, and files of workspaces, keys and options."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.core.access import Scope
from simulator.core.config import (
    DEFAULT_CONFIG,
    ConfigError,
    config_from_mapping,
    default_config,
    describe,
    load_config,
)

CUSTOM: dict[str, Any] = {
    "workspaces": {
        "umbrella": {"keys": {"u-manage": "management", "u-view": "view"}},
        "hooli": {"onboarded": False, "keys": {"h-manage": "management"}},
    },
    "strict_fields": True,
    "max_body_bytes": 4096,
    "id_seed": 42,
}


def test_default_config_serves_the_documented_keys() -> None:
    """The four default keys, their workspaces, onboarding and scopes, as the contract lists."""
    roles = {
        k.key: (k.workspace.name, k.workspace.onboarded, k.scope) for k in default_config().keys
    }
    assert roles == {
        "sim-manage-acme": ("acme", True, Scope.MANAGEMENT),
        "sim-view-acme": ("acme", True, Scope.VIEW),
        "sim-manage-globex": ("globex", True, Scope.MANAGEMENT),
        "sim-manage-initech": ("initech", False, Scope.MANAGEMENT),
    }
    config = default_config()
    assert (config.strict_fields, config.max_body_bytes, config.id_seed) == (False, 1048576, None)


def test_config_from_mapping_reads_workspaces_keys_and_options() -> None:
    """A configuration defines its own workspaces, keys, onboarding, scopes and options."""
    config = config_from_mapping(CUSTOM, source="custom")
    assert {w.name: w.onboarded for w in config.workspaces} == {"umbrella": True, "hooli": False}
    assert {k.key: (k.workspace.name, k.scope) for k in config.keys} == {
        "u-manage": ("umbrella", Scope.MANAGEMENT),
        "u-view": ("umbrella", Scope.VIEW),
        "h-manage": ("hooli", Scope.MANAGEMENT),
    }
    assert (config.strict_fields, config.max_body_bytes, config.id_seed) == (True, 4096, 42)
    assert config.source == "custom"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda c: c.pop("workspaces"), "'workspaces' is a required property"),
        (lambda c: c.update(workspaces={}), "should be non-empty"),
        (lambda c: c["workspaces"]["hooli"].pop("keys"), "'keys' is a required property"),
        (lambda c: c["workspaces"]["hooli"].update(keys={}), "should be non-empty"),
        (
            lambda c: c["workspaces"]["hooli"]["keys"].update({"h-manage": "admin"}),
            "'admin' is not one of",
        ),
        (lambda c: c["workspaces"]["hooli"].update(onboarded="no"), "is not of type 'boolean'"),
        (lambda c: c["workspaces"]["hooli"].update(keys=["h-manage"]), "is not of type 'object'"),
        (lambda c: c.update(max_body_bytes="big"), "is not of type 'integer'"),
        (lambda c: c.update(strict_fields="yes"), "is not of type 'boolean'"),
        (lambda c: c.update(workspace={}), "Additional properties"),
        (lambda c: c["workspaces"]["hooli"]["keys"].update({"u-view": "view"}), "already a key of"),
    ],
    ids=[
        "no-workspaces",
        "empty-workspaces",
        "missing-keys",
        "empty-keys",
        "unknown-scope",
        "onboarded-not-bool",
        "keys-not-mapping",
        "max-body-not-int",
        "strict-not-bool",
        "unknown-option",
        "key-in-two-workspaces",
    ],
)
def test_config_from_mapping_refuses_what_doesnt_fit(change: Any, fragment: str) -> None:
    """A malformed configuration is a ConfigError on one line naming the problem."""
    data = copy.deepcopy(CUSTOM)
    change(data)
    with pytest.raises(ConfigError) as raised:
        config_from_mapping(data, source="sim.yaml")
    message = str(raised.value)
    assert fragment in message
    assert message.startswith("sim.yaml: ")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("suffix", "dump"),
    [(".yaml", lambda d: yaml.safe_dump(d, sort_keys=False)), (".json", json.dumps)],
)
def test_load_config_reads_yaml_and_json(tmp_path: Path, suffix: str, dump: Any) -> None:
    """YAML and JSON files both load into the same configuration, named by their path."""
    path = tmp_path / f"sim{suffix}"
    path.write_text(dump(CUSTOM), encoding="utf-8")
    config = load_config(path)
    assert config == config_from_mapping(CUSTOM)
    assert config.source == str(path)


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        (
            "bad.yaml",
            "workspaces:\n  acme:\n    keys: {a: management\n  b: [\n",
            "isn't valid YAML",
        ),
        ("bad.json", '{"workspaces": ', "isn't valid JSON"),
        ("empty.yaml", "", "(top level)"),
        ("list.yaml", "- acme\n", "(top level)"),
    ],
)
def test_load_config_refuses_unparsable_files_in_one_line(
    tmp_path: Path, name: str, text: str, fragment: str
) -> None:
    """A file that isn't YAML or JSON, or not a mapping, is one ConfigError line."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert fragment in str(raised.value)
    assert str(path) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_load_config_refuses_a_missing_file(tmp_path: Path) -> None:
    """A path that can't be read is a ConfigError naming it."""
    with pytest.raises(ConfigError, match="can't be read"):
        load_config(tmp_path / "absent.yaml")


def test_describe_lists_each_workspaces_keys_with_roles() -> None:
    """The banner's table: workspace → (key, role), noting a workspace not onboarded."""
    assert dict(describe(config_from_mapping(CUSTOM))) == {
        "umbrella": [("u-manage", "management"), ("u-view", "view")],
        "hooli": [("h-manage", "management, workspace not onboarded")],
    }
    assert ("sim-view-acme", "view") in describe(config_from_mapping(DEFAULT_CONFIG))["acme"]
