"""An in-memory simulator of Baseten's Frontier Gateway.

Three layers, each a sub-package: `core` (the Gateway's rules, pure Python), `harness` (the test
harness: snapshots, seeds, faults, journal) and `web` (the Flask shell, the control API and the
`frontier-sim` command). `create_app()` builds an app with its own fresh store. Both it and
`__version__` are looked up on first use, so `import simulator` (and the pytest plugin, which
every pytest start of a project that installs this package loads) costs next to nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.web.app import create_app

    __version__: str

DISTRIBUTION = "frontier-gateway-sim"
__all__ = ["__version__", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy on purpose: importing Flask (create_app) or reading the installed metadata
    # (__version__) here would slow every pytest start in a user's project.
    if name == "create_app":
        from simulator.web.app import create_app

        return create_app
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version(DISTRIBUTION)
        except PackageNotFoundError:  # run from a checkout that was never installed
            found = "0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
