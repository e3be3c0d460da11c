"""Smoke tests of the tester: deliberately broken apps fail with the right rule ID."""

from __future__ import annotations

import pytest

import conformance
import simulator.core.store
from simulator.core.model import NewGroup
from simulator.core.store import Group, Store
from simulator.web.app import create_app
from tests.builders import SUITE_KEYS
from tests.conformance.test_reports import answers_201


class ForgetfulStore(Store):
    """Broken: a second group with a taken external_entity_id is accepted (EXTID-UNIQUE)."""

    def create_group(self, workspace: str, new: NewGroup) -> Group:
        if self.find_by_external_id(workspace, new.external_entity_id) is not None:
            self.release_external_id(workspace, new.external_entity_id)
        return super().create_group(workspace, new)


def failed_rules(result: conformance.RunResult) -> set[str]:
    return {failure.rule for failure in result.failures}


def test_broken_201_fails_ok_200_only() -> None:
    """An app answering 201 fails OK-200 and no other rule."""
    result = conformance.run(app=answers_201(), fuzz=False, **SUITE_KEYS)
    assert result.exit_code == 1
    assert failed_rules(result) == {"OK-200"}
    assert "Received: 201" in result.rules["OK-200"].failures[0].message


def test_broken_duplicate_check_fails_extid_unique() -> None:
    """A store that skips the duplicate check fails EXTID-UNIQUE, named by its check."""
    result = conformance.run(app=create_app(store=ForgetfulStore()), fuzz=False, **SUITE_KEYS)
    assert failed_rules(result) == {"EXTID-UNIQUE"}
    (failure,) = result.rules["EXTID-UNIQUE"].failures
    assert failure.check == "duplicate_external_entity_id_is_refused"
    assert "/ Documented: 400" in failure.message


def test_broken_six_levels_fail_depth_max(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store allowing a sixth level fails DEPTH-MAX."""
    monkeypatch.setattr(simulator.core.store, "MAX_DEPTH", 6)
    result = conformance.run(app=create_app(), fuzz=False, **SUITE_KEYS)
    assert failed_rules(result) == {"DEPTH-MAX"}
