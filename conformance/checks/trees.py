"""Random hierarchies against the oracle: Hypothesis builds trees through the API.

Both modes, up to five levels, random limits; in CASCADING trees every threshold is
clamped to its ancestors' so each create is valid. Every `effective_models`, on create and
on get, must equal oracle.py's. Nothing is shrunk: that would only repeat writes.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from conformance.bodies import CASCADING, INDEPENDENT, KINDS, limit
from conformance.checks.response import Builder
from conformance.registry import ORACLE, CheckFailed, check
from conformance.session import Session

SLUGS = ("tree-org/alpha", "tree-org/beta", "tree-org/gamma")
MAX_GROUPS = 6
MAX_LEVEL = 5
UNITS = {"rate_limits": ("SECOND", "MINUTE"), "usage_limits": ("DAY",)}
Models = list[dict[str, Any]]

if TYPE_CHECKING:
    from hypothesis.strategies import DataObject


def _models(data: DataObject, st: ModuleType) -> Models:
    slugs = data.draw(st.lists(st.sampled_from(SLUGS), min_size=1, max_size=3, unique=True))
    models = []
    for slug in slugs:
        entry: dict[str, Any] = {"slug": slug}
        for kind in KINDS:
            entry[kind] = [
                limit(
                    type_, data.draw(st.sampled_from(UNITS[kind])), data.draw(st.integers(1, 1000))
                )
                for type_ in ("TOKEN", "REQUEST")
                if data.draw(st.booleans())  # at most one per type: RATE-ONE-PER-TYPE
            ]
        models.append(entry)
    return models


def _clamped(models: Models, ancestors: list[Models]) -> Models:
    """CASCADING: each threshold lowered to the smallest an ancestor declares for its tuple."""
    ceilings: dict[tuple[str, str, str, str], int] = {}
    for ancestor in ancestors:
        for entry in ancestor:
            for kind in KINDS:
                for item in entry[kind]:
                    key = (entry["slug"], kind, item["type"], item["unit"])
                    ceilings[key] = min(ceilings.get(key, item["threshold"]), item["threshold"])
    for entry in models:
        for kind in KINDS:
            for item in entry[kind]:
                key = (entry["slug"], kind, item["type"], item["unit"])
                item["threshold"] = min(item["threshold"], ceilings.get(key, item["threshold"]))
    return models


Plan = list[tuple[int | None, Models]]  # (parent index, models) per group, parents first


def _plan(data: DataObject, st: ModuleType, mode: str) -> Plan:
    """A whole tree, drawn before any request, so a draw never depends on an answer.

    `st` is `hypothesis.strategies`, imported by the one function that runs the trials.
    """
    plan: Plan = []
    levels: list[int] = []
    for index in range(data.draw(st.integers(1, MAX_GROUPS))):
        eligible = [i for i, level in enumerate(levels) if level < MAX_LEVEL]
        parent = data.draw(st.sampled_from(eligible)) if index else None
        models = _models(data, st)
        if mode == CASCADING and parent is not None:
            models = _clamped(models, [plan[i][1] for i in _ancestors(plan, parent)])
        plan.append((parent, models))
        levels.append(levels[parent] + 1 if parent is not None else 1)
    return plan


def _ancestors(plan: Plan, index: int | None) -> list[int]:
    chain = []
    while index is not None:
        chain.append(index)
        index = plan[index][0]
    return chain


def _build(s: Session, mode: str, plan: Plan) -> None:
    build = Builder(s)
    try:
        groups: list[dict[str, Any]] = []
        for index, (parent, models) in enumerate(plan):
            group = build.add(
                f"g{index}", models, mode, groups[parent] if parent is not None else None
            )
            groups.append(group)
            build.expect_effective(group)
        for group in groups:
            read = s.expect_group(s.get(group["id"]), "for a get of a group this run created")
            build.expect_effective(read)
    except CheckFailed as failed:
        described = [(f"g{i}", None if p is None else f"g{p}", m) for i, (p, m) in enumerate(plan)]
        raise CheckFailed(
            f"{failed.message} (tree as (name, parent, models): {described})", rule=failed.rule
        ) from None


def _random_trees(s: Session, mode: str) -> None:
    # Hypothesis takes a fifth of a second to import: only a run of these checks pays for it,
    # and `frontier-conformance --help` works without the conformance extra.
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    found: list[BaseException] = []

    @settings(
        max_examples=max(2, s.run.options.max_examples // 4),
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
        derandomize=s.run.recording is not None,  # recordings draw the same trees
    )
    @given(st.data())
    def trial(data: DataObject) -> None:
        plan = _plan(data, st, mode)
        if found:
            return  # one failure is enough; more trees would only add writes
        try:
            _build(s, mode, plan)
        except Exception as error:  # kept, so Hypothesis never replays a tree
            found.append(error)

    trial()
    if found:
        raise found[0]


@check("EFFECTIVE-INDEPENDENT", family=ORACLE)
def random_independent_trees_match_the_oracle(s: Session) -> None:
    """EFFECTIVE-INDEPENDENT: random INDEPENDENT trees resolve every limit as oracle.py does.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    _random_trees(s, INDEPENDENT)


@check("EFFECTIVE-CASCADING", family=ORACLE)
def random_cascading_trees_match_the_oracle(s: Session) -> None:
    """EFFECTIVE-CASCADING: random CASCADING trees list every ancestor's limit as oracle.py does.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    _random_trees(s, CASCADING)
