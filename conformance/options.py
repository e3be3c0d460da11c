"""The options of one run, shared by the command line, `conformance.run()` and the plugin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.deviations import Deviation

if TYPE_CHECKING:
    from conformance.recording import Recording

DEFAULT_MAX_EXAMPLES = 20
DEFAULT_MAX_WRITES = 2000
# Calls to the inference route a run may make: a strict run with webhooks makes about 110.
DEFAULT_INFERENCE_BUDGET = 150


@dataclass(frozen=True)
class Options:
    api_key: str
    base_url: str | None = None
    app: Any = None  # a WSGI app; when given, requests never leave the process
    view_key: str | None = None
    other_workspace_key: str | None = None
    not_onboarded_key: str | None = None
    no_public_key_workspace_key: str | None = None
    signing_key: str | None = None  # base64 of the raw 32 bytes, PEM text, or a PEM file's path
    org_prefix: str | None = None  # an org prefix the --api-key workspace owns (endpoint slugs)
    allow_unprefixed_ids: bool = False  # may send an external_entity_id without the run prefix
    inference: bool = False  # also check POST /v1/chat/completions, at the same base URL
    inference_url: str | None = None  # ... or at this URL (the inference host may differ)
    inference_budget: int = DEFAULT_INFERENCE_BUDGET  # most calls to the inference route
    webhook_listen: str | None = None  # HOST:PORT of the billing webhook receiver to run
    webhook_secret: str | None = None  # the workspace's webhook signing secret
    strict: bool = False
    require_all: bool = False  # documented rules left out fail the run
    select: tuple[str, ...] = ()
    report_dir: Path | None = None
    deviations: tuple[Deviation, ...] = ()
    max_examples: int = DEFAULT_MAX_EXAMPLES
    max_writes: int = DEFAULT_MAX_WRITES
    fuzz: bool = True
    quiet: bool = True
    record: Recording | None = None  # keeps every exchange of the run (--record)

    @property
    def checks_inference(self) -> bool:
        """Whether the run checks the inference route (--inference or --inference-url)."""
        return self.inference or self.inference_url is not None

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
            "no_public_key": self.no_public_key_workspace_key,
        }
        return keys[role]


def _name(app: Any) -> str:
    return str(getattr(app, "import_name", None) or type(app).__name__)
