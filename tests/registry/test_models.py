"""Registered models: metadata merge, tags and labels, rename, archive, list/search, sort, pages."""

from __future__ import annotations

import pytest

from modelyard.sdk import ApiError
from modelyard.sdk.registry import Registry


def test_add_metadata_merges_top_level_keys_and_replaces_nested_values_whole(registry: Registry) -> None:
    registry.create("m", metadata={"training": {"epochs": 10, "lr": 0.1}, "owner": "ana"})

    merged = registry.add_metadata("m", {"training": {"epochs": 20}, "dataset": "v2"})

    assert merged.metadata == {"training": {"epochs": 20}, "owner": "ana", "dataset": "v2"}
    removed = registry.remove_metadata("m", ["owner", "not-there"])
    assert removed.metadata == {"training": {"epochs": 20}, "dataset": "v2"}
    events = registry.events("m", action="model.updated").items
    assert [event.after for event in events] == [
        {"metadata": {"training": {"epochs": 20}, "owner": "ana", "dataset": "v2"}},
        {"metadata": {"training": {"epochs": 20}, "dataset": "v2"}},
    ]


def test_description_has_no_length_cap_and_rename_keeps_versions(registry: Registry) -> None:
    registry.create("old-name", description="x" * 20_000)
    registry.register("old-name")

    renamed = registry.update("old-name", name="new.name_2")

    assert renamed.name == "new.name_2" and len(renamed.description) == 20_000
    assert registry.version("new.name_2/1").model == "new.name_2"
    with pytest.raises(ApiError) as missing:
        registry.get("old-name")
    assert missing.value.status == 404


def test_names_are_unique_and_limited_to_letters_digits_dash_underscore_dot(registry: Registry) -> None:
    registry.create("resnet-50_v1.2")
    with pytest.raises(ApiError) as duplicate:
        registry.create("resnet-50_v1.2")
    assert duplicate.value.status == 409
    with pytest.raises(ApiError) as invalid:
        registry.create("has space")
    assert invalid.value.status == 422
    with pytest.raises(ApiError):
        registry.create("x" * 257)


def test_tags_and_labels_filter_the_list_and_labels_in_use_are_counted(registry: Registry) -> None:
    registry.create("a", tags={"team": "vision", "env": "prod"}, labels=["cat", "dog"])
    registry.create("b", tags={"team": "vision"}, labels=["dog"])
    registry.create("c", tags={"team": "nlp"})

    assert [m.name for m in registry.list(tags=["team:vision"]).items] == ["a", "b"]
    assert [m.name for m in registry.list(tags=["team:vision", "env"]).items] == ["a"]
    assert [m.name for m in registry.list(labels=["dog"]).items] == ["a", "b"]
    assert [(item.label, item.models) for item in registry.labels()] == [("cat", 1), ("dog", 2)]

    updated = registry.update("a", set_tags={"env": "dev"}, remove_tags=["team"], add_labels=["bird"],
                              remove_labels=["cat"])  # fmt: skip
    assert updated.tags == {"env": "dev"} and updated.labels == ["bird", "dog"]


def test_archived_models_refuse_new_versions_until_unarchived(registry: Registry) -> None:
    registry.create("m")
    assert registry.archive("m").archived is True
    assert [m.name for m in registry.list(archived=True).items] == ["m"]
    assert registry.list(archived=False).items == []

    with pytest.raises(ApiError) as refused:
        registry.register("m")
    assert refused.value.status == 409 and "unarchive" in refused.value.detail
    with pytest.raises(ApiError) as frozen:
        registry.update("m", description="changed while archived")
    assert frozen.value.status == 409

    registry.archive("m", archived=False)
    assert registry.register("m").number == 1
    assert [e.action for e in registry.events("m").items][:3] == ["model.created", "model.archived", "model.unarchived"]


def test_name_and_description_search_is_case_insensitive(registry: Registry) -> None:
    registry.create("Detector-Cars", description="Finds CARS on roads")
    registry.create("classifier", description="cats and dogs")

    assert [m.name for m in registry.list(name="detector").items] == ["Detector-Cars"]
    assert [m.name for m in registry.list(description="cars").items] == ["Detector-Cars"]
    assert [m.name for m in registry.list(name="%").items] == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["m0", "m1", "m2", "m3", "m4"]),
        ("description", ["m4", "m3", "m2", "m1", "m0"]),
        ("creation_time", ["m0", "m1", "m2", "m3", "m4"]),
        ("last_updated_time", ["m1", "m2", "m3", "m4", "m0"]),
        ("num_versions", ["m1", "m2", "m3", "m4", "m0"]),
    ],
)
def test_list_sorts_by_each_key_in_both_orders_across_pages(registry: Registry, sort: str, expected: list[str]) -> None:
    for index in range(5):
        registry.create(f"m{index}", description=f"description {4 - index}")
    for name, count in (("m1", 1), ("m2", 2), ("m3", 3), ("m4", 4), ("m0", 5)):  # m0: updated last, most versions
        for _ in range(count):
            registry.register(name)

    ascending, cursor = [], None
    while True:
        page = registry.list(sort=sort, order="asc", limit=2, cursor=cursor)
        ascending += [m.name for m in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    descending = [m.name for m in registry.iterate(sort=sort, order="desc", limit=2)]

    assert ascending == expected
    assert descending == list(reversed(expected))


def test_a_bad_cursor_is_a_400_that_says_what_to_pass(registry: Registry) -> None:
    with pytest.raises(ApiError) as bad:
        registry.list(cursor="garbage!")
    assert bad.value.status == 400 and "next_cursor" in bad.value.detail
