"""control-openapi.yaml, loaded once: the formats of fault rules, seed files and snapshots.

A document that doesn't fit is refused with one line naming the place (`groups[2].id: ...`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

CONTROL_SPEC_PATH = Path(__file__).with_name("control-openapi.yaml")
_BASE = "urn:frontier-gateway:control-openapi"


class ControlInputError(ValueError):
    """A control-API body, seed file or snapshot that doesn't fit its format."""


@cache
def load_control_spec() -> dict[str, Any]:
    with CONTROL_SPEC_PATH.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.safe_load(handle)
    return spec


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    spec = load_control_spec()
    registry: Registry[Any] = Registry().with_resource(
        _BASE, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    root = {"$ref": f"{_BASE}#/components/schemas/{schema_name}"}
    return Draft202012Validator(root, registry=registry)


def first_error(schema_name: str, document: Any) -> tuple[list[Any], str] | None:
    """(path, message) of the first place `document` breaks the schema; None if it fits."""
    error = best_match(_validator(schema_name).iter_errors(document))
    if error is None:
        return None
    message = error.message.splitlines()[0]
    return list(error.absolute_path), message if len(message) <= 200 else message[:197] + "..."


def check(schema_name: str, document: Any, where: str = "") -> None:
    """Raises ControlInputError naming the first place `document` breaks the schema."""
    found = first_error(schema_name, document)
    if found is not None:
        steps, message = found
        raise ControlInputError(f"{join_path(where, steps) or '(top level)'}: {message}")


def join_path(where: str, steps: Sequence[Any]) -> str:
    """`workspaces.acme.groups[2].models`: names with dots, list indexes in brackets."""
    text = where
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text
