"""An in-memory simulator of Baseten's Frontier Gateway.

Three layers, each a sub-package: `core` (the Gateway's rules, pure Python), `harness` (the test
harness: snapshots, seeds, faults, journal) and `web` (the Flask shell, the control API and the
`frontier-sim` command). `create_app()` builds an app with its own fresh store; it is imported on
first use, so `import simulator` (and the pytest plugin) stays cheap.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.web.app import create_app

try:
    __version__ = version("frontier-gateway-sim")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from simulator.web.app import create_app

        return create_app
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
