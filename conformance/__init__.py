"""A certification suite for implementations of Baseten's Frontier Gateway management API.

It knows only a base URL (or a WSGI app handed to it) and never imports the simulator.
"""

from conformance.deviations import Deviation, DeviationsError, load_deviations
from conformance.outcomes import Failure, RuleOutcome
from conformance.report import RunResult
from conformance.runner import UsageError, run
from conformance.target import TargetUnreachable

__all__ = [
    "Deviation",
    "DeviationsError",
    "Failure",
    "RuleOutcome",
    "RunResult",
    "TargetUnreachable",
    "UsageError",
    "load_deviations",
    "run",
]
