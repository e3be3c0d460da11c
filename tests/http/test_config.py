"""HTTP tests of an app built from a configuration: its workspaces, keys and options rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from simulator import create_app
from simulator.core.config import Config, default_config, load_config
from simulator.core.spec import load_spec
from simulator.web.app import EXTENSION
from tests.builders import GROUPS, MANAGE, assert_refused, auth, group_body, store_of

CONFIG: dict[str, Any] = {
    "workspaces": {
        "umbrella": {"keys": {"u-manage": "management", "u-view": "view"}},
        "hooli": {"onboarded": False, "keys": {"h-manage": "management"}},
        "pied-piper": {"onboarded": True, "keys": {"p-manage": "management"}},
    },
    "strict_fields": True,
    "max_body_bytes": 2048,
    "id_seed": 42,
}


@pytest.fixture(params=[".yaml", ".json"])
def configured(request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    """An app from the same configuration written as YAML, then as JSON."""
    path = tmp_path / f"sim{request.param}"
    text = json.dumps(CONFIG) if request.param == ".json" else yaml.safe_dump(CONFIG)
    path.write_text(text, encoding="utf-8")
    return create_app(load_config(path))


def strict(strict_fields: bool) -> Flask:
    return create_app(Config(**{**default_config().__dict__, "strict_fields": strict_fields}))


def test_config_file_keys_and_roles_are_honoured(configured: Flask) -> None:
    """A file's workspaces replace the defaults, with their onboarding and scopes."""
    client = configured.test_client()
    body = group_body()
    assert client.post(GROUPS, json=body, headers=auth("u-manage")).status_code == 200
    assert_refused(client.post(GROUPS, json=body, headers=auth("u-view")), 403, "ACCESS-SCOPE")
    assert_refused(
        client.post(GROUPS, json=body, headers=auth("h-manage")), 403, "ACCESS-ONBOARDED"
    )
    assert_refused(
        client.post(GROUPS, json=body, headers=auth("sim-manage-acme")), 401, "AUTH-MISSING"
    )
    other = client.post(GROUPS, json=body, headers=auth("p-manage"))
    assert other.status_code == 200  # EXTID-PER-WORKSPACE across configured workspaces
    assert_refused(
        client.get(f"{GROUPS}/{other.get_json()['id']}", headers=auth("u-manage")),
        403,
        "GROUP-OTHER-WORKSPACE",
    )


def test_config_file_options_are_honoured(configured: Flask) -> None:
    """strict_fields, max_body_bytes and id_seed from the file take effect."""
    client = configured.test_client()
    extra = {**group_body(), "colour": "blue"}
    assert_refused(client.post(GROUPS, json=extra, headers=auth("u-manage")), 400, "EXTRA-FIELDS")
    big = group_body(name="n" * 200, models=[{"slug": f"org/m{i}"} for i in range(100)])
    assert_refused(client.post(GROUPS, json=big, headers=auth("u-manage")), 413)
    first = client.post(GROUPS, json=group_body(), headers=auth("u-manage")).get_json()["id"]
    again = create_app(configured.extensions[EXTENSION].config).test_client()
    assert again.post(GROUPS, json=group_body(), headers=auth("u-manage")).get_json()["id"] == first


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ((), "colour"),
        (("metadata",), "tier"),
        (("models", 0), "note"),
        (("models", 0, "rate_limits", 0), "burst"),
        (("hierarchy",), "weight"),
    ],
)
def test_strict_fields_refuses_unknown_fields_anywhere(where: tuple[Any, ...], field: str) -> None:
    """EXTRA-FIELDS: strict, an unknown field anywhere is 400; by default it's ignored."""
    body = group_body()
    node: Any = body
    for step in where:
        node = node[step]
    node[field] = "x"
    app = strict(True)
    assert_refused(
        app.test_client().post(GROUPS, json=body, headers=auth("sim-manage-acme")),
        400,
        "EXTRA-FIELDS",
    )
    assert store_of(app).count() == 0
    lenient = strict(False).test_client()
    assert lenient.post(GROUPS, json=body, headers=auth("sim-manage-acme")).status_code == 200


def test_strict_fields_accepts_every_documented_field() -> None:
    """EXTRA-FIELDS: strict mode still takes a body with every documented field, null name too."""
    client = strict(True).test_client()
    body = group_body(name=None)
    body["models"][0]["usage_limits"] = [{"type": "TOKEN", "unit": "DAY", "threshold": 5}]
    assert client.post(GROUPS, json=body, headers=auth("sim-manage-acme")).status_code == 200


def test_app_validates_against_the_spec_it_is_given() -> None:
    """`create_app(spec=...)`: an edited copy of openapi.yaml decides what is valid (NAME-LENGTH
    at 300 instead of 255), and openapi.yaml itself stays as it was for other apps."""
    spec = copy.deepcopy(load_spec())
    spec["components"]["schemas"]["CreateGroupMetadata"]["properties"]["name"]["maxLength"] = 300
    body = group_body(name="n" * 300)
    edited = create_app(spec=spec).test_client()
    assert edited.post(GROUPS, json=body, headers=MANAGE).status_code == 200
    response = create_app().test_client().post(GROUPS, json=body, headers=MANAGE)
    assert_refused(response, 400, "NAME-LENGTH")
