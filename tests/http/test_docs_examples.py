"""The documentation's own examples, sent as written, answer as documented.

Every request example of Baseten's gateway pages (and of the machine spec's code samples)
is kept here verbatim. Only the parent ids `abc123hash` / `abc123` are replaced by the id
of a group created first, as a reader of the docs would. Each answer is compared with the
documented example with its ids and timestamps replaced by the real ones; where the
simulator answers otherwise, the test names the decision (docs/decisions.md) that says why.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.builders import ENDPOINTS, GROUPS, MANAGE_KEY

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
HEADERS = {"Authorization": f"Api-Key {MANAGE_KEY}", "Content-Type": "application/json"}

# Create a group, "Example request (exact)": the `--data` of the curl example.
CREATE_REQUEST = """{
    "metadata": {
      "name": "Acme prod",
      "external_entity_id": "cust_42"
    },
    "models": [
      {
        "slug": "your-org/your-model",
        "rate_limits": [
          { "type": "TOKEN", "unit": "MINUTE", "threshold": 1000000 },
          { "type": "REQUEST", "unit": "MINUTE", "threshold": 100 }
        ],
        "usage_limits": [
          { "type": "TOKEN", "unit": "DAY", "threshold": 10000000 }
        ]
      }
    ],
    "hierarchy": {
      "limit_enforcement": "INDEPENDENT",
      "parent_group_id": null
    }
  }"""
CREATE_RESPONSE = """{
  "id": "abc123hash",
  "metadata": {
    "name": "Acme prod",
    "external_entity_id": "cust_42"
  },
  "models": [
    {
      "slug": "your-org/your-model",
      "rate_limits": [
        { "type": "TOKEN", "unit": "MINUTE", "threshold": 1000000 },
        { "type": "REQUEST", "unit": "MINUTE", "threshold": 100 }
      ],
      "usage_limits": [
        { "type": "TOKEN", "unit": "DAY", "threshold": 10000000 }
      ]
    }
  ],
  "effective_models": [
    {
      "slug": "your-org/your-model",
      "rate_limits": [
        { "type": "TOKEN", "unit": "MINUTE", "threshold": 1000000, "source_group": "abc123hash" },
        { "type": "REQUEST", "unit": "MINUTE", "threshold": 100, "source_group": "abc123hash" }
      ],
      "usage_limits": [
        { "type": "TOKEN", "unit": "DAY", "threshold": 10000000, "source_group": "abc123hash" }
      ]
    }
  ],
  "hierarchy": {
    "limit_enforcement": "INDEPENDENT",
    "parent_group_id": null
  },
  "created_at": "2026-05-13T12:00:00Z"
}"""

# "Build a hierarchy" (the API keys guide): the child of the group above.
CHILD_REQUEST = """{
  "metadata": {
    "name": "Acme prod / engineering",
    "external_entity_id": "cust_42_engineering"
  },
  "models": [
    {
      "slug": "your-org/your-model",
      "rate_limits": [
        { "type": "TOKEN", "unit": "MINUTE", "threshold": 700000 }
      ]
    }
  ],
  "hierarchy": {
    "limit_enforcement": "INDEPENDENT",
    "parent_group_id": "abc123hash"
  }
}"""
CHILD_RESPONSE = """{
  "id": "def456hash",
  "metadata": {
    "name": "Acme prod / engineering",
    "external_entity_id": "cust_42_engineering"
  },
  "models": [
    {
      "slug": "your-org/your-model",
      "rate_limits": [
        { "type": "TOKEN", "unit": "MINUTE", "threshold": 700000 }
      ],
      "usage_limits": []
    }
  ],
  "effective_models": [
    {
      "slug": "your-org/your-model",
      "rate_limits": [
        { "type": "TOKEN", "unit": "MINUTE", "threshold": 700000, "source_group": "def456hash" }
      ],
      "usage_limits": []
    }
  ],
  "hierarchy": {
    "limit_enforcement": "INDEPENDENT",
    "parent_group_id": "abc123hash"
  },
  "created_at": "2026-05-13T12:05:00Z"
}"""

# The machine spec's code sample for create (Bearer, a slug without limits, a parent).
SPEC_CREATE_REQUEST = (
    '{"metadata": {"name": "Acme prod", "external_entity_id": "cust_42"}, "models": '
    '[{"slug": "my-org/claude"}], "hierarchy": {"limit_enforcement": "INDEPENDENT", '
    '"parent_group_id": "abc123"}}'
)

# List groups: the example response's one item (the calls are `?external_entity_id=cust_42`
# and `?cursor=aVd2Yk54T2d2V0dFWE13R1l4R2k5UVE=`); get a group answers the same item.
LISTED_GROUP = """{
  "id": "abc123hash",
  "metadata": { "name": "Acme prod", "external_entity_id": "cust_42" },
  "models": [
    {
      "slug": "your-org/your-model",
      "rate_limits": [
        { "type": "TOKEN", "unit": "MINUTE", "threshold": 1000000 }
      ],
      "usage_limits": []
    }
  ],
  "effective_models": [
    {
      "slug": "your-org/your-model",
      "rate_limits": [
        { "type": "TOKEN", "unit": "MINUTE", "threshold": 1000000, "source_group": "abc123hash" }
      ],
      "usage_limits": []
    }
  ],
  "hierarchy": { "limit_enforcement": "INDEPENDENT", "parent_group_id": null },
  "created_at": "2026-05-13T12:00:00Z"
}"""
DOC_CURSOR = "aVd2Yk54T2d2V0dFWE13R1l4R2k5UVE="

# Update a group: the example body and response; the machine spec's code sample.
UPDATE_REQUEST = (
    '{"models": [{"slug": "your-org/your-model", "rate_limits": '
    '[{ "type": "TOKEN", "unit": "MINUTE", "threshold": 1500000 }]}]}'
)
UPDATE_RESPONSE = """{
  "id": "abc123hash",
  "metadata": { "name": "Acme prod", "external_entity_id": "cust_42" },
  "models": [
    {
      "slug": "your-org/your-model",
      "rate_limits": [
        { "type": "TOKEN", "unit": "MINUTE", "threshold": 1500000 }
      ],
      "usage_limits": []
    }
  ],
  "effective_models": [
    {
      "slug": "your-org/your-model",
      "rate_limits": [
        { "type": "TOKEN", "unit": "MINUTE", "threshold": 1500000, "source_group": "abc123hash" }
      ],
      "usage_limits": []
    }
  ],
  "hierarchy": { "limit_enforcement": "INDEPENDENT", "parent_group_id": null },
  "created_at": "2026-05-13T12:00:00Z"
}"""
SPEC_UPDATE_REQUEST = '{"metadata": {"name": "Acme Prod"}, "models": null}'

DELETE_RESPONSE = """{
  "id": "abc123hash",
  "metadata": {
    "name": "Acme prod",
    "external_entity_id": "cust_42"
  },
  "deleted_at": "2026-05-13T12:34:56Z"
}"""

USAGE_RESPONSE = """{
  "customer_id": "cust_42",
  "usage": {
    "your-org/your-model": [
      {
        "type": "TOKEN",
        "unit": "DAY",
        "threshold": 10000000,
        "current_usage": 4231899,
        "reset_at": "2026-05-21T00:00:00Z"
      }
    ]
  }
}"""

# API keys: mint's example request and the answers of mint, list, get and revoke.
MINT_REQUEST = '{"name": "prod-key-1"}'
MINT_RESPONSE = """{
  "api_key": "sky_sCqhBwEy4kPd.<api-key-secret>",
  "prefix": "sky_sCqhBwEy4kPd",
  "name": "prod-key-1"
}"""
LIST_KEYS_RESPONSE = """{
  "items": [
    {
      "prefix": "sky_sCqhBwEy4kPd",
      "name": "prod-key-1"
    }
  ],
  "pagination": {
    "has_more": false,
    "cursor": null
  }
}"""
GET_KEY_RESPONSE = '{"prefix": "sky_sCqhBwEy4kPd", "name": "prod-key-1"}'
REVOKE_KEY_RESPONSE = '{"prefix": "sky_sCqhBwEy4kPd"}'
DOC_PREFIX = "sky_sCqhBwEy4kPd"

# Endpoints: the example endpoint object (its slug and targets are the create request),
# and the delete answer.
ENDPOINT_OBJECT = (
    '{"id": "abc123hash", "slug": "my-org/glm-5.2", "targets": [{"provider": "BASETEN", '
    '"model_id": "3kZ9xqd", "environment_name": "staging"}], "created_at": '
    '"2026-06-17T12:00:00Z", "updated_at": "2026-06-17T12:00:00Z"}'
)
ENDPOINT_DELETE_RESPONSE = '{"id": "abc123hash", "slug": "my-org/glm-5.2"}'


def send(
    client: FlaskClient, method: str, path: str, raw: str | None = None, scheme: str = "Api-Key"
) -> Any:
    headers = {**HEADERS, "Authorization": f"{scheme} {MANAGE_KEY}"}
    return client.open(path, method=method, data=raw, headers=headers)


def swap(text: str, pairs: dict[str, str]) -> Any:
    for old, new in pairs.items():
        text = text.replace(old, new)
    return json.loads(text)


def created_root(client: FlaskClient) -> dict[str, Any]:
    response = send(client, "POST", GROUPS, CREATE_REQUEST)
    assert response.status_code == 200, response.json
    group: dict[str, Any] = response.json
    return group


def test_create_group_example_answers_the_documented_200(client: FlaskClient) -> None:
    """OK-200, RESP-ECHO, EFFECTIVE-ROOT: the curl example gives exactly the documented
    answer, with its own id and creation time."""
    group = created_root(client)
    assert RFC3339_UTC.match(group["created_at"])
    real = {"abc123hash": group["id"], "2026-05-13T12:00:00Z": group["created_at"]}
    expected = swap(CREATE_RESPONSE, real)
    assert group == expected


def test_child_example_inherits_what_the_example_leaves_out(client: FlaskClient) -> None:
    """Decision A7 (EFFECTIVE-INDEPENDENT): the example's child shows only its own limit, but
    the rule text says a child inherits what it omits; the rule wins. Everything else is as
    documented, and the parent's REQUEST/MINUTE and TOKEN/DAY come with its id."""
    root = created_root(client)
    response = send(client, "POST", GROUPS, CHILD_REQUEST.replace("abc123hash", root["id"]))
    assert response.status_code == 200
    child = response.json
    real = {"abc123hash": root["id"], "def456hash": child["id"],
            "2026-05-13T12:05:00Z": child["created_at"]}  # fmt: skip
    expected = swap(CHILD_RESPONSE, real)
    inherited = {
        "rate_limits": [{"type": "REQUEST", "unit": "MINUTE", "threshold": 100,
                         "source_group": root["id"]}],
        "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 10000000,
                          "source_group": root["id"]}],
    }  # fmt: skip
    for kind, limits in inherited.items():
        expected["effective_models"][0][kind] += limits
    assert child == expected


def test_machine_spec_create_sample_with_bearer_and_a_parent(client: FlaskClient) -> None:
    """AUTH-SCHEME, RESP-ECHO: the machine spec's sample, sent with `Bearer`, under the
    documented root; its slug without limits comes back with empty limit lists."""
    root = created_root(client)
    body = SPEC_CREATE_REQUEST.replace("cust_42", "cust_43").replace("abc123", root["id"])
    response = send(client, "POST", GROUPS, body, scheme="Bearer")
    assert response.status_code == 200
    assert response.json["models"] == [
        {"slug": "my-org/claude", "rate_limits": [], "usage_limits": []}
    ]
    assert response.json["hierarchy"]["parent_group_id"] == root["id"]


def test_machine_spec_create_sample_as_written_is_a_duplicate(client: FlaskClient) -> None:
    """EXTID-UNIQUE: sent as written after the curl example, the sample reuses `cust_42`, so
    the documented 400 for a duplicate external_entity_id is the answer."""
    root = created_root(client)
    response = send(client, "POST", GROUPS, SPEC_CREATE_REQUEST.replace("abc123", root["id"]))
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, "EXTID-UNIQUE")


def listed_group(client: FlaskClient) -> dict[str, Any]:
    """The group of the list example: the create example with its one TOKEN/MINUTE limit."""
    body = json.loads(CREATE_REQUEST)
    body["models"][0]["rate_limits"] = body["models"][0]["rate_limits"][:1]
    del body["models"][0]["usage_limits"]
    group: dict[str, Any] = send(client, "POST", GROUPS, json.dumps(body)).json
    return group


def test_list_filter_example_answers_the_documented_item(client: FlaskClient) -> None:
    """LIST-SHAPE, LIST-FILTER: `?external_entity_id=cust_42` answers `{items, pagination}`
    whose one item is the documented one; it is the last page, so has_more is false."""
    group = listed_group(client)
    response = send(client, "GET", f"{GROUPS}?external_entity_id=cust_42")
    item = swap(
        LISTED_GROUP, {"abc123hash": group["id"], "2026-05-13T12:00:00Z": group["created_at"]}
    )
    assert (response.status_code, response.json) == (
        200,
        {"items": [item], "pagination": {"has_more": False, "cursor": None}},
    )


def test_list_cursor_example_is_refused_and_a_real_cursor_pages(client: FlaskClient) -> None:
    """Decision LIST-CURSOR-UNKNOWN: the example's cursor was issued by Baseten's server, not this
    one, so it is 400; the cursor this server gives in its place leads to the next page."""
    first = listed_group(client)
    second = send(client, "POST", GROUPS, CHILD_REQUEST.replace("abc123hash", first["id"])).json
    refused = send(client, "GET", f"{GROUPS}?cursor={DOC_CURSOR}")
    rule = refused.headers["X-Frontier-Rule"]
    assert (refused.status_code, rule) == (400, "LIST-CURSOR-UNKNOWN")
    page = send(client, "GET", f"{GROUPS}?limit=1").json
    assert page["items"] == [first]
    assert page["pagination"]["has_more"] is True
    cursor = page["pagination"]["cursor"]
    following = send(client, "GET", f"{GROUPS}?cursor={cursor}")
    assert (following.status_code, following.json["items"]) == (200, [second])


def test_get_group_example_is_the_listed_item(client: FlaskClient) -> None:
    """READ-BACK: get a group answers the list example's item, not wrapped."""
    group = listed_group(client)
    response = send(client, "GET", f"{GROUPS}/{group['id']}")
    assert response.json == swap(
        LISTED_GROUP, {"abc123hash": group["id"], "2026-05-13T12:00:00Z": group["created_at"]}
    )


def test_update_example_replaces_the_whole_limit_lists(client: FlaskClient) -> None:
    """PATCH-REPLACE: the example body on the created group answers exactly the documented
    group: its earlier REQUEST/MINUTE and TOKEN/DAY limits are gone."""
    group = created_root(client)
    response = send(client, "PATCH", f"{GROUPS}/{group['id']}", UPDATE_REQUEST)
    real = {"abc123hash": group["id"], "2026-05-13T12:00:00Z": group["created_at"]}
    expected = swap(UPDATE_RESPONSE, real)
    assert (response.status_code, response.json) == (200, expected)


def test_machine_spec_update_sample_renames_and_keeps_the_models(client: FlaskClient) -> None:
    """PATCH-NAME, NULL-AS-OMITTED: `"models": null` leaves the model set as it was."""
    group = created_root(client)
    response = send(client, "PATCH", f"{GROUPS}/{group['id']}", SPEC_UPDATE_REQUEST)
    assert response.status_code == 200
    assert response.json == {**group, "metadata": {**group["metadata"], "name": "Acme Prod"}}


def test_delete_example_answers_the_documented_identity(client: FlaskClient) -> None:
    """DELETE-RESPONSE: `{id, metadata, deleted_at}`, exactly as documented."""
    group = created_root(client)
    response = send(client, "DELETE", f"{GROUPS}/{group['id']}")
    assert RFC3339_UTC.match(response.json["deleted_at"])
    real = {"abc123hash": group["id"], "2026-05-13T12:34:56Z": response.json["deleted_at"]}
    expected = swap(DELETE_RESPONSE, real)
    assert (response.status_code, response.json) == (200, expected)


def test_usage_example_has_the_documented_shape_with_null_usage(client: FlaskClient) -> None:
    """USAGE-RESPONSE: the documented shape for the created group; current_usage and reset_at
    are null, as documented until the first request lands (no traffic reaches the
    simulator)."""
    group = created_root(client)
    response = send(client, "GET", f"{GROUPS}/{group['id']}/usage")
    expected = json.loads(USAGE_RESPONSE)
    expected["usage"]["your-org/your-model"][0].update(current_usage=None, reset_at=None)
    assert (response.status_code, response.json) == (200, expected)


def test_api_key_examples_answer_as_documented(client: FlaskClient) -> None:
    """KEY-MINT, KEY-LIST, KEY-GET, KEY-REVOKE: the mint example and the documented answers
    of mint, list, get and revoke, with this key's prefix and secret."""
    keys = f"{GROUPS}/{created_root(client)['id']}/api_keys"
    minted = send(client, "POST", keys, MINT_REQUEST).json
    prefix, _, secret = minted["api_key"].partition(".")
    assert re.fullmatch(r"sky_[A-Za-z0-9]{12}", prefix)
    assert secret
    real = {DOC_PREFIX: prefix, "<api-key-secret>": secret}
    assert minted == swap(MINT_RESPONSE, real)
    assert send(client, "GET", keys).json == swap(LIST_KEYS_RESPONSE, real)
    assert send(client, "GET", f"{keys}/{prefix}").json == swap(GET_KEY_RESPONSE, real)
    revoked = send(client, "DELETE", f"{keys}/{prefix}")
    assert (revoked.status_code, revoked.json) == (200, swap(REVOKE_KEY_RESPONSE, real))


def test_endpoint_example_answers_with_region_and_unset_fields_as_null(
    client: FlaskClient,
) -> None:
    """EP-RESPONSE, EP-REGION, EP-DELETE: created from the example object's slug and targets,
    the endpoint reads as the example plus the machine spec's `region` (UNRESTRICTED) and its
    unset target fields as null (decision: the machine spec's response shape wins)."""
    example = json.loads(ENDPOINT_OBJECT)
    request = json.dumps({"slug": example["slug"], "targets": example["targets"]})
    response = send(client, "POST", ENDPOINTS, request)
    assert response.status_code == 200
    endpoint = response.json
    real = {"abc123hash": endpoint["id"], "2026-06-17T12:00:00Z": endpoint["created_at"]}
    expected = swap(ENDPOINT_OBJECT, real)
    expected["region"] = "UNRESTRICTED"
    expected["targets"][0].update(secret_id=None, target_model=None, base_url=None,
                                  vertex_config=None)  # fmt: skip
    assert endpoint == expected
    assert send(client, "GET", f"{ENDPOINTS}/{endpoint['id']}").json == expected
    deleted = send(client, "DELETE", f"{ENDPOINTS}/{endpoint['id']}")
    assert deleted.json == swap(ENDPOINT_DELETE_RESPONSE, {"abc123hash": endpoint["id"]})


@pytest.mark.parametrize("mode", ["INDEPENDENT", "CASCADING"])
def test_create_page_request_as_it_describes_it(client: FlaskClient, mode: str) -> None:
    """The create-a-group page holds no JSON example; the request it describes field by field
    (`Api-Key <your-key>`, a slug formatted `your-org/your-model`, one of the two modes, a
    `null` parent for a root) answers 200 with the fields it lists."""
    body = {
        "metadata": {"external_entity_id": f"cust-{mode.lower()}"},
        "models": [{"slug": "your-org/your-model"}],
        "hierarchy": {"limit_enforcement": mode, "parent_group_id": None},
    }
    response = send(client, "POST", GROUPS, json.dumps(body))
    assert response.status_code == 200
    assert set(response.json) == {
        "id", "metadata", "models", "effective_models", "hierarchy", "created_at"
    }  # fmt: skip
    assert response.json["hierarchy"] == body["hierarchy"]
