"""The domain's error tree: one class per documented refusal, each naming its contract rule.

Errors carry no HTTP status; the app factory maps classes to statuses in one place.
"""

from __future__ import annotations

from typing import ClassVar


class GatewayError(Exception):
    """A request the gateway refuses. `rule` is the contract rule ID it enforces."""

    rule: ClassVar[str] = "ERR-BODY"
    default_message: ClassVar[str] = "The request was refused."

    def __init__(self, message: str | None = None, *, rule: str | None = None) -> None:
        self.message = message or self.default_message
        if rule is not None:
            self.rule = rule  # type: ignore[misc]  # an instance may narrow its class's rule
        super().__init__(self.message)


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
