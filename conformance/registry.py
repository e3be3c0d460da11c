"""Checks: small named functions, each registered with the rule it asserts.

A check raises `CheckFailed` with a `Received: … / Documented: …` message, or `NotRun`
with a reason; anything else it raises is reported as a failure of its rule too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.catalogue import rule

if TYPE_CHECKING:
    from conformance.session import Session

CheckFunction = Callable[["Session"], None]

ROLES = ("view", "other", "not_onboarded", "no_public_key")  # keys beyond --api-key
ROLE_OPTIONS = {
    "view": "--view-key",
    "other": "--other-workspace-key",
    "not_onboarded": "--not-onboarded-key",
    "no_public_key": "--no-public-key-workspace-key",
}
# Other options a check may need, by the name it gives in `needs`.
OPTION_NEEDS = {
    "signing": "--signing-key",
    "org_prefix": "--org-prefix",
    "unprefixed": "--allow-unprefixed-ids",
    "inference": "--inference-url",
    "webhooks": "--webhook-listen",
    "webhook_secret": "--webhook-secret",
}
NEEDS = {**ROLE_OPTIONS, **OPTION_NEEDS}
RULES = "rules"  # hand-written checks
ORACLE = "oracle"  # random hierarchies against oracle.py
SCHEMA = "schema"  # schemathesis, one check per operation


class CheckFailed(AssertionError):
    """A rule was broken: `message` says what was received and what is documented."""

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule  # None: the check's own rule


class NotRun(Exception):
    """The check could not run; the reason is reported."""


@dataclass(frozen=True)
class Check:
    name: str
    rule: str
    function: CheckFunction = field(compare=False, repr=False)
    needs: tuple[str, ...] = ()
    family: str = RULES
    always: bool = False  # a check of a choice rule that also runs by default, more leniently
    reports: tuple[str, ...] = ()  # further rules this check passes or fails as a whole
    params: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def rules(self) -> tuple[str, ...]:
        return (self.rule, *self.reports)

    @property
    def label(self) -> str:
        """What reports and progress lines call it: `OK-200 success_is_200`, `POST /v1/…`."""
        return self.name if self.family == SCHEMA else f"{self.rule} {self.name}"

    @property
    def doc(self) -> str:
        return (self.function.__doc__ or "").strip()

    def runs_in(self, strict: bool) -> bool:
        return strict or self.always or not rule(self.rule).strict_only


# Filled as the modules of `conformance.checks` are imported; `conformance.checks.registered()`
# is the complete list.
REGISTERED: dict[str, Check] = {}


def check(
    rule_id: str, *, needs: tuple[str, ...] = (), always: bool = False, family: str = RULES
) -> Callable[[CheckFunction], CheckFunction]:
    """Registers a check of `rule_id`; `needs` names the extra keys and options it uses (NEEDS)."""
    rule(rule_id)  # an unknown rule ID fails at import, not in a report
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"unknown needs {sorted(unknown)}")

    def register(function: CheckFunction) -> CheckFunction:
        name = function.__name__
        if name in REGISTERED:
            raise ValueError(f"check {name} is registered twice")
        REGISTERED[name] = Check(name, rule_id, function, needs, family, always)
        return function

    return register
