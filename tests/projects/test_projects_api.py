from __future__ import annotations

import pytest

from modelyard.sdk import ApiError, Client


def _problem(call) -> dict:  # noqa: ANN001
    with pytest.raises(ApiError) as caught:
        call()
    return {"status": caught.value.status, **caught.value.problem}


def _snapshot(client: Client) -> list[dict]:
    return [project.model_dump(mode="json") for project in client.projects.iterate()]


def test_create_project_with_labels_returns_it_with_ids_and_colors(client: Client) -> None:
    project = client.projects.create("shapes", "detection", labels=["circle", "square"], description="toy shapes")
    assert project.name == "shapes"
    assert project.task_type == "detection"
    assert project.description == "toy shapes"
    assert [label.name for label in project.labels] == ["circle", "square"]
    assert [label.position for label in project.labels] == [0, 1]
    assert all(label.color.startswith("#") and len(label.color) == 7 for label in project.labels)
    assert project.created_by == "local"
    assert client.projects.get(project.id).name == "shapes"
    assert client.projects.get("shapes").id == project.id


def test_duplicate_label_is_a_409_and_changes_nothing(client: Client) -> None:
    client.projects.create("shapes", "detection", labels=["circle"])
    before = _snapshot(client)
    problem = _problem(lambda: client.projects.add_label("shapes", "Circle"))
    assert problem["status"] == 409
    assert problem["code"] == "conflict"
    assert "already has a label named 'circle'" in problem["detail"]
    assert _snapshot(client) == before


def test_duplicate_labels_in_the_create_request_store_no_project(client: Client) -> None:
    problem = _problem(lambda: client.projects.create("dup", "detection", labels=["a", "a"]))
    assert problem["status"] == 409
    assert _snapshot(client) == []


def test_duplicate_hotkey_is_a_409(client: Client) -> None:
    client.projects.create("p", "multiclass_classification", labels=[{"name": "cat", "hotkey": "1"}])
    problem = _problem(lambda: client.projects.add_label("p", "dog", hotkey="1"))
    assert problem["status"] == 409
    assert "hotkey '1' is already used by label 'cat'" in problem["detail"]


def test_duplicate_project_name_is_a_409(client: Client) -> None:
    client.projects.create("shapes", "detection")
    problem = _problem(lambda: client.projects.create("Shapes", "detection"))
    assert problem["status"] == 409


def test_unknown_task_type_is_a_422_naming_the_field(client: Client) -> None:
    problem = _problem(lambda: client.projects.create("p", "segmentation-ish"))
    assert problem["status"] == 422
    assert problem["code"] == "validation_error"
    assert problem["errors"][0]["field"] == "task_type"
    assert _snapshot(client) == []


def test_malformed_body_is_a_problem_document(client: Client) -> None:
    response = client._http.post("/projects", content=b'{"name": "p", ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert _snapshot(client) == []


def test_bad_color_is_a_422_naming_the_field(client: Client) -> None:
    client.projects.create("p", "detection")
    problem = _problem(lambda: client.projects.add_label("p", "x", color="blue-ish"))
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == "color"
    assert client.projects.labels("p") == []


def test_label_rename_recolor_hotkey_and_delete(client: Client) -> None:
    client.projects.create("p", "multiclass_classification", labels=["cat", "dog"])
    renamed = client.projects.update_label("p", "cat", name="kitten")
    assert renamed.name == "kitten"
    recolored = client.projects.update_label("p", "kitten", color="#F80")
    assert recolored.color == "#ff8800"
    with_key = client.projects.update_label("p", "kitten", hotkey="Ctrl+K")
    assert with_key.hotkey == "ctrl+k"
    cleared = client.projects.update_label("p", "kitten", hotkey=None)
    assert cleared.hotkey is None
    client.projects.delete_label("p", "dog")
    assert [label.name for label in client.projects.labels("p")] == ["kitten"]
    assert _problem(lambda: client.projects.delete_label("p", "dog"))["status"] == 404


def test_rename_and_describe_record_who_and_when(client: Client) -> None:
    created = client.projects.create("old", "detection")
    updated = client.projects.update("old", name="new", description="now described")
    assert (updated.name, updated.description, updated.updated_by) == ("new", "now described", "local")
    assert updated.updated_at >= created.updated_at
    assert _problem(lambda: client.projects.get("old"))["status"] == 404


def test_list_filters_sorts_and_pages_with_a_cursor(client: Client) -> None:
    for name, task in [("delta", "detection"), ("alpha", "detection"), ("charlie", "multilabel_classification"),
                       ("bravo", "detection"), ("echo", "instance_segmentation")]:  # fmt: skip
        client.projects.create(name, task)
    first = client.projects.list(sort="name", limit=2)
    assert [p.name for p in first.items] == ["alpha", "bravo"]
    second = client.projects.list(sort="name", limit=2, cursor=first.next_cursor)
    assert [p.name for p in second.items] == ["charlie", "delta"]
    third = client.projects.list(sort="name", limit=2, cursor=second.next_cursor)
    assert [p.name for p in third.items] == ["echo"] and third.next_cursor is None
    descending = client.projects.list(sort="name", order="desc", task_type="detection")
    assert [p.name for p in descending.items] == ["delta", "bravo", "alpha"]
    assert [p.name for p in client.projects.list(name="LT").items] == ["delta"]
    by_time = [p.name for p in client.projects.iterate(sort="created_at")]
    assert by_time == ["delta", "alpha", "charlie", "bravo", "echo"]


def test_bad_cursor_is_a_400(client: Client) -> None:
    problem = _problem(lambda: client.projects.list(cursor="not-a-cursor"))
    assert problem["status"] == 400
    assert "cursor" in problem["detail"]


def test_delete_project_removes_its_labels_and_files(client: Client, settings) -> None:  # noqa: ANN001
    from modelyard.context import AppContext
    from modelyard.db.engine import transaction
    from modelyard.storage.service import FileService

    project = client.projects.create("p", "detection", labels=["a"])
    context = AppContext(settings)
    with transaction(context.db.sessions) as session:
        FileService(session, context.store).save(f"projects/{project.id}/dataset/x.png", iter([b"png"]), actor="t")
    assert (settings.data_dir / "projects" / project.id / "dataset" / "x.png").exists()
    client.projects.delete("p")
    assert _problem(lambda: client.projects.get("p"))["status"] == 404
    assert not (settings.data_dir / "projects" / project.id).exists()
    assert client.files.list(prefix=f"projects/{project.id}/").items == []
    context.close()


def test_callers_identity_comes_from_the_bearer_token(settings) -> None:  # noqa: ANN001
    settings = settings.model_copy(update={"api_tokens": {"secret-1": "alice"}})
    with Client(settings=settings, token="secret-1") as alice:
        project = alice.projects.create("p", "detection", labels=["a"])
        assert project.created_by == "alice"
        assert project.labels[0].created_by == "alice"
    with Client(settings=settings, token="wrong") as stranger:
        problem = _problem(lambda: stranger.projects.list())
        assert problem["status"] == 401 and problem["code"] == "unauthorized"


def test_projects_are_read_with_counts_of_items_revisions_and_registered_models(client: Client, tmp_path) -> None:  # noqa: ANN001
    from tests.revisions.factories import color_image

    client.projects.create("counted", "multiclass_classification", labels=["red"])
    client.projects.create("empty", "detection")
    images = [color_image(tmp_path / f"red-{index}.png", "red", seed=index) for index in range(3)]
    client.datasets.upload("counted", images)
    client.registry.create("counted-model", project="counted")
    client.registry.create("global-model")

    listed = {project.name: project.counts for project in client.projects.iterate()}
    assert listed["counted"].model_dump() == {
        "items": 3, "dataset_revisions": 0, "model_revisions": 0, "registered_models": 1,
    }  # fmt: skip
    assert listed["empty"].model_dump() == dict.fromkeys(listed["empty"].model_dump(), 0)
    assert client.projects.get("counted").counts.items == 3
    assert client.projects.update("counted", description="three reds").counts.registered_models == 1
