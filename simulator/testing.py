"""A handle on a running simulator for tests: its URL, its keys by role, its control API.

It speaks HTTP only, so it drives an in-process simulator (`ThreadedSimulator`)
and a `frontier-sim` started elsewhere alike. The pytest plugin hands one to each test.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from simulator.core.access import Scope
from simulator.core.config import Config, default_config
from simulator.harness.seed import Seed
from simulator.web.app import close, create_app
from simulator.web.guard import CONTROL_HEADER, new_token
from simulator.web.server import free_port, is_loopback, serve_in_thread
from simulator.webhooks import (
    ReceivedDelivery,
    WebhookReceiver,
    send_test_event,
    signed_event,
    verify_signature,
)

__all__ = [
    "Keys",
    "ReceivedDelivery",
    "SimulatorClient",
    "SimulatorControlError",
    "ThreadedSimulator",
    "WebhookReceiver",
    "free_port",
    "home_workspace",
    "send_test_event",
    "signed_event",
    "verify_signature",
]

if TYPE_CHECKING:
    import openai

DEFAULT_SLUG = "your-org/your-model"


@dataclass(frozen=True)
class Keys:
    """A configuration's keys by role, the four roles of the conformance suite's options.

    A role the configuration has no key for is None.
    """

    manage: str | None = None  # management scope, onboarded workspace
    view: str | None = None  # view scope, the same workspace
    other_workspace: str | None = None  # management scope, another onboarded workspace
    not_onboarded: str | None = None  # a workspace not onboarded to Frontier Gateway

    @classmethod
    def from_config(cls, config: Config) -> Keys:
        def first(scope: Scope, onboarded: bool, workspace: str | None = None) -> Any:
            return next(
                (
                    k
                    for k in config.keys
                    if k.scope is scope
                    and k.workspace.onboarded is onboarded
                    and workspace in (None, k.workspace.name)
                ),
                None,
            )

        manage = first(Scope.MANAGEMENT, True)
        home = manage.workspace.name if manage else None
        view = first(Scope.VIEW, True, home)
        other = next(
            (k for k in config.keys if k.workspace.onboarded and k.workspace.name != home), None
        )
        not_onboarded = next((k for k in config.keys if not k.workspace.onboarded), None)
        return cls(*(k.key if k else None for k in (manage, view, other, not_onboarded)))

    def as_dict(self) -> dict[str, str]:
        """Role → key, for the roles that have one."""
        return {role: key for role, key in asdict(self).items() if key is not None}


def home_workspace(config: Config) -> str | None:
    """The workspace of the configuration's `manage` key (see `Keys`)."""
    manage = Keys.from_config(config).manage
    return next((k.workspace.name for k in config.keys if k.key == manage), None)


class SimulatorClient:
    """A running simulator: its URL, its keys by role, and its control API.

    `app` is the Flask app when the simulator runs in this process, else None; `workspace`
    is the `manage` key's, the default of the webhook helpers. `control_token`: the token
    of a simulator bound beyond loopback (`frontier-sim` prints it); every control call and
    `X-Sim-Fault` request then carries it. On loopback, None.
    """

    def __init__(
        self,
        url: str,
        keys: Keys,
        *,
        app: Any = None,
        workspace: str | None = None,
        control_token: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.keys = keys
        self.app = app
        self.workspace = workspace
        self.control_token = control_token
        self._http = requests.Session()
        self._serial = itertools.count(1)

    def headers(self, role: str = "manage") -> dict[str, str]:
        """`{"Authorization": "Api-Key <key>"}` for a role of `keys` (manage, view, ...)."""
        key = self.keys.as_dict().get(role)
        if key is None:
            raise LookupError(f"no key for role {role!r}; roles: {sorted(self.keys.as_dict())}")
        return {"Authorization": f"Api-Key {key}"}

    def control_headers(self) -> dict[str, str]:
        """`X-Sim-Control`, which control calls carry: the token, or `1` on loopback.

        Send it beside `X-Sim-Fault` too when the simulator has a token.
        """
        return {CONTROL_HEADER: self.control_token or "1"}

    def reset(self) -> dict[str, Any]:
        """Back to the start-up state: no groups (or the seed's), no faults, empty journal."""
        return self._call("POST", "/_sim/reset")

    def fail_next(
        self, status: int = 503, *, retry_after: int | None = None, times: int = 1, **match: str
    ) -> dict[str, Any]:
        """The next `times` matching requests get `status` and are not carried out.

        `match` takes `method`, `path` (a glob) and `key`; 429 answers with the documented
        `{"error": ..., "retry_after": N}` and a Retry-After header (default 1 s).
        """
        effect = {"status": status} | ({} if retry_after is None else {"retry_after": retry_after})
        return self.add_fault(effect | {"times": times} | match)

    def delay_next(self, latency_ms: int, *, times: int = 1, **match: str) -> dict[str, Any]:
        """The next `times` matching requests wait `latency_ms` first, then are carried out."""
        return self.add_fault({"latency_ms": latency_ms, "times": times} | match)

    def drop_next(self, *, after: bool = False, times: int = 1, **match: str) -> dict[str, Any]:
        """The next matching requests lose their connection, before (or `after`) running."""
        return self.add_fault({"drop": "after" if after else "before", "times": times} | match)

    def cut_next(self, after: int, *, times: int = 1, **match: str) -> dict[str, Any]:
        """The next matching answers stop after `after` body chunks and lose their connection:
        a stream ends early after its 200 and `after` events (INF-STREAM-CUT). The call is
        carried out, and counted."""
        return self.add_fault({"cut": after, "times": times} | match)

    def add_fault(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        """Any rule of `FaultRule` in control-openapi.yaml; returns it with its id."""
        return self._call("POST", "/_sim/faults", json=dict(rule))

    def faults(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self._call("GET", "/_sim/faults")["rules"]
        return rules

    def clear_faults(self) -> None:
        self._call("DELETE", "/_sim/faults")

    def journal(
        self, *, limit: int | None = None, method: str | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        """Recent requests, oldest first, optionally the last `limit` matching method/path."""
        params = {"limit": limit, "method": method, "path": path}
        query = {k: v for k, v in params.items() if v is not None}
        entries: list[dict[str, Any]] = self._call("GET", "/_sim/journal", params=query)["entries"]
        return entries

    def export_state(self) -> dict[str, Any]:
        return self._call("GET", "/_sim/state")

    def import_state(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("PUT", "/_sim/state", json=dict(state))

    def load(self, seed: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Adds a seed document's groups, keys and endpoints; returns the keys' plaintexts."""
        keys: list[dict[str, Any]] = self._call("POST", "/_sim/load", json=dict(seed))["api_keys"]
        return keys

    def seed_ids(self, seed: int | None) -> None:
        self._call("POST", "/_sim/seed", json={"seed": seed})

    # The clock: every timestamp, rate window and daily window reads it.

    def clock(self) -> dict[str, Any]:
        """`{"now": "...Z", "frozen": bool, "offset_seconds": float | None}`."""
        return self._call("GET", "/_sim/clock")

    def set_time(self, when: datetime | str | float, *, frozen: bool = True) -> dict[str, Any]:
        """Sets the clock to `when` (an aware datetime, RFC 3339 text or Unix seconds).

        Frozen (the default), time then stands still until `advance()` or `set_time()`.
        """
        return self._call("PUT", "/_sim/clock", json={"time": _rfc3339(when), "frozen": frozen})

    def advance(self, seconds: float) -> dict[str, Any]:
        """Moves the clock forward `seconds`: a minute window or midnight UTC in no time."""
        return self._call("POST", "/_sim/clock/advance", json={"seconds": seconds})

    def real_time(self) -> dict[str, Any]:
        """Back to the real time (a reset does this too)."""
        return self._call("DELETE", "/_sim/clock")

    # Groups, keys and clients for the inference route, through the Gateway's own API.

    def create_group(
        self,
        models: Sequence[Mapping[str, Any]] | None = None,
        *,
        parent: str | None = None,
        mode: str | None = None,
        external_entity_id: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Creates a group with the `manage` key and returns it (the documented group object).

        `models` defaults to `[{"slug": "your-org/your-model"}]` (no limits); `mode` to the
        parent's, or INDEPENDENT for a root; `external_entity_id` to a fresh one.
        """
        if mode is None:  # MODE-MATCH: a child takes its parent's mode
            mode = self._mode_of(parent) if parent else "INDEPENDENT"
        body = {
            "metadata": {
                "name": name,
                "external_entity_id": external_entity_id or f"group-{next(self._serial)}",
            },
            "models": [dict(m) for m in models] if models is not None else [{"slug": DEFAULT_SLUG}],
            "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent},
        }
        return self._gateway("POST", "/v1/gateway/groups", json=body)

    def group_key(self, group_id: str, name: str | None = None) -> str:
        """Mints a key under the group and returns its plaintext, for `Api-Key <key>`."""
        minted = self._gateway(
            "POST", f"/v1/gateway/groups/{group_id}/api_keys", json={"name": name}
        )
        key: str = minted["api_key"]
        return key

    def usage(self, group_id: str) -> dict[str, Any]:
        """The group's usage: `{"customer_id": ..., "usage": {slug: [...]}}`."""
        return self._gateway("GET", f"/v1/gateway/groups/{group_id}/usage")

    def openai_client(
        self,
        group_id: str | None = None,
        *,
        key: str | None = None,
        max_retries: int = 0,
        **options: Any,
    ) -> openai.OpenAI:
        """An `openai.OpenAI` client calling this simulator with a group's key, as `Api-Key`.

        With no `key`, one is minted under `group_id` (with no group either, a group with
        `your-org/your-model` is created first). `max_retries` defaults to 0 so a test sees
        each 429 itself; the SDK would otherwise sleep on Retry-After. Needs the `openai`
        package (the `openai` extra of this project).
        """
        import openai  # only tests that ask for a client need the SDK

        if key is None:
            key = self.group_key(group_id or self.create_group()["id"])
        return openai.OpenAI(
            base_url=f"{self.url}/v1",
            api_key=key,
            # The Gateway rejects Bearer (INF-AUTH-SCHEME), the SDK's default scheme.
            default_headers={"Authorization": f"Api-Key {key}"},
            max_retries=max_retries,
            **options,
        )

    # Billing webhooks: receivers, the delivery log, dead letters, faults, test events.

    def set_webhook(self, url: str, secret: str, *, workspace: str | None = None) -> dict[str, Any]:
        """Every accepted call of the workspace now sends its billing event to `url`."""
        body = {"url": url, "secret": secret}
        return self._call("PUT", self._receiver_path(workspace), json=body)

    def webhook_receivers(self) -> list[dict[str, Any]]:
        """Every workspace's receiver: `{"workspace", "url", "secret", ...}`."""
        found: list[dict[str, Any]] = self._call("GET", "/_sim/webhooks/receivers")["receivers"]
        return found

    def remove_webhook(self, *, workspace: str | None = None) -> dict[str, Any]:
        return self._call("DELETE", self._receiver_path(workspace))

    def rotate_webhook_secret(self, secret: str, *, workspace: str | None = None) -> dict[str, Any]:
        """`secret` signs from now on; the old one too, for 24 h of the simulator's clock."""
        path = self._receiver_path(workspace) + "/rotate"
        return self._call("POST", path, json={"secret": secret})

    def send_webhook_event(
        self, *events: Mapping[str, Any], workspace: str | None = None
    ) -> dict[str, Any]:
        """Sends one synthetic delivery of `events` (each a set of fields in place of an
        accepted call's; none: one default event) through the simulator's delivery engine,
        retries and faults included. Returns the delivery."""
        body = {"events": [dict(e) for e in events]} if events else {}
        path = self._receiver_path(workspace) + "/events"
        delivery: dict[str, Any] = self._call("POST", path, json=body)["deliveries"][0]
        return delivery

    def webhook_deliveries(
        self, *, state: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The delivery log, oldest first (`state`: pending, delivered, failed,
        dead_lettered)."""
        query = {k: v for k, v in {"state": state, "limit": limit}.items() if v is not None}
        found: list[dict[str, Any]] = self._call("GET", "/_sim/webhooks/deliveries", params=query)[
            "deliveries"
        ]
        return found

    def dead_letters(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "/_sim/webhooks/dead-letters")["deliveries"]
        return found

    def redrive(self, request_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Sends dead letters (all, or those named) again as new deliveries."""
        body = {} if request_ids is None else {"request_ids": list(request_ids)}
        found: list[dict[str, Any]] = self._call(
            "POST", "/_sim/webhooks/dead-letters/redrive", json=body
        )["deliveries"]
        return found

    def add_webhook_fault(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        """A `WebhookFault` rule: `{"drop": "after"}`, `{"delay_ms": 500}`,
        `{"duplicate": true}`, each with an optional `workspace` and `times`."""
        return self._call("POST", "/_sim/webhooks/faults", json=dict(rule))

    def wait_for_deliveries(
        self,
        count: int,
        *,
        state: str | None = None,
        attempts: int = 0,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Polls the delivery log until it holds at least `count` deliveries (in `state`),
        each with at least `attempts` attempts settled. Wait for an attempt this way before
        moving a frozen clock: its retry is scheduled from the time it settled."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.webhook_deliveries(state=state)
            ready = [d for d in found if len(d["attempts"]) >= attempts]
            if len(ready) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"wanted {count} deliveries ({state or 'any'}), got {found}")
            time.sleep(0.02)

    def _receiver_path(self, workspace: str | None) -> str:
        name = workspace or self.workspace
        if name is None:
            raise LookupError("name the workspace: this client doesn't know its own")
        return f"/_sim/webhooks/receivers/{name}"

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if path.startswith("/_sim/"):
            kwargs["headers"] = {**kwargs.get("headers", {}), **self.control_headers()}
        response = self._http.request(method, self.url + path, timeout=30, **kwargs)
        if response.status_code >= 400:
            raise SimulatorControlError(f"{method} {path}: {response.status_code} {response.text}")
        body: dict[str, Any] = response.json()
        return body

    def _mode_of(self, group_id: str) -> str:
        mode: str = self._gateway("GET", f"/v1/gateway/groups/{group_id}")["hierarchy"][
            "limit_enforcement"
        ]
        return mode

    def _gateway(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._call(method, path, headers=self.headers(), **kwargs)


class SimulatorControlError(RuntimeError):
    """The simulator refused a call: a bad fault rule, snapshot or seed, or a helper's
    Gateway request (the message holds the status and the error)."""


def _rfc3339(when: datetime | str | float) -> str:
    if isinstance(when, str):
        return when
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("give an aware datetime (e.g. tzinfo=UTC): a naive one is ambiguous")
        return when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return datetime.fromtimestamp(when, UTC).isoformat().replace("+00:00", "Z")


class ThreadedSimulator:
    """A simulator app served from a thread of this process; a context manager."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        seed: Seed | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        control_token: str | None = None,
    ) -> None:
        self.config = config or default_config()
        # Beyond loopback the control plane needs a token (a fresh one unless given); its
        # clients carry it.
        self.control_token = control_token or (None if is_loopback(host) else new_token())
        self.app: Flask = create_app(self.config, seed=seed, control_token=self.control_token)
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._clients: list[SimulatorClient] = []

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator isn't running; call start() first")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> ThreadedSimulator:
        self._server = serve_in_thread(self.app, self._host, self._port)
        return self

    def stop(self) -> None:
        while self._clients:
            self._clients.pop().close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        close(self.app)  # the webhook delivery threads

    def client(self) -> SimulatorClient:
        """A handle on this simulator, with the keys of its configuration by role."""
        client = SimulatorClient(
            self.url,
            Keys.from_config(self.config),
            app=self.app,
            workspace=home_workspace(self.config),
            control_token=self.control_token,
        )
        self._clients.append(client)
        return client

    def __enter__(self) -> SimulatorClient:
        return self.start().client()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
