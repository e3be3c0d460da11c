"""Errors repeat a caller's value cut short: a path id (or field) of any length comes back
as its first 64 characters and its length, never whole."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from simulator.core.errors import echo
from tests.builders import ENDPOINTS, GROUPS, MANAGE, create_group

LONG = "x" * 5000


def test_echo_cuts_long_values_and_names_their_length() -> None:
    assert echo("abc") == "'abc'"
    assert echo("y" * 100) == f"{'y' * 64!r}… (100 characters)"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{GROUPS}/{LONG}"),
        ("DELETE", f"{GROUPS}/{LONG}"),
        ("GET", f"{ENDPOINTS}/{LONG}"),
    ],
)
def test_a_long_path_id_isnt_echoed_whole(client: FlaskClient, method: str, path: str) -> None:
    answer = client.open(path, method=method, headers=MANAGE)
    assert answer.status_code == 404
    error = answer.get_json()["error"]
    assert len(error) < 200
    assert "(5000 characters)" in error


def test_a_long_key_prefix_and_parent_id_arent_echoed_whole(client: FlaskClient) -> None:
    group = create_group(client, "echo")
    key = client.get(f"{GROUPS}/{group['id']}/api_keys/{LONG}", headers=MANAGE)
    assert key.status_code == 404
    assert len(key.get_json()["error"]) < 200
    body = {
        "metadata": {"external_entity_id": "child"},
        "models": [{"slug": "your-org/your-model"}],
        "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": LONG},
    }
    parent = client.post(GROUPS, json=body, headers=MANAGE)
    assert parent.status_code == 404
    assert len(parent.get_json()["error"]) < 200


def test_a_long_fault_rule_id_isnt_echoed_whole(client: FlaskClient) -> None:
    answer = client.delete(f"/_sim/faults/{LONG}")
    assert answer.status_code == 404
    assert len(answer.get_json()["error"]) < 200
