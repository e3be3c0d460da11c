"""Seeding: a YAML file (or POST /_sim/load) creates groups, hierarchies, API keys and
endpoints through the Gateway's own rules; a bad entry is refused by name."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from simulator import create_app
from simulator.harness.seed import SeedError, load_seed, seed_from_mapping
from simulator.web.control import harness
from tests.builders import ENDPOINTS, GROUPS, MANAGE, SLUG, control_client

CI_KEY = "sky_ciSeedKey0001.Q2x3Vb8nR4tYp6LmZ9kW1sD5fG7hJ0aE"
MODEL = {"slug": SLUG, "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 1000}]}
NEW_GROUP = {"external_entity_id": "new", "models": [MODEL]}
SEED: dict[str, Any] = {
    "workspaces": {
        "acme": {
            "groups": [
                # A child may come before its parent: the seed creates parents first.
                {"external_entity_id": "cust_42_eng", "parent": "cust_42", "models": [MODEL]},
                {
                    "external_entity_id": "cust_42",
                    "name": "Acme prod",
                    "limit_enforcement": "CASCADING",
                    "models": [MODEL],
                    "api_keys": [{"name": "ci", "key": CI_KEY}, {"name": "minted"}],
                },
            ],
            "endpoints": [
                {"slug": "acme/llama", "targets": [{"provider": "BASETEN", "model_id": "m1"}]}
            ],
        },
        "globex": {"groups": [{"external_entity_id": "cust_42", "models": [MODEL]}]},
    }
}


def seeded_client(document: dict[str, Any]) -> FlaskClient:
    return control_client(create_app(seed=seed_from_mapping(document, "seed.yaml")))


def refusal(document: dict[str, Any]) -> str:
    with pytest.raises(SeedError) as caught:
        create_app(seed=seed_from_mapping(document, "seed.yaml"))
    return str(caught.value)


def with_groups(*groups: dict[str, Any], workspace: str = "acme") -> dict[str, Any]:
    return {"workspaces": {workspace: {"groups": list(groups)}}}


def test_seed_creates_groups_with_their_hierarchy() -> None:
    """Seeded groups read back through the API, the child under its parent by extid."""
    client = seeded_client(SEED)
    items = client.get(GROUPS, headers=MANAGE).get_json()["items"]
    by_extid = {g["metadata"]["external_entity_id"]: g for g in items}
    assert list(by_extid) == ["cust_42", "cust_42_eng"]  # parents first
    child = by_extid["cust_42_eng"]
    assert child["hierarchy"] == {
        "limit_enforcement": "CASCADING",  # taken from the parent (MODE-MATCH)
        "parent_group_id": by_extid["cust_42"]["id"],
    }
    assert {x["source_group"] for x in child["effective_models"][0]["rate_limits"]} == {
        child["id"],
        by_extid["cust_42"]["id"],
    }


def test_seed_creates_keys_with_given_or_minted_plaintext() -> None:
    """A key's given plaintext is the key; a key without one is minted and reported."""
    app = create_app(seed=seed_from_mapping(SEED, "seed.yaml"))
    keys = harness(app).seeded_keys
    assert [(k.name, k.group) for k in keys] == [("ci", "cust_42"), ("minted", "cust_42")]
    assert keys[0].api_key == CI_KEY
    assert keys[0].prefix == CI_KEY[:16]
    assert keys[1].api_key.startswith(keys[1].prefix + ".")
    state = harness(app).export_state()
    digests = {k["prefix"]: k["sha256"] for k in state["groups"][0]["api_keys"]}
    for key in keys:
        assert digests[key.prefix] == hashlib.sha256(key.api_key.encode()).hexdigest()
    path = f"{GROUPS}/{keys[0].group_id}/api_keys/{keys[0].prefix}"
    assert app.test_client().get(path, headers=MANAGE).status_code == 200


def test_seed_creates_endpoints_and_other_workspaces() -> None:
    """Endpoints are created, and each workspace gets its own groups."""
    client = seeded_client(SEED)
    assert [e["slug"] for e in client.get(ENDPOINTS, headers=MANAGE).get_json()["items"]] == [
        "acme/llama"
    ]
    globex = client.get(GROUPS, headers={"Authorization": "Api-Key sim-manage-globex"})
    assert [g["metadata"]["external_entity_id"] for g in globex.get_json()["items"]] == ["cust_42"]


def test_seed_reset_returns_to_the_seeded_state() -> None:
    """Reset gives back exactly what the seed made: the same ids and key digests."""
    app = create_app(seed=seed_from_mapping(SEED, "seed.yaml"))
    client = control_client(app)
    before = client.get("/_sim/state").get_json()
    client.post("/_sim/load", json={"workspaces": {"acme": {"groups": [NEW_GROUP]}}})
    client.delete(f"{GROUPS}/{before['groups'][0]['id']}", headers=MANAGE)
    client.post("/_sim/reset")
    assert client.get("/_sim/state").get_json() == before


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            with_groups(
                {"external_entity_id": "cust_42", "models": [MODEL]},
                {"external_entity_id": "cust_42_ops", "parent": "cust_42", "models": [MODEL]},
                {"external_entity_id": "cust_42_eng", "parent": "cust_9", "models": [MODEL]},
            ),
            "seed.yaml: workspaces.acme.groups[2] (cust_42_eng): parent 'cust_9' is not defined",
        ),
        (
            with_groups(
                {"external_entity_id": "a", "parent": "b", "models": [MODEL]},
                {"external_entity_id": "b", "parent": "a", "models": [MODEL]},
            ),
            "seed.yaml: workspaces.acme.groups[0] (a): its parents form a cycle",
        ),
        (
            with_groups(
                {"external_entity_id": "a", "models": [MODEL]},
                {"external_entity_id": "a", "models": [MODEL]},
            ),
            "seed.yaml: workspaces.acme.groups[1] (a): A group with external_entity_id 'a' "
            "already exists in this workspace. (EXTID-UNIQUE)",
        ),
        (
            with_groups(
                {"external_entity_id": "a", "limit_enforcement": "CASCADING", "models": [MODEL]},
                {
                    "external_entity_id": "b",
                    "parent": "a",
                    "models": [
                        {
                            **MODEL,
                            "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 2000}],
                        }
                    ],
                },
            ),
            "seed.yaml: workspaces.acme.groups[1] (b): Child group exceeds parent group limit. "
            "(CASCADE-CEILING)",
        ),
        (
            with_groups(
                {"external_entity_id": "a", "limit_enforcement": "CASCADING", "models": [MODEL]},
                {
                    "external_entity_id": "b",
                    "parent": "a",
                    "limit_enforcement": "INDEPENDENT",
                    "models": [MODEL],
                },
            ),
            "seed.yaml: workspaces.acme.groups[1] (b): limit_enforcement INDEPENDENT doesn't match",
        ),
        (
            with_groups(
                *[
                    {
                        "external_entity_id": f"l{i}",
                        **({"parent": f"l{i - 1}"} if i else {}),
                        "models": [MODEL],
                    }
                    for i in range(6)
                ]
            ),
            "seed.yaml: workspaces.acme.groups[5] (l5): The parent is at level 5",
        ),
        (
            with_groups({"external_entity_id": "a", "models": [{"slug": "noslash"}]}),
            "seed.yaml: workspaces.acme.groups[0] (a): models.0.slug: 'noslash' does not match",
        ),
        (
            with_groups({"external_entity_id": "", "models": [MODEL]}),
            "seed.yaml: workspaces.acme.groups[0]: metadata.external_entity_id: is 0 characters",
        ),
        (
            with_groups(
                {"external_entity_id": "a", "models": [MODEL], "api_keys": [{"key": "short"}]}
            ),
            "seed.yaml: workspaces.acme.groups[0] (a): api_keys[0]: The key is 5 characters long",
        ),
        (
            with_groups({"external_entity_id": "a", "models": [MODEL]}, workspace="initech"),
            "seed.yaml: workspaces.initech: workspace 'initech' isn't onboarded",
        ),
        (
            with_groups({"external_entity_id": "a", "models": [MODEL]}, workspace="hooli"),
            "seed.yaml: workspaces.hooli: no workspace 'hooli' in the configuration",
        ),
        (
            {
                "workspaces": {
                    "acme": {
                        "endpoints": [
                            {
                                "slug": "globex/x",
                                "targets": [{"provider": "BASETEN", "model_id": "m"}],
                            }
                        ]
                    }
                }
            },
            "seed.yaml: workspaces.acme.endpoints[0] (globex/x): The slug's org prefix 'globex'",
        ),
    ],
)
def test_seed_refuses_a_rule_breaking_entry_by_name(document: dict[str, Any], message: str) -> None:
    """A seed entry the Gateway would refuse stops the seed, naming file, entry and rule."""
    assert refusal(document).startswith(message)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"groups": []}, "seed.yaml: (top level): 'workspaces' is a required property"),
        (
            with_groups({"external_entity_id": "cust_42", "model": []}),
            "seed.yaml: workspaces.acme.groups[0] (cust_42): 'models' is a required property",
        ),
        (
            with_groups({"external_entity_id": "cust_42", "models": "x"}),
            "seed.yaml: workspaces.acme.groups[0] (cust_42): models: 'x' is not of type 'array'",
        ),
        (
            {"workspaces": {"acme": {"groups": [], "teams": []}}},
            "seed.yaml: workspaces.acme: Additional properties are not allowed ('teams'",
        ),
    ],
)
def test_seed_refuses_a_malformed_document(document: dict[str, Any], message: str) -> None:
    """A document outside `SeedDocument` is refused with the path of the first problem."""
    with pytest.raises(SeedError) as caught:
        seed_from_mapping(document, "seed.yaml")
    assert str(caught.value).startswith(message)


def test_seed_refusal_changes_nothing_when_loaded_at_runtime(client: FlaskClient) -> None:
    """POST /_sim/load refuses a bad document whole: not even its valid entries stay."""
    document = with_groups(
        {"external_entity_id": "ok", "models": [MODEL]},
        {"external_entity_id": "bad", "parent": "missing", "models": [MODEL]},
    )
    response = client.post("/_sim/load", json=document)
    assert response.status_code == 400
    assert "parent 'missing' is not defined" in response.get_json()["error"]
    assert client.get(GROUPS, headers=MANAGE).get_json()["items"] == []


def test_seed_loaded_at_runtime_may_name_an_existing_parent(client: FlaskClient) -> None:
    """POST /_sim/load adds to the state; a parent may be a group that already exists."""
    client.post("/_sim/load", json=with_groups({"external_entity_id": "root", "models": [MODEL]}))
    response = client.post(
        "/_sim/load",
        json=with_groups(
            {"external_entity_id": "kid", "parent": "root", "models": [MODEL], "api_keys": [{}]}
        ),
    )
    assert response.status_code == 200
    (key,) = response.get_json()["api_keys"]
    assert (key["group"], key["workspace"], key["name"]) == ("kid", "acme", None)
    assert len(client.get(GROUPS, headers=MANAGE).get_json()["items"]) == 2


CHAIN = with_groups(
    {"external_entity_id": "l1", "models": [MODEL]},
    *(
        {"external_entity_id": f"l{level}", "parent": f"l{level - 1}", "models": [MODEL]}
        for level in range(2, 6)
    ),
)
OTHER_SLUG = "your-org/other-model"
TREE = with_groups(  # the grandparent alone limits OTHER_SLUG
    {
        "external_entity_id": "top",
        "limit_enforcement": "CASCADING",
        "models": [MODEL, {**MODEL, "slug": OTHER_SLUG}],
    },
    {"external_entity_id": "mid", "parent": "top", "models": [MODEL]},
)
FRESH = {"external_entity_id": "fresh", "models": [MODEL]}
CLASH = {"slug": "acme/llama", "targets": [{"provider": "BASETEN", "model_id": "m2"}]}
ABOVE = {"slug": SLUG, "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 5000}]}


@pytest.mark.parametrize(
    ("clash", "message"),
    [
        ({"external_entity_id": "cust_42", "models": [MODEL]}, "already exists"),
        ({"external_entity_id": "over", "parent": "cust_42", "models": [ABOVE]}, "exceeds"),
        (
            {
                "external_entity_id": "under",
                "parent": "mid",
                "models": [{**ABOVE, "slug": OTHER_SLUG}],
            },
            "exceeds",
        ),
        (
            {
                "external_entity_id": "m",
                "parent": "cust_42",
                "limit_enforcement": "INDEPENDENT",
                "models": [MODEL],
            },
            "doesn't match the parent's CASCADING",
        ),
        ({"external_entity_id": "deep", "parent": "l5", "models": [MODEL]}, "at level 5"),
        ({**FRESH, "external_entity_id": "k", "api_keys": [{"key": CI_KEY}]}, "prefix"),
        (None, "acme/llama"),
    ],
)
def test_seed_loaded_at_runtime_is_tried_against_the_current_state(
    client: FlaskClient, clash: dict[str, Any] | None, message: str
) -> None:
    """POST /_sim/load tries the seed on a copy of the current state: a seed whose later
    entry clashes with what is already there (an external id, a parent's mode, ceilings
    or depth, a key prefix, an endpoint slug) is refused whole, its earlier entries too."""
    for document in (SEED, CHAIN, TREE):
        assert client.post("/_sim/load", json=document).status_code == 200
    before = client.get("/_sim/state").get_json()
    document = with_groups(FRESH, *([clash] if clash else []))
    if clash is None:
        document["workspaces"]["acme"]["endpoints"] = [CLASH]
    response = client.post("/_sim/load", json=document)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert client.get("/_sim/state").get_json() == before


def test_seed_file_loads_from_yaml_and_json(tmp_path: Path) -> None:
    """load_seed reads YAML and JSON files alike."""
    (tmp_path / "seed.yaml").write_text(yaml.safe_dump(SEED))
    (tmp_path / "seed.json").write_text(json.dumps(SEED))
    assert load_seed(tmp_path / "seed.yaml").document == load_seed(tmp_path / "seed.json").document


@pytest.mark.parametrize(
    ("content", "message"),
    [("workspaces: [", "isn't valid YAML or JSON"), (None, "can't be read")],
)
def test_seed_file_unreadable_is_refused(tmp_path: Path, content: str | None, message: str) -> None:
    """A missing or unparsable seed file is refused naming the file."""
    path = tmp_path / "seed.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SeedError, match=message) as caught:
        load_seed(path)
    assert str(caught.value).startswith(str(path))


def test_seed_bad_file_stops_frontier_sim_with_exit_2(tmp_path: Path) -> None:
    """`frontier-sim --seed` with a rule-breaking entry exits 2 naming the entry."""
    path = tmp_path / "seed.yaml"
    path.write_text(
        yaml.safe_dump(
            with_groups(
                {"external_entity_id": "cust_42", "models": [MODEL]},
                {"external_entity_id": "cust_42_ops", "models": [MODEL]},
                {"external_entity_id": "cust_42_eng", "parent": "cust_9", "models": [MODEL]},
            )
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--seed", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"frontier-sim: invalid seed: {path}: workspaces.acme.groups[2] (cust_42_eng): "
        "parent 'cust_9' is not defined"
    )
    assert result.stdout == ""
