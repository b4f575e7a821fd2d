"""Aliases (compare-and-set, label-map guard), stages, and the history that answers `?at=`."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from modelyard.sdk import ApiError
from modelyard.sdk.registry import Registry


def _moment() -> datetime:
    """A time strictly between two registry changes."""
    time.sleep(0.01)
    moment = datetime.now(UTC)
    time.sleep(0.01)
    return moment


def test_quadra_walkthrough_answers_which_version_was_in_production_before_the_move(registry: Registry) -> None:
    registry.register("anomaly", create_model=True, framework="pytorch", metrics={"f1": 0.81})
    registry.stage("anomaly/1", "staging", comment="looks good on the bench")
    registry.stage("anomaly/1", "production", comment="approved by QA", archive_existing=True)
    registry.set_alias("anomaly", "production", 1, expected_version=None)
    while_first = _moment()

    registry.register("anomaly", framework="pytorch", metrics={"f1": 0.88})
    registry.stage("anomaly/2", "production", comment="better f1", archive_existing=True)
    registry.set_alias("anomaly", "production", 2, expected_version=1)
    after_move = _moment()

    assert registry.version("anomaly/production").number == 2
    assert registry.version("anomaly/1").stage.value == "archived"
    assert registry.stage_holders("anomaly", "production").versions == [2]
    assert registry.stage_holders("anomaly", "production", at=while_first).versions == [1]
    assert registry.stage_holders("anomaly", "production", at=after_move).versions == [2]
    assert registry.stage_holders("anomaly", "archived", at=after_move).versions == [1]
    assert registry.alias("anomaly", "production", at=while_first).version == 1
    assert registry.alias("anomaly", "production", at=after_move).version == 2
    assert registry.alias("anomaly", "production").version == 2
    stage_events = registry.events("anomaly", action="version.stage_changed").items
    assert [(e.version_number, e.before["stage"], e.after["stage"], e.comment) for e in stage_events] == [
        (1, "none", "staging", "looks good on the bench"),
        (1, "staging", "production", "approved by QA"),
        (1, "production", "archived", "archived: version 2 moved to production"),
        (2, "none", "production", "better f1"),
    ]


def test_history_before_anything_happened_is_empty(registry: Registry) -> None:
    before = datetime(2020, 1, 1, tzinfo=UTC)
    registry.register("m", create_model=True)
    registry.set_alias("m", "champion", 1)
    registry.stage("m/1", "production")

    assert registry.alias("m", "champion", at=before).version is None
    assert registry.stage_holders("m", "production", at=before).versions == []


def test_alias_compare_and_set_names_the_current_holder_on_mismatch(registry: Registry) -> None:
    registry.create("m")
    for _ in range(3):
        registry.register("m")
    registry.set_alias("m", "champion", 1, expected_version=None)

    with pytest.raises(ApiError) as stale:
        registry.set_alias("m", "champion", 3, expected_version=2)
    assert stale.value.status == 409
    assert stale.value.code == "alias_changed"
    assert stale.value.problem["current_version"] == 1
    assert "held by version 1" in stale.value.detail
    with pytest.raises(ApiError) as taken:
        registry.set_alias("m", "champion", 3, expected_version=None)
    assert taken.value.status == 409 and taken.value.problem["current_version"] == 1

    assert registry.set_alias("m", "champion", 3, expected_version=1).aliases == ["champion"]
    assert registry.aliases("m") == {"champion": 3}
    assert registry.version("m/1").aliases == []


def test_moving_an_alias_across_a_label_map_change_is_refused_with_the_diff_unless_forced(registry: Registry) -> None:
    registry.register("m", create_model=True, label_map={0: "cat", 1: "dog", 2: "bird"})
    registry.register("m", label_map={0: "cat", 1: "wolf", 3: "fish"})
    registry.set_alias("m", "production", 1)

    with pytest.raises(ApiError) as refused:
        registry.set_alias("m", "production", 2)

    assert refused.value.status == 409 and refused.value.code == "label_map_changed"
    assert refused.value.problem["diff"] == {
        "added": {"3": "fish"},
        "removed": {"2": "bird"},
        "renamed": {"1": {"from": "dog", "to": "wolf"}},
    }
    assert registry.aliases("m") == {"production": 1}
    assert registry.set_alias("m", "production", 2, force=True).number == 2


def test_latest_is_reserved_and_aliases_can_be_removed(registry: Registry) -> None:
    registry.register("m", create_model=True)
    with pytest.raises(ApiError) as reserved:
        registry.set_alias("m", "latest", 1)
    assert reserved.value.status == 400

    registry.set_alias("m", "champion", 1)
    registry.remove_alias("m", "champion", comment="retired")
    assert registry.aliases("m") == {}
    removed = registry.events("m", action="alias.removed").items
    assert [(e.subject, e.before, e.comment) for e in removed] == [("champion", {"version": 1}, "retired")]


@pytest.mark.parametrize("alias", ["9lives", "has space", "a+b", "x" * 257])
def test_an_alias_outside_the_alias_pattern_is_refused(registry: Registry, alias: str) -> None:
    registry.register("m", create_model=True)
    with pytest.raises(ApiError) as refused:
        registry.set_alias("m", alias, 1)
    assert refused.value.status == 422 and "alias" in refused.value.detail
    assert registry.aliases("m") == {}


def test_the_event_log_cannot_be_edited_through_the_api(registry: Registry, client) -> None:  # noqa: ANN001
    registry.create("m")
    event = registry.events("m").items[0]
    for method in ("PUT", "PATCH", "DELETE"):
        with pytest.raises(ApiError) as refused:
            client.request(method, f"/registry/events/{event.id}")
        assert refused.value.status in (404, 405)
    assert registry.events("m").items[0] == event


def test_events_page_with_a_cursor_in_both_orders(registry: Registry) -> None:
    registry.create("m")
    for _ in range(4):
        registry.register("m")

    first = registry.events("m", limit=3)
    second = registry.events("m", limit=3, cursor=first.next_cursor)
    newest_first = registry.events("m", order="desc", limit=10)

    actions = [e.action for e in first.items + second.items]
    assert actions == ["model.created"] + ["version.registered"] * 4 and second.next_cursor is None
    assert [e.version_number for e in newest_first.items] == [4, 3, 2, 1, None]


def test_holders_name_every_alias_and_stage_now_and_as_of_a_past_moment(registry: Registry) -> None:
    registry.register("holders", create_model=True)
    registry.register("holders")
    registry.register("holders")
    registry.set_alias("holders", "production", 1)
    registry.set_alias("holders", "canary", 2)
    registry.stage("holders/1", "production")
    before_swap = _moment()
    registry.set_alias("holders", "production", 2, expected_version=1)
    registry.remove_alias("holders", "canary")
    registry.stage("holders/2", "production", archive_existing=True)

    now = registry.holders("holders")
    assert (now.aliases, now.stages, now.at) == ({"production": 2}, {"archived": [1], "production": [2]}, None)
    past = registry.holders("holders", at=before_swap)
    assert (past.aliases, past.stages) == ({"production": 1, "canary": 2}, {"production": [1]})
    assert past.at == before_swap
