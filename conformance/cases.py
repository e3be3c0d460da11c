"""The generated cases of one operation: made safe, sent, recorded in the ledger, validated.

Safety edits keep a valid value valid and an invalid one invalid: external_entity_ids get
the run prefix, `{param}` path parameters and parent ids become ids from pools this run
created (live or deleted), the list filter is pinned to the run's own groups.
"""

from __future__ import annotations

import copy
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.datastructures import Headers

from conformance.evidence import Exchange
from conformance.ledger import BudgetExhausted, Resource
from conformance.registry import NotRun
from conformance.session import Session
from conformance.specmap import Collection, Operation
from conformance.target import STOP, Reply, retry_delay

if TYPE_CHECKING:
    from schemathesis.core.failures import Failure

POOL_SIZE = 2


@dataclass
class Pool:
    live: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)

    def pick(self, seed: str) -> str | None:
        ids = self.live + self.gone
        return ids[zlib.crc32(seed.encode()) % len(ids)] if ids else None


@dataclass(frozen=True)
class Fuzzing:
    """What the cases of every operation share, built once per run (by `fuzz.Fuzzer`)."""

    spec: Mapping[str, Any]  # openapi.yaml as the run reads it (relaxed unless strict)
    collections: Mapping[str, Collection]  # path parameter → the create that makes its ids
    checks: Mapping[str, Callable[..., Any]]  # rule ID → the schemathesis check deciding it
    on_errors: tuple[str, ...]  # the rules also checked on a 4xx


class CaseRunner:
    """Runs the generated cases of one operation: make safe, call, record, validate."""

    def __init__(self, s: Session, operation: Operation, fuzzing: Fuzzing) -> None:
        self.s = s
        self.op = operation
        self.collections = fuzzing.collections
        self.checks = fuzzing.checks
        self.on_errors = fuzzing.on_errors
        self.spec = fuzzing.spec
        self.pools: dict[str, Pool] = {}
        self.failures: dict[tuple[str, str], tuple[str, Exchange | None]] = {}
        self.calls = 0
        self.spent = False
        self.serial = 0
        created = [c for c in self.collections.values() if c.create_path == operation.path]
        self.creates = created[0] if created and operation.method == "POST" else None
        self.authorization: str | None = None  # a group's key, for group-key operations

    def prepare(self) -> None:
        """Builds the pools this operation needs, or says why it can't be fuzzed safely."""
        unscoped = self.op.method == "GET" and not self.op.path_params
        if unscoped and "external_entity_id" not in self.op.query_params:
            raise NotRun("listing it would read resources this run did not create")
        for param in self.op.path_params:
            self.pool(param)
        if "external_entity_id" in self.op.query_params:
            self.pool("group_id")
        if self.op.key_kind == "group":
            self.authorization = f"Api-Key {self._group_key()}"

    def _group_key(self) -> str:
        """A key minted under a group of this run whose model set holds the example's slug."""
        example = _example_body(self.spec, self.op)
        slug = example.get("model") if isinstance(example, dict) else None
        group = self.s.root(models=[{"slug": slug if isinstance(slug, str) else "org/model"}])
        reply = self.s.mint_key(group["id"])
        answer = reply.json
        if not reply.ok or not isinstance(answer, dict) or "api_key" not in answer:
            raise NotRun(f"could not mint a group key to fuzz with: {reply.describe(160)}")
        return str(answer["api_key"])

    def __call__(self, case: Any) -> None:
        if STOP.is_set():
            raise KeyboardInterrupt  # see target.STOP
        if self.spent:
            return
        self.make_safe(case)
        if self.creates is not None:
            try:
                self.s.run.ledger.reserve()
            except BudgetExhausted:
                self.spent = True
                return
        response = self.call(case)
        self.calls += 1
        self.track(case, response)
        self.validate(case, response)

    def report(self) -> None:
        if not self.calls and self.spent:
            raise NotRun("the write budget was spent before any request")
        for (rule_id, _title), (message, exchange) in self.failures.items():
            self.s.fail(rule_id, message, exchange)

    # Safety edits: valid stays valid, invalid stays invalid.

    def make_safe(self, case: Any) -> None:
        if self.authorization is not None and "Authorization" in (case.headers or {}):
            headers = {**case.headers, "Authorization": self.authorization}
            if _leaves_out(case, "authorization"):  # the run's key would fill the gap
                del headers["Authorization"]
            case.headers = headers
        given = dict(case.path_parameters or {})
        if given or self.op.path_params:  # a missing one is filled too: never a bare template
            case.path_parameters = {
                name: self._id_for(name, given.get(name, name))
                for name in dict.fromkeys([*self.op.path_params, *given])
            }
        if "external_entity_id" in self.op.query_params:
            query = dict(case.query or {})
            value = query.get("external_entity_id")
            if not (isinstance(value, str) and len(value) > 255):  # longer matches nothing
                query["external_entity_id"] = self.pool("group_id").external_ids[0]
            case.query = query
        if isinstance(case.body, dict):
            case.body = self.safe_body(case.body)

    def safe_body(self, body: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(body)
        metadata, hierarchy = body.get("metadata"), body.get("hierarchy")
        if isinstance(metadata, dict) and "external_entity_id" in metadata:
            metadata["external_entity_id"] = self._prefixed(metadata["external_entity_id"])
        if isinstance(hierarchy, dict) and isinstance(hierarchy.get("parent_group_id"), str):
            hierarchy["parent_group_id"] = self._id_for("group_id", hierarchy["parent_group_id"])
        slug = body.get("slug")
        if isinstance(slug, str) and slug.count("/") == 1 and all(slug.split("/")):
            org, name = slug.split("/")
            body["slug"] = f"{org}/{self._prefixed(name)}"  # an endpoint the run owns by name
        return body

    def _prefixed(self, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value  # an invalid value stays as it is, refused or not
        self.serial += 1
        marked = f"{self.s.run.prefix}f{self.serial}-{value}"
        return marked[:255] if len(value) <= 255 else marked

    def _id_for(self, param: str, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        chosen = self.pool(param).pick(value)
        return chosen if chosen is not None else value

    # Pools: resources this run creates for path parameters to point at.

    def pool(self, param: str) -> Pool:
        if param not in self.pools:
            collection = self.collections.get(param)
            if collection is None:
                raise NotRun(f"nothing in openapi.yaml creates a {{{param}}} to fuzz with")
            self.pools[param] = self._fill(collection)
        return self.pools[param]

    def _fill(self, collection: Collection) -> Pool:
        pool = Pool()
        made = [self._create(collection) for _ in range(POOL_SIZE + 1)]
        pool.live = [resource.id for resource in made]
        pool.external_ids = [r.external_entity_id for r in made if r.external_entity_id]
        if collection.deletable:  # one deleted id, for the "unknown id" paths
            gone = made[-1]
            if self.s.api.send("DELETE", gone.delete_path).ok:
                pool.live.remove(gone.id)
                pool.gone.append(gone.id)
                self.s.run.ledger.deleted(gone.id)
        return pool

    def _create(self, collection: Collection) -> Resource:
        parents = {p: self.pool(p).live[0] for p in _params(collection.create_path)}
        path = _format(collection.create_path, parents)
        example = collection.example if isinstance(collection.example, dict) else {}
        body = self.safe_body(example)
        self.s.run.ledger.reserve()
        reply = self.s.api.send("POST", path, body)
        resource = self._record(collection, parents, reply)
        if resource is None:
            raise NotRun(
                f"could not create a {{{collection.param}}} to fuzz with: "
                f"POST {path} answered {reply.describe(160)}"
            )
        return resource

    def _record(
        self, collection: Collection, params: dict[str, str], reply: Reply
    ) -> Resource | None:
        answer = reply.json
        if (
            not reply.ok
            or not isinstance(answer, dict)
            or not isinstance(answer.get(collection.id_field), str)
        ):
            return None
        new_id = answer[collection.id_field]
        metadata = answer.get("metadata")
        external_id = metadata.get("external_entity_id") if isinstance(metadata, dict) else None
        item = _format(collection.item_path, {**params, collection.param: new_id})
        resource = Resource(collection.param, new_id, item, self.s.api, external_id)
        self.s.run.ledger.record(resource)
        return resource

    # Calls and checks.

    def call(self, case: Any) -> Any:
        session = getattr(self.s.run.transport, "session", None)
        kwargs = {"session": session} if session is not None else {}
        response = case.call(**kwargs)
        for _ in range(5):  # back off on 429 as the answer says (M-ratelimit)
            if response.status_code != 429:
                break
            time.sleep(retry_delay(_reply(response)))
            response = case.call(**kwargs)
        if self.s.run.recording is not None:
            self.s.run.recording.add_response(response)
        return response

    def track(self, case: Any, response: Any) -> None:
        reply = _reply(response)
        if self.creates is not None:
            self._record(self.creates, dict(case.path_parameters or {}), reply)
        elif self.op.method == "DELETE" and reply.ok and self.op.path_params:
            self.s.run.ledger.deleted(str(case.path_parameters[self.op.path_params[-1]]))

    def validate(self, case: Any, response: Any) -> None:
        # schemathesis takes a quarter of a second to import; this module is imported by every
        # run, this function only by one that fuzzes.
        from schemathesis.core.failures import FailureGroup

        rules = [
            r
            for r in self.s.check.rules
            if response.status_code < 400 or self.s.strict or r in self.on_errors
        ]
        for rule_id in rules:
            try:
                case.validate_response(response, checks=[self.checks[rule_id]])
            except FailureGroup as group:
                for failure in group.exceptions:
                    self._remember(rule_id, case, response, failure)

    def _remember(self, rule_id: str, case: Any, response: Any, failure: Failure) -> None:
        key = (rule_id, failure.title)
        if key in self.failures:
            return
        detail = " ".join(str(failure.message).split())
        received = _reply(response).describe(160)
        message = (
            f"{self.op.label}: {failure.title}. Received: {received} for "
            f"`{case.as_curl_command()}` / Documented: {detail or failure.title}"
        )
        self.failures[key] = (message, self._exchange(response))

    def _exchange(self, response: Any) -> Exchange | None:
        """The request schemathesis sent and the answer, for the failure card."""
        sent = getattr(response, "request", None)
        if sent is None:
            return None
        headers = {str(k): str(v) for k, v in dict(getattr(sent, "headers", {}) or {}).items()}
        body = getattr(sent, "body", None)
        reply = _reply(response)
        return self.s.run.redact.response(str(sent.method), str(sent.url), headers, body, reply)


def _leaves_out(case: Any, header: str) -> bool:
    """Whether a coverage case is one that leaves out `header` (a missing-parameter case)."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    scenario = getattr(getattr(data, "scenario", None), "value", None)
    return scenario == "missing_parameter" and str(getattr(data, "parameter", "")).lower() == header


def _example_body(spec: Mapping[str, Any], operation: Operation) -> Any:
    item = spec["paths"][operation.path][operation.method.lower()]
    return item.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")


def _reply(response: Any) -> Reply:
    headers = [(name, value) for name, values in response.headers.items() for value in values]
    text = response.content.decode("utf-8", "replace") if response.content else ""
    return Reply(response.status_code, Headers(headers), text)


def _params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _format(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path
