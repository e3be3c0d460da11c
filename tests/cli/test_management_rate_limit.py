"""`frontier-sim`'s management rate limit option (MGMT-RATE-LIMIT): on at 100 by default,
from the configuration file or the command line (which wins), 0 off."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.core.config import ConfigError
from simulator.web import cli

WORKSPACES = "workspaces:\n  acme:\n    keys: {k: management}\n"


def limit_of(argv: list[str], environ: dict[str, str] | None = None) -> int | None:
    args = cli.resolve(cli.build_parser().parse_args(argv), environ or {})
    return cli.resolve_config(args).management_rate_limit


@pytest.mark.parametrize(
    ("file_line", "argv", "environ", "expected"),
    [
        ("", [], {}, 100),
        ("", ["--management-rate-limit", "0"], {}, 0),
        ("", [], {"FRONTIER_SIM_MANAGEMENT_RATE_LIMIT": "7"}, 7),
        ("management_rate_limit: 5\n", [], {}, 5),
        ("management_rate_limit: 0\n", [], {}, 0),
        ("management_rate_limit: 5\n", ["--management-rate-limit", "9"], {}, 9),
    ],
)
def test_limit_comes_from_flag_env_file_or_default(
    tmp_path: Path, file_line: str, argv: list[str], environ: dict[str, str], expected: int
) -> None:
    """The command line, then the environment, then the file, then 100."""
    config = tmp_path / "sim.yaml"
    config.write_text(WORKSPACES + file_line)
    assert limit_of(["--config", str(config), *argv], environ) == expected


def test_negative_limit_is_refused() -> None:
    with pytest.raises(ConfigError, match="--management-rate-limit"):
        limit_of(["--management-rate-limit", "-1"])


def test_negative_limit_stops_start_up_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--management-rate-limit", "-1"], {}) == 2
    assert "--management-rate-limit must be 0 (off) or more" in capsys.readouterr().err


def test_banner_names_the_limit_and_receivers(tmp_path: Path) -> None:
    """The start-up banner says the limit is on, and where each workspace's events go."""
    config = tmp_path / "sim.yaml"
    config.write_text(WORKSPACES + "    webhook: {url: 'http://127.0.0.1:9/h', secret: s}\n")
    args = cli.resolve(cli.build_parser().parse_args(["--config", str(config)]), {})
    text = cli.banner(cli.resolve_config(args), "http://127.0.0.1:8080")
    assert "Management rate limit: 100 requests/s per key" in text
    assert "Billing webhooks of acme: http://127.0.0.1:9/h" in text
