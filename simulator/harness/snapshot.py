"""The whole state as JSON (`State` in control-openapi.yaml), and back.

An import re-creates every group through create's rules, with its own id and timestamp;
keys travel as SHA-256 digests only, never as plaintext. A group's inference counters and
the clock travel too, so an imported state meters on exactly where it left off.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from simulator.core.access import KeyRing, Workspace
from simulator.core.clock import (
    DAY_SECONDS,
    Clock,
    ClockState,
    clock_state_from_json,
    day_of,
)
from simulator.core.config import Config
from simulator.core.endpoints import Endpoint, EndpointBook
from simulator.core.errors import GatewayError
from simulator.core.keys import MINT_PREFIX
from simulator.core.model import Group, KeyRecord, ModelConfig, new_group_from_json
from simulator.core.serialize import model_json
from simulator.core.spec import BodyValidator
from simulator.core.store import IdGenerator, Store
from simulator.core.windows import WIDTHS, DailyCount, Meters, SlidingLog
from simulator.harness.control_schema import ControlInputError, check

FORMAT = "frontier-gateway-sim/state/1"


class Domain(Protocol):
    """What snapshots and seeds write to: an app's Gateway state (see `app.Gateway`)."""

    @property
    def config(self) -> Config: ...
    @property
    def store(self) -> Store: ...
    @property
    def endpoints(self) -> EndpointBook: ...
    @property
    def keyring(self) -> KeyRing: ...
    @property
    def validators(self) -> Mapping[str, BodyValidator]: ...
    @property
    def clock(self) -> Clock: ...


@dataclass
class Scratch:
    """An empty copy of a domain's parts, to try a change on before making it for real."""

    config: Config
    store: Store
    endpoints: EndpointBook
    keyring: KeyRing
    validators: Mapping[str, BodyValidator]
    clock: Clock


def scratch_of(domain: Domain) -> Scratch:
    store = Store(clock=domain.store.clock, new_id=IdGenerator())
    endpoints = EndpointBook(store.clock, store.new_id)
    return Scratch(domain.config, store, endpoints, domain.keyring, domain.validators, Clock())


def export_state(domain: Domain) -> dict[str, Any]:
    """The state at one moment. Under the locks it takes only what changes in place: per
    group its name and model set (replaced, never changed in place, so shared), its keys
    and its meters' entries; each endpoint's copy. A group's other fields never change.
    The JSON is built after the locks are released."""
    with domain.store.lock, domain.endpoints.lock:
        groups: list[GroupCopy] = [
            (
                g,
                g.name,
                g.models,
                tuple(g.keys.values()),
                _meters_copy(g.meters) if g.meters.rate or g.meters.daily else None,
            )
            for g in domain.store.all_groups()
        ]
        reserved = domain.store.reserved_prefixes()
        endpoints = [replace(e) for e in domain.endpoints.all()]
        clock = domain.clock.state()
    state: dict[str, Any] = {
        "format": FORMAT,
        "groups": [_group_state(copy) for copy in groups],
        "reserved_key_prefixes": [
            {"workspace": ws, "prefix": prefix, "group_id": gid} for ws, prefix, gid in reserved
        ],
        "endpoints": [_endpoint_state(e) for e in endpoints],
    }
    if not clock.is_real:
        state["clock"] = clock.json()
    return state


def prepare_state(domain: Domain, state: Any) -> Scratch:
    """`state` built in a scratch copy of the domain's parts, taking none of its locks;
    raises ControlInputError naming the first entry refused. An import is this, then
    `install_state`: all or nothing, as a refused state changes nothing."""
    check("State", state)
    scratch = scratch_of(domain)
    for i, item in enumerate(state["groups"]):
        with entry(f"groups[{i}]", item["metadata"].get("external_entity_id")):
            _restore_group(scratch, item)
    for i, item in enumerate(state.get("reserved_key_prefixes", [])):
        with entry(f"reserved_key_prefixes[{i}]", item["prefix"]):
            scratch.store.reserve_prefix(item["workspace"], item["prefix"], item["group_id"])
    for i, item in enumerate(state["endpoints"]):
        with entry(f"endpoints[{i}]", item["slug"]):
            _restore_endpoint(scratch, item)
    clock = state.get("clock")
    scratch.clock.restore(clock_state_from_json(clock) if clock else ClockState())
    return scratch


def install_state(domain: Domain, prepared: Scratch, taken: Iterable[str]) -> None:
    """Makes a prepared state the domain's under its locks, in time independent of the
    state's size but for one set union of `taken`, its `ids_in_use` (found beforehand, off
    the locks). `prepared` is left with the old state: dropped after the locks are
    released, the old state is freed outside them."""
    with domain.store.lock, domain.endpoints.lock:
        domain.store.swap_contents(prepared.store)
        domain.endpoints.swap_contents(prepared.endpoints)
        domain.store.new_id.reserve_all(taken)
        domain.clock.restore(prepared.clock.state())


def reserve_ids(domain: Domain) -> None:
    """Marks every id in use as issued, so the generator never hands one out again."""
    domain.store.new_id.reserve_all(ids_in_use(domain))


def ids_in_use(domain: Domain) -> list[str]:
    """Every id the domain holds that the generator made, or could make: groups', endpoints'
    and the generated part of every minted key prefix, live or reserved."""
    ids: list[str] = []
    prefixes = [prefix for _, prefix, _ in domain.store.reserved_prefixes()]
    for group in domain.store.all_groups():
        ids.append(group.id)
        prefixes.extend(group.keys)
    ids.extend(endpoint.id for endpoint in domain.endpoints.all())
    # A minted prefix is sky_ + a generated id.
    ids.extend(p.removeprefix(MINT_PREFIX) for p in prefixes if p.startswith(MINT_PREFIX))
    return ids


def check_group_body(domain: Domain, body: Mapping[str, Any]) -> None:
    """The Gateway's create schema for a group a state or seed holds, but for one rule.

    An update may empty a group's model set (`PATCH {"models": []}`, PATCH-REPLACE), so a
    state reachable through the API may hold a group without models: MODELS-NONEMPTY is a
    rule of the create request, not of the state. Such a body is checked with one entry in
    its place, so its other fields still meet every other rule.
    """
    if isinstance(body.get("models"), list) and not body["models"]:
        body = {**body, "models": [{"slug": "any-org/any-model"}]}
    domain.validators["createGroup"].validate(body)


def counts(domain: Domain) -> dict[str, int]:
    groups = domain.store.all_groups()
    return {
        "groups": len(groups),
        "api_keys": sum(len(g.keys) for g in groups),
        "endpoints": len(domain.endpoints.all()),
    }


def onboarded_workspace(domain: Domain, name: str) -> Workspace:
    """The configured workspace `name`; one not onboarded can hold nothing (ACCESS-ONBOARDED)."""
    found = next((w for w in domain.config.workspaces if w.name == name), None)
    if found is None:
        raise ControlInputError(
            f"no workspace {name!r} in the configuration ({domain.config.source})"
        )
    if not found.onboarded:
        raise ControlInputError(
            f"workspace {name!r} isn't onboarded to Frontier Gateway, so it can't hold "
            "groups or endpoints (ACCESS-ONBOARDED)"
        )
    return found


@contextmanager
def entry(where: str, label: str | None = None) -> Iterator[None]:
    """Turns a refusal inside one entry into a ControlInputError naming that entry."""
    place = f"{where} ({label})" if label else where
    try:
        yield
    except GatewayError as error:
        rule = "" if error.rule in error.message else f" ({error.rule})"
        raise ControlInputError(f"{place}: {error.message}{rule}") from None
    except ValueError as error:  # ControlInputError too
        raise ControlInputError(f"{place}: {error}") from None


# A group's meters as data, copied under the store's lock: each rate window's
# ((slug, type, unit), entries) and each daily count's ((slug, type), day, used).
MetersCopy = tuple[
    list[tuple[tuple[str, str, str], list[tuple[float, int]]]],
    list[tuple[tuple[str, str], int, int]],
]
# A group as the store's lock saw it: the group itself (its id, workspace,
# external_entity_id, mode, parent and created_at never change), its name, model set and
# keys, and its meters (None when empty).
GroupCopy = tuple[
    Group, str | None, tuple[ModelConfig, ...], tuple[KeyRecord, ...], MetersCopy | None
]


def _meters_copy(meters: Meters) -> MetersCopy:
    return (
        [(window, log.entries()) for window, log in meters.rate.items()],
        [(count_key, count.day, count.used) for count_key, count in meters.daily.items()],
    )


def _group_state(copy: GroupCopy) -> dict[str, Any]:
    group, name, models, keys, meters = copy
    state: dict[str, Any] = {
        "workspace": group.workspace,
        "id": group.id,
        "metadata": {"name": name, "external_entity_id": group.external_entity_id},
        "models": [model_json(m) for m in models],
        "hierarchy": {
            "limit_enforcement": group.mode,
            "parent_group_id": group.parent.id if group.parent else None,
        },
        "created_at": group.created_at,
        "api_keys": [{"prefix": r.prefix, "name": r.name, "sha256": r.digest.hex()} for r in keys],
    }
    if meters is not None:
        rate, daily = meters
        state["meters"] = {
            "rate": [
                {"slug": slug, "type": type_, "unit": unit, "entries": [list(e) for e in entries]}
                for (slug, type_, unit), entries in rate
            ],
            "daily": [
                {"slug": slug, "type": type_, "day": _date(day), "used": used}
                for (slug, type_), day, used in daily
            ],
        }
    return state


def _restore_meters(meters: Meters, item: Mapping[str, Any]) -> None:
    for window in item.get("rate", []):
        log = SlidingLog(WIDTHS[window["unit"]])
        for when, amount in window["entries"]:
            log.add(float(when), amount)
        meters.rate[(window["slug"], window["type"], window["unit"])] = log
    for count in item.get("daily", []):
        day = day_of(datetime.fromisoformat(count["day"]).replace(tzinfo=UTC).timestamp())
        meters.daily[(count["slug"], count["type"])] = DailyCount(day, count["used"])


def _date(day: int) -> str:
    return datetime.fromtimestamp(day * DAY_SECONDS, UTC).date().isoformat()


def _endpoint_state(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "workspace": endpoint.workspace,
        "id": endpoint.id,
        "slug": endpoint.slug,
        "targets": [dict(t) for t in endpoint.targets],
        "region": endpoint.region,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def _restore_group(domain: Domain, item: Mapping[str, Any]) -> None:
    workspace = onboarded_workspace(domain, item["workspace"])
    body = {k: item[k] for k in ("metadata", "models", "hierarchy")}
    check_group_body(domain, body)
    new = new_group_from_json(body)
    group = domain.store.restore_group(workspace.name, new, item["id"], item["created_at"])
    for key in item.get("api_keys", []):
        digest = bytes.fromhex(key["sha256"])
        domain.store.restore_key(group, key["prefix"], key.get("name"), digest)
    _restore_meters(group.meters, item.get("meters", {}))


def _restore_endpoint(domain: Domain, item: Mapping[str, Any]) -> None:
    workspace = onboarded_workspace(domain, item["workspace"])
    body = {name: item[name] for name in ("slug", "targets", "region") if name in item}
    domain.validators["createEndpoint"].validate(body)
    endpoint = Endpoint(
        item["id"], workspace.name, item["slug"], (), item["created_at"], item["updated_at"]
    )
    endpoint.region = item.get("region") or endpoint.region  # states without one: the default
    domain.endpoints.restore(workspace, endpoint, item["targets"])
