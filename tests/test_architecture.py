"""Tests of the project's shape: the import boundary, the error-to-status map against
openapi.yaml, the spec's validity, routes against operations, rule coverage by the tests, and
variants that touch only public names."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

import simulator
from simulator import create_app
from simulator.core import errors
from simulator.core.errors import GatewayError
from simulator.core.spec import Operation, load_spec, operations, rule_catalogue
from simulator.web.app import ERROR_STATUS, status_for

PACKAGE = Path(simulator.__file__).parent
# The layers, innermost first: each may import only the layers before it. The top-level
# modules (the public testing client, the pytest plugin, `__main__`) may import any layer.
LAYERS = ("core", "harness", "web")
CORE = sorted((PACKAGE / "core").glob("*.py"))
HTTP_PACKAGES = {"flask", "werkzeug"}
TESTS = Path(__file__).parent
# The simulator's own tests of the Gateway's behaviour, by layer.
BEHAVIOUR_TESTS = [TESTS / layer for layer in ("core", "http", "e2e")]
# Deliberately broken and valid simulators: they may patch public names only.
VARIANTS = [*sorted((TESTS / "variants").glob("*.py")), TESTS / "conformance" / "test_broken.py"]
PRIVATE = re.compile(r"_[a-z0-9][a-z0-9_]*")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def error_classes() -> list[type[GatewayError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, GatewayError) and cls is not GatewayError
    ]


def test_core_modules_exist() -> None:
    """The pure core is there to check: at least the modules the style guide names."""
    names = {p.name for p in CORE}
    assert {"errors.py", "model.py", "limits.py", "store.py", "access.py", "config.py"} <= names
    assert {"spec.py", "serialize.py"} <= names


def layer_modules() -> list[tuple[str, Path]]:
    return [(layer, path) for layer in LAYERS for path in sorted((PACKAGE / layer).glob("*.py"))]


@pytest.mark.parametrize(
    ("layer", "path"), layer_modules(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_layer_imports_only_inner_layers(layer: str, path: Path) -> None:
    """core imports no other layer, harness only core, web core and harness; none the top."""
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    for name in imported_modules(path):
        parts = name.split(".")
        if parts[0] == "simulator":
            assert parts[1:2], f"{layer}/{path.name} imports the package root"
            assert parts[1] in allowed, f"{layer}/{path.name} imports {name}"


@pytest.mark.parametrize("path", CORE + sorted((PACKAGE / "harness").glob("*.py")), ids=str)
def test_core_and_harness_import_nothing_from_flask_or_werkzeug(path: Path) -> None:
    """Functional core: the core and the harness import neither Flask nor Werkzeug."""
    for name in imported_modules(path):
        assert name.split(".")[0] not in HTTP_PACKAGES, f"{path.name} imports {name}"


def test_no_module_imports_inside_functions_to_dodge_a_cycle() -> None:
    """No import cycles: a module imports the project's modules at its top only.

    Imports inside functions are allowed only for third-party packages kept off a fast path
    (granian in the CLI) and in the pytest plugin, which must stay cheap to import.
    """
    lazy_ok = {PACKAGE / "pytest_plugin.py", PACKAGE / "__init__.py"}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in lazy_ok:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                        "simulator"
                    ):
                        raise AssertionError(f"{path.relative_to(PACKAGE)} imports {node.module}")


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_maps_to_a_status(cls: type[GatewayError]) -> None:
    """Errors become HTTP in one place: every GatewayError subclass has a 4xx status."""
    assert 400 <= status_for(cls()) < 500


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_names_a_catalogued_rule_with_its_status(cls: type[GatewayError]) -> None:
    """Each error names a rule of x-rules, and where the rule has a status it is the mapped one."""
    rule = rule_catalogue().get(cls.rule)
    assert rule is not None, f"{cls.__name__}.rule {cls.rule} isn't in x-rules"
    assert rule.get("status", status_for(cls())) == status_for(cls())


def test_every_mapped_status_is_documented_by_some_operation() -> None:
    """Every status in ERROR_STATUS appears among the responses of the operations."""
    documented = {
        int(status)
        for op in operations()
        for status in load_spec()["paths"][op.path][op.method.lower()]["responses"]
        if status.isdigit()
    }
    assert set(ERROR_STATUS.values()) <= documented


@pytest.mark.parametrize("op", list(operations()), ids=lambda op: op.operation_id)
def test_every_error_an_operation_can_raise_has_a_documented_status(op: Operation) -> None:
    """An operation that names an error's rule in its x-rules documents that error's status."""
    item = load_spec()["paths"][op.path][op.method.lower()]
    responses = {int(s) for s in item["responses"] if s.isdigit()}
    for cls in error_classes():
        if cls.rule in item.get("x-rules", []):
            assert status_for(cls()) in responses, f"{op.operation_id}: {cls.__name__}"


def test_openapi_yaml_is_valid_openapi() -> None:
    """openapi.yaml validates as OpenAPI (openapi-spec-validator)."""
    validate(load_spec())


def flask_routes() -> set[tuple[str, str]]:
    app = create_app()
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule == "/" or rule.rule.startswith("/_sim/"):
            continue  # the indexes and the control API are the simulator's own
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        found.update((method, path) for method in rule.methods - {"HEAD", "OPTIONS"})
    return found


def test_every_operation_has_a_route_and_every_route_an_operation() -> None:
    """openapi.yaml and the Flask app describe the same (method, path) pairs."""
    documented = {(op.method, op.path) for op in operations()}
    routed = flask_routes()
    assert documented - routed == set(), "operations without a route"
    assert routed - documented == set(), "routes without an operation"


def test_every_rule_of_every_operation_is_named_by_a_test() -> None:
    """Every rule an operation names appears in a core, HTTP or end-to-end test."""
    spec_paths = load_spec()["paths"]
    wanted = {
        rule for op in operations() for rule in spec_paths[op.path][op.method.lower()]["x-rules"]
    }
    named = set()
    for folder in BEHAVIOUR_TESTS:
        for path in folder.glob("test_*.py"):
            named |= strings_in(path)
    missing = sorted(rule for rule in wanted if not any(names(rule, s) for s in named))
    assert missing == []


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_variants_name_no_private_name_of_the_simulator(path: Path) -> None:
    """A variant overrides public functions, methods, schemas or views only, so renaming a
    private helper of the simulator breaks none of them."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and PRIVATE.fullmatch(node.attr):
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simulator"):
            found += [
                f"line {node.lineno}: import {a.name}" for a in node.names if a.name[0] == "_"
            ]
        elif isinstance(node, ast.Call) and not _is_str_method(node):
            found += [
                f"line {node.lineno}: {arg.value!r}"
                for arg in node.args
                if isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and PRIVATE.fullmatch(arg.value)
            ]  # a name given to setattr or a patching helper
    assert found == []


def _is_str_method(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in ("endswith", "startswith")


def test_every_catalogued_rule_belongs_to_some_operation() -> None:
    """Each rule in x-rules is named by at least one operation's or webhook's x-rules."""
    named = {
        rule
        for op in operations()
        for rule in load_spec()["paths"][op.path][op.method.lower()].get("x-rules", [])
    }
    named |= {
        rule
        for item in load_spec().get("webhooks", {}).values()
        for operation in item.values()
        for rule in operation.get("x-rules", [])
    }
    assert set(rule_catalogue()) - named == set()


def names(rule: str, text: str) -> bool:
    """True when `text` names the rule as a whole ID (EXTID-UNIQUE isn't in EXTID-UNIQUE-X)."""
    return re.search(rf"(?<![A-Z0-9-]){re.escape(rule)}(?![A-Z0-9-])", text) is not None


def strings_in(path: Path) -> set[str]:
    """The string constants of a module: docstrings, parametrize tables, ids and messages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
