"""`--record DIR` and `frontier-conformance diff A B`: recordings of runs and where they differ.

Two recordings of the simulator must not differ (ids, timestamps, prefixes and random draws
normalised away); a recording of a deliberately different variant must differ exactly on
the rules that variant changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

import conformance
from conformance.cli import main
from conformance.recording import (
    EXCHANGES,
    SUMMARY,
    Exchange,
    Recording,
    differences,
    load,
    normalised,
)
from simulator.web.app import create_app
from tests.builders import SUITE_ARGS, SUITE_KEYS
from tests.servers import start_frontier_sim
from tests.variants.broken import BROKEN
from tests.variants.valid import VALID

STAMP = "2026-01-02T03:04:05Z"
ENDPOINT_RULES = ("EP-RENAME", "EP-REGION", "EP-PATCH", "EP-RESPONSE", "EP-LIST")


def record(app: Flask, directory: Path, select: tuple[str, ...] = ()) -> conformance.RunResult:
    recording = Recording(directory)
    result = conformance.run(app=app, record=recording, select=select, max_examples=5, **SUITE_KEYS)
    recording.save(result)
    return result


def test_two_recordings_of_the_simulator_do_not_differ(tmp_path: Path) -> None:
    """A whole default run, recorded twice: every exchange matches once normalised, the
    schemathesis cases and random hierarchies included."""
    first = record(create_app(), tmp_path / "a")
    record(create_app(), tmp_path / "b")
    a, b = load(tmp_path / "a"), load(tmp_path / "b")
    assert differences(a, b) == {}
    assert sum(len(x) for x in a.exchanges.values()) > 1000
    assert first.exit_code == 0


@pytest.mark.parametrize(
    ("name", "differing", "outcomes"),
    [
        ("endpoint_slugs_immutable", {"EP-RENAME"}, ("pass", "pass")),
        ("region_not_kept", {"EP-REGION", "EP-PATCH"}, ("pass", "fail")),
    ],
)
def test_diff_names_the_rules_a_variant_changes(
    tmp_path: Path, name: str, differing: set[str], outcomes: tuple[str, str]
) -> None:
    """A variant that renames nothing (valid: both readings conform) differs on EP-RENAME
    alone; one that drops the region differs on the rules that see it, and says B fails."""
    record(create_app(), tmp_path / "sim", ENDPOINT_RULES)
    with pytest.MonkeyPatch.context() as mp:
        app = next(v for v in BROKEN + VALID if v.name == name).build(mp)
        record(app, tmp_path / name, ENDPOINT_RULES)
    found = differences(load(tmp_path / "sim"), load(tmp_path / name))
    assert set(found) == differing
    for rule_id in differing:
        assert found[rule_id].lines, rule_id
    assert found[sorted(differing)[-1]].outcomes == outcomes


def test_cli_records_and_diffs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--record` writes the recording and names it; `diff` of two simulator runs exits 0,
    of the simulator and a variant exits 1 naming the rule, of a stray directory exits 2."""
    args = ["--app", "simulator.web.app:create_app", *SUITE_ARGS, "--select", *ENDPOINT_RULES]
    for name in ("a", "b"):
        assert main([*args, "--record", str(tmp_path / name)]) == 0
        assert f"report (recording): {tmp_path / name}" in capsys.readouterr().out
        assert {p.name for p in (tmp_path / name).iterdir()} == {SUMMARY, EXCHANGES}
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "The recordings do not differ." in capsys.readouterr().out
    with pytest.MonkeyPatch.context() as mp:
        app = next(v for v in VALID if v.name == "endpoint_slugs_immutable").build(mp)
        record(app, tmp_path / "immutable", ENDPOINT_RULES)
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "immutable")]) == 1
    out = capsys.readouterr().out
    assert "EP-RENAME (interpreted): A pass, B pass" in out
    assert "rename_renames_or_is_refused_consistently" in out
    assert "status: 200 ≠ 400" in out
    assert out.rstrip().endswith("1 rule(s) differ: EP-RENAME")
    assert main(["diff", str(tmp_path / "a"), str(tmp_path)]) == 2
    assert "is not a recording" in capsys.readouterr().err


def test_recording_keeps_no_key_secret_or_run_prefix(tmp_path: Path) -> None:
    """API keys become roles, minted secrets `<secret>`, the run prefix `<run>`: none of
    them is written to disk."""
    result = record(create_app(), tmp_path / "r", ("KEY-MINT", "AUTH-SCHEME", "EP-RESPONSE"))
    text = (tmp_path / "r" / EXCHANGES).read_text()
    assert result.prefix not in text
    assert "<run>" in text
    assert all(key not in text for key in ("sim-manage-acme", "sim-view-acme"))
    assert "Bearer <api>" in text
    assert "<api>" in text
    minted = [
        json.loads(line)["response"]["body"] for line in text.splitlines() if '"api_key"' in line
    ]
    assert minted
    assert all(body["api_key"].endswith(".<secret>") for body in minted)


def exchange(check: str, path: str, answer: object, body: object = None) -> Exchange:
    return Exchange(check, "POST", path, "Api-Key <api>", body, 200, "application/json", answer)


def test_placeholders_are_numbered_within_each_check() -> None:
    """Ids are named in the order a check meets them, so a difference in one check doesn't
    shift the names of the next; ids quoted in messages and timestamps are replaced too."""
    exchanges = [
        exchange("one", "/v1/gateway/groups", {"id": "g-aaaaaaaaaa", "created_at": STAMP}),
        exchange("one", "/v1/gateway/groups/g-bbbbbbbbbb", {"error": "No group 'g-bbbbbbbbbb'."}),
        exchange("two", "/v1/gateway/groups/g-cccccccccc", {"id": "g-cccccccccc"}),
        exchange("two", "/v1/gateway/groups?cursor=abc%3D&external_entity_id=x",
                 {"pagination": {"cursor": "def"}}, {"parent_group_id": "g-cccccccccc"}),
    ]  # fmt: skip
    written = list(normalised(exchanges, "fgc-12345678-"))
    assert written[0]["response"]["body"] == {"id": "<id:1>", "created_at": "<timestamp>"}
    assert written[1]["request"]["path"] == "/v1/gateway/groups/<id:2>"
    assert written[1]["response"]["body"] == {"error": "No group '<id:2>'."}
    assert written[2]["request"]["path"] == "/v1/gateway/groups/<id:1>"
    assert written[3]["request"]["path"] == (
        "/v1/gateway/groups?cursor=<cursor:1>&external_entity_id=<extid:1>"
    )
    assert written[3]["request"]["body"] == {"parent_group_id": "<id:1>"}
    assert written[3]["response"]["body"] == {"pagination": {"cursor": "<cursor:2>"}}


@pytest.mark.e2e
def test_a_recording_over_http_matches_one_in_process(tmp_path: Path) -> None:
    """The transport doesn't show in a recording: `frontier-sim` over a socket and the app
    in-process record the same exchanges, schemathesis's over HTTP included.

    `create_app()` has the management rate limit off, so `frontier-sim` runs without it too:
    a 429 the fuzzer's burst meets on one side only would be a difference of settings, not
    of transport.
    """
    select = (*ENDPOINT_RULES, "KEY-MINT", "SCHEMA-RESPONSE")
    record(create_app(), tmp_path / "inprocess", select)
    recording = Recording(tmp_path / "http")
    options = {"record": recording, "select": select, "max_examples": 5, **SUITE_KEYS}
    running = start_frontier_sim("--management-rate-limit", "0")
    try:
        recording.save(conformance.run(base_url=running.url, **options))
    finally:
        running.stop()
    assert differences(load(tmp_path / "inprocess"), load(tmp_path / "http")) == {}
