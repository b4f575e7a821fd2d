"""Versions: numbering (race-free, never reused), references, edits, search by tag and metric."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from modelyard.sdk import ApiError, Client
from modelyard.sdk.registry import Registry


def test_fifty_concurrent_registrations_get_numbers_one_to_fifty(client: Client) -> None:
    client.registry.create("busy")

    def register(index: int) -> int:
        return client.registry.register("busy", metrics={"index": index}).number

    with ThreadPoolExecutor(max_workers=50) as pool:
        numbers = list(pool.map(register, range(50)))

    assert sorted(numbers) == list(range(1, 51))
    assert client.registry.get("busy").num_versions == 50
    assert [v.number for v in client.registry.iterate_versions("busy", limit=20)] == list(range(50, 0, -1))


def test_concurrent_first_registrations_create_the_model_once(client: Client) -> None:
    def register(_: int) -> int:
        return client.registry.register("fresh", create_model=True).number

    with ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(register, range(10)))

    assert sorted(numbers) == list(range(1, 11))
    assert len(client.registry.events("fresh", action="model.created").items) == 1


def test_numbers_are_never_reused_after_a_deletion(registry: Registry) -> None:
    registry.create("m")
    for _ in range(3):
        registry.register("m")
    registry.delete_version("m/3")
    registry.delete_version("m/2")

    assert registry.register("m").number == 4
    assert [v.number for v in registry.versions("m").items] == [4, 1]
    assert registry.get("m").num_versions == 2
    with pytest.raises(ApiError) as gone:
        registry.version("m/3")
    assert gone.value.status == 404


def test_registering_into_a_missing_model_is_refused_unless_asked_to_create_it(registry: Registry) -> None:
    with pytest.raises(ApiError) as missing:
        registry.register("nope")
    assert missing.value.status == 404 and "create_model" in missing.value.detail

    version = registry.register("nope", create_model=True, framework="onnx")
    assert (version.model, version.number, version.framework.value) == ("nope", 1, "onnx")


def test_references_by_number_latest_stage_and_alias(registry: Registry) -> None:
    registry.create("m")
    for _ in range(3):
        registry.register("m")
    registry.stage("m/1", "production")
    registry.stage("m/2", "production")
    registry.set_alias("m", "champion", 1)

    assert registry.version("m/2").number == 2
    assert registry.version("m/latest").number == 3
    assert registry.version("m/production").number == 2
    assert registry.version("m@champion").number == 1
    assert registry.describe("m").latest_version.number == 3
    with pytest.raises(ApiError) as no_stage:
        registry.version("m/staging")
    assert no_stage.value.status == 404
    with pytest.raises(ApiError) as bare:
        registry.version("m")  # a bare name is the model, never silently its latest version
    assert (bare.value.status, bare.value.code) == (400, "version_reference_required")
    assert "m/latest" in bare.value.detail


def test_label_map_parameters_and_metrics_are_edited_and_recorded(registry: Registry) -> None:
    registry.register("m", create_model=True, label_map={0: "cat", 1: "dog"}, parameters={"lr": 0.1, "epochs": 5},
                      metrics={"accuracy": 0.8})  # fmt: skip

    edited = registry.update_version(
        "m/1",
        set_labels={1: "wolf", 2: "bird"},
        remove_labels=[0],
        set_parameters={"lr": 0.01},
        remove_parameters=["epochs"],
        set_metrics={"f1": 0.7},
        name="second try",
        comment="relabel",
    )

    assert edited.label_map == {1: "wolf", 2: "bird"}
    assert edited.parameters == {"lr": 0.01}
    assert edited.metrics == {"accuracy": 0.8, "f1": 0.7}
    assert edited.name == "second try"
    event = registry.events("m", action="version.updated").items[0]
    assert event.before["label_map"] == {"0": "cat", "1": "dog"}
    assert event.after["label_map"] == {"1": "wolf", "2": "bird"}
    assert event.comment == "relabel"
    assert [v.number for v in registry.search_versions(metric="f1>=0.7").items] == [1]


def test_uploaded_versions_record_their_source_and_runtime(registry: Registry) -> None:
    version = registry.register(
        "m", create_model=True, runtime={"image": "ghcr.io/x/serve", "tag": "1.2", "flags": ["--gpu"],
                                         "environment": {"THREADS": "4"}},
    )  # fmt: skip
    assert version.source == {"kind": "uploaded"} and version.source_revision_id is None
    assert version.runtime.image == "ghcr.io/x/serve" and version.runtime.environment == {"THREADS": "4"}
    assert version.trainable is False and version.deployable is False


def test_search_versions_by_tag_pages_newest_first(registry: Registry) -> None:
    registry.create("a")
    registry.create("b")
    for index in range(5):
        registry.register("a", tags={"dataset": "v1" if index % 2 == 0 else "v2"})
        registry.register("b", tags={"dataset": "v1"})

    pages, cursor = [], None
    while True:
        page = registry.search_versions(tags=["dataset:v1"], limit=3, cursor=cursor)
        pages.append([(v.model, v.number) for v in page.items])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    found = [item for page in pages for item in page]
    assert found == [("b", 5), ("a", 5), ("b", 4), ("b", 3), ("a", 3), ("b", 2), ("b", 1), ("a", 1)]
    assert [len(page) for page in pages] == [3, 3, 2]
    only_a = registry.search_versions(model="a", tags=["dataset:v1"]).items
    assert [v.number for v in only_a] == [5, 3, 1]
    assert [v.number for v in registry.search_versions(model="a", tags=["dataset"]).items] == [5, 4, 3, 2, 1]


def test_search_versions_by_metric_is_best_first_and_pages(registry: Registry) -> None:
    registry.create("m")
    for accuracy in (0.5, 0.9, 0.7, 0.95, 0.6):
        registry.register("m", metrics={"accuracy": accuracy})

    first = registry.search_versions(metric="accuracy>0.55", limit=2)
    second = registry.search_versions(metric="accuracy>0.55", limit=2, cursor=first.next_cursor)
    ascending = registry.search_versions(metric="accuracy<=0.7", order="asc")

    assert [v.metrics["accuracy"] for v in first.items + second.items] == [0.95, 0.9, 0.7, 0.6]
    assert second.next_cursor is None
    assert [v.number for v in ascending.items] == [1, 5, 3]
    with pytest.raises(ApiError) as bad:
        registry.search_versions(metric="accuracy is high")
    assert bad.value.status == 400
