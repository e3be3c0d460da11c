"""Seed files: groups, hierarchies, API keys and endpoints to create, per workspace.

Every entry goes through the Gateway's own rules (schemas from openapi.yaml, then the store);
a refusal names the entry, e.g. `seed.yaml: workspaces.acme.groups[2] (cust_42_eng): ...`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from simulator.core.access import Workspace
from simulator.core.keys import check_registered_key
from simulator.core.model import INDEPENDENT, Group, new_group_from_json
from simulator.harness.control_schema import ControlInputError, first_error, join_path
from simulator.harness.snapshot import Domain, check_group_body, entry, onboarded_workspace


class SeedError(ControlInputError):
    """A seed that can't be loaded; the message starts with the file and the entry."""


@dataclass(frozen=True)
class Seed:
    document: Mapping[str, Any]
    source: str = "seed"


@dataclass(frozen=True)
class SeededKey:
    """An API key a seed created, with its plaintext (as given in the seed, or minted)."""

    workspace: str
    group: str  # the group's external_entity_id
    group_id: str
    name: str | None
    prefix: str
    api_key: str

    def json(self) -> dict[str, Any]:
        return asdict(self)


def load_seed(path: str | Path) -> Seed:
    """Reads a YAML or JSON seed file and checks its shape (`SeedDocument`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError(f"{path}: can't be read: {error}") from error
    except (ValueError, yaml.YAMLError) as error:
        raise SeedError(f"{path}: isn't valid YAML or JSON: {error}") from error
    return seed_from_mapping(data, str(path))


def seed_from_mapping(data: Any, source: str = "seed") -> Seed:
    found = first_error("SeedDocument", data)
    if found is not None:
        steps, message = found
        raise SeedError(f"{source}: {_place(data, steps)}: {message}")
    return Seed(data, source)


def apply_seed(domain: Domain, seed: Seed) -> list[SeededKey]:
    """Creates everything in the seed, in order; raises SeedError at the first refusal."""
    keys: list[SeededKey] = []
    for name, spec in seed.document["workspaces"].items():
        where = f"workspaces.{name}"
        try:
            workspace = onboarded_workspace(domain, name)
            keys += _seed_groups(domain, workspace, spec.get("groups", []), where)
            for i, item in enumerate(spec.get("endpoints", [])):
                with entry(f"{where}.endpoints[{i}]", item["slug"]):
                    _seed_endpoint(domain, workspace, item)
        except ControlInputError as error:
            message = str(error) if str(error).startswith(where) else f"{where}: {error}"
            raise SeedError(f"{seed.source}: {message}") from None
    return keys


def _seed_groups(
    domain: Domain, workspace: Workspace, items: Sequence[Mapping[str, Any]], where: str
) -> list[SeededKey]:
    index: dict[str, int] = {}
    for i, item in enumerate(items):
        index.setdefault(item["external_entity_id"], i)
    created: dict[str, Group] = {}
    keys: list[SeededKey] = []
    for i in _parents_first(items, index, where):
        item = items[i]
        with entry(f"{where}.groups[{i}]", item["external_entity_id"]):
            group = _seed_group(domain, workspace, item, created)
            created.setdefault(group.external_entity_id, group)
            for k, key in enumerate(item.get("api_keys", [])):
                with entry(f"api_keys[{k}]"):
                    keys.append(_seed_key(domain, group, key))
    return keys


def _parents_first(
    items: Sequence[Mapping[str, Any]], index: Mapping[str, int], where: str
) -> list[int]:
    """Entry indexes, each after its parent (file order otherwise); refuses a parent cycle."""
    order: list[int] = []
    placed: set[int] = set()
    for start in range(len(items)):
        chain: list[int] = []
        i: int | None = start
        while i is not None and i not in placed:
            if i in chain:
                extid = items[start]["external_entity_id"]
                raise ControlInputError(
                    f"{where}.groups[{start}] ({extid}): its parents form a cycle"
                )
            chain.append(i)
            parent = items[i].get("parent")
            i = index.get(parent) if parent is not None else None
        placed.update(chain)
        order.extend(reversed(chain))
    return order


def _seed_group(
    domain: Domain, workspace: Workspace, item: Mapping[str, Any], created: Mapping[str, Group]
) -> Group:
    parent = _parent(domain, workspace, item.get("parent"), created)
    metadata: dict[str, Any] = {"external_entity_id": item["external_entity_id"]}
    if "name" in item:
        metadata["name"] = item["name"]
    # A child takes its parent's mode unless the seed says otherwise (MODE-MATCH).
    mode = item.get("limit_enforcement", parent.mode if parent else INDEPENDENT)
    body = {
        "metadata": metadata,
        "models": item["models"],
        "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent.id if parent else None},
    }
    check_group_body(domain, body)  # the create schema; a seed may hold a group without models
    return domain.store.create_group(workspace.name, new_group_from_json(body))


def _parent(
    domain: Domain, workspace: Workspace, extid: str | None, created: Mapping[str, Group]
) -> Group | None:
    """The seed's own group of that external_entity_id, else one already in the state."""
    if extid is None:
        return None
    if extid in created:
        return created[extid]
    existing, _ = domain.store.list_groups(workspace.name, 0, 1, extid)
    if not existing:
        raise ControlInputError(f"parent {extid!r} is not defined")
    return existing[0]


def _seed_key(domain: Domain, group: Group, item: Mapping[str, Any]) -> SeededKey:
    name = item.get("name")
    store = domain.store
    if "key" in item:  # a caller-made key: the register rules, without a signature
        domain.validators["registerApiKey"].validate(dict(item))
        check_registered_key(item["key"])
        record = store.register_key(group.workspace, group.id, item["key"], name)
        plaintext = item["key"]
    else:
        domain.validators["createApiKey"].validate(dict(item))
        minted = store.mint_key(group.workspace, group.id, name)
        record, plaintext = minted.record, minted.plaintext
    return SeededKey(
        group.workspace, group.external_entity_id, group.id, name, record.prefix, plaintext
    )


def _seed_endpoint(domain: Domain, workspace: Workspace, item: Mapping[str, Any]) -> None:
    domain.validators["createEndpoint"].validate(dict(item))
    domain.endpoints.create(workspace, item["slug"], item["targets"], item.get("region"))


def _place(data: Any, steps: Sequence[Any]) -> str:
    """The path of a schema error; inside a group, its external_entity_id names the entry."""
    head, tail, node, labelled = "", "", data, False
    for step in steps:
        node = node[step] if isinstance(node, Mapping | list) else None
        if labelled:
            tail = join_path(tail, [step])
            continue
        head = join_path(head, [step])
        if isinstance(step, int) and isinstance(node, Mapping) and "external_entity_id" in node:
            head += f" ({node['external_entity_id']})"
            labelled = True
    return f"{head}: {tail}" if tail else head or "(top level)"
