"""openapi.yaml, loaded once: request validators per operation and the rule catalogue.

Request validation, enums and length limits come from the spec, never from copied constants.
A refused payload names the `x-rule` of the schema node that refused it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from simulator.core.errors import InvalidPayload

SPEC_PATH = Path(__file__).parent.parent / "openapi.yaml"
_BASE = "urn:frontier-gateway:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@cache
def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.safe_load(handle)
    return spec


def rule_catalogue() -> Mapping[str, Mapping[str, Any]]:
    catalogue: Mapping[str, Mapping[str, Any]] = load_spec()["x-rules"]
    return catalogue


@dataclass(frozen=True)
class ProviderFields:
    """What one provider's target needs (field → the rule a missing one breaks) and takes."""

    requires: Mapping[str, str]
    takes: frozenset[str]


@dataclass(frozen=True)
class TargetRules:
    """The `Target` schema's `x-providers` and `x-refused-by`: which fields each provider
    needs and may carry, and the rule that refuses a field a provider doesn't take."""

    fields: tuple[str, ...]  # every target field but `provider`
    providers: Mapping[str, ProviderFields]
    refused_by: Mapping[str, str]


@cache
def target_rules() -> TargetRules:
    target = load_spec()["components"]["schemas"]["Target"]
    return TargetRules(
        fields=tuple(name for name in target["properties"] if name != "provider"),
        providers={
            name: ProviderFields(dict(entry["requires"]), frozenset(entry["takes"]))
            for name, entry in target["x-providers"].items()
        },
        refused_by=dict(target["x-refused-by"]),
    )


@cache
def default_region() -> str:
    """EP-REGION: the region of an endpoint created without one."""
    region: str = load_spec()["components"]["schemas"]["Region"]["default"]
    return region


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    body_schema: Mapping[str, Any] | None
    query: tuple[Mapping[str, Any], ...] = ()  # the query parameters, $refs resolved


def operations(spec: Mapping[str, Any] | None = None) -> Iterator[Operation]:
    spec = spec or load_spec()
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                op = item[method]
                body = op.get("requestBody", {}).get("content", {}).get("application/json")
                params = [_deref(spec, p) for p in op.get("parameters", [])]
                query = tuple(p for p in params if p["in"] == "query")
                schema = (body or {}).get("schema")
                yield Operation(op["operationId"], method.upper(), path, schema, query)


def _deref(spec: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            spec = spec[part]
        node = spec
    return node


class QueryValidator:
    """Parses and checks one operation's query string against its parameter schemas.

    Integers are converted from their text first; unknown parameters are ignored. A refusal
    names the parameter's `x-rule`.
    """

    def __init__(self, parameters: tuple[Mapping[str, Any], ...]) -> None:
        self._params = {p["name"]: p for p in parameters}
        self._validators = {
            name: Draft202012Validator(p["schema"]) for name, p in self._params.items()
        }

    def parse(self, args: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, param in self._params.items():
            schema, rule = param["schema"], str(param.get("x-rule", "PAYLOAD-JSON"))
            if name not in args:
                if "default" in schema:
                    values[name] = schema["default"]
                continue
            value: Any = args[name]
            if schema.get("type") == "integer":
                value = _integer(value)
            error = best_match(self._validators[name].iter_errors(value))
            if error is not None or value is None:
                what = error.message if error is not None else "is not an integer"
                raise InvalidPayload(f"query parameter {name}: {what} ({rule})", rule=rule)
            values[name] = value
        return values


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


class BodyValidator:
    """Validates one operation's request body; built once per operation at app creation."""

    def __init__(self, spec: Mapping[str, Any], schema: Mapping[str, Any], strict: bool) -> None:
        if strict:  # EXTRA-FIELDS, opt-in: every object schema refuses unknown properties
            spec = _closed(copy.deepcopy(dict(spec)))
        self._spec = spec
        registry: Registry[Any] = Registry().with_resource(
            _BASE, Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        self._root = {"$ref": _BASE + str(schema["$ref"])}
        self._validator = Draft202012Validator(self._root, registry=registry)
        self._fast = jsonschema_rs.Draft202012Validator(
            self._root,
            registry=jsonschema_rs.Registry([(_BASE, dict(spec))], draft=jsonschema_rs.Draft202012),
            validate_formats=False,  # as jsonschema: in 2020-12 `format` only annotates
            offline=True,
        )

    def validate(self, body: Any) -> None:
        if self._accepts_fast(body) or self._validator.is_valid(body):
            return
        error = best_match(self._validator.iter_errors(body))
        where = ".".join(str(p) for p in error.absolute_path) or "body"
        rule = self._rule_of(error)
        raise InvalidPayload(f"{where}: {_describe(error)} ({rule})", rule=rule)

    def _accepts_fast(self, body: Any) -> bool:
        """jsonschema-rs's verdict, about 300 times faster than jsonschema's on a create body.

        Only an acceptance is taken from it: a refusal, or a body it can't convert (a lone
        surrogate in a string), goes to jsonschema, which names the rule that was broken.
        """
        try:
            return bool(self._fast.is_valid(body))
        except Exception:  # any conversion failure: jsonschema has the last word
            return False

    def _rule_of(self, error: ValidationError) -> str:
        """The last `x-rule` met walking the schema down to the keyword that failed.

        jsonschema leaves `$ref` hops out of the path, so a step the node lacks is looked
        up behind the node's `$ref`.
        """
        if error.validator == "additionalProperties" and error.validator_value is False:
            return "EXTRA-FIELDS"  # only strict mode closes objects; the field is unknown
        node: Any = self._root
        rule = "PAYLOAD-JSON"
        for step in error.absolute_schema_path:
            while isinstance(node, Mapping) and step not in node and "$ref" in node:
                node = self._resolve(node["$ref"])
                rule = node.get("x-rule", rule)
            node = node[step]
            if isinstance(node, Mapping):
                rule = node.get("x-rule", rule)
        if error.validator == "required":  # the missing property's own rule, if it has one
            missing = next(p for p in error.validator_value if p not in error.instance)
            rule = error.schema.get("properties", {}).get(missing, {}).get("x-rule", rule)
        return str(rule)

    def _resolve(self, ref: str) -> Any:
        node: Any = self._spec
        for part in ref.removeprefix(_BASE).lstrip("#/").split("/"):
            node = node[part]
        return node


def _describe(error: ValidationError) -> str:
    if error.validator in ("maxLength", "minLength"):
        bound = "at most" if error.validator == "maxLength" else "at least"
        return (
            f"is {len(error.instance)} characters long; it must be {bound} {error.validator_value}"
        )
    if error.validator in ("maxItems", "minItems"):  # MODELS-MAX, LIMITS-MAX: never echoed
        bound = "at most" if error.validator == "maxItems" else "at least"
        return f"has {len(error.instance)} entries; it must have {bound} {error.validator_value}"
    message = str(error.message).splitlines()[0]
    return message if len(message) <= 200 else message[:197] + "..."


def _closed(node: Any) -> Any:
    if isinstance(node, dict):
        types = node.get("type")
        if "properties" in node and "object" in (types if isinstance(types, list) else [types]):
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _closed(value)
    elif isinstance(node, list):
        for value in node:
            _closed(value)
    return node
