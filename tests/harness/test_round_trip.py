"""Any state reachable through the public API exports and imports back to the same state.

A Hypothesis plan of Gateway calls (creates in both modes and at any depth, updates that
replace the model set, `[]` included, renames, deletes, minted and revoked keys, endpoints,
inference calls that fill the meters) builds a state. It must export through `GET
/_sim/state` and import through `PUT /_sim/state` into a fresh simulator to the same export
and the same Gateway answers; as a seed document through `POST /_sim/load`, to the same
groups. Exports over the Gateway's 1 MiB body cap import too: the control API has its own.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simulator import create_app
from tests.builders import ENDPOINTS, GROUPS, MANAGE, OTHER, control_client

SLUGS = ("your-org/a", "your-org/b", "your-org/c")
KEYS = (MANAGE, OTHER)

thresholds = st.integers(min_value=1, max_value=4)


@st.composite
def model_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    models = []
    for slug in draw(st.lists(st.sampled_from(SLUGS), max_size=3, unique=True)):
        rate = [
            {
                "type": t,
                "unit": draw(st.sampled_from(("SECOND", "MINUTE"))),
                "threshold": draw(thresholds),
            }
            for t in ("TOKEN", "REQUEST")
            if draw(st.booleans())
        ]
        usage = [
            {"type": t, "unit": "DAY", "threshold": draw(thresholds)}
            for t in ("TOKEN", "REQUEST")
            if draw(st.booleans())
        ]
        models.append({"slug": slug, "rate_limits": rate, "usage_limits": usage})
    return models


steps = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, 1),  # workspace
        st.integers(-1, 8),  # parent: -1 a root, else the n-th group made so far
        st.sampled_from(("INDEPENDENT", "CASCADING")),
        model_lists().filter(bool),
        st.one_of(st.none(), st.text(max_size=8)),
    ),
    st.tuples(st.just("models"), st.integers(0, 8), model_lists()),  # [] included
    st.tuples(st.just("rename"), st.integers(0, 8), st.one_of(st.none(), st.text(max_size=8))),
    st.tuples(st.just("delete"), st.integers(0, 8)),
    st.tuples(st.just("mint"), st.integers(0, 8)),
    st.tuples(st.just("revoke"), st.integers(0, 8)),
    st.tuples(st.just("call"), st.integers(0, 8), st.sampled_from(SLUGS)),
    st.tuples(st.just("endpoint"), st.integers(0, 1), st.sampled_from(("llm", "chat"))),
)


def play(client: FlaskClient, plan: list[tuple[Any, ...]]) -> None:
    """Plays the plan through the Gateway's routes; refusals (4xx) are part of the game."""
    made: list[tuple[str, dict[str, str]]] = []  # (group id, its workspace's key)
    minted: list[tuple[str, dict[str, str], str]] = []  # (group id, key header, prefix)
    keys: dict[str, str] = {}  # group id -> a minted plaintext, for inference calls
    for number, step in enumerate(plan):
        kind = step[0]
        if kind == "create":
            _, ws, parent, mode, models, name = step
            key = KEYS[ws]
            parent_id = made[parent][0] if 0 <= parent < len(made) else None
            body = {
                "metadata": {"name": name, "external_entity_id": f"g{number}"},
                "models": models,
                "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent_id},
            }
            answer = client.post(GROUPS, json=body, headers=key)
            if answer.status_code == 200:
                made.append((answer.get_json()["id"], key))
            continue
        if kind == "endpoint":
            _, ws, name = step
            org = ("acme", "globex")[ws]
            body = {
                "slug": f"{org}/{name}{number}",
                "targets": [{"provider": "BASETEN", "model_id": "m"}],
            }
            client.post(ENDPOINTS, json=body, headers=KEYS[ws])
            continue
        if not made:
            continue
        group_id, key = made[step[1] % len(made)]
        if kind == "models":
            client.patch(f"{GROUPS}/{group_id}", json={"models": step[2]}, headers=key)
        elif kind == "rename":
            client.patch(f"{GROUPS}/{group_id}", json={"metadata": {"name": step[2]}}, headers=key)
        elif kind == "delete":
            client.delete(f"{GROUPS}/{group_id}", headers=key)
        elif kind == "mint":
            answer = client.post(f"{GROUPS}/{group_id}/api_keys", json={}, headers=key)
            if answer.status_code == 200:
                minted.append((group_id, key, answer.get_json()["prefix"]))
                keys[group_id] = answer.get_json()["api_key"]
        elif kind == "revoke" and minted:
            owner, owner_key, prefix = minted[step[1] % len(minted)]
            client.delete(f"{GROUPS}/{owner}/api_keys/{prefix}", headers=owner_key)
        elif kind == "call" and group_id in keys:
            body = {"model": step[2], "messages": [{"role": "user", "content": "hi"}]}
            client.post(
                "/v1/chat/completions",
                json=body,
                headers={"Authorization": f"Api-Key {keys[group_id]}"},
            )


def reads(client: FlaskClient) -> list[Any]:
    """What each workspace sees: every group (with effective limits) and every endpoint."""
    seen = []
    for key in KEYS:
        seen.append(client.get(GROUPS, query_string={"limit": 1000}, headers=key).get_json())
        seen.append(client.get(ENDPOINTS, query_string={"limit": 1000}, headers=key).get_json())
    return seen


def as_seed(state: dict[str, Any]) -> dict[str, Any]:
    """The export as a seed document: groups by external_entity_id, parents by theirs."""
    by_id = {g["id"]: g for g in state["groups"]}
    workspaces: dict[str, Any] = {}
    for group in state["groups"]:
        entry = {
            "external_entity_id": group["metadata"]["external_entity_id"],
            "models": group["models"],
            "limit_enforcement": group["hierarchy"]["limit_enforcement"],
        }
        if group["metadata"]["name"] is not None:
            entry["name"] = group["metadata"]["name"]
        parent = group["hierarchy"]["parent_group_id"]
        if parent is not None:
            entry["parent"] = by_id[parent]["metadata"]["external_entity_id"]
        workspaces.setdefault(group["workspace"], {"groups": []})["groups"].append(entry)
    return {"workspaces": workspaces}


def shape(client: FlaskClient) -> list[Any]:
    """Each workspace's groups as a seed can restore them: without ids and timestamps, a
    parent and every source_group named by external_entity_id."""
    shapes = []
    for key in KEYS:
        groups = client.get(GROUPS, query_string={"limit": 1000}, headers=key).get_json()["items"]
        extid = {g["id"]: g["metadata"]["external_entity_id"] for g in groups}
        shapes.append(
            [
                {
                    "metadata": g["metadata"],
                    "models": g["models"],
                    "mode": g["hierarchy"]["limit_enforcement"],
                    "parent": extid.get(g["hierarchy"]["parent_group_id"]),
                    "effective": [
                        (
                            m["slug"],
                            [
                                (x["type"], x["unit"], x["threshold"], extid[x["source_group"]])
                                for x in m[kind]
                            ],
                        )
                        for m in g["effective_models"]
                        for kind in ("rate_limits", "usage_limits")
                    ],
                }
                for g in groups
            ]
        )
    return shapes


EMPTIED = [
    (
        "create",
        0,
        -1,
        "INDEPENDENT",
        [{"slug": "your-org/a", "rate_limits": [], "usage_limits": []}],
        None,
    ),
    ("models", 0, []),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, max_size=25))
@example(EMPTIED)
def test_every_reachable_state_exports_and_imports_to_the_same_state(plan: list[Any]) -> None:
    source = control_client(create_app())
    play(source, plan)
    state = source.get("/_sim/state").get_json()

    restored = control_client(create_app())
    answer = restored.put("/_sim/state", json=state)
    assert answer.status_code == 200, answer.get_json()
    assert restored.get("/_sim/state").get_json() == state
    assert reads(restored) == reads(source)

    seeded = control_client(create_app())
    loaded = seeded.post("/_sim/load", json=as_seed(state))
    assert loaded.status_code == 200, loaded.get_json()
    assert shape(seeded) == shape(source)


def test_an_emptied_group_survives_the_round_trip() -> None:
    """`PATCH {"models": []}` is accepted, and its export imports (MODELS-NONEMPTY is the
    create request's rule, not the state's)."""
    source = control_client(create_app())
    play(source, EMPTIED)
    state = source.get("/_sim/state").get_json()
    assert state["groups"][0]["models"] == []
    restored = control_client(create_app())
    assert restored.put("/_sim/state", json=state).status_code == 200
    assert restored.get("/_sim/state").get_json() == state


def test_an_export_over_the_gateway_body_cap_imports() -> None:
    """The control API's body cap is its own: a 2 MiB export imports under a 1 MiB Gateway cap."""
    source = control_client(create_app())
    models = [
        {
            "slug": f"your-org/model-{i}",
            "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 1000}],
            "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 100000}],
        }
        for i in range(1000)
    ]
    for index in range(16):
        body = {
            "metadata": {"name": None, "external_entity_id": f"big-{index}"},
            "models": models,
            "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
        }
        assert source.post(GROUPS, json=body, headers=MANAGE).status_code == 200
    export = source.get("/_sim/state")
    assert len(export.get_data()) > 2 * 1024 * 1024
    restored = control_client(create_app())
    answer = restored.put("/_sim/state", data=export.get_data(), content_type="application/json")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:200]
    assert restored.get("/_sim/state").get_json() == export.get_json()
    too_big = restored.post(
        GROUPS, data=export.get_data(), content_type="application/json", headers=MANAGE
    )
    assert too_big.status_code == 413  # the Gateway's own cap stays
