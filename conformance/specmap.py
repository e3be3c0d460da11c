"""What the fuzzing layer reads from openapi.yaml: operations, the collections that create
the ids their path parameters take, and the spec relaxed to what the docs settle.

Generic over operations: a path `…/{param}` whose parent path has a POST is a collection
whose create answers the id that `param` takes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True)
class Collection:
    param: str  # the path parameter its ids fill, e.g. group_id
    create_path: str  # POST here creates one, e.g. /v1/gateway/groups
    item_path: str  # e.g. /v1/gateway/groups/{group_id}
    id_field: str  # the create answer's field holding the id
    example: Any  # the create operation's documented request body, if any
    deletable: bool


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    key_kind: str = "workspace"  # "group": it takes a group's key (x-key-kind of its scheme)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operations(spec: Mapping[str, Any]) -> list[Operation]:
    found = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                params = [_resolve(spec, p) for p in (*shared, *item[method].get("parameters", []))]
                found.append(
                    Operation(
                        method.upper(),
                        path,
                        _names(params, "path"),
                        _names(params, "query"),
                        _key_kind(spec, item[method]),
                    )
                )
    return found


def _key_kind(spec: Mapping[str, Any], operation: Mapping[str, Any]) -> str:
    """ "group" when the operation's own security names a scheme marked `x-key-kind: group`."""
    schemes = _path(spec, "components", "securitySchemes") or {}
    for requirement in operation.get("security") or []:
        for name in requirement:
            if (schemes.get(name) or {}).get("x-key-kind") == "group":
                return "group"
    return "workspace"


def collections(spec: Mapping[str, Any]) -> dict[str, Collection]:
    """Path parameter name → the collection that creates its ids."""
    paths: Mapping[str, Any] = spec.get("paths", {})
    found: dict[str, Collection] = {}
    for item_path, item in paths.items():
        parent, _, last = item_path.rpartition("/")
        if not (last.startswith("{") and last.endswith("}")) or "post" not in paths.get(parent, {}):
            continue
        param = last[1:-1]
        create = paths[parent]["post"]
        found[param] = Collection(
            param,
            parent,
            item_path,
            _id_field(spec, create, param),
            _example(create),
            "delete" in item,
        )
    return found


def _id_field(spec: Mapping[str, Any], create: Mapping[str, Any], param: str) -> str:
    schema = _resolve(
        spec, _path(create, "responses", "200", "content", "application/json", "schema") or {}
    )
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    for candidate in (param, param.rsplit("_", 1)[-1], "id"):
        if candidate in properties:
            return candidate
    return "id"


def _example(operation: Mapping[str, Any]) -> Any:
    return copy.deepcopy(_path(operation, "requestBody", "content", "application/json", "example"))


def _names(params: list[Any], where: str) -> tuple[str, ...]:
    return tuple(p["name"] for p in params if isinstance(p, dict) and p.get("in") == where)


def _path(node: Any, *steps: str) -> Any:
    for step in steps:
        if isinstance(node, list) and step.startswith("name="):
            node = next(
                (n for n in node if isinstance(n, dict) and n.get("name") == step[5:]), None
            )
        else:
            node = node.get(step) if isinstance(node, dict) else None
    return node


def _resolve(spec: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = _path(spec, *node["$ref"].lstrip("#/").split("/"))
    return node


# Default mode checks only what the documentation settles, so the schema the fuzzer sees
# drops what a choice rule or an undocumented bound adds. Each entry: (rule, where, dropped);
# a step `name=x` picks the list item whose `name` is x.
RELAXATIONS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    # THRESHOLD-INT: the 2^63-1 ceiling is the project's choice; the docs say "integer >= 1".
    ("THRESHOLD-INT", ("components", "schemas", "Threshold"), "maximum"),
    # A22: whether an omitted name comes back as null or not at all is undocumented.
    ("NAME-NULL", ("components", "schemas", "GroupMetadata", "required"), "name"),
    # LIST-FILTER: the list page documents no 400 for a filter of the wrong length.
    *(
        ("LIST-FILTER", ("paths", "/v1/gateway/groups", "get", "parameters",
                         "name=external_entity_id", "schema"), bound)
        for bound in ("minLength", "maxLength")
    ),
    # LIST-LIMIT-RANGE, LIST-CURSOR-UNKNOWN: the docs leave a limit out of range and an
    # invalid (or empty) cursor open ("behaviour is unspecified"); refusing them is a choice.
    *(
        ("LIST-LIMIT-RANGE", ("components", "parameters", "Limit", "schema"), bound)
        for bound in ("minimum", "maximum")
    ),
    ("LIST-CURSOR-UNKNOWN", ("components", "parameters", "Cursor", "schema"), "minLength"),
    # KEY-NAME-LENGTH: neither the docs nor the machine spec limit a key's name.
    *(
        ("KEY-NAME-LENGTH", ("components", "schemas", schema, "properties", "name"), "maxLength")
        for schema in ("CreateApiKeyRequest", "RegisterApiKeyRequest")
    ),
    # EP-TARGET-NONEMPTY, EP-ENVIRONMENT: the machine spec's target strings may be empty.
    *(
        ("EP-TARGET-NONEMPTY", ("components", "schemas", "Target", "properties", name), "allOf")
        for name in ("model_id", "secret_id", "target_model")
    ),
    *(
        ("EP-TARGET-NONEMPTY", ("components", "schemas", "Target", "properties", "vertex_config",
                                "properties", name), "allOf")
        for name in ("project_id", "location")
    ),
    ("EP-ENVIRONMENT", ("components", "schemas", "Target", "properties", "environment_name"),
     "minLength"),
)  # fmt: skip


def relaxed(spec: Mapping[str, Any], strict: bool) -> dict[str, Any]:
    copied = copy.deepcopy(dict(spec))
    if strict:
        return copied
    for _rule, where, dropped in RELAXATIONS:
        node = _path(copied, *where)
        if isinstance(node, dict):
            node.pop(dropped, None)
        elif isinstance(node, list) and dropped in node:
            node.remove(dropped)
    return copied
