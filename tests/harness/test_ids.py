"""Deterministic ids: POST /_sim/seed restarts the id generator, and a reset with a seed
repeats the sequence, while ids in use are never handed out twice (RESP-ID)."""

from __future__ import annotations

from flask.testing import FlaskClient

from simulator import create_app
from simulator.core.config import DEFAULT_CONFIG, config_from_mapping
from tests.builders import (
    ENDPOINTS,
    GROUPS,
    MANAGE,
    OTHER,
    control_client,
    create_group,
    endpoint_body,
    group_body,
)


def made_ids(client: FlaskClient, count: int = 3) -> list[str]:
    """Ids of `count` new groups, a minted key prefix and an endpoint."""
    ids = [create_group(client, f"g{i}")["id"] for i in range(count)]
    minted = client.post(f"{GROUPS}/{ids[0]}/api_keys", headers=MANAGE).get_json()
    endpoint = client.post(ENDPOINTS, json=endpoint_body(), headers=MANAGE).get_json()
    return [*ids, minted["prefix"], endpoint["id"]]


def test_id_seed_gives_the_same_ids_in_two_simulators() -> None:
    """Two simulators seeded alike give the same groups, key prefixes and endpoint ids."""
    first, second = control_client(create_app()), control_client(create_app())
    for client in (first, second):
        assert client.post("/_sim/seed", json={"seed": 42}).get_json() == {"seed": 42}
    assert made_ids(first) == made_ids(second)


def test_id_seed_differs_between_seeds() -> None:
    """Different seeds give different ids."""
    first, second = control_client(create_app()), control_client(create_app())
    first.post("/_sim/seed", json={"seed": 1})
    second.post("/_sim/seed", json={"seed": 2})
    assert made_ids(first) != made_ids(second)


def test_id_seed_is_reused_by_every_reset(client: FlaskClient) -> None:
    """After a seed, each reset restarts the same sequence: a test sees the same ids every run."""
    client.post("/_sim/seed", json={"seed": 7})
    client.post("/_sim/reset")
    first = made_ids(client)
    client.post("/_sim/reset")
    assert made_ids(client) == first


def test_id_seed_from_configuration_applies_at_start_and_reset() -> None:
    """`id_seed` in the configuration seeds the generator at start and at every reset."""
    config = config_from_mapping({**DEFAULT_CONFIG, "id_seed": 42})
    client = control_client(create_app(config))
    at_start = made_ids(client)
    assert made_ids(control_client(create_app(config))) == at_start
    client.post("/_sim/reset")
    assert made_ids(client) == at_start


def test_id_seed_never_reissues_an_id_in_use(client: FlaskClient) -> None:
    """Reseeding mid-test skips ids still in use, so no two live groups share one."""
    client.post("/_sim/seed", json={"seed": 5})
    live = made_ids(client)
    client.post("/_sim/seed", json={"seed": 5})
    later = [create_group(client, f"h{i}")["id"] for i in range(5)]
    assert set(later).isdisjoint(live)


def test_id_seed_null_makes_ids_random_again(client: FlaskClient) -> None:
    """`{"seed": null}` returns to random ids; a reset then doesn't repeat them."""
    client.post("/_sim/seed", json={"seed": 3})
    client.post("/_sim/seed", json={"seed": None})
    client.post("/_sim/reset")
    first = made_ids(client)
    client.post("/_sim/reset")
    assert made_ids(client) != first


def test_id_seed_refuses_a_bad_body(client: FlaskClient) -> None:
    """The seed must be an integer or null."""
    for body in ({"seed": "42"}, {}, {"seed": 1, "other": 2}):
        response = client.post("/_sim/seed", json=body)
        assert response.status_code == 400, body
        assert "error" in response.get_json()


ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def tail_count(group_id: str) -> int:
    """The number an id's last four characters would spell as a counter."""
    number = 0
    for char in group_id[-4:]:
        number = number * len(ALPHABET) + ALPHABET.index(char)
    return number


def test_ids_carry_no_count_of_other_workspaces_creates(client: FlaskClient) -> None:
    """Between two of acme's creates globex creates five groups: acme's ids don't tell.

    No id ends in a count shared by every workspace, and consecutive ids share no prefix
    or suffix that would give the order away.
    """
    first = create_group(client, "mine-1")["id"]
    for index in range(5):
        body = group_body(f"theirs-{index}")
        assert client.post(GROUPS, json=body, headers=OTHER).status_code == 200
    second = create_group(client, "mine-2")["id"]
    assert tail_count(second) - tail_count(first) != 6
    ids = [create_group(client, f"run-{i}")["id"] for i in range(20)]
    assert len({i[-3:] for i in ids}) > 15
    assert len({i[:3] for i in ids}) > 15
