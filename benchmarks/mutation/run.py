"""`python -m benchmarks.mutation`: how many faults nobody planned for the conformance suite
catches, measured with mutmut over the simulator's domain core and views.

mutmut (configured in `[tool.mutmut]` of pyproject.toml) copies the simulator into
`mutants/`, makes every small change it knows in every function of the mutated modules, and
runs the killing test, `benchmarks/mutation/suite.py` (the suite's default mode in process,
one pytest test per check), once per mutant, in a process forked from a warm one, only the
tests that reach the mutated function. This prints the kill rate and every mutant that
survived; a survivor whose change can't be told apart from outside (an equivalent mutant)
is listed in `equivalent.yaml` beside this file, with the reason, and counted apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NAME = "benchmarks/mutation/run.py"
MUTANTS = ROOT / "mutants"  # mutmut's working copy and results (git-ignored)
LOG = MUTANTS / "run.log"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.yaml"
EXTRA = "pip install -e '.[mutation]'"
TARGET = 0.98

# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code), as this report names them.
KILLED = "killed"
SURVIVED = "survived"
NOT_REACHED = "not reached"  # no killing test calls the mutated function
TIMEOUT = "timeout"
UNTESTED = "not tested"
STATUS: dict[int | None, str] = {None: UNTESTED, 0: SURVIVED, 1: KILLED, 3: KILLED}
STATUS.update(dict.fromkeys((5, 33), NOT_REACHED))
STATUS.update(dict.fromkeys((36, -24, 24, 152, 255), TIMEOUT))

# Functions of the mutated modules that a default run can't reach by design, so their mutants
# are counted apart: what the rest of the simulator serves, not the management API.
INFERENCE = "the inference route's metering (checked with --inference, not by a default run)"
HARNESS = "the test harness (reset, state import, repeatable ids), not the Gateway's API"
OUT_OF_SCOPE = {
    **dict.fromkeys(
        [
            "simulator.core.metering.charges",
            "simulator.core.metering.admit",
            "simulator.core.metering.counted",
            "simulator.core.metering.refusal",
            "simulator.core.metering._amount",
            "simulator.core.metering.window_of",
            "simulator.core.limits.effective_model",
            "simulator.core.errors.LimitExceeded.__init__",
            "simulator.core.errors.LimitExceeded.headers",
            "simulator.core.store.Store.key_owner",
        ],
        INFERENCE,
    ),
    **dict.fromkeys(
        [
            "simulator.core.store.Store.swap_contents",
            "simulator.core.store.Store.copy_contents_to",
            "simulator.core.store.Store.restore_group",
            "simulator.core.store.Store.restore_key",
            "simulator.core.store.Store.reserve_prefix",
            "simulator.core.store.IdGenerator.reseed",
            "simulator.core.store.IdGenerator.reserve",
            "simulator.core.store.IdGenerator.reserve_all",
            "simulator.core.endpoints.EndpointBook.swap_contents",
            "simulator.core.endpoints.EndpointBook.copy_contents_to",
            "simulator.core.endpoints.EndpointBook.restore",
            "simulator.core.access.KeyRing.keys",
            # Read by the harness's snapshot of the initial state, taken as the app starts.
            "simulator.core.store.Store.all_groups",
            "simulator.core.store.Store.reserved_prefixes",
            "simulator.core.endpoints.EndpointBook.all",
        ],
        HARNESS,
    ),
    **dict.fromkeys(
        [
            "simulator.web.app._rate_limited",
            "simulator.core.errors.ManagementRateLimited.__init__",
            "simulator.core.errors.ManagementRateLimited.headers",
            "simulator.core.errors.ManagementRateLimited.fields",
        ],
        "MGMT-RATE-LIMIT, off in create_app() (on in frontier-sim): its check needs a server "
        "that limits, so tests/conformance/test_rate_limit_check.py and the socket runs judge it",
    ),
    "simulator.web.app.close": "stops the webhook threads when a server or fixture stops",
    "simulator.web.app.gateway_of": "the app's state for Python callers; no request reads it",
    "simulator.core.limits.exceeds": "unused by the simulator (a broken variant's helper)",
    "simulator.core.store.utc_now": "the clock of a store built without the app's clock",
    "simulator.core.spec.rule_catalogue": "the rule catalogue for tools; the app never reads it",
    "simulator.core.spec._closed": "the opt-in --strict-fields option (EXTRA-FIELDS, a choice)",
}


@dataclass(frozen=True)
class Mutant:
    name: str  # mutmut's: module.x_function__mutmut_N (ǁ separates a class and its method)
    status: str

    @property
    def function(self) -> str:
        """`simulator.core.store.Store.create`: the mutated function, readable."""
        module, _, rest = self.name.rpartition(".")
        local = rest.rsplit("__mutmut_", 1)[0]
        if local.startswith("xǁ"):
            return f"{module}.{'.'.join(local[2:].split('ǁ'))}"
        return f"{module}.{local.removeprefix('x_')}"


@dataclass(frozen=True)
class Change:
    """A mutant's change as its diff shows it: the lines it removes and the lines it adds."""

    function: str
    was: tuple[str, ...]
    now: tuple[str, ...]

    @classmethod
    def of(cls, function: str, diff: str) -> Change:
        lines = [line for line in diff.splitlines() if not line.startswith(("---", "+++"))]
        return cls(
            function,
            tuple(line[1:].strip() for line in lines if line.startswith("-")),
            tuple(line[1:].strip() for line in lines if line.startswith("+")),
        )


@dataclass(frozen=True)
class Verdict:
    change: Change
    kind: str  # equivalent, undocumented or inference: see equivalent.yaml
    why: str


def load_equivalents(path: Path = EQUIVALENT) -> list[Verdict]:
    """The checked-in verdicts: groups of changes, each group with its kind and reason; a
    change names a function and the lines a mutant removes and adds. Keyed by the change, not
    mutmut's number, so an entry stays right when other code of the module changes."""
    groups = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        Verdict(
            Change(c["function"], _lines(c["was"]), _lines(c["now"])), g["kind"], _words(g["why"])
        )
        for g in groups
        for c in g["changes"]
    ]


def _words(text: str) -> str:
    return " ".join(text.split())


def _lines(value: str | list[str]) -> tuple[str, ...]:
    return tuple(line.strip() for line in ([value] if isinstance(value, str) else value))


def run_mutmut(workers: int, names: Sequence[str]) -> float:
    """Runs `mutmut run` from the repository root at low priority; its seconds."""
    started = time.monotonic()
    command = ["nice", "-n", "10", sys.executable, "-m", "mutmut", "run"]
    command += ["--max-children", str(workers), *names]
    # mutmut's own progress line rewrites itself many times a second: it goes to a log.
    MUTANTS.mkdir(exist_ok=True)
    with LOG.open("w", encoding="utf-8") as log:
        done = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"mutmut run failed ({done.returncode}); its output is in {LOG}")
    return time.monotonic() - started


def results() -> list[Mutant]:
    """Every mutant of the last run with its status, read from mutmut's files."""
    found = []
    for meta in sorted(MUTANTS.rglob("*.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, code in data["exit_code_by_key"].items():
            found.append(Mutant(name, STATUS.get(code, f"exit code {code}")))
    return found


def diff(name: str) -> str:
    # mutmut's own `mutmut show` diff, called in process: one CLI start per survivor is slow.
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # needs the extra, see main()

    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        return str(get_diff_for_mutant(name))
    finally:
        os.chdir(cwd)


def report(
    mutants: Sequence[Mutant], verdicts: Sequence[Verdict], seconds: float | None
) -> tuple[list[str], bool]:
    """The report's lines, and whether every survivor has a verdict."""
    outside = [m for m in mutants if m.function in OUT_OF_SCOPE]
    mutants = [m for m in mutants if m.function not in OUT_OF_SCOPE]
    untested = [m for m in mutants if m.status == UNTESTED]
    mutants = [m for m in mutants if m.status != UNTESTED]
    counts = Counter(m.status for m in mutants)
    left = [m for m in mutants if m.status not in (KILLED, TIMEOUT)]
    changes = {m.name: Change.of(m.function, diff(m.name)) for m in left}
    known = {v.change: v for v in verdicts}
    equivalent = [m for m in left if changes[m.name] in known]
    unexplained = [m for m in left if changes[m.name] not in known]
    kinds = Counter(known[changes[m.name]].kind for m in equivalent)
    killed = counts[KILLED] + counts[TIMEOUT]
    judged = killed + len(unexplained)
    rate = killed / judged if judged else 1.0
    took = f" in {_duration(seconds)}" if seconds is not None else ""
    lines = [
        f"mutmut: {len(mutants) + len(outside) + len(untested)} mutants{took}",
        f"  {len(outside)} in functions a default run can't reach ({NAME}: OUT_OF_SCOPE)",
        *([f"  {len(untested)} not tested yet (an interrupted run)"] if untested else []),
        f"  {counts[KILLED]} killed"
        + (f", {counts[TIMEOUT]} by timeout" if counts[TIMEOUT] else ""),
        f"  {len(equivalent)} equivalent ({_kinds(kinds)}), listed in {EQUIVALENT.name}",
        f"  {len(unexplained)} not killed and not listed",
        f"kill rate: {killed} of {judged} non-equivalent mutants killed, {rate:.1%}"
        f" (target {TARGET:.0%}: {'met' if rate >= TARGET else 'MISSED'})",
    ]
    if equivalent:
        lines += ["", f"survivors with a verdict in {EQUIVALENT.name}:"]
        lines += [f"  {m.name}: {known[changes[m.name]].kind}" for m in equivalent]
    if unexplained:
        lines += ["", "survivors without a verdict (a check to add, or an equivalent to list):"]
        for m in unexplained:
            lines += [f"  {m.name} ({m.status})", *_indented(diff(m.name))]
    used = {changes[m.name] for m in equivalent}
    stale = [v for v in verdicts if v.change not in used]
    if stale and not untested:
        lines += ["", f"entries of {EQUIVALENT.name} that no survivor of this run matches:"]
        lines += [f"  {v.change.function}: {' / '.join(v.change.was)}" for v in stale]
    return lines, not unexplained


def _kinds(kinds: Counter[str]) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())) or "none"


def _indented(text: str) -> Iterable[str]:
    return (f"      {line}" for line in text.splitlines() if not line.startswith(("---", "+++")))


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mutation", description=__doc__)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="mutants tested at once"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="report the last run's mutants/ again"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep mutants/ of an earlier run: mutmut tests only what it hasn't yet",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    if importlib.util.find_spec("mutmut") is None:
        print(f"python -m benchmarks.mutation needs mutmut: {EXTRA}", file=sys.stderr)
        return 2
    seconds = None
    if not options.report_only:
        if not options.resume:
            shutil.rmtree(MUTANTS, ignore_errors=True)
        seconds = run_mutmut(options.workers, ())
    mutants = results()
    if not mutants:
        print("no mutants: run without --report-only first", file=sys.stderr)
        return 2
    lines, explained = report(mutants, load_equivalents(), seconds)
    print("\n".join(lines))
    return 0 if explained else 1
