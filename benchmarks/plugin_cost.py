"""What installing the package costs a user's project: pytest start-up, imports, dependencies.

`python -m benchmarks.plugin_cost` builds two fresh virtual environments, as a user would:
one with only the newest pytest, one with that pytest and then `pip install <this checkout>`
(the base install, no extra). It prints:

- the pytest version before and after the install (the install must keep it), whether
  schemathesis or Hypothesis came along, and how many packages and MB each holds;
- `python -X importtime` of the plugin module alone, and of the plugin once pytest is loaded
  (what a pytest start pays for it);
- the wall time of `pytest` in a tiny project with one trivial test, median of alternating
  runs, in each environment, and the difference (target: at most 50 ms);
- whether a test using the `frontier_gateway` fixture passes there.

It needs the package index (pip installs pytest and the dependencies); `--venvs DIR` keeps
the environments in DIR and reuses them on the next run. Nothing here asserts: figures only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0
TRIVIAL = "def test_trivial():\n    assert 1 + 1 == 2\n"
FIXTURE = """\
import requests


def test_the_fixture_serves_groups(frontier_gateway):
    answer = requests.get(
        frontier_gateway.url + "/v1/gateway/groups", headers=frontier_gateway.headers()
    )
    assert answer.status_code == 200
    assert answer.json()["items"] == []
"""
_IMPORT = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s+(\S.*)$")


@dataclass(frozen=True)
class Venv:
    path: Path

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python, *args], capture_output=True, text=True, check=False, cwd=cwd
        )

    def pip(self, *args: str) -> None:
        done = self.run("-m", "pip", "--disable-pip-version-check", "-q", *args)
        if done.returncode != 0:
            raise RuntimeError(f"pip {' '.join(args)} failed:\n{done.stderr[-2000:]}")

    def freeze(self) -> dict[str, str]:
        lines = self.run("-m", "pip", "freeze", "--all").stdout.splitlines()
        return {
            name.lower(): version
            for name, _, version in (line.partition("==") for line in lines)
            if version
        }

    def size_mb(self) -> float:
        site = next(self.path.glob("lib/python*/site-packages"))
        return sum(f.stat().st_size for f in site.rglob("*") if f.is_file()) / 1e6


def make_venv(path: Path, *installs: str) -> Venv:
    venv = Venv(path)
    if not (path / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        for install in installs:
            venv.pip("install", install)
    return venv


def project(directory: Path, name: str, source: str) -> Path:
    """A user's project: one test file and a pytest configuration of its own."""
    folder = directory / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (folder / f"test_{name}.py").write_text(source)
    return folder


def pytest_seconds(venv: Venv, folder: Path) -> float:
    started = time.perf_counter()
    done = venv.run("-m", "pytest", "-q", cwd=folder)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"pytest failed in {venv.path}:\n{done.stdout[-2000:]}")
    return elapsed


def import_ms(venv: Venv, code: str, module: str) -> float:
    """`-X importtime` cumulative milliseconds of `module` while running `code`."""
    done = venv.run("-X", "importtime", "-c", code)
    for line in done.stderr.splitlines():
        found = _IMPORT.match(line)
        if found and found.group(3).strip() == module:
            return int(found.group(2)) / 1000
    raise RuntimeError(f"{module} not in the import log:\n{done.stderr[-2000:]}")


def median_ms(venv: Venv, code: str, module: str, runs: int) -> float:
    return statistics.median(import_ms(venv, code, module) for _ in range(runs))


@dataclass(frozen=True)
class Figures:
    pytest_before: str
    pytest_after: str
    brought: list[str]  # schemathesis, hypothesis: whichever the base install brought
    packages: tuple[int, int]  # without, with
    added_packages: list[str]
    site_mb: tuple[float, float]  # without, with
    import_alone_ms: float
    import_on_pytest_ms: float
    start_ms: tuple[float, float]  # median pytest start without, with
    runs: int
    fixture_passed: bool
    fixture_output: str

    @property
    def added_ms(self) -> float:
        return self.start_ms[1] - self.start_ms[0]


def measure(runs: int, pytest_requirement: str = "pytest", venvs: Path | None = None) -> Figures:
    """Builds (or reuses, in `venvs`) the two environments and measures both."""
    scratch = Path(tempfile.mkdtemp(prefix="plugin-cost-"))
    home = venvs or scratch
    try:
        without = make_venv(home / "without", pytest_requirement)
        with_package = make_venv(home / "with", pytest_requirement, str(ROOT))
        return _measure(without, with_package, scratch, runs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _measure(without: Venv, with_package: Venv, scratch: Path, runs: int) -> Figures:
    before, after = without.freeze(), with_package.freeze()
    plugin = "simulator.pytest_plugin"
    on_pytest = f"import pytest, importlib.metadata; import {plugin}"
    trivial = project(scratch, "trivial", TRIVIAL)
    for venv in (without, with_package):
        pytest_seconds(venv, trivial)  # warm the file cache and write bytecode
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(runs):  # alternating, so drift hits both alike
        times["without"].append(pytest_seconds(without, trivial))
        times["with"].append(pytest_seconds(with_package, trivial))
    done = with_package.run("-m", "pytest", "-q", cwd=project(scratch, "fixture", FIXTURE))
    return Figures(
        pytest_before=before.get("pytest", "-"),
        pytest_after=after.get("pytest", "-"),
        brought=[name for name in ("schemathesis", "hypothesis") if name in after],
        packages=(len(before), len(after)),
        added_packages=sorted(set(after) - set(before)),
        site_mb=(without.size_mb(), with_package.size_mb()),
        import_alone_ms=median_ms(with_package, f"import {plugin}", plugin, 5),
        import_on_pytest_ms=median_ms(with_package, on_pytest, plugin, 5),
        start_ms=(
            statistics.median(times["without"]) * 1000,
            statistics.median(times["with"]) * 1000,
        ),
        runs=runs,
        fixture_passed=done.returncode == 0,
        fixture_output=done.stdout[-2000:],
    )


def report(figures: Figures) -> str:
    f = figures
    verdict = "met" if f.added_ms <= TARGET_MS else "MISSED"
    fixture = "passed" if f.fixture_passed else f"FAILED\n{f.fixture_output}"
    return "\n".join(
        [
            f"pytest without the package: {f.pytest_before}; after installing it: {f.pytest_after}",
            "schemathesis or Hypothesis in the base install: "
            + (", ".join(f.brought) or "neither"),
            f"packages: {f.packages[0]} without, {f.packages[1]} with "
            f"(+{len(f.added_packages)}: {', '.join(f.added_packages)})",
            f"site-packages: {f.site_mb[0]:.0f} MB without, {f.site_mb[1]:.0f} MB with",
            f"import simulator.pytest_plugin, cold (pytest included): {f.import_alone_ms:.1f} ms "
            "(median of 5)",
            f"import simulator.pytest_plugin once pytest is loaded: "
            f"{f.import_on_pytest_ms:.1f} ms (median of 5)",
            f"pytest start, one trivial test (median of {f.runs}): {f.start_ms[0]:.0f} ms "
            f"without, {f.start_ms[1]:.0f} ms with: {f.added_ms:+.0f} ms "
            f"(target <= {TARGET_MS:.0f} ms: {verdict})",
            f"a test using frontier_gateway under pytest {f.pytest_after}: {fixture}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plugin_cost", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="pytest runs per environment")
    parser.add_argument("--pytest", default="pytest", help="the requirement for pytest")
    parser.add_argument("--venvs", type=Path, help="keep the environments here, and reuse them")
    args = parser.parse_args(argv)
    print(f"building environments (pip install {args.pytest}; then this checkout) ...", flush=True)
    print(report(measure(args.runs, args.pytest, args.venvs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
