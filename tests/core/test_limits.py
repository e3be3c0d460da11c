"""Unit tests of simulator.core.limits: effective limits per mode and the cascading ceiling."""

from __future__ import annotations

import pytest

from simulator.core.limits import EffectiveLimit, EffectiveModel, effective_models, exceeds
from simulator.core.model import CASCADING, INDEPENDENT, Group, Limit, ModelConfig

SLUG = "org/model"


def config(
    slug: str = SLUG,
    rate: tuple[tuple[str, str, int], ...] = (),
    usage: tuple[tuple[str, str, int], ...] = (),
) -> ModelConfig:
    return ModelConfig(slug, tuple(Limit(*x) for x in rate), tuple(Limit(*x) for x in usage))


def group(
    group_id: str, *models: ModelConfig, parent: Group | None = None, mode: str = INDEPENDENT
) -> Group:
    made = Group(
        id=group_id,
        workspace="acme",
        external_entity_id=group_id,
        name=None,
        models=models,
        mode=mode,
        parent=parent,
        created_at="2026-05-13T12:00:00Z",
        depth=parent.depth + 1 if parent else 1,
    )
    if parent is not None:
        parent.children.append(made)
    return made


def anchored(kind: str, unit: str, threshold: int, source: str) -> EffectiveLimit:
    return EffectiveLimit(kind, unit, threshold, source)


@pytest.mark.parametrize("mode", [INDEPENDENT, CASCADING])
def test_effective_models_of_a_root_are_its_models_anchored_to_itself(mode: str) -> None:
    """EFFECTIVE-ROOT: a root's effective limits are its own, source_group its own id."""
    root = group(
        "root",
        config(
            rate=(("TOKEN", "MINUTE", 10), ("REQUEST", "MINUTE", 5)), usage=(("TOKEN", "DAY", 9),)
        ),
        config("other/slug"),
        mode=mode,
    )
    assert effective_models(root) == [
        EffectiveModel(
            SLUG,
            (anchored("TOKEN", "MINUTE", 10, "root"), anchored("REQUEST", "MINUTE", 5, "root")),
            (anchored("TOKEN", "DAY", 9, "root"),),
        ),
        EffectiveModel("other/slug", (), ()),
    ]


def test_effective_models_independent_child_inherits_what_it_omits() -> None:
    """EFFECTIVE-INDEPENDENT: own values win; omitted tuples come from the parent."""
    parent = group(
        "parent",
        config(
            rate=(("TOKEN", "MINUTE", 100), ("REQUEST", "MINUTE", 5)), usage=(("TOKEN", "DAY", 9),)
        ),
    )
    child = group("child", config(rate=(("TOKEN", "MINUTE", 70),)), parent=parent)
    (effective,) = effective_models(child)
    assert set(effective.rate_limits) == {
        anchored("TOKEN", "MINUTE", 70, "child"),
        anchored("REQUEST", "MINUTE", 5, "parent"),
    }
    assert effective.usage_limits == (anchored("TOKEN", "DAY", 9, "parent"),)


def test_effective_models_independent_resolves_to_the_closest_declaring_ancestor() -> None:
    """EFFECTIVE-INDEPENDENT: a parent that doesn't declare a tuple is skipped, not a stop."""
    root = group("root", config(rate=(("TOKEN", "MINUTE", 100),), usage=(("REQUEST", "DAY", 7),)))
    middle = group("middle", config(usage=(("REQUEST", "DAY", 3),)), parent=root)
    leaf = group("leaf", config(), parent=middle)
    (effective,) = effective_models(leaf)
    assert effective.rate_limits == (anchored("TOKEN", "MINUTE", 100, "root"),)
    assert effective.usage_limits == (anchored("REQUEST", "DAY", 3, "middle"),)


def test_effective_models_independent_treats_units_as_separate_tuples() -> None:
    """EFFECTIVE-INDEPENDENT: a child's TOKEN/SECOND doesn't hide the parent's TOKEN/MINUTE."""
    parent = group("parent", config(rate=(("TOKEN", "MINUTE", 100),)))
    child = group("child", config(rate=(("TOKEN", "SECOND", 2),)), parent=parent)
    (effective,) = effective_models(child)
    assert set(effective.rate_limits) == {
        anchored("TOKEN", "SECOND", 2, "child"),
        anchored("TOKEN", "MINUTE", 100, "parent"),
    }


def test_effective_models_independent_override_may_be_higher() -> None:
    """INDEPENDENT-OVERRIDE: a child's threshold above its parent's is what it gets."""
    parent = group("parent", config(rate=(("TOKEN", "MINUTE", 100),)))
    child = group("child", config(rate=(("TOKEN", "MINUTE", 120),)), parent=parent)
    assert effective_models(child)[0].rate_limits == (anchored("TOKEN", "MINUTE", 120, "child"),)


def test_effective_models_cascading_lists_every_level() -> None:
    """EFFECTIVE-CASCADING: own limits, then every ancestor's for the slug, each anchored."""
    root = group("root", config(rate=(("TOKEN", "MINUTE", 100),)), mode=CASCADING)
    middle = group("middle", config(usage=(("TOKEN", "DAY", 50),)), parent=root, mode=CASCADING)
    leaf = group("leaf", config(rate=(("TOKEN", "MINUTE", 70),)), parent=middle, mode=CASCADING)
    (effective,) = effective_models(leaf)
    assert effective.rate_limits == (
        anchored("TOKEN", "MINUTE", 70, "leaf"),
        anchored("TOKEN", "MINUTE", 100, "root"),
    )
    assert effective.usage_limits == (anchored("TOKEN", "DAY", 50, "middle"),)


@pytest.mark.parametrize("mode", [INDEPENDENT, CASCADING])
def test_effective_models_has_exactly_the_groups_own_slugs(mode: str) -> None:
    """EFFECTIVE-SLUGS and CHILD-SLUGS: ancestor-only slugs stay out; child-only slugs are in."""
    parent = group("parent", config("p/only", rate=(("TOKEN", "MINUTE", 1),)), mode=mode)
    child = group("child", config("c/only"), parent=parent, mode=mode)
    assert effective_models(child) == [EffectiveModel("c/only", (), ())]


@pytest.mark.parametrize(
    ("upper", "lower", "expected"),
    [
        (config(rate=(("TOKEN", "MINUTE", 10),)), config(rate=(("TOKEN", "MINUTE", 10),)), False),
        (config(rate=(("TOKEN", "MINUTE", 10),)), config(rate=(("TOKEN", "MINUTE", 11),)), True),
        (config(rate=(("TOKEN", "MINUTE", 10),)), config(rate=(("TOKEN", "MINUTE", 9),)), False),
        (config(usage=(("TOKEN", "DAY", 10),)), config(usage=(("TOKEN", "DAY", 10),)), False),
        (config(usage=(("TOKEN", "DAY", 10),)), config(usage=(("TOKEN", "DAY", 11),)), True),
        (config(rate=(("TOKEN", "MINUTE", 10),)), config(rate=(("TOKEN", "SECOND", 99),)), False),
        (config(rate=(("TOKEN", "MINUTE", 10),)), config(rate=(("REQUEST", "MINUTE", 99),)), False),
        (
            config("a/a", rate=(("TOKEN", "MINUTE", 10),)),
            config(rate=(("TOKEN", "MINUTE", 99),)),
            False,
        ),
        (config(), config(rate=(("TOKEN", "MINUTE", 99),)), False),
        (config(rate=(("TOKEN", "MINUTE", 10),)), config(), False),
    ],
    ids=[
        "equal-rate",
        "above-rate",
        "below-rate",
        "equal-usage",
        "above-usage",
        "other-unit",
        "other-type",
        "other-slug",
        "upper-undeclared",
        "lower-undeclared",
    ],
)
def test_exceeds_compares_per_slug_type_and_unit(
    upper: ModelConfig, lower: ModelConfig, expected: bool
) -> None:
    """CASCADE-CEILING: only above the same (slug, type, unit) counts; equal is allowed."""
    assert exceeds([upper], [lower]) is expected
