"""Prism, the peer: installed with npm into `benchmarks/.node/` and run on our openapi.yaml."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from benchmarks.servers import SPEC

NODE_DIR = Path(__file__).with_name(".node")
PRISM = NODE_DIR / "node_modules" / ".bin" / "prism"
PACKAGE = "@stoplight/prism-cli@5"


class PrismUnavailable(RuntimeError):
    """Prism can't be installed or run here; the message says why."""


def ensure_prism() -> Path:
    """The prism executable, installed into the git-ignored `.node/` on first use."""
    if PRISM.exists():
        return PRISM
    if shutil.which("npm") is None:
        raise PrismUnavailable("npm isn't installed (Debian: apt-get install -y npm)")
    NODE_DIR.mkdir(exist_ok=True)
    done = subprocess.run(
        ["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", PACKAGE],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not PRISM.exists():
        raise PrismUnavailable(f"npm install {PACKAGE} failed: {done.stderr.strip()[-300:]}")
    return PRISM


def prism_argv(port: int) -> list[str]:
    """A static mock of our spec, forked for faster logging (-m), logging errors only."""
    return [str(ensure_prism()), "mock", "-m", "-v", "error", "-p", str(port), str(SPEC)]
