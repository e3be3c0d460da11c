"""An inference call, from its Authorization header to an admitted completion.

Only a group's keys call models, only as `Api-Key` (INF-AUTH-SCHEME, INF-AUTH-KEY,
INF-WORKSPACE-KEY). The key's liveness, the group's model set and its limits are decided
under the store's lock in one step, with the debit, so a key revoked or a group deleted a
moment ago stops the next call, and concurrent calls never over-admit (LIMIT-ENFORCED).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from simulator.core.access import KeyRing
from simulator.core.clock import Clock
from simulator.core.completions import Completion, CompletionRequest, ModelProfiles, complete
from simulator.core.errors import (
    BearerRefused,
    InferenceKeyRefused,
    Unauthenticated,
    WorkspaceKeyRefused,
)
from simulator.core.keys import digest
from simulator.core.metering import admit
from simulator.core.model import Group
from simulator.core.store import Store
from simulator.core.webhooks import BillingEvent, BillingSink, new_idempotency_key

COMPLETION_ID_PREFIX = "chatcmpl-"


@dataclass
class Inference:
    """The inference side of one app: its store, workspace keys, fake models and clock.

    `billing` gets the billing event of every accepted call whose workspace wants events
    (WEBHOOK-ONE-PER-CALL); it must not block (the delivery engine queues it).
    """

    store: Store
    keyring: KeyRing
    models: ModelProfiles
    clock: Clock
    billing: BillingSink | None = None

    def authenticate(self, authorization: str | None) -> bytes:
        """The digest of a live group key sent as `Api-Key`, or a 401 naming the reason."""
        scheme, _, credential = (authorization or "").strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer":  # INF-AUTH-SCHEME: documented, whatever the key
            raise BearerRefused()
        if scheme.lower() != "api-key" or not credential:  # INF-AUTH-KEY
            raise InferenceKeyRefused()
        key_digest = digest(credential)
        if self.store.key_owner(key_digest) is None:
            if self._is_workspace_key(credential):  # INF-WORKSPACE-KEY
                raise WorkspaceKeyRefused()
            raise InferenceKeyRefused("Unknown or revoked API key.")
        return key_digest

    def call(self, key_digest: bytes, request: CompletionRequest) -> Completion:
        """Admits and debits the call, or raises (nothing counted); the answer to send."""
        profile = self.models.of(request.model)
        tokens = request.prompt_tokens + _completion_tokens(request, len(profile.pieces))
        with self.store.lock:
            found = self.store.key_owner(key_digest)
            if found is None:  # revoked, or its group deleted, since authenticate()
                raise InferenceKeyRefused("Unknown or revoked API key.")
            now = self.clock.now()
            group, record = found
            admit(group, request.model, tokens, now)
        billing = self.billing
        if billing is not None and billing.wants(group.workspace):  # outside the lock
            billing.bill(billing_event(group, record.prefix, request, tokens, now))
        completion_id = COMPLETION_ID_PREFIX + self.store.new_id(length=24)
        return complete(request, profile, completion_id, int(now))

    def _is_workspace_key(self, credential: str) -> bool:
        try:
            self.keyring.authenticate(f"Api-Key {credential}")
        except Unauthenticated:
            return False
        return True


def billing_event(
    group: Group, prefix: str, request: CompletionRequest, tokens: int, now: float
) -> BillingEvent:
    """The billing event of an admitted call (WEBHOOK-FIELDS, WEBHOOK-TOKENS): the slug
    called, the calling key's prefix and its own group's external id; `tokens` counts the
    prompt and the completion."""
    return BillingEvent(
        workspace=group.workspace,
        idempotency_key=new_idempotency_key(now),
        timestamp=now,
        request_id=str(uuid.uuid4()),
        model_slug=request.model,
        external_entity_id=group.external_entity_id,
        api_key_prefix=prefix,
        input_tokens=request.prompt_tokens,
        output_tokens=tokens - request.prompt_tokens,
    )


def _completion_tokens(request: CompletionRequest, reply_tokens: int) -> int:
    """What the fake model will produce: its reply, cut at max_tokens (INF-MAX-TOKENS)."""
    cap = request.max_tokens
    return reply_tokens if cap is None else min(cap, reply_tokens)
