"""What a check works with: the target's clients, the ledger, and assertion helpers.

`Run` lives for a whole run; `Session` for one check. Every create goes through
`Session.create` (groups) or `Session.post_new` (keys, endpoints), which spend write budget
and record what was made for clean-up.
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conformance.bodies import (
    ENDPOINTS,
    GROUPS,
    INDEPENDENT,
    PREFIX_LENGTH,
    SIGNATURE_HEADER,
    endpoint_path,
    group_body,
    group_path,
    keys_path,
)
from conformance.catalogue import CHOICE, rule
from conformance.evidence import Exchange, Redactor, Witness
from conformance.ledger import BudgetExhausted, Client, Ledger, Resource, new_prefix
from conformance.options import Options
from conformance.outcomes import CHOICE_LABEL, DOCUMENTED_LABEL, FAIL, NOT_RUN, PASS, Recorder
from conformance.registry import NEEDS, ROLE_OPTIONS, SCHEMA, Check, CheckFailed, NotRun
from conformance.signing import load_signing_key
from conformance.target import HttpTransport, Reply, TargetUnreachable, Transport, WsgiTransport


@dataclass(frozen=True)
class Verdict:
    """How a check ended: failure messages, or the reason it didn't run."""

    failures: list[str] = field(default_factory=list)
    not_run: str | None = None


class Run:
    def __init__(self, options: Options, transport: Transport | None = None) -> None:
        self.options = options
        self.ledger = Ledger(new_prefix(), options.max_writes)
        self.transport = transport or _transport(options)
        self.recording = options.record
        if self.recording is not None:
            self.transport = self.recording.attach(self.transport, options, self.ledger.prefix)
        keys = {role: key for role in ("api", *ROLE_OPTIONS) if (key := options.key(role))}
        self.redact = Redactor(keys)
        self.witness = Witness(self.transport, self.redact, options.base_url)
        self.transport = self.witness
        self.clients = {
            role: Client(self.transport, key, role)
            for role in ("api", *ROLE_OPTIONS)
            if (key := options.key(role))
        }
        self.signer = load_signing_key(options.signing_key) if options.signing_key else None
        self.recorder = Recorder()
        self.cache: dict[str, Any] = {}  # per-run objects built once, e.g. the fuzzer's schema
        self._counter = itertools.count(1)

    @property
    def prefix(self) -> str:
        return self.ledger.prefix

    def external_id(self, label: str) -> str:
        return f"{self.prefix}{label}-{next(self._counter)}"

    def has(self, need: str) -> bool:
        """Whether the options give what a check `needs` (registry.NEEDS)."""
        options = self.options
        given = {
            "signing": self.signer is not None,
            "org_prefix": bool(options.org_prefix),
            # In-process nothing real can be touched, so no opt-in is needed there.
            "unprefixed": options.allow_unprefixed_ids or options.app is not None,
            "inference": options.checks_inference,
            "webhooks": options.webhook_listen is not None,
            "webhook_secret": bool(options.webhook_secret),
        }
        return self.clients.get(need) is not None if need in ROLE_OPTIONS else given[need]

    def reason_not_to_run(self, check: Check) -> str | None:
        """Why this run leaves `check` out (its mode, a missing key or option), or None."""
        if not check.runs_in(self.options.strict):
            return f"{rule(check.rule).level} rule: checked only with --strict"
        missing = [NEEDS[need] for need in check.needs if not self.has(need)]
        if missing:
            return f"needs {', '.join(missing)}"
        if check.family == SCHEMA and not self.options.fuzz:
            return "fuzzing is off"
        return None

    def execute(self, check: Check) -> Verdict:
        """Runs one check, records its outcome per rule and deletes what it created."""
        reason = self.reason_not_to_run(check)
        if reason is not None:
            for rule_id in check.rules:
                self.recorder.add(rule_id, check.name, NOT_RUN, reason)
            return Verdict(not_run=reason)
        session = Session(self, check)
        mark = self.ledger.mark()
        self.witness.forget()
        if self.recording is not None:
            self.recording.begin(check.name, check.rules)
        try:
            check.function(session)
        except CheckFailed as failed:
            exchange = self.witness.behind(failed.message)
            session.fail(failed.rule or check.rule, failed.message, exchange)
        except (NotRun, BudgetExhausted) as reason:
            return self._not_run(check, str(reason), session)
        except TargetUnreachable as error:
            message = f"Received: no answer ({error}) / Documented: an answer"
            session.fail(check.rule, message, self.witness.last)
        except Exception as error:  # a crash in a check is its rule's failure, with the cause
            session.fail(check.rule, _crash(error), self.witness.last)
        finally:
            self.ledger.cleanup(since=mark)
        return self._record(check, session)

    def _not_run(self, check: Check, reason: str, session: Session) -> Verdict:
        """Failures seen before the check had to stop still count."""
        if session.failures:
            return self._record(check, session)
        for rule_id in check.rules:
            self.recorder.add(rule_id, check.name, NOT_RUN, reason)
        return Verdict(not_run=reason)

    def _record(self, check: Check, session: Session) -> Verdict:
        failed = {rule_id for rule_id, _ in session.failures}
        for (rule_id, message), exchange in zip(session.failures, session.exchanges, strict=True):
            text = self.redact(message)
            if rule(rule_id).level == CHOICE:  # not what the docs say: what the simulator does
                text = text.replace(DOCUMENTED_LABEL, CHOICE_LABEL)
            self.recorder.add(rule_id, check.name, FAIL, text, exchange)
        for rule_id in dict.fromkeys([*check.rules, *session.passes]):
            if rule_id not in failed:
                self.recorder.add(rule_id, check.name, PASS)
        return Verdict(failures=[f"[{rule}] {message}" for rule, message in session.failures])


class Session:
    def __init__(self, run: Run, check: Check) -> None:
        self.run = run
        self.check = check
        self.failures: list[tuple[str, str]] = []
        self.exchanges: list[Exchange | None] = []  # the request behind each failure
        self.passes: list[str] = []

    # Keys and options.

    @property
    def strict(self) -> bool:
        return self.run.options.strict

    @property
    def api(self) -> Client:
        return self.run.clients["api"]

    def client(self, role: str) -> Client:
        if role not in self.run.clients:
            raise NotRun(f"needs {ROLE_OPTIONS[role]}")
        return self.run.clients[role]

    def external_id(self, label: str = "g") -> str:
        return self.run.external_id(label)

    @property
    def signer(self) -> Ed25519PrivateKey:
        if self.run.signer is None:
            raise NotRun(f"needs {NEEDS['signing']}")
        return self.run.signer

    def endpoint_slug(self, label: str = "ep") -> str:
        """`<org prefix>/<run prefix><label>-<n>`: an endpoint slug this run owns by name."""
        if not self.run.options.org_prefix:
            raise NotRun(f"needs {NEEDS['org_prefix']}")
        return f"{self.run.options.org_prefix}/{self.external_id(label)}"

    # Requests.

    def create(
        self,
        body: Any,
        client: Client | None = None,
        *,
        raw: bytes | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> Reply:
        """POST a group; a group that comes back is recorded for clean-up."""
        client = client or self.api
        self.run.ledger.reserve()
        reply = client.send("POST", GROUPS, body, raw=raw, headers=headers)
        answer = reply.json
        if reply.ok and isinstance(answer, dict) and isinstance(answer.get("id"), str):
            metadata = answer.get("metadata")
            external_id = metadata.get("external_entity_id") if isinstance(metadata, dict) else None
            resource = Resource(
                "group", answer["id"], group_path(answer["id"]), client, external_id
            )
            self.run.ledger.record(resource)
        return reply

    def get(
        self,
        group_id: str,
        client: Client | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> Reply:
        return (client or self.api).send("GET", group_path(group_id), headers=headers)

    def delete(
        self,
        group_id: str,
        client: Client | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> Reply:
        reply = (client or self.api).send("DELETE", group_path(group_id), headers=headers)
        if reply.ok:
            self.run.ledger.deleted(group_id)
        return reply

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        client: Client | None = None,
        *,
        raw: bytes | None = None,
    ) -> Reply:
        """A request that creates nothing (reads, updates)."""
        return (client or self.api).send(method, path, body, raw=raw)

    def patch(self, group_id: str, body: Any, client: Client | None = None) -> Reply:
        return self.send("PATCH", group_path(group_id), body, client)

    def post_new(
        self,
        kind: str,
        path: str,
        new_id: Callable[[Any], Any],
        body: Any = None,
        client: Client | None = None,
        *,
        raw: bytes | None = None,
        headers: Mapping[str, str | None] | None = None,
        items: str | None = None,
    ) -> Reply:
        """POST what may create a key or an endpoint; what comes back is recorded for clean-up
        as `<items or path>/<new_id(answer)>`."""
        client = client or self.api
        self.run.ledger.reserve()
        reply = client.send("POST", path, body, raw=raw, headers=headers)
        created = new_id(reply.json) if reply.ok else None
        if isinstance(created, str) and created:
            self.run.ledger.record(Resource(kind, created, f"{items or path}/{created}", client))
        return reply

    def mint_key(self, group_id: str, body: Any = None, client: Client | None = None) -> Reply:
        """POST a key under a group (an empty object when no body is given)."""
        body = {} if body is None else body
        return self.post_new("api key", keys_path(group_id), _field("prefix"), body, client)

    def register_key(
        self,
        group_id: str,
        key: str,
        raw: bytes,
        signature: str | None,
        client: Client | None = None,
    ) -> Reply:
        """POST `raw` (a body holding `key`) to register; `signature` None sends no header."""
        return self.post_new(
            "api key", keys_path(group_id, "/register"), lambda _: key[:PREFIX_LENGTH],
            client=client, raw=raw, headers={SIGNATURE_HEADER: signature},
            items=keys_path(group_id),
        )  # fmt: skip

    def revoke_key(self, group_id: str, prefix: str, client: Client | None = None) -> Reply:
        reply = self.send("DELETE", keys_path(group_id, f"/{prefix}"), client=client)
        if reply.ok:
            self.run.ledger.deleted(prefix)
        return reply

    def create_endpoint(self, body: Any, client: Client | None = None) -> Reply:
        return self.post_new("endpoint", ENDPOINTS, _field("id"), body, client)

    def delete_endpoint(self, endpoint_id: str, client: Client | None = None) -> Reply:
        reply = self.send("DELETE", endpoint_path(endpoint_id), client=client)
        if reply.ok:
            self.run.ledger.deleted(endpoint_id)
        return reply

    def group(self, body: dict[str, Any], client: Client | None = None) -> dict[str, Any]:
        """Creates a group the check needs; a refusal fails the check as a setup step."""
        reply = self.create(body, client)
        answer = reply.json
        if not reply.ok or not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise CheckFailed(
                f"Setup: a valid create was not carried out. Received: {reply.describe()} "
                f"for {_short(body)} / Documented: 200 with the new group"
            )
        return answer

    def root(self, mode: str = INDEPENDENT, **fields: Any) -> dict[str, Any]:
        return self.group(group_body(self.external_id("root"), mode=mode, **fields))

    def child(self, parent: dict[str, Any], **fields: Any) -> dict[str, Any]:
        mode = parent["hierarchy"]["limit_enforcement"]
        body = group_body(self.external_id("child"), mode=mode, parent=parent["id"], **fields)
        return self.group(body)

    def deleted_id(self) -> str:
        """The id of a group this run created and deleted: the "unknown id" of every check."""
        group = self.root()
        self.expect_accepted(self.delete(group["id"]), "deleting a group this run created")
        return str(group["id"])

    # Assertions.

    def expect_status(self, reply: Reply, status: int, documented: str) -> None:
        if reply.status != status:
            raise CheckFailed(f"Received: {reply.describe()} / Documented: {status} {documented}")

    def expect_status_in(self, reply: Reply, statuses: tuple[int, ...], documented: str) -> None:
        if reply.status not in statuses:
            allowed = " or ".join(str(status) for status in statuses)
            raise CheckFailed(f"Received: {reply.describe()} / Documented: {allowed} {documented}")

    def expect_group(self, reply: Reply, documented: str) -> dict[str, Any]:
        """A 2xx whose body is a group with an id; returns the group."""
        self.expect_accepted(reply, documented)
        answer = reply.json
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise CheckFailed(
                f"Received: {reply.describe()} / Documented: the group as JSON, with its id"
            )
        return answer

    def expect_accepted(self, reply: Reply, documented: str) -> None:
        """Any 2xx: the exact 200 is rule OK-200's business, checked on its own."""
        if not reply.ok:
            raise CheckFailed(f"Received: {reply.describe()} / Documented: 200, {documented}")

    def expect_refused(self, reply: Reply, status: int, documented: str, reason: str) -> None:
        """The documented refusal `status`; `reason` is counted as observed."""
        self.expect_status(reply, status, documented)
        self.run.recorder.observed.add(reason)

    def confirm_free(self, external_id: str, after: str) -> None:
        """CREATE-ATOMIC: after a refusal, a valid create with the same id succeeds."""
        reply = self.create(group_body(external_id))
        if not reply.ok:
            raise CheckFailed(
                f"Received: {reply.describe()} for a valid create reusing external_entity_id "
                f"{external_id!r} after {after} / Documented: a refused create changes "
                "nothing, so the id is still free",
                rule="CREATE-ATOMIC",
            )
        self.passed("CREATE-ATOMIC")

    def passed(self, rule_id: str) -> None:
        self.passes.append(rule_id)

    def fail(self, rule_id: str, message: str, exchange: Exchange | None = None) -> None:
        """A failure that doesn't stop the check (for checks that report on several rules);
        `exchange` is the request behind it, the check's last one if not given."""
        self.failures.append((rule_id, message))
        self.exchanges.append(exchange or self.run.witness.behind(message))


def _transport(options: Options) -> Transport:
    if options.app is not None:
        return WsgiTransport(options.app)
    if not options.base_url:
        raise ValueError("a run needs a base URL or an app")
    return HttpTransport(options.base_url)


def _field(name: str) -> Callable[[Any], Any]:
    return lambda answer: answer.get(name) if isinstance(answer, dict) else None


def _short(body: Any, limit: int = 200) -> str:
    text = repr(body)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _crash(error: Exception) -> str:
    where = traceback.extract_tb(error.__traceback__)[-1]
    return (
        f"Received: the check crashed with {type(error).__name__}: {error} "
        f"(at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}) / Documented: an answer "
        "the check can read"
    )
