"""The checks of list, update, usage, API keys and endpoints: their options, and their safety."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from flask import Flask
from werkzeug.datastructures import Headers

import conformance
from conformance.catalogue import load_spec
from conformance.checks import registered
from conformance.cli import build_parser, resolve
from conformance.ledger import Client, Ledger, Resource
from conformance.outcomes import NOT_RUN, PASS
from conformance.signing import load_signing_key, sign
from conformance.target import Reply
from simulator.core.config import DEMO_SIGNING_KEY
from simulator.web.app import create_app
from tests.builders import SUITE_KEYS
from tests.conformance.conftest import app_endpoints, app_groups, url_groups
from tests.conformance.test_inprocess import counting

ONE_CHARACTER = "external_entity_id_of_1_character_is_accepted"


def check_records(result: conformance.RunResult, rule_id: str, check: str) -> set[tuple[str, str]]:
    return {(r.outcome, r.message) for r in result.rules[rule_id].records if r.check == check}


def test_catalogue_every_rule_has_a_hand_written_check() -> None:
    """Every rule of openapi.yaml's catalogue has at least one hand-written check."""
    assert set(load_spec()["x-rules"]) - {check.rule for check in registered()} == set()


def test_run_without_options_reports_the_new_checks_not_run() -> None:
    """Checks needing a signing key, an org prefix or another key say which option is missing."""
    result = conformance.run(app=create_app(), api_key=SUITE_KEYS["api_key"], fuzz=False)
    assert result.exit_code == 0
    expected = {
        "REGISTER-OK": "needs --signing-key",
        "REGISTER-SIGNATURE": "needs --signing-key",
        "REGISTER-ENTROPY": "needs --signing-key",
        "REGISTER-PUBLIC-KEY": "needs --no-public-key-workspace-key",
        "EP-RESPONSE": "needs --org-prefix",
        "EP-SLUG-UNIQUE": "needs --org-prefix",
        "EP-OTHER-WORKSPACE": "needs --org-prefix, --other-workspace-key",
        "ACCESS-VIEW": "needs --not-onboarded-key; needs --view-key",
    }
    for rule_id, reason in expected.items():
        assert (result.outcome(rule_id), result.rules[rule_id].reason) == ("not run", reason)
    for rule_id in ("LIST-CURSOR", "PATCH-CASCADE", "USAGE-RESPONSE", "KEY-LIST"):
        assert result.outcome(rule_id) == "pass", rule_id


def test_run_one_character_id_runs_in_process_without_opt_in() -> None:
    """In-process nothing real can be touched, so the unprefixed-id check runs."""
    result = conformance.run(app=create_app(), select=["EXTID-REQUIRED"], fuzz=False, **SUITE_KEYS)
    assert check_records(result, "EXTID-REQUIRED", ONE_CHARACTER) == {(PASS, "")}


@pytest.mark.e2e
def test_run_one_character_id_needs_opt_in_over_a_socket(sim_url: str) -> None:
    """Over HTTP the unprefixed-id check runs only with allow_unprefixed_ids, and cleans up."""
    options: dict[str, Any] = {"select": ["EXTID-REQUIRED"], "fuzz": False, **SUITE_KEYS}
    result = conformance.run(base_url=sim_url, **options)
    assert result.outcome("EXTID-REQUIRED") == "pass"  # its other checks ran
    assert check_records(result, "EXTID-REQUIRED", ONE_CHARACTER) == {
        (NOT_RUN, "needs --allow-unprefixed-ids")
    }
    result = conformance.run(base_url=sim_url, allow_unprefixed_ids=True, **options)
    assert check_records(result, "EXTID-REQUIRED", ONE_CHARACTER) == {(PASS, "")}
    assert url_groups(sim_url) == []


def test_run_interrupted_deletes_keys_and_endpoints(app: Flask) -> None:
    """Ctrl-C in the middle of the key and endpoint checks leaves nothing behind."""
    seen: list[int] = []
    select = ["KEY-LIST", "REGISTER-LENGTH", "EP-LIST", "EP-PROVIDER"]
    for interrupt_at in (6, 20):
        result = conformance.run(
            app=counting(app, seen, interrupt_at=len(seen) + interrupt_at),
            select=select, fuzz=False, **SUITE_KEYS,
        )  # fmt: skip
        assert result.exit_code == conformance.runner.INTERRUPTED
        assert (app_groups(app), app_endpoints(app)) == ([], [])


class Recording:
    """A transport that answers 200 and remembers what was deleted, in order."""

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def send(self, method: str, path: str, headers: Any, body: bytes | None) -> Reply:
        self.deleted.append(path)
        return Reply(200, Headers(), "{}")


def test_ledger_revokes_keys_before_deleting_their_group() -> None:
    """Clean-up goes newest first: a group's keys, then the group; endpoints too."""
    transport = Recording()
    client = Client(transport, "k", "api")
    ledger = Ledger("fgc-test-", 10)
    ledger.record(Resource("group", "g1", "/v1/gateway/groups/g1", client))
    ledger.record(Resource("api key", "sky_1", "/v1/gateway/groups/g1/api_keys/sky_1", client))
    ledger.record(Resource("endpoint", "e1", "/v1/gateway/endpoints/e1", client))
    ledger.cleanup()
    assert transport.deleted == [
        "/v1/gateway/endpoints/e1",
        "/v1/gateway/groups/g1/api_keys/sky_1",
        "/v1/gateway/groups/g1",
    ]


def test_signing_key_loads_base64_pem_text_and_pem_file(tmp_path: Path) -> None:
    """--signing-key takes base64 of the raw 32 bytes, PEM text or a PEM file's path."""
    key = load_signing_key(DEMO_SIGNING_KEY)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    path = tmp_path / "signing.pem"
    path.write_text(pem)
    for value in (pem, str(path)):
        again = load_signing_key(value)
        assert sign(again, b"body") == sign(key, b"body")
    public = key.public_key()
    public.verify(base64.b64decode(sign(key, b"body")), b"body")  # raises if wrong


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"signing_key": "not a key"}, "--signing-key"),
        ({"signing_key": base64.b64encode(b"x" * 16).decode()}, "--signing-key"),
        ({"org_prefix": "acme/team"}, "--org-prefix"),
        ({"org_prefix": ""}, "--org-prefix"),
    ],
)
def test_run_refuses_a_bad_signing_key_or_org_prefix(options: dict[str, Any], message: str) -> None:
    """A signing key that isn't one, or an org prefix with a slash, is a usage error."""
    with pytest.raises(conformance.UsageError, match=message):
        conformance.run(app=create_app(), api_key=SUITE_KEYS["api_key"], **options)


def test_signing_key_error_never_shows_the_key() -> None:
    """The usage error names the option, not the (secret) value."""
    secret = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()[:31]).decode()
    with pytest.raises(conformance.UsageError) as raised:
        conformance.run(app=create_app(), api_key=SUITE_KEYS["api_key"], signing_key=secret)
    assert secret not in str(raised.value)


def test_cli_reads_the_new_options_from_the_environment() -> None:
    """FRONTIER_SIGNING_KEY, _ORG_PREFIX, _NO_PUBLIC_KEY_WORKSPACE_KEY, _ALLOW_UNPREFIXED_IDS."""
    environ = {
        "FRONTIER_SIGNING_KEY": DEMO_SIGNING_KEY,
        "FRONTIER_ORG_PREFIX": "acme",
        "FRONTIER_NO_PUBLIC_KEY_WORKSPACE_KEY": "sim-manage-globex",
        "FRONTIER_ALLOW_UNPREFIXED_IDS": "yes",
    }
    values = resolve(build_parser().parse_args(["--org-prefix", "my-org"]), environ)
    assert values["signing_key"] == DEMO_SIGNING_KEY
    assert values["org_prefix"] == "my-org"
    assert values["no_public_key_workspace_key"] == "sim-manage-globex"
    assert values["allow_unprefixed_ids"] is True
