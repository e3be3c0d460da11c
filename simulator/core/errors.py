"""The domain's error tree: one class per documented refusal, each naming its contract rule.

Errors carry no HTTP status; the app factory maps classes to statuses in one place.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

ECHO_LIMIT = 64  # characters of a caller's value an error message repeats


def echo(value: str, limit: int = ECHO_LIMIT) -> str:
    """`value` quoted for an error message, cut to `limit` characters with its length named:
    a path id or field of any length never comes back whole (`'aaa…' (5000 characters)`)."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value)} characters)"


class GatewayError(Exception):
    """A request the gateway refuses. `rule` is the contract rule ID it enforces."""

    rule: ClassVar[str] = "ERR-BODY"
    default_message: ClassVar[str] = "The request was refused."

    def __init__(self, message: str | None = None, *, rule: str | None = None) -> None:
        self.message = message or self.default_message
        if rule is not None:
            self.rule = rule  # type: ignore[misc]  # an instance may narrow its class's rule
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        """Response headers the refusal carries besides X-Frontier-Rule."""
        return {}

    def fields(self) -> dict[str, Any]:
        """Body fields the refusal carries besides `error`."""
        return {}


# Authentication and access (AUTH-MISSING, ACCESS-ONBOARDED, ACCESS-SCOPE).
class Unauthenticated(GatewayError):
    rule = "AUTH-MISSING"
    default_message = "Missing or unknown API key. Send 'Authorization: Api-Key <key>'."


class WorkspaceNotOnboarded(GatewayError):
    rule = "ACCESS-ONBOARDED"
    default_message = "This workspace isn't onboarded to Frontier Gateway."


class ManagementScopeRequired(GatewayError):
    rule = "ACCESS-SCOPE"
    default_message = "This API key doesn't have management scope."


# Payload (400). The rule is the one of the field that broke it.
class InvalidPayload(GatewayError):
    rule = "PAYLOAD-JSON"
    default_message = "The request body must be a JSON object."


class DuplicateSlug(InvalidPayload):
    rule = "SLUG-UNIQUE"


class DuplicateRateLimitType(InvalidPayload):
    rule = "RATE-ONE-PER-TYPE"


class DuplicateUsageLimit(InvalidPayload):
    rule = "USAGE-ONE-PER-TYPE-UNIT"


# Hierarchy and uniqueness.
class ParentNotFound(GatewayError):
    rule = "PARENT-EXISTS"
    default_message = "Parent group not found."


class ModeMismatch(GatewayError):
    rule = "MODE-MATCH"
    default_message = "A child group's limit_enforcement must match its parent's."


class HierarchyTooDeep(GatewayError):
    rule = "DEPTH-MAX"
    default_message = "Hierarchies are capped at five levels deep."


class ChildExceedsAncestorLimit(GatewayError):
    rule = "CASCADE-CEILING"
    # The one message the documentation quotes, word for word.
    default_message = "Child group exceeds parent group limit."


class DuplicateExternalEntityId(GatewayError):
    rule = "EXTID-UNIQUE"
    default_message = "A group with this external_entity_id already exists in this workspace."


# Per-group routes.
class GroupNotFound(GatewayError):
    rule = "GROUP-NOT-FOUND"
    default_message = "Group not found."


class GroupInOtherWorkspace(GatewayError):
    rule = "GROUP-OTHER-WORKSPACE"
    default_message = "This group belongs to another workspace."


class GroupUpdateEmpty(InvalidPayload):
    rule = "PATCH-SOMETHING"
    default_message = "Send at least one of metadata and models."


class ImmutableFieldChanged(InvalidPayload):
    rule = "PATCH-IMMUTABLE-REFUSED"


class InvalidCursor(InvalidPayload):
    rule = "LIST-CURSOR-UNKNOWN"
    default_message = "The cursor isn't one this server issued."


# API keys.
class PublicKeyMissing(InvalidPayload):
    rule = "REGISTER-PUBLIC-KEY"
    default_message = "Must configure a public key before registering API keys"


class SignatureInvalid(InvalidPayload):
    rule = "REGISTER-SIGNATURE"
    default_message = "Signature verification failed"


class KeyTooShortOrLong(InvalidPayload):
    rule = "REGISTER-LENGTH"


class KeyEntropyTooLow(InvalidPayload):
    rule = "REGISTER-ENTROPY"


class KeyPrefixTaken(InvalidPayload):
    rule = "REGISTER-PREFIX-UNIQUE"
    default_message = "A key with this prefix (its first 16 characters) is already registered."


class KeyNotFound(GatewayError):
    rule = "KEY-NOT-FOUND"
    default_message = "API key not found."


# Endpoints.
class EndpointSlugNotOwned(InvalidPayload):
    rule = "EP-SLUG-PREFIX"


class DuplicateEndpointSlug(InvalidPayload):
    rule = "EP-SLUG-UNIQUE"


class EndpointSlugImmutable(InvalidPayload):
    rule = "EP-RENAME"
    default_message = (
        "The slug is immutable after creation; to change it, create a new endpoint and "
        "delete this one."  # the machine spec's own words
    )


# A target that breaks its provider's rules (openapi.yaml `x-providers`), one class per rule.
class InvalidTarget(InvalidPayload):
    rule = "EP-PROVIDER"


class InvalidModelId(InvalidTarget):
    rule = "EP-MODEL-ID"


class SecretIdMissing(InvalidTarget):
    rule = "EP-SECRET-ID"


class TargetModelMissing(InvalidTarget):
    rule = "EP-TARGET-MODEL"


class ModelApiTargetModelMissing(InvalidTarget):
    rule = "EP-MODEL-API"


class EnvironmentNotForProvider(InvalidTarget):
    rule = "EP-ENVIRONMENT-BASETEN"


class InvalidBaseUrl(InvalidTarget):
    rule = "EP-BASE-URL"


class VertexConfigNotForProvider(InvalidTarget):
    rule = "EP-VERTEX-CONFIG"


class EndpointNotFound(GatewayError):
    rule = "EP-NOT-FOUND"
    default_message = "Endpoint not found."


class EndpointInOtherWorkspace(GatewayError):
    rule = "EP-OTHER-WORKSPACE"
    default_message = "This endpoint belongs to another workspace."


# The inference route (POST /v1/chat/completions).
class InferenceKeyRefused(GatewayError):
    """A missing, unknown or revoked group key, or a key of a deleted group."""

    rule = "INF-AUTH-KEY"
    default_message = "Missing, unknown or revoked API key. Send 'Authorization: Api-Key <key>'."


class BearerRefused(InferenceKeyRefused):
    rule = "INF-AUTH-SCHEME"
    default_message = (
        "Federated keys sent as Bearer tokens are rejected. Send 'Authorization: Api-Key <key>'."
    )


class WorkspaceKeyRefused(InferenceKeyRefused):
    rule = "INF-WORKSPACE-KEY"
    default_message = (
        "A workspace API key can't call models through the Gateway; use a key of a group."
    )


class ModelNotInGroup(GatewayError):
    rule = "INF-MODEL-SET"
    default_message = "This key's group can't call this model."


class LimitExceeded(GatewayError):
    """A call that doesn't fit one of its group's effective limits; `retry_after` is the
    seconds until it would, or None if it never can."""

    rule = "LIMIT-ENFORCED"
    default_message = "Rate limit exceeded."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        # LIMIT-429-BODY: whole seconds, rounded up, until the call would fit; none if never.
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(math.ceil(self.retry_after))}


class ManagementRateLimited(GatewayError):
    """More management requests in a second than the key may make (MGMT-RATE-LIMIT); the
    documented body, with `retry_after` whole seconds, also sent as Retry-After."""

    rule = "MGMT-RATE-LIMIT"
    default_message = "Rate limit exceeded. Please try again later."

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def fields(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}
