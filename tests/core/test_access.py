"""Unit tests of simulator.core.access: finding the key behind a header, and who may do what."""

from __future__ import annotations

import pytest

from simulator.core.access import ApiKey, KeyRing, Scope, Workspace, authorize
from simulator.core.errors import ManagementScopeRequired, Unauthenticated, WorkspaceNotOnboarded

ACME = Workspace("acme")
INITECH = Workspace("initech", onboarded=False)
MANAGE = ApiKey("manage-key", ACME, Scope.MANAGEMENT)
VIEW = ApiKey("view-key", ACME, Scope.VIEW)
NOT_ONBOARDED = ApiKey("initech-key", INITECH, Scope.MANAGEMENT)
NOT_ONBOARDED_VIEW = ApiKey("initech-view", INITECH, Scope.VIEW)
SECRET = "sim-manage-acme"


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing([MANAGE, VIEW, NOT_ONBOARDED, NOT_ONBOARDED_VIEW])


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key manage-key",
        "Bearer manage-key",
        "api-key manage-key",
        "API-KEY manage-key",
        "bearer manage-key",
        "BEARER manage-key",
        "  Bearer manage-key  ",
    ],
)
def test_keyring_authenticate_accepts_both_schemes_in_any_case(
    keyring: KeyRing, header: str
) -> None:
    """AUTH-SCHEME: `Api-Key` and `Bearer` are both accepted, the scheme case-insensitively."""
    assert keyring.authenticate(header) is MANAGE


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "Api-Key",
        "Api-Key ",
        "Bearer    ",
        "manage-key",
        "Basic manage-key",
        "Token manage-key",
        "Api-Key unknown",
        "Api-Key MANAGE-KEY",
        "Api-Key manage-key-and-more",
    ],
)
def test_keyring_authenticate_refuses_missing_malformed_and_unknown(
    keyring: KeyRing, header: str | None
) -> None:
    """AUTH-MISSING: no header, an unknown scheme or an unknown key is Unauthenticated."""
    with pytest.raises(Unauthenticated) as raised:
        keyring.authenticate(header)
    assert raised.value.rule == "AUTH-MISSING"


def test_keyring_keys_lists_every_key(keyring: KeyRing) -> None:
    """KeyRing.keys gives back every configured key."""
    assert set(keyring.keys()) == {MANAGE, VIEW, NOT_ONBOARDED, NOT_ONBOARDED_VIEW}


@pytest.mark.parametrize(
    ("key", "scope"), [(MANAGE, Scope.MANAGEMENT), (MANAGE, Scope.VIEW), (VIEW, Scope.VIEW)]
)
def test_authorize_lets_a_sufficient_scope_through(key: ApiKey, scope: Scope) -> None:
    """ACCESS-SCOPE: management scope includes view scope."""
    authorize(key, scope)


def test_authorize_refuses_a_view_key_for_management() -> None:
    """ACCESS-SCOPE: a view key can't do what needs management scope."""
    with pytest.raises(ManagementScopeRequired):
        authorize(VIEW, Scope.MANAGEMENT)


@pytest.mark.parametrize("key", [NOT_ONBOARDED, NOT_ONBOARDED_VIEW])
@pytest.mark.parametrize("scope", [Scope.MANAGEMENT, Scope.VIEW])
def test_authorize_refuses_a_workspace_not_onboarded_first(key: ApiKey, scope: Scope) -> None:
    """ACCESS-ONBOARDED before ACCESS-SCOPE (ERR-ONE-RULE), whatever the key's scope."""
    with pytest.raises(WorkspaceNotOnboarded):
        authorize(key, scope)


def test_keyring_refuses_a_near_miss_key_like_any_other() -> None:
    """Keys are looked up by SHA-256 digest: a guess one character off is just unknown."""
    ring = KeyRing([ApiKey(SECRET, ACME, Scope.MANAGEMENT)])
    assert ring.authenticate(f"Api-Key {SECRET}").workspace is ACME
    for guess in (SECRET[:-1], SECRET[:-1] + "x", SECRET + "x", "x"):
        with pytest.raises(Unauthenticated):
            ring.authenticate(f"Api-Key {guess}")
