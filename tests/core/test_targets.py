"""Unit tests of endpoint targets, regions and updates in simulator.core, and of explicit nulls.

The provider table is openapi.yaml's `x-providers`; these tests pin what it says against the
machine spec's "Required for and only valid with …" sentences.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator.core.access import Workspace
from simulator.core.endpoints import EndpointBook, target_from_json
from simulator.core.errors import EndpointSlugImmutable, InvalidTarget
from simulator.core.model import group_update_from_json
from simulator.core.spec import default_region, load_spec, target_rules
from simulator.core.store import IdGenerator, utc_now

ACME = Workspace("acme", True, None, ("acme",))
VERTEX_CONFIG = {"project_id": "proj", "location": "us-central1"}
SAMPLES: dict[str, Any] = {
    "model_id": "3kZ9xqd",
    "environment_name": "staging",
    "secret_id": "sec",
    "target_model": "model",
    "base_url": "https://llm.example.com/v1",
    "vertex_config": VERTEX_CONFIG,
}
# provider → the fields it needs: the machine spec's and the docs' words, read by hand.
REQUIRED = {
    "BASETEN": {"model_id"},
    "BASETEN_MODEL_API": {"target_model"},
    "ANTHROPIC": {"secret_id", "target_model"},
    "OPENAI": {"secret_id", "target_model"},
    "VERTEX": {"secret_id", "target_model"},
    "OPENAI_COMPATIBLE": {"secret_id", "target_model", "base_url"},
}


def minimal(provider: str) -> dict[str, Any]:
    return {"provider": provider, **{name: SAMPLES[name] for name in REQUIRED[provider]}}


def test_provider_table_covers_the_six_providers_and_every_field() -> None:
    """EP-PROVIDER: x-providers has a row per enum value; each field is required, taken or
    refused by a named rule for every provider."""
    rules = target_rules()
    enum = load_spec()["components"]["schemas"]["Target"]["properties"]["provider"]["enum"]
    assert sorted(rules.providers) == sorted(enum) == sorted(REQUIRED)
    assert set(rules.fields) == set(SAMPLES)
    for provider, fields in rules.providers.items():
        assert set(fields.requires) == REQUIRED[provider]
        for name in rules.fields:
            assert name in fields.requires or name in fields.takes or name in rules.refused_by


@pytest.mark.parametrize("provider", sorted(REQUIRED))
def test_minimal_target_of_each_provider_is_stored_with_every_field(provider: str) -> None:
    """EP-RESPONSE: a stored target carries every field, null where it wasn't sent."""
    stored = target_from_json(minimal(provider))
    assert set(stored) == {"provider", *SAMPLES}
    assert {k for k, v in stored.items() if v is not None} == {"provider", *REQUIRED[provider]}


@pytest.mark.parametrize(
    ("provider", "field", "rule"),
    [
        (provider, name, rule)
        for provider, fields in target_rules().providers.items()
        for name, rule in fields.requires.items()
    ],
)
def test_a_missing_or_null_required_field_is_refused_by_its_rule(
    provider: str, field: str, rule: str
) -> None:
    """EP-MODEL-ID, EP-SECRET-ID, EP-TARGET-MODEL, EP-BASE-URL, EP-MODEL-API: required for
    the provider; null counts as missing (NULL-AS-OMITTED)."""
    target = minimal(provider)
    for broken in ({k: v for k, v in target.items() if k != field}, {**target, field: None}):
        with pytest.raises(InvalidTarget) as refused:
            target_from_json(broken)
        assert refused.value.rule == rule


@pytest.mark.parametrize(
    ("provider", "field"),
    [
        (provider, name)
        for provider, fields in target_rules().providers.items()
        for name in SAMPLES
        if name not in fields.requires and name not in fields.takes
    ],
)
def test_a_field_the_provider_does_not_take_is_refused(provider: str, field: str) -> None:
    """EP-MODEL-ID, EP-ENVIRONMENT-BASETEN, EP-BASE-URL, EP-VERTEX-CONFIG: only valid with
    their providers; the same field sent as null is accepted."""
    with pytest.raises(InvalidTarget) as refused:
        target_from_json({**minimal(provider), field: SAMPLES[field]})
    assert refused.value.rule == target_rules().refused_by[field]
    assert target_from_json({**minimal(provider), field: None})[field] is None


@pytest.mark.parametrize(
    ("provider", "field"),
    [("BASETEN", "environment_name"), ("BASETEN", "target_model"), ("BASETEN", "secret_id"),
     ("BASETEN_MODEL_API", "secret_id"), ("VERTEX", "vertex_config")],
)  # fmt: skip
def test_optional_fields_are_taken_and_kept(provider: str, field: str) -> None:
    """EP-TARGET-MODEL (optional for BASETEN), EP-VERTEX-CONFIG (optional for VERTEX)."""
    assert target_from_json({**minimal(provider), field: SAMPLES[field]})[field] == SAMPLES[field]


def test_vertex_config_keeps_only_its_two_fields() -> None:
    """EP-VERTEX-CONFIG: {project_id, location}; unknown fields are dropped (EXTRA-FIELDS)."""
    target = {**minimal("VERTEX"), "vertex_config": {**VERTEX_CONFIG, "zone": "b"}}
    assert target_from_json(target)["vertex_config"] == VERTEX_CONFIG


@pytest.mark.parametrize(
    "url",
    ["https://llm.example.com", "https://llm.example.com/v1", "HTTPS://llm.example.com/v1/",
     "https://[2001:db8::1]/v1", "https://10.0.0.1/openai"],
)  # fmt: skip
def test_https_base_urls_without_a_port_are_accepted(url: str) -> None:
    """EP-BASE-URL: "HTTPS base URL … Must not include a port." (the machine spec)."""
    assert target_from_json({**minimal("OPENAI_COMPATIBLE"), "base_url": url})["base_url"] == url


@pytest.mark.parametrize(
    "url",
    ["http://llm.example.com/v1", "https://llm.example.com:8443/v1", "https://llm.example.com:/v1",
     "https://[2001:db8::1]:443/v1", "llm.example.com/v1", "https:///v1", "https://llm example.com",
     "ftp://llm.example.com", ""],
)  # fmt: skip
def test_other_base_urls_are_refused(url: str) -> None:
    """EP-BASE-URL: plain http, a port, no host or no scheme give 400."""
    with pytest.raises(InvalidTarget) as refused:
        target_from_json({**minimal("OPENAI_COMPATIBLE"), "base_url": url})
    assert refused.value.rule == "EP-BASE-URL"


def book() -> EndpointBook:
    return EndpointBook(utc_now, IdGenerator(7))


def test_region_defaults_to_unrestricted_and_is_kept() -> None:
    """EP-REGION: no region (or null) is UNRESTRICTED; EU stays EU through an update."""
    endpoints = book()
    assert default_region() == "UNRESTRICTED"
    assert endpoints.create(ACME, "acme/a", [minimal("BASETEN")]).region == "UNRESTRICTED"
    assert endpoints.create(ACME, "acme/b", [minimal("BASETEN")], None).region == "UNRESTRICTED"
    eu = endpoints.create(ACME, "acme/c", [minimal("BASETEN")], "EU")
    updated = endpoints.update(ACME, eu.id, {"targets": [minimal("OPENAI")]})
    assert (updated.region, updated.targets[0]["provider"]) == ("EU", "OPENAI")


def test_update_with_nothing_sent_changes_nothing() -> None:
    """EP-PATCH: `{}`, `targets: null` and `slug: null` leave the endpoint as it was,
    updated_at included (NULL-AS-OMITTED)."""
    endpoints = EndpointBook(iter(["t1", "t2", "t3"]).__next__, IdGenerator(7))
    endpoint = endpoints.create(ACME, "acme/a", [minimal("BASETEN")])
    for changes in ({}, {"targets": None}, {"slug": None}, {"slug": None, "targets": None}):
        same = endpoints.update(ACME, endpoint.id, changes)
        assert (same.slug, same.targets, same.updated_at) == ("acme/a", endpoint.targets, "t1")
    assert endpoints.update(ACME, endpoint.id, {"targets": [minimal("OPENAI")]}).updated_at == "t2"


def test_rename_follows_the_configured_reading() -> None:
    """EP-RENAME: a new slug renames by default; with rename=False it is refused and the
    endpoint keeps its slug; the current slug is accepted either way."""
    endpoints = book()
    endpoint = endpoints.create(ACME, "acme/a", [minimal("BASETEN")])
    with pytest.raises(EndpointSlugImmutable):
        endpoints.update(ACME, endpoint.id, {"slug": "acme/b"}, rename=False)
    assert endpoints.update(ACME, endpoint.id, {"slug": "acme/a"}, rename=False).slug == "acme/a"
    assert endpoints.update(ACME, endpoint.id, {"slug": "acme/b"}).slug == "acme/b"
    assert endpoints.create(ACME, "acme/a", [minimal("BASETEN")]).slug == "acme/a"  # freed


def test_group_update_treats_a_null_name_as_not_sent() -> None:
    """NULL-AS-OMITTED: on PATCH `metadata.name: null` leaves the name as it is, as an
    omitted name does; `metadata: null` and `models: null` are not sent either."""
    for metadata in ({"name": None}, {}):
        assert group_update_from_json({"metadata": metadata}).name_sent is False
    update = group_update_from_json({"metadata": None, "models": [{"slug": "a/b"}]})
    assert (update.name_sent, update.models is not None) == (False, True)
    assert group_update_from_json({"metadata": {"name": "x"}, "models": None}).models is None
