"""Endpoint targets: which fields each provider needs and takes, one check per rule.

The table is openapi.yaml's `x-providers` (what each provider requires, naming the rule a
missing field breaks, and takes besides) and `x-refused-by` (the rule refusing a field a
provider doesn't take), taken from the machine spec's "Required for and only valid with …"
and the docs pages. A refusal is asked for only where one of the two states it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from conformance.bodies import TARGET_SAMPLES, endpoint_body, endpoint_path
from conformance.catalogue import load_spec
from conformance.checks.endpoints import NEEDS, created, expect_endpoint, refuse
from conformance.registry import check
from conformance.session import Session


@dataclass(frozen=True)
class Case:
    what: str
    target: dict[str, Any]
    accepted: bool


def _table() -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(x-providers, x-refused-by, field → its own x-rule)."""
    target = load_spec()["components"]["schemas"]["Target"]
    own = {name: str(node.get("x-rule", "")) for name, node in target["properties"].items()}
    return target["x-providers"], target["x-refused-by"], own


def minimal(provider: str) -> dict[str, Any]:
    """The provider's target with exactly the fields it requires."""
    requires = _table()[0][provider]["requires"]
    return {"provider": provider, **{n: copy.deepcopy(TARGET_SAMPLES[n]) for n in requires}}


def cases(rule_id: str) -> Iterator[Case]:
    """Every request the table implies for `rule_id`: a provider's minimal target, each
    required field left out or null, each optional field sent, each foreign field sent."""
    providers, refused_by, own = _table()
    for provider, row in providers.items():
        base = minimal(provider)
        required = [name for name, rule in row["requires"].items() if rule == rule_id]
        if required:
            yield Case(f"a minimal {provider} target", base, True)
        for name in required:
            without = {k: v for k, v in base.items() if k != name}
            yield Case(f"a {provider} target without {name}", without, False)
            yield Case(f"a {provider} target with {name}: null", {**base, name: None}, False)
        for name in TARGET_SAMPLES:
            sample = {**base, name: copy.deepcopy(TARGET_SAMPLES[name])}
            taken = name in row["requires"] or name in row["takes"]
            if name in row["takes"] and refused_by.get(name, own[name]) == rule_id:
                yield Case(f"a {provider} target with {name}", sample, True)
            elif not taken and refused_by[name] == rule_id:
                yield Case(f"a {provider} target with {name}", sample, False)


def _run(s: Session, rule_id: str, extra: tuple[Case, ...] = ()) -> None:
    for case in (*cases(rule_id), *extra):
        body = endpoint_body(s.endpoint_slug(), case.target)
        if not case.accepted:
            refuse(s, body, case.what)
            continue
        endpoint = created(s, body, case.what)
        reply = s.send("GET", endpoint_path(endpoint["id"]))
        expect_endpoint(
            reply, body["slug"], body["targets"], f"a get of {case.what}", stamped=False
        )


@check("EP-PROVIDER", needs=NEEDS)
def each_provider_is_taken_and_an_unknown_one_refused(s: Session) -> None:
    """EP-PROVIDER: a minimal target of each of the six providers is accepted and reads back;
    an unknown provider, or one in lower case, gives 400.

    Source: https://api.baseten.co/v1/spec (GatewayEndpointTargetV1.provider)
    """
    for provider in _table()[0]:
        body = endpoint_body(s.endpoint_slug(), minimal(provider))
        endpoint = created(s, body, f"a minimal {provider} target")
        reply = s.send("GET", endpoint_path(endpoint["id"]))
        expect_endpoint(
            reply, body["slug"], body["targets"], f"a get of a {provider} target", stamped=False
        )
    for provider in ("MISTRAL", "openai"):
        target = {**minimal("OPENAI"), "provider": provider}
        refuse(s, endpoint_body(s.endpoint_slug(), target), f"provider {provider!r}")


@check("EP-MODEL-ID", needs=NEEDS)
def model_id_is_required_for_and_only_valid_with_baseten(s: Session) -> None:
    """EP-MODEL-ID: "Required for and only valid with BASETEN."

    Source: https://api.baseten.co/v1/spec (GatewayEndpointTargetV1.model_id)
    """
    _run(s, "EP-MODEL-ID")


@check("EP-SECRET-ID", needs=NEEDS)
def secret_id_is_required_for_external_providers(s: Session) -> None:
    """EP-SECRET-ID: ANTHROPIC, OPENAI, VERTEX and OPENAI_COMPATIBLE need secret_id (missing or
    null: 400); BASETEN and BASETEN_MODEL_API targets may carry one.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    _run(s, "EP-SECRET-ID")


@check("EP-TARGET-MODEL", needs=NEEDS)
def target_model_is_required_for_external_providers(s: Session) -> None:
    """EP-TARGET-MODEL: required for external providers, optional for BASETEN.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    _run(s, "EP-TARGET-MODEL")


@check("EP-ENVIRONMENT-BASETEN", needs=NEEDS)
def environment_name_is_for_baseten_targets_only(s: Session) -> None:
    """EP-ENVIRONMENT-BASETEN: a BASETEN target may name its environment; any other provider's
    target with environment_name gives 400.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    _run(s, "EP-ENVIRONMENT-BASETEN")


@check("EP-BASE-URL", needs=NEEDS)
def base_url_is_an_https_url_without_a_port_for_openai_compatible(s: Session) -> None:
    """EP-BASE-URL: "HTTPS base URL of the upstream OpenAI-compatible server. Must not include
    a port. Required for and only valid with OPENAI_COMPATIBLE."

    Source: https://api.baseten.co/v1/spec (GatewayEndpointTargetV1.base_url)
    """
    base = minimal("OPENAI_COMPATIBLE")
    urls = {
        "http://llm.example.com/v1": False,
        "https://llm.example.com:8443/v1": False,
        "https:///v1": False,  # no host
        "https://llm.example.com": True,
    }
    extra = tuple(
        Case(f"an OPENAI_COMPATIBLE target with base_url {url!r}", {**base, "base_url": url}, ok)
        for url, ok in urls.items()
    )
    _run(s, "EP-BASE-URL", extra)


@check("EP-VERTEX-CONFIG", needs=NEEDS)
def vertex_config_is_for_vertex_only_and_optional_there(s: Session) -> None:
    """EP-VERTEX-CONFIG (interpreted): a VERTEX target with or without vertex_config is
    accepted; one lacking location, or vertex_config on another provider, gives 400.

    Source: https://api.baseten.co/v1/spec (GatewayEndpointTargetV1.vertex_config)
    """
    vertex = minimal("VERTEX")
    extra = (
        Case("a VERTEX target without vertex_config", vertex, True),
        Case(
            "a VERTEX target whose vertex_config lacks location",
            {**vertex, "vertex_config": {"project_id": "fgc-project"}},
            False,
        ),
    )
    _run(s, "EP-VERTEX-CONFIG", extra)


@check("EP-MODEL-API", needs=NEEDS)
def model_api_target_names_its_model(s: Session) -> None:
    """EP-MODEL-API (choice): a BASETEN_MODEL_API target needs target_model.

    Source: https://api.baseten.co/v1/spec (GatewayEndpointTargetV1.provider)
    """
    _run(s, "EP-MODEL-API")


@check("EP-ENVIRONMENT", needs=NEEDS)
def any_environment_name_is_taken_and_an_empty_one_refused(s: Session) -> None:
    """EP-ENVIRONMENT (choice): production, staging, development and a custom name are
    accepted; an empty environment_name gives 400.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    baseten = minimal("BASETEN")
    extra = tuple(
        Case(f"environment {name!r}", {**baseten, "environment_name": name}, bool(name))
        for name in ("production", "staging", "development", "canary-eu", "")
    )
    _run(s, "EP-ENVIRONMENT", extra)


@check("EP-TARGET-NONEMPTY", needs=NEEDS)
def target_strings_are_not_empty(s: Session) -> None:
    """EP-TARGET-NONEMPTY (choice): an empty model_id, secret_id, target_model, project_id or
    location gives 400.

    Source: https://api.baseten.co/v1/spec (GatewayEndpointTargetV1)
    """
    vertex = {**minimal("VERTEX"), "vertex_config": dict(TARGET_SAMPLES["vertex_config"])}
    empties = [
        ("model_id", {**minimal("BASETEN"), "model_id": ""}),
        ("secret_id", {**vertex, "secret_id": ""}),
        ("target_model", {**vertex, "target_model": ""}),
        *(
            (name, {**vertex, "vertex_config": {**vertex["vertex_config"], name: ""}})
            for name in ("project_id", "location")
        ),
    ]
    _run(s, "EP-TARGET-NONEMPTY", tuple(Case(f"an empty {n}", t, False) for n, t in empties))
