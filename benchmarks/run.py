"""`python -m benchmarks`: runs every measure and prints one table, each target met or missed.

Timings are medians; a ratio compares medians taken in the same run. Nothing here asserts:
a missed target is reported, never raised.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import inference
from benchmarks.load import WRK_MISSING, Load, wrk_available
from benchmarks.plugin_cost import TARGET_MS, measure
from benchmarks.prism import PrismUnavailable, prism_argv
from benchmarks.process import (
    SuiteUnavailable,
    conformance_http,
    conformance_inprocess,
    startup_seconds,
)
from benchmarks.servers import ROOT, bare_argv, bare_wsgi_argv
from benchmarks.throughput import Pair, compare, thread_sweep
from simulator.web.cli import DEFAULTS

SECTIONS = (
    "throughput",
    "prism",
    "scaling",
    "memory",
    "journal",
    "slow",
    "startup",
    "conformance",
    "inference",
)


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def skipped(metric: str, reason: str) -> list[Row]:
    return [Row(metric, f"skipped: {reason}")]


@dataclass(frozen=True)
class Settings:
    load: Load
    rounds: int
    sizes: tuple[int, ...]
    samples: int
    traced_groups: int
    startups: int
    streams: int
    flood: int  # 1 MiB POSTs of the journal flood


def throughput_rows(settings: Settings) -> list[Row]:
    if not wrk_available():
        return skipped("create throughput", WRK_MISSING)
    pair = compare("bare Flask", bare_argv, settings.load, settings.rounds)
    rows = _pair_rows(pair, "create throughput vs bare Flask, req/s", 0.7)
    # The same endpoint on granian's own WSGI interface: what the shell (shell.py) costs.
    pair = compare("bare Flask, granian WSGI", bare_wsgi_argv, settings.load, settings.rounds)
    return rows + _pair_rows(pair, "… vs bare Flask on granian's WSGI interface, req/s", None)


def prism_rows(settings: Settings) -> list[Row]:
    if not wrk_available():
        return skipped("create throughput vs Prism", WRK_MISSING)
    try:
        prism_argv(0)  # installs Prism on first use
    except PrismUnavailable as error:
        return skipped("create throughput vs Prism", str(error))
    pair = compare("Prism", prism_argv, settings.load, settings.rounds)
    return _pair_rows(pair, "create throughput vs Prism, req/s", 1.2)


def _pair_rows(pair: Pair, metric: str, target: float | None) -> list[Row]:
    """The pair's rows; `target` None: a figure for the record, with no target."""
    sim, other = pair.simulator, pair.other
    rows = [
        Row(
            metric,
            f"{sim.requests_per_s:,.0f}",
            f"{other.requests_per_s:,.0f} ({pair.reference})",
            f"{pair.ratio:.2f}",
            *((f">= {target:.1f} x", verdict(pair.ratio >= target)) if target is not None else ()),
        ),
        Row(
            "  latency p50 / p99, ms",
            f"{sim.p50_ms:.1f} / {sim.p99_ms:.1f}",
            f"{other.p50_ms:.1f} / {other.p99_ms:.1f}",
        ),
    ]
    if sim.cpu_us and other.cpu_us:  # the inverse ratio: less CPU per request is better
        rows.append(
            Row(
                "  server CPU per request, µs",
                f"{sim.cpu_us:.0f}",
                f"{other.cpu_us:.0f}",
                f"{other.cpu_us / sim.cpu_us:.2f}",
            )
        )
    for name, result in (("frontier-sim", sim), (pair.reference, other)):
        if result.failed:
            rows.append(Row(f"  WARNING: {name}", f"{result.failed} non-2xx or socket errors"))
    return rows


def thread_rows(settings: Settings) -> list[Row]:
    """Not in the default run: the figures behind the default of `frontier-sim --threads`."""
    if not wrk_available():
        return skipped("create throughput by --threads", WRK_MISSING)
    sweep = thread_sweep([1, 2, 4, 8, 16], settings.load, settings.rounds)
    return [
        Row(
            f"create throughput, frontier-sim --threads {count}, req/s",
            f"{result.requests_per_s:,.0f}",
            f"p50 {result.p50_ms:.1f} / p99 {result.p99_ms:.1f} ms, CPU {result.cpu_us:.0f} µs/req",
        )
        for count, result in sweep.items()
    ]


def scaling_rows(settings: Settings) -> list[Row]:
    sizes = ",".join(str(s) for s in settings.sizes)
    raw = _inprocess("scaling", "--sizes", sizes, "--samples", str(settings.samples))
    latency = {int(k): v for k, v in raw["latency_us"].items()}
    empty = latency[min(latency)]
    rows = [Row("create latency in-process, empty store, µs", f"{empty:.0f}")]
    for size in sorted(latency)[1:]:
        ratio = latency[size] / empty
        last = size == max(latency)
        rows.append(
            Row(
                f"  with {size:,} groups stored, µs",
                f"{latency[size]:.0f}",
                f"{empty:.0f} (empty)",
                f"{ratio:.2f}",
                "<= 1.3 x" if last else "",
                verdict(ratio <= 1.3) if last else "",
            )
        )
    rows.extend(_depth_rows(raw["depth_us"]))
    return rows


def _depth_rows(depth: dict[str, float]) -> list[Row]:
    rows = []
    for mode in ("INDEPENDENT", "CASCADING"):
        one, five = depth[f"{mode}:1"], depth[f"{mode}:5"]
        rows.append(
            Row(
                f"  level-5 create, {mode}, µs",
                f"{five:.0f}",
                f"{one:.0f} (level 1)",
                f"{five / one:.2f}",
            )
        )
    return rows


def memory_rows(settings: Settings) -> list[Row]:
    raw = _inprocess("memory", "--groups", str(settings.traced_groups))
    per_group = raw["bytes_per_group"]
    rss = _inprocess("rss", "--groups", str(max(settings.sizes)))
    return [
        Row(
            f"memory per documented group, bytes ({raw['groups']:,} traced)",
            f"{per_group:,.0f}",
            target="<= 2,048",
            verdict=verdict(per_group <= 2048),
        ),
        Row(
            f"peak RSS of a process holding {rss['groups']:,} groups, MiB",
            f"{rss['peak_rss_bytes'] / 2**20:.0f}",
        ),
    ]


def journal_rows(settings: Settings) -> list[Row]:
    """RSS of the server through a flood of 1 MiB POSTs, and once the journal is cleared."""
    floods = _inprocess_module("benchmarks.journal_flood", "--requests", str(settings.flood))
    rows = []
    for flood in floods["floods"]:
        what = "with a key, creates" if flood["keyed"] else "keyless, unknown path"
        rows.append(
            Row(
                f"RSS after {flood['requests']:,} x 1 MiB POSTs ({what}), MiB",
                f"{flood['rss_after_flood_mib']:.0f}",
                f"{flood['rss_start_mib']:.0f} (at start)",
            )
        )
        rows.append(Row("  after clearing the journal, MiB", f"{flood['rss_after_clear_mib']:.0f}"))
    return rows


def slow_rows(settings: Settings) -> list[Row]:
    """Other clients' p99 beside 64 slow uploads, against their p99 alone."""
    rounds, requests = ("2", "50") if settings.rounds == 1 else ("4", "100")
    figures = _inprocess_module(
        "benchmarks.slow_clients", "--rounds", rounds, "--requests", requests
    )
    rows = []
    for label, result in figures.items():
        ratio = result["ratio_p99"]
        failed = result["failed_beside"]
        rows.append(
            Row(
                f"p99 beside 64 slow uploads ({label}), ms",
                f"{result['beside_p99_ms']:.1f}" + (f" ({failed} failed)" if failed else ""),
                f"{result['alone_p99_ms']:.1f} (alone)",
                f"{ratio:.2f}",
                "<= 2 x",
                verdict(ratio <= 2 and not failed),
            )
        )
    return rows


def startup_rows(settings: Settings) -> list[Row]:
    seconds = statistics.median(startup_seconds(settings.startups))
    return [
        Row(
            f"start-up to first 200, s (median of {settings.startups})",
            f"{seconds:.2f}",
            target="<= 1.0",
            verdict=verdict(seconds <= 1.0),
        )
    ]


def conformance_rows(settings: Settings) -> list[Row]:
    rows = []
    for label, run, limit in (
        ("conformance suite in-process, s", conformance_inprocess, 60.0),
        ("conformance suite over HTTP, s", conformance_http, None),
    ):
        try:
            suite = run()
        except SuiteUnavailable as error:
            rows.extend(skipped(label, str(error)))
            continue
        note = "" if suite.returncode == 0 else " (some checks failed)"
        target = f"<= {limit:.0f}" if limit else ""
        met = verdict(suite.seconds <= limit) if limit else ""
        rows.append(Row(label, f"{suite.seconds:.1f}{note}", target=target, verdict=met))
    return rows


def plugin_rows(settings: Settings) -> list[Row]:
    """Not in the default run (it pip-installs two environments): what the package adds to a
    user's pytest start, and whether the install keeps their pytest."""
    figures = measure(settings.startups * 2 + 1)
    return [
        Row(
            f"pytest start added by the installed package, ms (median of {figures.runs})",
            f"{figures.added_ms:+.0f}",
            f"{figures.start_ms[0]:.0f} (pytest alone)",
            target=f"<= {TARGET_MS:.0f}",
            verdict=verdict(figures.added_ms <= TARGET_MS),
        ),
        Row(
            "  import of the plugin once pytest is loaded, ms",
            f"{figures.import_on_pytest_ms:.1f}",
        ),
        Row(
            "  pytest kept by the install; heavy packages brought",
            f"{figures.pytest_before} -> {figures.pytest_after}",
            ", ".join(figures.brought) or "none",
            verdict=verdict(figures.pytest_before == figures.pytest_after and not figures.brought),
        ),
    ]


def _inprocess(*args: str) -> dict[str, Any]:
    return _inprocess_module("benchmarks.inprocess", *args)


def _inprocess_module(module: str, *args: str) -> dict[str, Any]:
    """Runs one in-process measure in a fresh interpreter and reads its JSON line."""
    argv = [sys.executable, "-m", module, *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def inference_rows(settings: Settings) -> list[Row]:
    rows = []
    if not wrk_available():
        rows.extend(skipped("completions throughput", WRK_MISSING))
    else:
        try:
            rows.extend(_completion_rows(inference.throughput(settings.load, settings.rounds)))
        except inference.FakeAIUnavailable as error:
            rows.extend(skipped("completions throughput vs FakeAI", str(error)))
    cost = _inprocess_module("benchmarks.inference", "cost", "--samples", str(settings.samples))
    ratio = cost["depth5"] / cost["root"]
    rows.append(
        Row(
            "completion in-process, depth-5 CASCADING vs root, µs",
            f"{cost['depth5']:.0f}",
            f"{cost['root']:.0f} (root)",
            f"{ratio:.2f}",
            "<= 1.3 x",
            verdict(ratio <= 1.3),
        )
    )
    rows.extend(_stream_rows(inference.concurrent_streams(settings.streams, 20)))
    memory = _inprocess_module("benchmarks.inference", "memory", "--groups", "2000")
    rows.append(
        Row(
            f"meter memory per 1,000 active rate windows, KiB ({memory['windows']:,} traced)",
            f"{memory['bytes_per_1000_windows'] / 1024:,.0f}",
        )
    )
    return rows


def _completion_rows(figures: inference.ThroughputFigures) -> list[Row]:
    sim, fake, creates = figures.completions, figures.fakeai, figures.creates
    vs_fake = sim.requests_per_s / fake.requests_per_s
    vs_create = sim.requests_per_s / creates.requests_per_s
    rows = [
        Row(
            "completions, depth-5 CASCADING, vs FakeAI, req/s",
            f"{sim.requests_per_s:,.0f}",
            f"{fake.requests_per_s:,.0f} (FakeAI)",
            f"{vs_fake:.2f}",
            ">= 3.0 x",
            verdict(vs_fake >= 3.0),
        ),
        Row(
            "  latency p50 / p99, ms",
            f"{sim.p50_ms:.1f} / {sim.p99_ms:.1f}",
            f"{fake.p50_ms:.1f} / {fake.p99_ms:.1f}",
        ),
        Row(
            "completions vs the simulator's own creates, req/s",
            f"{sim.requests_per_s:,.0f}",
            f"{creates.requests_per_s:,.0f} (creates)",
            f"{vs_create:.2f}",
            ">= 0.8 x",
            verdict(vs_create >= 0.8),
        ),
    ]
    if sim.cpu_us and fake.cpu_us:
        rows.append(
            Row("  server CPU per completion, µs", f"{sim.cpu_us:.0f}", f"{fake.cpu_us:.0f}")
        )
    for name, result in (("frontier-sim", sim), ("FakeAI", fake), ("creates", creates)):
        if result.failed:
            rows.append(Row(f"  WARNING: {name}", f"{result.failed} non-2xx or socket errors"))
    return rows


def _stream_rows(figures: inference.StreamFigures) -> list[Row]:
    result = figures.streams
    p99 = result.percentile(99)
    limit = 2 * figures.gap_ms
    return [
        Row(
            f"{result.streams} concurrent streams, gap {figures.gap_ms} ms: p99 gap, ms",
            f"{p99:.1f}",
            f"median {result.median_ms:.1f}",
            "",
            f"<= {limit}",
            verdict(p99 <= limit and result.completed == result.streams),
        ),
        Row(
            "  streams completed / wall time of the batch, s",
            f"{result.completed} / {figures.seconds:.2f}",
        ),
    ]


MEASURES: dict[str, Callable[[Settings], list[Row]]] = {
    "throughput": throughput_rows,
    "prism": prism_rows,
    "scaling": scaling_rows,
    "memory": memory_rows,
    "journal": journal_rows,
    "slow": slow_rows,
    "startup": startup_rows,
    "conformance": conformance_rows,
    "threads": thread_rows,
    "inference": inference_rows,
    "plugin": plugin_rows,
}


def format_table(rows: Sequence[Row]) -> str:
    header = Row("measure", "simulator", "reference", "ratio", "target", "result")
    table = [header, *rows]
    columns = list(zip(*(_cells(r) for r in table), strict=True))
    widths = [max(len(cell) for cell in column) for column in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(_cells(r), widths, strict=True)) for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _cells(row: Row) -> tuple[str, ...]:
    return (row.metric, row.value, row.reference, row.ratio, row.target, row.verdict)


def build_parser_for_run() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, one round")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help="comma-separated measures (default: all but threads and plugin; known: "
        f"{', '.join(MEASURES)})",
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default: 1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default: 8)")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default: 10, quick 3)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default: 3, quick 1)")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    quick = args.quick
    seconds = args.seconds or (3 if quick else 10)
    return Settings(
        load=Load(args.threads, args.connections, seconds),
        rounds=args.rounds or (1 if quick else 3),
        sizes=(0, 10_000, 100_000),
        samples=300 if quick else 2000,
        traced_groups=2000 if quick else 10_000,
        startups=3 if quick else 7,
        streams=256,
        flood=300 if quick else 1200,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser_for_run().parse_args(argv)
    settings = settings_from(args)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(MEASURES))
    if unknown:
        print(f"unknown measure(s): {', '.join(unknown)}; choose from {', '.join(MEASURES)}")
        return 2
    threads = DEFAULTS["threads"]
    print(
        f"frontier-sim benchmarks: {os.cpu_count()} CPUs, {settings.load.describe()}, "
        f"{settings.rounds} round(s), granian blocking threads {threads}; medians",
        flush=True,
    )
    rows: list[Row] = []
    for name in wanted:
        print(f"... {name}", file=sys.stderr, flush=True)
        rows.extend(MEASURES[name](settings))
    print(format_table(rows))
    return 0
