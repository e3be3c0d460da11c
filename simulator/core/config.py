"""The simulator's configuration: workspaces, their keys and options, from YAML or JSON.

A file that doesn't match the schema below is refused with a message naming the place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from simulator.core.access import ApiKey, Scope, Workspace
from simulator.core.completions import ModelProfile, ModelProfiles
from simulator.core.keys import load_public_key
from simulator.core.webhooks import Receiver, check_url

# The private half of acme's default public key, published so that anyone can sign a
# register-key request against the simulator. It guards nothing real.
DEMO_SIGNING_KEY = "EeZkNExe9gEYU4GAD67cnnskyvqki/guVFrO5NS4BTg="

DEFAULT_CONFIG: dict[str, Any] = {
    "workspaces": {
        "acme": {
            "onboarded": True,
            "keys": {"sim-manage-acme": "management", "sim-view-acme": "view"},
            "public_key": "QzE56c4xMQLQ4wvi3ogsftn1+3/fwDKyyqxl41N2vEQ=",
            "org_prefixes": ["acme", "your-org", "my-org"],
        },
        "globex": {"onboarded": True, "keys": {"sim-manage-globex": "management"}},
        "initech": {"onboarded": False, "keys": {"sim-manage-initech": "management"}},
    },
}

# The fake model of one slug (INF-FAKE-MODEL): its reply and its pace, in real milliseconds.
PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "pattern": "\\S"},
        "time_to_first_token_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
        "inter_token_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
    },
}

# A workspace's billing-webhook receiver: where events go and the secret that signs them.
WEBHOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["url", "secret"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "pattern": "^https?://"},
        "secret": {"type": "string", "minLength": 1},
    },
}

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["workspaces"],
    "additionalProperties": False,
    "properties": {
        "workspaces": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"minLength": 1},
            "additionalProperties": {
                "type": "object",
                "required": ["keys"],
                "additionalProperties": False,
                "properties": {
                    "onboarded": {"type": "boolean"},
                    "public_key": {"type": "string", "minLength": 1},
                    "org_prefixes": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^[^/\\s]+$"},
                    },
                    "webhook": WEBHOOK_SCHEMA,
                    "keys": {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": {"minLength": 1, "pattern": "^\\S+$"},
                        "additionalProperties": {"enum": [s.value for s in Scope]},
                    },
                },
            },
        },
        "strict_fields": {"type": "boolean"},
        "max_body_bytes": {"type": "integer", "minimum": 1},
        "id_seed": {"type": "integer"},
        "inference": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "default": PROFILE_SCHEMA,
                "models": {
                    "type": "object",
                    "propertyNames": {"pattern": "^[^/]+/[^/]+$"},
                    "additionalProperties": PROFILE_SCHEMA,
                },
            },
        },
        "endpoint_rename": {"type": "boolean"},
        # MGMT-RATE-LIMIT: requests per second per key on the management routes; 0 is off.
        "management_rate_limit": {"type": "integer", "minimum": 0},
    },
}


class ConfigError(ValueError):
    """A configuration that can't be used; the message names the problem and its place."""


@dataclass(frozen=True)
class Config:
    workspaces: tuple[Workspace, ...]
    keys: tuple[ApiKey, ...]
    strict_fields: bool = False  # EXTRA-FIELDS: opt in to refusing unknown body fields
    max_body_bytes: int = 1024 * 1024
    id_seed: int | None = None
    models: ModelProfiles = field(default_factory=ModelProfiles)  # the fake model per slug
    # EP-RENAME: a new slug on endpoint PATCH renames (the docs pages) or is refused (the
    # machine spec's immutable slug).
    endpoint_rename: bool = True
    webhooks: Mapping[str, Receiver] = field(default_factory=dict)  # by workspace
    # MGMT-RATE-LIMIT: requests per second per key; None (not set) and 0 are off, but
    # frontier-sim turns a limit that isn't set on (cli.py).
    management_rate_limit: int | None = None
    source: str = field(default="built-in defaults", compare=False)


def config_from_mapping(data: Any, source: str = "built-in defaults") -> Config:
    errors = sorted(
        jsonschema.Draft202012Validator(CONFIG_SCHEMA).iter_errors(data),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ConfigError(f"{source}: {where}: {first.message}")
    workspaces: list[Workspace] = []
    keys: list[ApiKey] = []
    webhooks: dict[str, Receiver] = {}
    owner: dict[str, str] = {}
    for name, spec in data["workspaces"].items():
        workspace = Workspace(
            name,
            spec.get("onboarded", True),
            _public_key(spec.get("public_key"), f"{source}: workspaces.{name}.public_key"),
            tuple(spec.get("org_prefixes", [name])),
        )
        workspaces.append(workspace)
        if "webhook" in spec:
            webhooks[name] = _receiver(spec["webhook"], f"{source}: workspaces.{name}.webhook")
        for key, scope in spec["keys"].items():
            if key in owner:
                raise ConfigError(
                    f"{source}: workspaces.{name}.keys: key {key!r} is already a key of "
                    f"workspace {owner[key]!r}; a key belongs to one workspace."
                )
            owner[key] = name
            keys.append(ApiKey(key, workspace, Scope(scope)))
    return Config(
        workspaces=tuple(workspaces),
        keys=tuple(keys),
        strict_fields=data.get("strict_fields", False),
        max_body_bytes=data.get("max_body_bytes", 1024 * 1024),
        id_seed=data.get("id_seed"),
        models=_profiles(data.get("inference", {})),
        endpoint_rename=data.get("endpoint_rename", True),
        webhooks=webhooks,
        management_rate_limit=data.get("management_rate_limit"),
        source=source,
    )


def load_config(path: str | Path) -> Config:
    """Reads a YAML or JSON configuration file (JSON is YAML, so one parser reads both)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: can't be read: {error}") from error
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: isn't valid {_format(path)}: {_one_line(error)}") from error
    return config_from_mapping(data, source=str(path))


def default_config() -> Config:
    return config_from_mapping(DEFAULT_CONFIG)


def _profiles(data: Mapping[str, Any]) -> ModelProfiles:
    """The default profile, and each slug's: the default with the slug's own fields."""
    default = ModelProfile(**data.get("default", {}))
    return ModelProfiles(
        default,
        {
            slug: ModelProfile(**{**data.get("default", {}), **fields})
            for slug, fields in data.get("models", {}).items()
        },
    )


def _receiver(data: Mapping[str, Any], where: str) -> Receiver:
    try:
        check_url(data["url"])
    except ValueError as error:
        raise ConfigError(f"{where}.url: {error}") from None
    return Receiver(data["url"], data["secret"])


def _public_key(text: str | None, where: str) -> str | None:
    if text is not None:
        try:
            load_public_key(text)
        except ValueError as error:
            message = f"{where}: isn't an Ed25519 public key (PEM or base64): {error}"
            raise ConfigError(message) from error
    return text


def _one_line(error: Exception) -> str:
    """PyYAML's messages span several lines; a start-up refusal is one line naming the place."""
    problem, mark = getattr(error, "problem", None), getattr(error, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(error).split())


def _format(path: Path) -> str:
    return "JSON" if path.suffix == ".json" else "YAML"


def describe(config: Config) -> Mapping[str, list[tuple[str, str]]]:
    """Workspace name → [(key, role)], for the start-up banner."""
    roles: dict[str, list[tuple[str, str]]] = {w.name: [] for w in config.workspaces}
    for key in config.keys:
        note = "" if key.workspace.onboarded else ", workspace not onboarded"
        roles[key.workspace.name].append((key.key, f"{key.scope.value}{note}"))
    return roles
