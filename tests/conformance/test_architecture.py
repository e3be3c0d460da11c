"""Tests of the conformance package's shape: no import cycles, none dodged inside a function,
and the heavy libraries it drives (schemathesis, Hypothesis) loaded only by a run that uses
them, so the command's `--help`, `--version` and `--list-rules` work without the extra."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import conformance

PACKAGE = Path(conformance.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
# Third-party packages a function may import for itself, each with a comment saying why:
# they take a fifth of a second or more to import and come only with the conformance extra.
HEAVY = {"hypothesis", "schemathesis"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]


def imported(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The modules an import statement names, relative imports resolved against `package`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        base = f"{anchor}.{base}" if base else anchor
    # `from conformance import listing` imports the module conformance.listing.
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads: not inside functions, not under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []
    for statement in tree.body:
        if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
            continue
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        found += imports(statement)
    return found


def import_graph() -> dict[str, set[str]]:
    known = {module_name(path) for path in MODULES}
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = {m for n in top_level_imports(tree) for m in imported(n, package)}
        graph[name] = {m for m in targets if m in known and m != name and m != "conformance"}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the modules along it, or None."""
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        trail.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*trail[trail.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        state[node] = "done"
        trail.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_modules_import_each_other_without_a_cycle() -> None:
    """The package's import graph (module level, the package's own __init__ aside) is acyclic."""
    graph = import_graph()
    assert "conformance.cases" in graph["conformance.fuzz"]  # the graph is really read
    assert cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycle(graph) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def function_imports(path: Path) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Each import inside a function, and whether a comment says why."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for fn in ast.walk(ast.parse(source)):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            nodes = imports(fn)
            rows = {row for n in nodes for row in range(n.lineno, (n.end_lineno or n.lineno) + 1)}
            found += [(node, explained(node.lineno, lines, rows)) for node in nodes]
    return found


def explained(row: int, lines: list[str], import_rows: set[int]) -> bool:
    """A comment on the import's line (1-based), or above the run of imports it belongs to."""
    if "#" in lines[row - 1]:
        return True
    while row in import_rows:
        row -= 1
    return row >= 1 and lines[row - 1].strip().startswith("#")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_inside_functions_to_dodge_a_cycle(path: Path) -> None:
    """A function imports only a heavy third-party package, and says why in a comment."""
    package = module_name(path).rpartition(".")[0]
    for node, has_reason in function_imports(path):
        for name in imported(node, package):
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            assert name.split(".")[0] in HEAVY, f"{where} imports {name} inside a function"
            assert has_reason, f"{where} imports {name} without a comment saying why"


def test_the_check_for_a_reason_reads_comments(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(
        "def f():\n"
        "    # slow to import\n"
        "    import hypothesis\n"
        "    from schemathesis import (\n"
        "        a,\n"
        "    )\n"
        "def g():\n"
        "    x = 1\n"
        "    import hypothesis\n"
        "    import schemathesis  # slow\n"
    )
    assert [has_reason for _, has_reason in function_imports(path)] == [True, True, False, True]


def test_the_command_line_loads_without_the_heavy_libraries() -> None:
    """`import conformance.cli` (what --help, --version and --list-rules need) imports
    neither schemathesis nor Hypothesis nor pytest."""
    code = (
        "import sys, conformance.cli\n"
        "print(sorted(m for m in ('schemathesis', 'hypothesis', 'pytest') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
