"""State export and import (GET and PUT /_sim/state): a faithful round trip, digests only,
and the Gateway's own rules on import, all or nothing."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator import create_app
from simulator.core.errors import KeyPrefixTaken
from simulator.core.model import GroupUpdate, ModelConfig
from simulator.core.serialize import model_json
from simulator.harness import snapshot
from simulator.harness.snapshot import check_group_body
from simulator.web.app import EXTENSION
from tests.builders import (
    ENDPOINTS,
    GROUPS,
    MANAGE,
    OTHER,
    SLUG,
    control_client,
    create_group,
    endpoint_body,
    group_body,
)

REGISTERED = "Q2x3Vb8nR4tYp6LmZ9kW1sD5fG7hJ0aEuI"


def populate(client: FlaskClient) -> dict[str, Any]:
    """Two workspaces, a three-level tree, live and revoked keys, and an endpoint."""
    root = create_group(client, "cust_42", mode="CASCADING", threshold=1000, usage=10_000)["id"]
    child = create_group(
        client, "cust_42_eng", parent=root, mode="CASCADING", threshold=500, usage=5000
    )["id"]
    create_group(
        client, "cust_42_eng_ml", parent=child, mode="CASCADING", threshold=100, usage=1000
    )
    other = client.post(GROUPS, json=group_body("cust_42"), headers=OTHER).get_json()["id"]
    minted = client.post(f"{GROUPS}/{child}/api_keys", json={"name": "ci"}, headers=MANAGE)
    revoked = client.post(f"{GROUPS}/{child}/api_keys", headers=MANAGE).get_json()["prefix"]
    client.delete(f"{GROUPS}/{child}/api_keys/{revoked}", headers=MANAGE)
    client.post(ENDPOINTS, json=endpoint_body(), headers=MANAGE)
    return {
        "root": root,
        "child": child,
        "other": other,
        "minted": minted.get_json(),
        "revoked": revoked,
    }


def test_state_export_lists_groups_keys_and_endpoints(client: FlaskClient) -> None:
    """GET /_sim/state has every group (parents first), key digests and endpoints."""
    made = populate(client)
    state = client.get("/_sim/state").get_json()
    assert state["format"] == "frontier-gateway-sim/state/1"
    assert [(g["workspace"], g["metadata"]["external_entity_id"]) for g in state["groups"]] == [
        ("acme", "cust_42"),
        ("acme", "cust_42_eng"),
        ("acme", "cust_42_eng_ml"),
        ("globex", "cust_42"),
    ]
    child = state["groups"][1]
    assert child["hierarchy"] == {"limit_enforcement": "CASCADING", "parent_group_id": made["root"]}
    plaintext = made["minted"]["api_key"]
    assert child["api_keys"] == [
        {
            "prefix": made["minted"]["prefix"],
            "name": "ci",
            "sha256": hashlib.sha256(plaintext.encode()).hexdigest(),
        }
    ]
    assert state["reserved_key_prefixes"] == [
        {"workspace": "acme", "prefix": made["revoked"], "group_id": made["child"]}
    ]
    assert [e["slug"] for e in state["endpoints"]] == ["acme/llama"]


def test_state_export_never_holds_a_key_plaintext(client: FlaskClient) -> None:
    """Minted and registered keys appear as digests only, never in plaintext."""
    made = populate(client)
    secret = made["minted"]["api_key"].partition(".")[2]
    text = client.get("/_sim/state").get_data(as_text=True)
    assert made["minted"]["api_key"] not in text
    assert secret not in text


def test_state_round_trip_reproduces_every_read(client: FlaskClient) -> None:
    """Importing an export into a fresh simulator gives the same answers on every route."""
    made = populate(client)
    state = client.get("/_sim/state").get_json()
    fresh = control_client(create_app())
    assert fresh.put("/_sim/state", json=state).get_json() == {
        "groups": 4,
        "api_keys": 1,
        "endpoints": 1,
    }
    assert fresh.get("/_sim/state").get_json() == state
    for path in (
        GROUPS,
        f"{GROUPS}/{made['child']}",
        f"{GROUPS}/{made['child']}/api_keys",
        f"{GROUPS}/{made['child']}/usage",
        ENDPOINTS,
    ):
        assert (
            fresh.get(path, headers=MANAGE).get_json()
            == client.get(path, headers=MANAGE).get_json()
        )


def test_state_import_keeps_the_rules_working(client: FlaskClient) -> None:
    """After an import the imported ids, external ids, slugs and prefixes are all taken."""
    made = populate(client)
    fresh = control_client(create_app())
    fresh.put("/_sim/state", json=client.get("/_sim/state").get_json())
    duplicate = fresh.post(GROUPS, json=group_body("cust_42"), headers=MANAGE)
    assert duplicate.headers["X-Frontier-Rule"] == "EXTID-UNIQUE"
    slug = fresh.post(ENDPOINTS, json=endpoint_body(), headers=MANAGE)
    assert slug.headers["X-Frontier-Rule"] == "EP-SLUG-UNIQUE"
    too_high = fresh.post(
        GROUPS,
        json=group_body("x", parent=made["root"], mode="CASCADING", threshold=2000),
        headers=MANAGE,
    )
    assert too_high.headers["X-Frontier-Rule"] == "CASCADE-CEILING"
    fresh_ids = {
        fresh.post(GROUPS, json=group_body(f"new{i}"), headers=MANAGE).get_json()["id"]
        for i in range(20)
    }
    assert fresh_ids.isdisjoint({made["root"], made["child"], made["other"]})


def broken(state: dict[str, Any], how: str) -> dict[str, Any]:
    bad = copy.deepcopy(state)
    groups = bad["groups"]
    if how == "parent":
        groups[1]["hierarchy"]["parent_group_id"] = "nope"
    elif how == "ceiling":
        groups[1]["models"][0]["rate_limits"][0]["threshold"] = 5000
    elif how == "duplicate":
        groups[3]["workspace"] = "acme"
    elif how == "mode":
        groups[1]["hierarchy"]["limit_enforcement"] = "INDEPENDENT"
    elif how == "workspace":
        groups[3]["workspace"] = "hooli"
    elif how == "not_onboarded":
        groups[3]["workspace"] = "initech"
    elif how == "schema":
        groups[0]["models"][0]["slug"] = "no-slash"
    elif how == "same_id":
        groups[3]["id"] = groups[0]["id"]
    elif how == "digest":
        groups[1]["api_keys"][0]["sha256"] = "xyz"
    elif how == "format":
        bad["format"] = "something/else"
    return bad


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("parent", "groups[1] (cust_42_eng): Parent group 'nope' not found. (PARENT-EXISTS)"),
        (
            "ceiling",
            "groups[1] (cust_42_eng): Child group exceeds parent group limit. (CASCADE-CEILING)",
        ),
        ("duplicate", "groups[3] (cust_42): A group with external_entity_id 'cust_42' already"),
        ("mode", "groups[1] (cust_42_eng): limit_enforcement INDEPENDENT doesn't match"),
        ("workspace", "groups[3] (cust_42): no workspace 'hooli' in the configuration"),
        ("not_onboarded", "groups[3] (cust_42): workspace 'initech' isn't onboarded"),
        ("schema", "groups[0] (cust_42): models.0.slug: 'no-slash' does not match"),
        ("same_id", "is used twice"),
        ("digest", "groups[1].api_keys[0].sha256: 'xyz' does not match"),
        ("format", "format: 'frontier-gateway-sim/state/1' was expected"),
    ],
)
def test_state_import_refuses_a_broken_snapshot_whole(
    client: FlaskClient, how: str, message: str
) -> None:
    """A snapshot breaking a rule gets 400 naming the entry, and the state is unchanged."""
    populate(client)
    before = client.get("/_sim/state").get_json()
    response = client.put("/_sim/state", json=broken(before, how))
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert client.get("/_sim/state").get_json() == before


def test_state_import_refuses_a_non_json_body(client: FlaskClient) -> None:
    """PUT /_sim/state with a body that isn't JSON is 400."""
    response = client.put("/_sim/state", data="{", content_type="application/json")
    assert response.status_code == 400


def test_state_import_replaces_the_current_state(client: FlaskClient) -> None:
    """An import removes what was there before."""
    create_group(client, "before")
    empty = {"format": "frontier-gateway-sim/state/1", "groups": [], "endpoints": []}
    assert client.put("/_sim/state", json=empty).status_code == 200
    assert client.get(GROUPS, headers=MANAGE).get_json()["items"] == []
    create_group(client, "before")  # its external_entity_id is free again


def test_state_revoked_prefix_stays_reserved_after_import(client: FlaskClient) -> None:
    """A reserved prefix survives the round trip: registering a key with it is refused."""
    group_id = create_group(client)["id"]
    state = client.get("/_sim/state").get_json()
    state["reserved_key_prefixes"] = [
        {"workspace": "acme", "prefix": REGISTERED[:16], "group_id": group_id}
    ]
    fresh = create_app()
    fresh_client = control_client(fresh)
    fresh_client.put("/_sim/state", json=state)
    with pytest.raises(KeyPrefixTaken):
        fresh.extensions[EXTENSION].store.register_key("acme", group_id, REGISTERED, None)


def test_state_export_is_json_serialisable_and_stable(client: FlaskClient) -> None:
    """Two exports of an unchanged state are identical documents."""
    populate(client)
    first = client.get("/_sim/state").get_data(as_text=True)
    assert json.loads(first) == client.get("/_sim/state").get_json()


def free_elsewhere(*locks: Any) -> bool:
    """True when another thread can take every one of `locks` at once, right now."""
    free: list[bool] = []

    def probe() -> None:
        taken = [lock.acquire(blocking=False) for lock in locks]
        free.append(all(taken))
        for lock, got in zip(locks, taken, strict=True):
            if got:
                lock.release()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return free[0]


def test_state_export_builds_its_json_off_the_locks_from_one_moment(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export copies what changes in place under the store's and endpoint book's locks,
    then builds its JSON without them: other threads can take both meanwhile, and a rename,
    a model set replaced, a key minted or a call metered after the copy doesn't show."""
    made = populate(client)
    state = app.extensions[EXTENSION]
    store, endpoints = state.store, state.endpoints
    with store.lock:  # metered calls, as inference makes them
        for group_id in (made["root"], made["child"]):
            meters = store.get_group("acme", group_id).meters
            meters.window(SLUG, "TOKEN", "MINUTE").add(1.0, 3)
            meters.day_count(SLUG, "TOKEN", 1.0).add(1.0, 3)
    before = client.get("/_sim/state").get_json()
    seen: list[bool] = []

    def change_then_serialise(model: ModelConfig) -> dict[str, Any]:
        if not seen:
            seen.append(free_elsewhere(store.lock, endpoints.lock))
            for group_id in (made["root"], made["child"]):
                update = GroupUpdate(True, "renamed", (ModelConfig(SLUG),), None, None)
                store.update_group("acme", group_id, update)
                store.mint_key("acme", group_id, None)
                meters = store.get_group("acme", group_id).meters
                meters.window(SLUG, "TOKEN", "MINUTE").add(2.0, 5)
                meters.day_count(SLUG, "TOKEN", 2.0).add(2.0, 5)
        return model_json(model)

    monkeypatch.setattr(snapshot, "model_json", change_then_serialise)
    assert client.get("/_sim/state").get_json() == before
    assert seen == [True]


def test_state_import_builds_off_the_locks_and_a_refusal_changes_nothing(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import builds the new state without the domain's locks, then swaps it in. A
    refused one changes nothing, not even the seeded id sequence: the ids it names are
    reserved only once it is accepted."""
    client.post("/_sim/seed", json={"seed": 3})
    first = create_group(client, "g0")["id"]
    state = client.get("/_sim/state").get_json()
    empty = {"format": "frontier-gateway-sim/state/1", "groups": [], "endpoints": []}
    assert client.put("/_sim/state", json=empty).status_code == 200
    client.post("/_sim/seed", json={"seed": 3})  # nothing in use: `first` comes next again
    refused = copy.deepcopy(state)
    refused["groups"].append({**state["groups"][0], "id": "second", "workspace": "hooli"})
    assert client.put("/_sim/state", json=refused).status_code == 400
    assert client.get(GROUPS, headers=MANAGE).get_json()["items"] == []
    assert create_group(client, "g0")["id"] == first
    held = app.extensions[EXTENSION]
    free: list[bool] = []

    def check_unlocked(domain: Any, body: Any) -> None:
        free.append(free_elsewhere(held.store.lock, held.endpoints.lock))
        check_group_body(domain, body)

    monkeypatch.setattr(snapshot, "check_group_body", check_unlocked)
    assert client.put("/_sim/state", json=state).status_code == 200
    assert free == [True]
    assert client.get("/_sim/state").get_json() == state
