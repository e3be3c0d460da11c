"""An inference call, from its Authorization header to an admitted completion.

Only a group's keys call models, only as `Api-Key` (INF-AUTH-SCHEME, INF-AUTH-KEY,
INF-WORKSPACE-KEY). The key's liveness, the group's model set and its limits are decided
under the store's lock in one step, with the debit, so a key revoked or a group deleted a
moment ago stops the next call, and concurrent calls never over-admit (LIMIT-ENFORCED).
"""

from __future__ import annotations

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
from simulator.core.store import Store

COMPLETION_ID_PREFIX = "chatcmpl-"


@dataclass
class Inference:
    """The inference side of one app: its store, workspace keys, fake models and clock."""

    store: Store
    keyring: KeyRing
    models: ModelProfiles
    clock: Clock

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
            admit(found[0], request.model, tokens, now)
        completion_id = COMPLETION_ID_PREFIX + self.store.new_id(length=24)
        return complete(request, profile, completion_id, int(now))

    def _is_workspace_key(self, credential: str) -> bool:
        try:
            self.keyring.authenticate(f"Api-Key {credential}")
        except Unauthenticated:
            return False
        return True


def _completion_tokens(request: CompletionRequest, reply_tokens: int) -> int:
    """What the fake model will produce: its reply, cut at max_tokens (INF-MAX-TOKENS)."""
    cap = request.max_tokens
    return reply_tokens if cap is None else min(cap, reply_tokens)
