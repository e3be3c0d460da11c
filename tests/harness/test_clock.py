"""The clock through the control API, and time in snapshots, resets, the journal and seeds."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from simulator.web.control import harness
from tests.builders import GROUPS, MANAGE, SLUG, auth, create_group

COMPLETIONS = "/v1/chat/completions"
MAY_13 = "2026-05-13T23:59:00Z"


def key_of(client: FlaskClient, group_id: str) -> str:
    minted = client.post(f"{GROUPS}/{group_id}/api_keys", json={}, headers=MANAGE)
    key: str = minted.get_json()["api_key"]
    return key


def call(client: FlaskClient, key: str) -> int:
    body = {"model": SLUG, "messages": [{"role": "user", "content": "hi"}]}
    status: int = client.post(COMPLETIONS, json=body, headers=auth(key)).status_code
    return status


def usage(client: FlaskClient, group_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = client.get(f"{GROUPS}/{group_id}/usage", headers=MANAGE).get_json()[
        "usage"
    ][SLUG][0]
    return entry


def test_clock_is_real_time_until_set(client: FlaskClient) -> None:
    """GET /_sim/clock: real time, neither frozen nor shifted."""
    reading = client.get("/_sim/clock").get_json()
    assert (reading["frozen"], reading["offset_seconds"]) == (False, 0.0)


def test_set_and_advance_move_timestamps_and_windows(client: FlaskClient) -> None:
    """A frozen clock stamps created_at; advancing it crosses midnight UTC at once."""
    assert (
        client.put("/_sim/clock", json={"time": MAY_13}).get_json()["now"]
        == "2026-05-13T23:59:00.000Z"
    )
    group_id = create_group(client, threshold=100, usage=1000)["id"]
    created = client.get(f"{GROUPS}/{group_id}", headers=MANAGE).get_json()["created_at"]
    assert created == MAY_13
    key = key_of(client, group_id)
    assert call(client, key) == 200
    assert usage(client, group_id)["reset_at"] == "2026-05-14T00:00:00Z"
    advanced = client.post("/_sim/clock/advance", json={"seconds": 61}).get_json()
    assert advanced["now"] == "2026-05-14T00:00:01.000Z"
    assert (usage(client, group_id)["current_usage"], usage(client, group_id)["reset_at"]) == (
        0,
        "2026-05-15T00:00:00Z",
    )


def test_clock_refuses_bad_settings(client: FlaskClient) -> None:
    """A time without a zone, a negative advance or an unknown field is 400."""
    for path, method, body in (
        ("/_sim/clock", "put", {"time": "2026-05-13T12:00:00"}),
        ("/_sim/clock", "put", {"time": MAY_13, "speed": 2}),
        ("/_sim/clock/advance", "post", {"seconds": -1}),
    ):
        response = getattr(client, method)(path, json=body)
        assert response.status_code == 400, body
        assert set(response.get_json()) == {"error"}


def test_unfrozen_clock_runs_on_from_the_set_time(client: FlaskClient) -> None:
    """frozen: false shifts real time; DELETE returns to real time."""
    reading = client.put("/_sim/clock", json={"time": MAY_13, "frozen": False}).get_json()
    assert reading["frozen"] is False
    assert reading["offset_seconds"] != 0
    assert client.delete("/_sim/clock").get_json()["offset_seconds"] == 0.0


def test_reset_returns_the_clock_to_real_time_and_empties_meters(client: FlaskClient) -> None:
    """Reset: the start-up state, so real time and no usage."""
    client.put("/_sim/clock", json={"time": MAY_13})
    client.post("/_sim/reset")
    assert client.get("/_sim/clock").get_json()["frozen"] is False


def test_state_export_and_import_carry_meters_and_clock(app: Flask, client: FlaskClient) -> None:
    """A snapshot holds each group's counters and the clock; importing it meters on."""
    client.put("/_sim/clock", json={"time": MAY_13})
    group_id = create_group(client, threshold=2, usage=20)["id"]  # TOKEN/MINUTE 2: one call fits
    key = key_of(client, group_id)
    client.post(
        COMPLETIONS,
        json={"model": SLUG, "messages": [{"role": "user", "content": ""}], "max_tokens": 2},
        headers=auth(key),
    )
    state = client.get("/_sim/state").get_json()
    assert state["clock"] == {"frozen": True, "time": "2026-05-13T23:59:00.000Z"}
    (group,) = state["groups"]
    assert group["meters"]["daily"][0]["day"] == "2026-05-13"
    assert group["meters"]["rate"][0]["entries"][0][1] == 2
    client.post("/_sim/reset")
    assert client.put("/_sim/state", json=state).status_code == 200
    assert client.get("/_sim/clock").get_json()["now"] == "2026-05-13T23:59:00.000Z"
    assert call(client, key) == 429  # the imported window is full
    assert client.get("/_sim/state").get_json() == {**state}
    assert harness(app).export_state()["groups"][0]["meters"] == group["meters"]


def test_journal_times_follow_the_clock(client: FlaskClient) -> None:
    """The journal stamps requests with the simulator's clock."""
    client.put("/_sim/clock", json={"time": MAY_13})
    create_group(client)
    entry = client.get("/_sim/journal").get_json()["entries"][-1]
    assert entry["time"] == "2026-05-13T23:59:00.000Z"


def test_seeded_groups_are_stamped_by_the_clock(client: FlaskClient) -> None:
    """A seed loaded under a set clock records that time as created_at."""
    client.put("/_sim/clock", json={"time": MAY_13})
    seed = {
        "workspaces": {
            "acme": {"groups": [{"external_entity_id": "s", "models": [{"slug": SLUG}]}]}
        }
    }
    assert client.post("/_sim/load", json=seed).status_code == 200
    listed = client.get(GROUPS, headers=MANAGE).get_json()["items"]
    assert [g["created_at"] for g in listed] == [MAY_13]
