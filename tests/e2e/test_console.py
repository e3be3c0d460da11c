"""What `frontier-sim` prints while it serves: a banner whose example works as pasted, then
one access-log line per request (JSON lines with --log-format json, none with --quiet)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest
import requests

from tests.builders import GROUPS, MANAGE_KEY, group_body, unique
from tests.servers import BANNER_END, FrontierSim, start_frontier_sim


def requests_after_banner(sim: FrontierSim) -> list[str]:
    return [line for line in sim.output().partition(BANNER_END)[2].splitlines() if line.strip()]


@pytest.mark.e2e
def test_banner_example_runs_as_pasted(sim: FrontierSim) -> None:
    """The `Try:` line, split as a shell splits it, lists the groups with a working key."""
    line = next(line for line in sim.output().splitlines() if line.startswith("Try: "))
    words = shlex.split(line.removeprefix("Try: "))
    assert words[:2] == ["curl", "-H"]
    name, _, value = words[2].partition(": ")
    answer = requests.get(words[3], headers={name: value}, timeout=10)
    assert answer.status_code == 200
    assert "items" in answer.json()
    curl = shutil.which("curl")
    if curl is not None:  # and the real thing, where curl is installed
        done = subprocess.run(
            [curl, "-s", *words[1:]], capture_output=True, text=True, timeout=30, check=True
        )
        assert "items" in json.loads(done.stdout)


@pytest.mark.e2e
def test_every_request_gets_a_line_with_its_status_and_rule(sim: FrontierSim) -> None:
    before = len(requests_after_banner(sim))
    extid = unique("console")
    assert sim.create(group_body(extid)).status_code == 200
    assert sim.create(group_body(extid)).status_code == 400
    assert sim.session().get(sim.url + "/", timeout=10).status_code == 200
    lines = requests_after_banner(sim)[before:]
    assert [line.split()[1:5] for line in lines] == [
        ["POST", GROUPS, "200", "-"],
        ["POST", GROUPS, "400", "EXTID-UNIQUE"],
        ["GET", "/", "200", "-"],
    ]
    assert MANAGE_KEY not in "\n".join(lines)


@pytest.mark.e2e
def test_json_lines_and_quiet() -> None:
    """--log-format json writes a JSON object per request; --quiet writes nothing per request."""
    for args, expected in ((["--log-format", "json"], 2), (["--quiet"], 0)):
        sim = start_frontier_sim(*args)
        try:
            before = len(requests_after_banner(sim))
            sim.create(group_body(unique("json")))
            sim.call("GET", GROUPS + "/nope")
            lines = requests_after_banner(sim)[before:]
        finally:
            assert sim.stop() == 0
        assert len(lines) == expected, lines
        for line in lines:
            entry = json.loads(line)
            assert set(entry) == {"time", "method", "path", "status", "rule", "duration_ms"}
        if expected:
            assert json.loads(lines[1])["rule"] == "GROUP-NOT-FOUND"
