"""What a user installs is what they need: the base install (simulator, `frontier-sim`, the
pytest fixture) declares every package its code imports and nothing of the conformance
suite's; the suite's own tools are the `conformance` extra; nobody's pytest is capped; and
the plugin, which every pytest start of a user's project loads, imports nothing heavy.

`python -m benchmarks.plugin_cost` measures the same in fresh environments (pip, pytest 9).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import conformance
from conformance import runner
from conformance.runner import UsageError
from simulator.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
NAME = re.compile(r"^[A-Za-z0-9._-]+")
# What the fixture's first use may import; before that, none of these.
HEAVY = (
    "flask", "werkzeug", "jsonschema", "jsonschema_rs", "yaml", "requests", "granian",
    "cryptography", "schemathesis", "hypothesis", "openai",
)  # fmt: skip


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    found = set()
    for requirement in requirements:
        match = NAME.match(requirement)
        assert match, requirement
        found.add(normal(match.group()))
    return found


BASE = requirement_names(PROJECT["dependencies"])
CONFORMANCE = requirement_names(PROJECT["optional-dependencies"]["conformance"])
DEV = requirement_names(PROJECT["optional-dependencies"]["dev"])


def third_party_imports(package: str) -> set[str]:
    """Top-level names of the distributions a package's modules import when they run (not
    the imports only a type checker reads)."""
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    own = {"simulator", "conformance", "benchmarks", "tests"}
    return {n for n in names if n not in sys.stdlib_module_names and n not in own}


def distributions(modules: set[str]) -> set[str]:
    mapping = packages_distributions()
    found = set()
    for module in modules:
        assert module in mapping, f"{module} comes from no installed distribution"
        found.update(normal(name) for name in mapping[module])
    return found


def test_the_base_install_has_none_of_the_suites_tools() -> None:
    """No schemathesis, no Hypothesis, no pytest: a user's pytest stays theirs."""
    assert not BASE & {"schemathesis", "hypothesis", "pytest"}
    assert {"schemathesis", "hypothesis"} <= CONFORMANCE


def test_no_requirement_caps_pytest() -> None:
    """No list caps pytest (pytest 8 and 9 both work); dev builds on the conformance extra."""
    every = [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["dev"]]
    every += PROJECT["optional-dependencies"]["conformance"]
    pins = [r for r in every if normal(NAME.match(r).group()) == "pytest"]  # type: ignore[union-attr]
    assert pins
    assert not [pin for pin in pins if "<" in pin or "==" in pin or "~=" in pin]
    assert "frontier-gateway-sim[conformance]" in PROJECT["optional-dependencies"]["dev"]


def test_the_simulator_declares_every_package_it_imports() -> None:
    """Each distribution simulator/ imports is a base dependency (jsonschema-rs included);
    pytest, which only the plugin imports, is the user's own, and the `openai` SDK, which
    only `SimulatorClient.openai_client()` imports, is the `openai` extra."""
    used = distributions(third_party_imports("simulator")) - {"pytest"}
    assert "jsonschema-rs" in used
    assert used - BASE == {"openai"}
    assert requirement_names(PROJECT["optional-dependencies"]["openai"]) == {"openai"}


def test_the_suite_declares_every_package_it_imports() -> None:
    """conformance/ imports only the base install and its extra."""
    used = distributions(third_party_imports("conformance"))
    assert {"schemathesis", "hypothesis"} <= used
    assert used <= BASE | CONFORMANCE, used - BASE - CONFORMANCE


def test_the_plugin_imports_nothing_heavy_until_a_fixture_is_used() -> None:
    """Loading the plugin (as pytest does at every start) imports none of the simulator's
    dependencies; using the fixture's code does."""
    code = (
        "import sys, simulator, simulator.pytest_plugin\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "import simulator.testing\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    before, after = done.stdout.splitlines()
    assert before == "[]"
    assert "flask" in after
    assert "openai" not in after  # only a test that asks for an openai client loads it


def test_a_run_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A base install's `frontier-conformance` refuses to run with the command that fixes it."""
    real = runner.importlib.util.find_spec
    monkeypatch.setattr(
        runner.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "schemathesis" else real(name, *args),
    )
    with pytest.raises(UsageError) as refused:
        conformance.run(app=create_app(), api_key="sim-manage-acme")
    assert str(refused.value) == (
        "a run needs schemathesis (the conformance extra): "
        "pip install 'frontier-gateway-sim[conformance]'"
    )
