"""HTTP tests of the caps that keep one call's work bounded: MODELS-MAX (1,000 model entries
per group) and LIMITS-MAX (16 entries per limit list), on create and on update."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.builders import GROUPS, MANAGE, assert_refused, group_body, model

MODELS_MAX = 1000
LIMITS_MAX = 16


def models(count: int) -> list[dict[str, Any]]:
    return [model(f"your-org/model-{i}", rate=[("TOKEN", "MINUTE", 10)]) for i in range(count)]


def test_create_accepts_1000_model_entries_and_refuses_1001(client: FlaskClient) -> None:
    """MODELS-MAX: at the cap the group is created with every entry; one more is a 400."""
    made = client.post(GROUPS, json=group_body("at-cap", models=models(MODELS_MAX)), headers=MANAGE)
    assert made.status_code == 200
    assert len(made.get_json()["effective_models"]) == MODELS_MAX
    over = client.post(
        GROUPS, json=group_body("over", models=models(MODELS_MAX + 1)), headers=MANAGE
    )
    assert_refused(over, 400, "MODELS-MAX")
    assert len(over.get_json()["error"]) < 400  # the refused list isn't echoed whole


def test_update_refuses_1001_model_entries_and_changes_nothing(client: FlaskClient) -> None:
    """MODELS-MAX on PATCH: the group keeps its models."""
    group = client.post(GROUPS, json=group_body("patched"), headers=MANAGE).get_json()
    refused = client.patch(
        f"{GROUPS}/{group['id']}", json={"models": models(MODELS_MAX + 1)}, headers=MANAGE
    )
    assert_refused(refused, 400, "MODELS-MAX")
    after = client.get(f"{GROUPS}/{group['id']}", headers=MANAGE).get_json()
    assert after["models"] == group["models"]


def test_a_limit_list_over_16_entries_is_refused_with_limits_max(client: FlaskClient) -> None:
    """LIMITS-MAX: 17 rate limits (or usage limits) in one entry give 400 naming the rule,
    before the duplicate rules look at them."""
    for kind, entry in (
        ("rate_limits", ("TOKEN", "MINUTE", 1)),
        ("usage_limits", ("TOKEN", "DAY", 1)),
    ):
        entry_model = (
            model(rate=[entry] * 17) if kind == "rate_limits" else model(usage=[entry] * 17)
        )
        refused = client.post(GROUPS, json=group_body(kind, models=[entry_model]), headers=MANAGE)
        assert_refused(refused, 400, "LIMITS-MAX")
