"""The options of one run, shared by the command line, `conformance.run()` and the plugin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.deviations import Deviation

DEFAULT_MAX_EXAMPLES = 20
DEFAULT_MAX_WRITES = 2000


@dataclass(frozen=True)
class Options:
    api_key: str
    base_url: str | None = None
    app: Any = None  # a WSGI app; when given, requests never leave the process
    view_key: str | None = None
    other_workspace_key: str | None = None
    not_onboarded_key: str | None = None
    strict: bool = False
    select: tuple[str, ...] = ()
    report_dir: Path | None = None
    deviations: tuple[Deviation, ...] = ()
    max_examples: int = DEFAULT_MAX_EXAMPLES
    max_writes: int = DEFAULT_MAX_WRITES
    fuzz: bool = True
    quiet: bool = True

    @property
    def target(self) -> str:
        if self.app is not None:
            return f"in-process app {_name(self.app)}"
        return str(self.base_url)

    def key(self, role: str) -> str | None:
        keys = {
            "api": self.api_key,
            "view": self.view_key,
            "other": self.other_workspace_key,
            "not_onboarded": self.not_onboarded_key,
        }
        return keys[role]


def _name(app: Any) -> str:
    return str(getattr(app, "import_name", None) or type(app).__name__)
