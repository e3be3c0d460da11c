"""Unit tests of simulator.core.model: parsing a schema-valid create body, and the group tree."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from simulator.core.errors import (
    DuplicateRateLimitType,
    DuplicateSlug,
    DuplicateUsageLimit,
    GatewayError,
    InvalidPayload,
)
from simulator.core.model import (
    CASCADING,
    INDEPENDENT,
    RATE,
    USAGE,
    Group,
    Limit,
    ModelConfig,
    models_from_json,
    new_group_from_json,
)
from tests.builders import DOCUMENTED_REQUEST, group_body, model


def make_group(group_id: str, parent: Group | None = None) -> Group:
    group = Group(
        id=group_id,
        workspace="acme",
        external_entity_id=group_id,
        name=None,
        models=(),
        mode=INDEPENDENT,
        parent=parent,
        created_at="2026-05-13T12:00:00Z",
        depth=parent.depth + 1 if parent else 1,
    )
    if parent is not None:
        parent.children.append(group)
    return group


def test_new_group_from_json_reads_the_documented_example() -> None:
    """RESP-ECHO: every field of the documented request reaches the NewGroup unchanged."""
    new = new_group_from_json(DOCUMENTED_REQUEST)
    assert new.external_entity_id == "cust_42"
    assert new.name == "Acme prod"
    assert new.mode == INDEPENDENT
    assert new.parent_id is None
    assert new.models == (
        ModelConfig(
            "your-org/your-model",
            (Limit("TOKEN", "MINUTE", 1000000), Limit("REQUEST", "MINUTE", 100)),
            (Limit("TOKEN", "DAY", 10000000),),
        ),
    )


@pytest.mark.parametrize(
    "metadata", [{"external_entity_id": "e"}, {"external_entity_id": "e", "name": None}]
)
def test_new_group_from_json_treats_null_and_omitted_name_alike(metadata: dict[str, Any]) -> None:
    """NAME-NULL: `"name": null` and no name both give a group without a name."""
    body = {**group_body(), "metadata": metadata}
    assert new_group_from_json(body).name is None


def test_models_from_json_defaults_omitted_limit_lists_to_empty() -> None:
    """RESP-ECHO: a slug without rate_limits or usage_limits has empty limit lists."""
    assert models_from_json([{"slug": "a/b"}]) == (ModelConfig("a/b", (), ()),)


def test_models_from_json_keeps_request_order() -> None:
    """RESP-ORDER: models and limits keep the order of the request."""
    models = models_from_json(
        [model("z/z", rate=[("REQUEST", "SECOND", 2), ("TOKEN", "MINUTE", 1)]), model("a/a")]
    )
    assert [m.slug for m in models] == ["z/z", "a/a"]
    assert [x.type for x in models[0].rate_limits] == ["REQUEST", "TOKEN"]


def test_models_from_json_stores_an_integral_float_as_int() -> None:
    """THRESHOLD-INT: a schema-valid 1.0 is stored (and so echoed) as the integer 1."""
    (config,) = models_from_json([model(rate=[("TOKEN", "MINUTE", 1.0)])])
    assert config.rate_limits[0].threshold == 1
    assert isinstance(config.rate_limits[0].threshold, int)


@pytest.mark.parametrize(
    ("rule", "error", "models"),
    [
        ("SLUG-UNIQUE", DuplicateSlug, [model("a/b"), model("c/d"), model("a/b")]),
        (
            "RATE-ONE-PER-TYPE",
            DuplicateRateLimitType,
            [model(rate=[("TOKEN", "SECOND", 1), ("TOKEN", "MINUTE", 60)])],
        ),
        (
            "RATE-ONE-PER-TYPE",
            DuplicateRateLimitType,
            [model(rate=[("REQUEST", "MINUTE", 1), ("REQUEST", "MINUTE", 1)])],
        ),
        (
            "USAGE-ONE-PER-TYPE-UNIT",
            DuplicateUsageLimit,
            [model(usage=[("TOKEN", "DAY", 1), ("TOKEN", "DAY", 2)])],
        ),
    ],
)
def test_models_from_json_refuses_duplicates(
    rule: str, error: type[GatewayError], models: list[dict[str, Any]]
) -> None:
    """SLUG-UNIQUE, RATE-ONE-PER-TYPE, USAGE-ONE-PER-TYPE-UNIT: duplicates are payload errors."""
    with pytest.raises(error) as raised:
        models_from_json(models)
    assert raised.value.rule == rule
    assert isinstance(raised.value, InvalidPayload)


def test_models_from_json_accepts_one_limit_of_each_type() -> None:
    """RATE-ONE-PER-TYPE, USAGE-ONE-PER-TYPE-UNIT: TOKEN and REQUEST side by side are fine."""
    (config,) = models_from_json(
        [
            model(
                rate=[("TOKEN", "SECOND", 1), ("REQUEST", "SECOND", 1)],
                usage=[("TOKEN", "DAY", 1), ("REQUEST", "DAY", 1)],
            )
        ]
    )
    assert len(config.limits(RATE)) == 2
    assert len(config.limits(USAGE)) == 2


def test_model_config_limits_picks_the_kind() -> None:
    """ModelConfig.limits returns the rate or the usage list by kind."""
    config = ModelConfig("a/b", (Limit("TOKEN", "MINUTE", 1),), (Limit("TOKEN", "DAY", 2),))
    assert config.limits(RATE) == (Limit("TOKEN", "MINUTE", 1),)
    assert config.limits(USAGE) == (Limit("TOKEN", "DAY", 2),)
    assert Limit("TOKEN", "DAY", 2).key == ("TOKEN", "DAY")


def test_group_lineage_walks_from_self_to_root() -> None:
    """Group.lineage: the group first, then each ancestor up to the root."""
    root = make_group("root")
    child = make_group("child", root)
    grandchild = make_group("grandchild", child)
    assert [g.id for g in grandchild.lineage()] == ["grandchild", "child", "root"]
    assert [g.id for g in root.lineage()] == ["root"]


def test_group_subtree_lists_parents_before_children() -> None:
    """Group.subtree: the group and every descendant, each parent before its children."""
    root = make_group("root")
    a = make_group("a", root)
    make_group("a1", a)
    make_group("b", root)
    assert [g.id for g in root.subtree()] == ["root", "a", "a1", "b"]


def test_group_model_finds_a_slug_or_none() -> None:
    """Group.model returns the configuration of one slug, or None when it isn't listed."""
    group = make_group("g")
    group.models = (ModelConfig("a/b"),)
    assert group.model("a/b") == ModelConfig("a/b")
    assert group.model("c/d") is None
    assert CASCADING != INDEPENDENT


_DUPLICATES_PROGRAM = """
from simulator.core.errors import InvalidPayload
from simulator.core.model import models_from_json
limits = [{"type": t, "unit": u, "threshold": 1}
          for t, u in (("TOKEN", "SECOND"), ("REQUEST", "SECOND"),
                       ("TOKEN", "MINUTE"), ("REQUEST", "MINUTE"))]
try:
    models_from_json([{"slug": "o/m", "rate_limits": limits}])
except InvalidPayload as error:
    print(error)
"""


def test_duplicate_limit_message_does_not_depend_on_string_hashing() -> None:
    """RATE-ONE-PER-TYPE names the first duplicated type in request order, in every process
    (a set's order changes with PYTHONHASHSEED, so a recording over HTTP differed)."""
    messages = {
        subprocess.run(
            [sys.executable, "-c", _DUPLICATES_PROGRAM],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout.strip()
        for seed in range(6)
    }
    assert len(messages) == 1
    assert "more than one TOKEN rate limit" in messages.pop()
