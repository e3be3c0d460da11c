"""A fixed sample of mutants from `python -m benchmarks.mutation`, each killed by its own rule.

The whole mutant set takes a long run (docs/benchmarks.md); these few keep the checks that
were written for survivors honest in every test run. Each mutant is mutmut's change to one
function, applied here by editing that function's source and putting the edited function in
place of the original wherever the simulator's modules hold it; the suite, in its default
mode and in process, must then fail the mutant's rule.
"""

from __future__ import annotations

import inspect
import sys
import textwrap
from dataclasses import dataclass
from types import FunctionType, ModuleType
from typing import Any

import pytest

import conformance
import simulator.core.endpoints
import simulator.core.keys
import simulator.core.limits
import simulator.core.metering
import simulator.core.model
import simulator.core.pagination
import simulator.core.store
from simulator.web.app import create_app
from tests.builders import SUITE_KEYS


@dataclass(frozen=True)
class Mutant:
    owner: ModuleType | type  # the module, or the class of a method
    name: str
    was: str  # the text the mutant changes, exactly once in the function
    now: str
    rule: str  # the rule whose check kills it

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.name}"


SAMPLE = [
    # A full last page said more follow (has_more true, a cursor to an empty page).
    Mutant(
        simulator.core.pagination,
        "page",
        "more = start + limit < len(items)",
        "more = start + limit <= len(items)",
        "LIST-SHAPE",
    ),
    # A registered key lost the name it was registered under.
    Mutant(
        simulator.core.store.Store,
        "register_key",
        "return self._add_key(group, prefix, name, key)",
        "return self._add_key(group, prefix, None, key)",
        "REGISTER-OK",
    ),
    # A key of exactly 3.0 bits per character ("at least 3.0") was refused.
    Mutant(
        simulator.core.keys,
        "check_registered_key",
        "if bits < MIN_ENTROPY_BITS:",
        "if bits <= MIN_ENTROPY_BITS:",
        "REGISTER-ENTROPY",
    ),
    # Usage showed a reset time before any request had landed.
    Mutant(
        simulator.core.metering,
        "usage",
        '"reset_at": None if count is None else',
        '"reset_at": None if count is not None else',
        "USAGE-RESPONSE",
    ),
    # A signature with a character outside base64 was decoded leniently, and verified.
    Mutant(
        simulator.core.keys,
        "verify_signature",
        'base64.b64decode(signature or "", validate=True)',
        'base64.b64decode(signature or "", validate=False)',
        "REGISTER-SIGNATURE",
    ),
    # Listing the groups of a workspace that never had one failed.
    Mutant(
        simulator.core.store.Store,
        "list_groups",
        "self._listing.get(workspace, [])",
        "self._listing.get(workspace, None)",
        "LIST-SHAPE",
    ),
    # An update left an endpoint without its updated_at.
    Mutant(
        simulator.core.endpoints.EndpointBook,
        "update",
        "endpoint.updated_at = self._clock()",
        "endpoint.updated_at = None",
        "EP-RESPONSE",
    ),
    # Listing the endpoints of a workspace that has none failed.
    Mutant(
        simulator.core.endpoints.EndpointBook,
        "list",
        "self._listing.get(workspace, [])",
        "self._listing.get(workspace, None)",
        "EP-LIST",
    ),
    # A parent's ceilings, once worked out, were kept after the parent was updated.
    Mutant(
        simulator.core.limits,
        "group_ceilings",
        "cached[0] is not models",
        "cached[0] is models",
        "CASCADE-CEILING",
    ),
    # Deleting a child left it among its parent's children (500, then 500 for the parent).
    Mutant(
        simulator.core.store.Store,
        "delete_group",
        "group.parent.children.remove(group)",
        "group.parent.children.remove(None)",
        "DELETE-RESPONSE",
    ),
    # A group of more than eight models kept its slug index after an update.
    Mutant(
        simulator.core.model.Group,
        "model",
        "index[0] is not models",
        "index[0] is models",
        "USAGE-RESPONSE",
    ),
    # A delete of a wide tree rebuilt the listing with only the deleted groups.
    Mutant(
        simulator.core.store.Store,
        "_unlist",
        "if group.id in groups]",
        "if group.id not in groups]",
        "DELETE-RECURSIVE",
    ),
]


def mutated(mutant: Mutant) -> FunctionType:
    """The function with the mutant's change, compiled in its own module's namespace."""
    original = mutant.owner.__dict__[mutant.name]
    source = textwrap.dedent(inspect.getsource(original))
    assert source.count(mutant.was) == 1, f"{mutant.was!r} is not once in {mutant.name}"
    namespace: dict[str, Any] = dict(sys.modules[original.__module__].__dict__)
    exec(
        compile(source.replace(mutant.was, mutant.now), original.__code__.co_filename, "exec"),
        namespace,
    )
    function = namespace[mutant.name]
    assert isinstance(function, FunctionType)
    return function


def install(mutant: Mutant, mp: pytest.MonkeyPatch) -> None:
    """Puts the mutated function wherever a simulator module or class holds the original."""
    original = mutant.owner.__dict__[mutant.name]
    replacement = mutated(mutant)
    holders = [m for name, m in sys.modules.items() if name.startswith("simulator.")]
    holders += [v for m in list(holders) for v in vars(m).values() if isinstance(v, type)]
    for holder in holders:
        for attribute, value in list(vars(holder).items()):
            if value is original:
                mp.setattr(holder, attribute, replacement)


@pytest.mark.parametrize("mutant", [pytest.param(m, id=m.id) for m in SAMPLE])
def test_the_suite_kills_the_mutant_by_its_rule(
    mutant: Mutant, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(mutant, monkeypatch)
    result = conformance.run(
        app=create_app(), select=[mutant.rule], max_examples=5, fuzz=False, **SUITE_KEYS
    )
    failed = {rule for rule, outcome in result.rules.items() if outcome.outcome == "fail"}
    assert result.exit_code == 1
    assert mutant.rule in failed


def test_the_sample_unmutated_passes() -> None:
    rules = sorted({m.rule for m in SAMPLE})
    result = conformance.run(
        app=create_app(), select=rules, max_examples=5, fuzz=False, **SUITE_KEYS
    )
    assert result.exit_code == 0, result.failures
