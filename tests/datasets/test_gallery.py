"""The gallery's API: filters and sort, pages read directly by their cursors, counts, and bulk actions."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from modelyard.cli.main import app
from modelyard.config import Settings
from modelyard.sdk import ApiError, Client
from tests.datasets.factories import image_bytes

NAMES = ["Cat_01.png", "dog-01.png", "cat_02.png", "bird.png", "100%cat.png", "dog-02.png", "owl.png"]


def _upload(client: Client, project: str, names: list[str], first_seed: int = 0) -> dict[str, str]:
    response = client.request(
        "POST",
        f"/projects/{project}/dataset/items",
        files=[("files", (name, image_bytes(first_seed + index))) for index, name in enumerate(names)],
    )
    return {item["name"]: item["id"] for item in response.json()["created"]}


@pytest.fixture
def pets(client: Client) -> dict[str, str]:
    """A multiclass project 'pets' with seven items: name -> id."""
    client.projects.create("pets", "multiclass_classification", labels=["cat", "dog", "bird"])
    return _upload(client, "pets", NAMES)


def test_name_filter_matches_part_of_the_name_in_any_case_and_takes_percent_literally(
    client: Client, pets: dict[str, str]
) -> None:
    assert [i.name for i in client.datasets.items("pets", name="CAT", sort="name").items] == [
        "100%cat.png", "Cat_01.png", "cat_02.png"
    ]  # fmt: skip
    assert [i.name for i in client.datasets.items("pets", name="%c").items] == ["100%cat.png"]
    assert [i.name for i in client.datasets.items("pets", name="t_0").items] == ["Cat_01.png", "cat_02.png"]


def test_sort_by_name_descending_continues_across_pages(client: Client, pets: dict[str, str]) -> None:
    first = client.datasets.items("pets", sort="name", order="desc", limit=4)
    rest = client.datasets.items("pets", sort="name", order="desc", limit=4, cursor=first.next_cursor)
    assert [i.name for i in first.items + rest.items] == sorted(NAMES, reverse=True)
    assert rest.next_cursor is None


def test_every_page_is_read_directly_from_its_cursor(client: Client, pets: dict[str, str]) -> None:
    pages = client.datasets.item_pages("pets", page_size=3, sort="name")
    assert (pages.total, pages.page_size, len(pages.cursors)) == (7, 3, 3)
    read = [client.datasets.items("pets", sort="name", limit=3, cursor=cursor).items for cursor in pages.cursors]
    assert [[i.name for i in page] for page in read] == [sorted(NAMES)[0:3], sorted(NAMES)[3:6], sorted(NAMES)[6:]]


def test_pages_of_a_whole_number_of_pages_and_of_no_items(client: Client, pets: dict[str, str]) -> None:
    assert len(client.datasets.item_pages("pets", page_size=7).cursors) == 1
    empty = client.datasets.item_pages("pets", name="no such name")
    assert (empty.total, empty.cursors) == (0, [None])


def test_bulk_assign_label_by_ids_changes_the_counts_per_label(client: Client, pets: dict[str, str]) -> None:
    cats = [pets["Cat_01.png"], pets["cat_02.png"], pets["100%cat.png"]]
    result = client.datasets.bulk("pets", "assign_label", ids=cats, label="cat")
    assert (result.selected, result.changed) == (3, 3)
    client.datasets.bulk("pets", "assign_label", ids=[pets["Cat_01.png"], pets["bird.png"]], label="bird")
    counts = client.datasets.counts("pets")
    assert {label.label_name: label.items for label in counts.labels} == {"cat": 2, "dog": 0, "bird": 2}
    assert (counts.total, counts.annotated, counts.user_reviewed) == (7, 4, 4)
    assert client.datasets.item("pets", pets["Cat_01.png"]).annotation.labels[0].name == "bird"
    assert [i.name for i in client.datasets.items("pets", label="cat").items] == ["cat_02.png", "100%cat.png"]


def test_bulk_assign_to_every_item_of_a_filter_leaves_out_the_excluded(client: Client, pets: dict[str, str]) -> None:
    result = client.datasets.bulk(
        "pets", "assign_label", filter={"name": "dog"}, exclude=[pets["dog-02.png"]], label="dog"
    )
    assert (result.selected, result.changed) == (1, 1)
    again = client.datasets.bulk("pets", "assign_label", filter={"name": "dog"}, label="dog")
    assert (again.selected, again.changed) == (2, 1)


def test_multilabel_assignment_adds_the_label_to_those_already_there(client: Client) -> None:
    client.projects.create("scenes", "multilabel_classification", labels=["sky", "sea"])
    ids = _upload(client, "scenes", ["a.png", "b.png"])
    client.datasets.annotate("scenes", ids["a.png"], labels=["sky"])
    client.datasets.bulk("scenes", "assign_label", filter={}, label="sea")
    labels = {name: [ref.name for ref in client.datasets.item("scenes", item).annotation.labels]
              for name, item in ids.items()}  # fmt: skip
    assert labels == {"a.png": ["sky", "sea"], "b.png": ["sea"]}


def test_assigning_a_label_in_a_detection_project_is_refused(client: Client) -> None:
    client.projects.create("cars", "detection", labels=["car"])
    ids = _upload(client, "cars", ["a.png"])
    with pytest.raises(ApiError) as refused:
        client.datasets.bulk("cars", "assign_label", ids=list(ids.values()), label="car")
    assert refused.value.status == 400 and "annotation editor" in str(refused.value)


def test_bulk_move_refuses_frozen_items_and_changes_nothing(client: Client, pets: dict[str, str]) -> None:
    client.datasets.bulk("pets", "assign_label", ids=[pets["owl.png"], pets["bird.png"]], label="bird")
    client.datasets.create_revision("pets")  # freezes the subsets of the two annotated items
    with pytest.raises(ApiError) as refused:
        client.datasets.bulk("pets", "move_to_subset", filter={}, subset="testing")
    assert refused.value.status == 409 and refused.value.problem["frozen"] == 2
    assert client.datasets.counts("pets", subset="unassigned", annotated=False).total == 5  # none moved
    moved = client.datasets.bulk("pets", "move_to_subset", filter={"annotated": False}, subset="validation")
    assert (moved.selected, moved.changed) == (5, 5)
    counts = {count.subset: count.items for count in client.datasets.counts("pets", annotated=False).subsets}
    assert counts == {"unassigned": 0, "training": 0, "validation": 5, "testing": 0}


def test_bulk_delete_naming_an_unknown_id_deletes_nothing(client: Client, pets: dict[str, str]) -> None:
    with pytest.raises(ApiError) as refused:
        client.datasets.bulk("pets", "delete", ids=[pets["owl.png"], "f" * 32])
    assert refused.value.status == 404
    deleted = client.datasets.bulk("pets", "delete", filter={"name": "cat"})
    assert deleted.changed == 3
    assert sorted(i.name for i in client.datasets.items("pets").items) == ["bird.png", "dog-01.png", "dog-02.png",
                                                                          "owl.png"]  # fmt: skip


def test_a_bulk_request_gives_ids_or_a_filter_and_its_action_argument(client: Client, pets: dict[str, str]) -> None:
    for body in (
        {"action": "delete"},
        {"action": "delete", "ids": ["x"], "filter": {}},
        {"action": "assign_label", "filter": {}},
        {"action": "delete", "filter": {}, "subset": "testing"},
    ):
        response = client.request("POST", "/projects/pets/dataset/items:bulk", json=body, allow_statuses=(422,))
        assert response.status_code == 422, body


def test_counts_and_bulk_from_the_command_line(
    client: Client, pets: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    bulk = runner.invoke(app, ["dataset", "bulk", "pets", "assign_label", "--all", "--name", "dog", "--label", "dog"])
    assert bulk.exit_code == 0 and "2 item(s) selected, 2 changed" in bulk.output
    counts = runner.invoke(app, ["dataset", "counts", "pets", "--json"])
    assert counts.exit_code == 0
    assert {label["label_name"]: label["items"] for label in json.loads(counts.output)["labels"]}["dog"] == 2
    refused = runner.invoke(app, ["dataset", "bulk", "pets", "delete", "--name", "dog"])
    assert refused.exit_code == 1
