"""`frontier-conformance`: certify a Frontier Gateway implementation from the command line.

Every option can also come from an environment variable. Exit codes: 0 conforms, 1 does
not, 2 usage or connection error, 130 interrupted (after clean-up). `frontier-conformance
diff A B` compares two runs recorded with `--record` (conformance/recording.py).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from conformance import listing
from conformance.deviations import DeviationsError, load_deviations
from conformance.options import DEFAULT_INFERENCE_BUDGET, DEFAULT_MAX_EXAMPLES, DEFAULT_MAX_WRITES
from conformance.recording import Recording, diff_main
from conformance.runner import DISTRIBUTION, UsageError, run
from conformance.summary import summary
from conformance.target import TargetUnreachable

USAGE = 2
ENV = {
    "base_url": "FRONTIER_BASE_URL",
    "api_key": "FRONTIER_API_KEY",
    "view_key": "FRONTIER_VIEW_KEY",
    "other_workspace_key": "FRONTIER_OTHER_WORKSPACE_KEY",
    "not_onboarded_key": "FRONTIER_NOT_ONBOARDED_KEY",
    "no_public_key_workspace_key": "FRONTIER_NO_PUBLIC_KEY_WORKSPACE_KEY",
    "signing_key": "FRONTIER_SIGNING_KEY",
    "org_prefix": "FRONTIER_ORG_PREFIX",
    "allow_unprefixed_ids": "FRONTIER_ALLOW_UNPREFIXED_IDS",
    "inference": "FRONTIER_INFERENCE",
    "inference_url": "FRONTIER_INFERENCE_URL",
    "inference_budget": "FRONTIER_INFERENCE_BUDGET",
    "webhook_listen": "FRONTIER_WEBHOOK_LISTEN",
    "webhook_secret": "FRONTIER_WEBHOOK_SECRET",
    "strict": "FRONTIER_STRICT",
    "require_all": "FRONTIER_REQUIRE_ALL",
    "select": "FRONTIER_SELECT",
    "report_dir": "FRONTIER_REPORT_DIR",
    "deviations": "FRONTIER_DEVIATIONS",
    "max_examples": "FRONTIER_MAX_EXAMPLES",
    "max_writes": "FRONTIER_MAX_WRITES",
    "app": "FRONTIER_APP",
    "record": "FRONTIER_RECORD",
}
TRUE = ("1", "true", "yes", "on")


# name → (help, extra argparse settings); each help ends with the variable it also reads.
OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "base_url": ("the implementation's base URL, e.g. http://127.0.0.1:8080", {"metavar": "URL"}),
    "api_key": ("management key of an onboarded workspace (required)", {"metavar": "KEY"}),
    "view_key": ("a view-scope key of the same workspace", {"metavar": "KEY"}),
    "other_workspace_key": ("a management key of another onboarded workspace", {"metavar": "KEY"}),
    "not_onboarded_key": ("a key of a workspace that isn't onboarded", {"metavar": "KEY"}),
    "no_public_key_workspace_key": ("a management key of an onboarded workspace with no "
                                    "Ed25519 public key on file", {"metavar": "KEY"}),
    "signing_key": ("the --api-key workspace's Ed25519 private key: base64 of the raw 32 "
                    "bytes, or a PEM file", {"metavar": "KEY_OR_FILE"}),
    "org_prefix": ("an org prefix the --api-key workspace owns, for endpoint slugs",
                   {"metavar": "PREFIX"}),
    "allow_unprefixed_ids": ("may create a group whose external_entity_id lacks the run "
                             "prefix (a one-character id)",
                             {"action": "store_true", "default": None}),
    "inference": ("also check the inference route, POST /v1/chat/completions, at the "
                  "management target itself (the base URL or --app, as the simulator serves "
                  "it)", {"action": "store_true", "default": None}),
    "inference_url": ("also check the inference route, POST /v1/chat/completions, at this URL "
                      "(e.g. https://inference.baseten.co/v1), with keys minted under the "
                      "run's own groups; every call costs money", {"metavar": "URL"}),
    "inference_budget": ("most calls the inference checks may make (default "
                         f"{DEFAULT_INFERENCE_BUDGET})", {"type": int, "metavar": "N"}),
    "webhook_listen": ("run a billing webhook receiver here and check what the target "
                       "delivers to it (the workspace's webhook URL must point to it)",
                       {"metavar": "HOST:PORT"}),
    "webhook_secret": ("the workspace's webhook signing secret, to check signatures",
                       {"metavar": "SECRET"}),
    "strict": ("also check choice rules", {"action": "store_true", "default": None}),
    "require_all": ("fail the run when documented rules were not run (a partial run), for CI "
                    "that wants the whole certificate",
                    {"action": "store_true", "default": None}),
    "select": ("run only these rules (space- or comma-separated in the variable)",
               {"nargs": "+", "metavar": "RULE_ID"}),
    "report_dir": ("write report.html, junit.xml, conformance.json, scorecard.md here",
                   {"metavar": "DIR"}),
    "deviations": ("YAML list of known deviations", {"metavar": "FILE"}),
    "max_examples": (f"schemathesis examples per operation (default {DEFAULT_MAX_EXAMPLES})",
                     {"type": int, "metavar": "N"}),
    "max_writes": (f"most creates a run may send (default {DEFAULT_MAX_WRITES})",
                   {"type": int, "metavar": "N"}),
    "app": ("test the WSGI app this factory returns, in-process, instead of a URL",
            {"metavar": "MODULE:FACTORY"}),
    "record": ("keep every request and normalised answer in this directory, for "
               "`frontier-conformance diff A B`", {"metavar": "DIR"}),
}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontier-conformance",
        description="Check, rule by rule, that a Frontier Gateway implementation behaves as "
        "documented. Every option also reads the environment variable shown.",
        epilog="Exit codes: 0 conforms, 1 does not, 2 usage or connection error, "
        "130 interrupted (after clean-up). `frontier-conformance diff A B` compares two runs "
        "recorded with --record.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    for name, (text, settings) in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, help=f"{text} [{ENV[name]}]", **settings)
    listing.add_arguments(parser)
    return parser


def package_version() -> str:
    """The installed distribution's version (the suite and the simulator ship together)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


def resolve(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, Any]:
    """Command-line values, else the environment's, else the defaults."""
    values = {name: getattr(args, name) for name in ENV}
    for name, variable in ENV.items():
        if values[name] is None and environ.get(variable):
            values[name] = _from_env(name, environ[variable])
    values["strict"] = bool(values["strict"])
    values["require_all"] = bool(values["require_all"])
    values["inference"] = bool(values["inference"])
    values["select"] = tuple(values["select"] or ())
    if values["max_examples"] is None:
        values["max_examples"] = DEFAULT_MAX_EXAMPLES
    values["max_writes"] = (
        DEFAULT_MAX_WRITES if values["max_writes"] is None else values["max_writes"]
    )
    if values["inference_budget"] is None:
        values["inference_budget"] = DEFAULT_INFERENCE_BUDGET
    return values


def _from_env(name: str, text: str) -> Any:
    if name in ("strict", "require_all", "allow_unprefixed_ids", "inference"):
        return text.strip().lower() in TRUE
    if name == "select":
        return text.replace(",", " ").split()
    if name in ("max_examples", "max_writes", "inference_budget"):
        try:
            return int(text)
        except ValueError:
            raise SystemExit(_usage(f"{ENV[name]} must be a whole number, not {text!r}")) from None
    return text


def load_app(spec: str) -> Any:
    """`module:factory` → the WSGI app the factory returns."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--app must look like module:factory, not {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    return factory()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["diff"]:
        return diff_main(argv[1:])
    args = build_parser().parse_args(argv)
    values = resolve(args, dict(os.environ))
    if listing.asked(args):
        return _list_rules(args, values)
    if not values["api_key"]:
        return _usage("--api-key (or FRONTIER_API_KEY) is required")
    if bool(values["base_url"]) == bool(values["app"]):
        return _usage("give exactly one of --base-url and --app")
    try:
        return _run(values)
    except KeyboardInterrupt:
        print("frontier-conformance: interrupted", file=sys.stderr)
        return 130


def _run(values: dict[str, Any]) -> int:
    try:
        deviations = load_deviations(values["deviations"]) if values["deviations"] else ()
        app = load_app(values["app"]) if values["app"] else None
        recording = Recording(Path(values["record"])) if values["record"] else None
        result = run(
            api_key=values["api_key"], app=app, base_url=values["base_url"] or None,
            view_key=values["view_key"], other_workspace_key=values["other_workspace_key"],
            not_onboarded_key=values["not_onboarded_key"], strict=values["strict"],
            require_all=values["require_all"],
            no_public_key_workspace_key=values["no_public_key_workspace_key"],
            signing_key=values["signing_key"], org_prefix=values["org_prefix"],
            allow_unprefixed_ids=bool(values["allow_unprefixed_ids"]),
            inference=values["inference"], inference_url=values["inference_url"],
            inference_budget=values["inference_budget"],
            webhook_listen=values["webhook_listen"], webhook_secret=values["webhook_secret"],
            select=values["select"], report_dir=values["report_dir"], deviations=deviations,
            max_examples=values["max_examples"], max_writes=values["max_writes"], quiet=False,
            record=recording,
        )  # fmt: skip
    except (
        DeviationsError,
        UsageError,
        TargetUnreachable,
        ValueError,
        ImportError,
        AttributeError,
    ) as error:
        return _usage(str(error))
    if recording is not None:
        result.reports["recording"] = recording.save(result)
    print()
    if result.inference_calls is not None:
        budget = values["inference_budget"]
        print(f"Inference calls: {result.inference_calls} of a budget of {budget}")
    print(summary(result))  # the reports' paths, then the verdict last
    return result.exit_code


def _list_rules(args: argparse.Namespace, values: dict[str, Any]) -> int:
    try:
        print(listing.list_rules(args, values))
    except ValueError as error:
        return _usage(str(error))
    return 0


def _usage(message: str) -> int:
    print(f"frontier-conformance: {message}", file=sys.stderr)
    return USAGE


if __name__ == "__main__":
    sys.exit(main())
