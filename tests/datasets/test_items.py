"""Uploading, listing, reading and deleting dataset items."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from modelyard.config import Settings
from modelyard.sdk import ApiError, Client
from tests.datasets.factories import image_bytes, truncated_jpeg, zip_bytes


def _upload(client: Client, project: str, files: list[tuple[str, bytes]], **params: str):  # noqa: ANN202
    return client.request(
        "POST",
        f"/projects/{project}/dataset/items",
        files=[("files", (name, data)) for name, data in files],
        params=params,
        allow_statuses=(400, 413),
    )


@pytest.fixture
def project(client: Client) -> str:
    client.projects.create("pets", "multiclass_classification", labels=["cat", "dog"])
    return "pets"


def test_upload_records_size_format_and_sha256_of_each_image(client: Client, project: str) -> None:
    png, jpeg = image_bytes(1, (40, 30)), image_bytes(2, (20, 16), "JPEG")
    response = _upload(client, project, [("a.png", png), ("b.jpg", jpeg)])
    assert response.status_code == 201
    created = {item["name"]: item for item in response.json()["created"]}
    assert (created["a.png"]["width"], created["a.png"]["height"], created["a.png"]["format"]) == (40, 30, "PNG")
    assert (created["b.jpg"]["width"], created["b.jpg"]["height"], created["b.jpg"]["format"]) == (20, 16, "JPEG")
    assert created["a.png"]["sha256"] == hashlib.sha256(png).hexdigest()
    assert created["b.jpg"]["size"] == len(jpeg)
    assert created["a.png"]["subset"] == "unassigned" and created["a.png"]["annotated"] is False
    assert client.datasets.image(project, created["a.png"]["id"]) == png


def test_thumbnail_is_a_small_jpeg(client: Client, settings: Settings, project: str) -> None:
    response = _upload(client, project, [("big.png", image_bytes(3, (600, 300)))])
    item = response.json()["created"][0]["id"]
    with Image.open(io.BytesIO(client.datasets.image(project, item, thumbnail=True))) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert thumbnail.size == (settings.thumbnail_size, settings.thumbnail_size // 2)


def test_corrupt_file_is_rejected_by_name_and_the_others_are_kept(client: Client, project: str) -> None:
    response = _upload(client, project, [("good.png", image_bytes(1)), ("broken.jpg", truncated_jpeg()),
                                         ("notes.txt", b"hello")])
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "images_rejected"
    assert {r["name"] for r in body["rejected"]} == {"broken.jpg", "notes.txt"}
    assert "broken.jpg" in body["detail"]
    assert [item["name"] for item in body["created"]] == ["good.png"]
    assert [item.name for item in client.datasets.items(project).items] == ["good.png"]


def test_atomic_upload_with_a_corrupt_file_stores_nothing(client: Client, project: str) -> None:
    response = _upload(client, project, [("good.png", image_bytes(1)), ("broken.jpg", truncated_jpeg())],
                       atomic="true")
    assert response.status_code == 400
    assert response.json()["rejected"][0]["name"] == "broken.jpg"
    assert client.datasets.items(project).items == []


def test_duplicate_bytes_are_reported_not_stored_twice(client: Client, project: str) -> None:
    first = _upload(client, project, [("a.png", image_bytes(5))]).json()["created"][0]
    again = _upload(client, project, [("copy.png", image_bytes(5)), ("twice.png", image_bytes(6)),
                                      ("twice-again.png", image_bytes(6))]).json()
    assert [d["name"] for d in again["duplicates"]] == ["copy.png", "twice-again.png"]
    assert again["duplicates"][0]["item_id"] == first["id"]
    assert len(client.datasets.items(project).items) == 2


def test_zip_upload_adds_every_image_inside(client: Client, project: str) -> None:
    archive = zip_bytes({"photos/a.png": image_bytes(1), "photos/b.png": image_bytes(2), "__MACOSX/._a.png": b"x"})
    response = _upload(client, project, [("photos.zip", archive)])
    assert response.status_code == 201
    assert sorted(item["name"] for item in response.json()["created"]) == ["photos.zip/photos/a.png",
                                                                            "photos.zip/photos/b.png"]


def test_zip_with_a_parent_path_is_refused_and_nothing_is_stored(client: Client, project: str) -> None:
    _upload(client, project, [("kept.png", image_bytes(9))])
    archive = zip_bytes({"a.png": image_bytes(1), "../escape.png": image_bytes(2)})
    response = _upload(client, project, [("evil.zip", archive)])
    assert response.status_code == 400
    assert response.json()["code"] == "unsafe_archive"
    assert "../escape.png" in response.json()["detail"]
    assert [item.name for item in client.datasets.items(project).items] == ["kept.png"]


def test_image_over_the_size_limit_is_rejected_with_the_setting_named(settings: Settings) -> None:
    limited = settings.model_copy(update={"max_image_bytes": 60})
    with Client(settings=limited) as client:
        client.projects.create("small", "multiclass_classification", labels=["a"])
        response = _upload(client, "small", [("big.png", image_bytes(1, (64, 64)))])
        assert response.status_code == 400
        assert "MODELYARD_MAX_IMAGE_BYTES" in response.json()["rejected"][0]["reason"]


def test_list_filters_and_keyset_pagination(client: Client, project: str) -> None:
    items = _upload(client, project, [(f"{i}.png", image_bytes(i)) for i in range(5)]).json()["created"]
    ids = [item["id"] for item in items]
    client.datasets.annotate(project, ids[0], labels=["cat"])
    client.datasets.annotate(project, ids[1], labels=["dog"], user_reviewed=True)
    client.datasets.update_item(project, ids[2], subset="testing")

    assert {i.id for i in client.datasets.items(project, annotated=True).items} == {ids[0], ids[1]}
    assert [i.id for i in client.datasets.items(project, label="dog").items] == [ids[1]]
    assert [i.id for i in client.datasets.items(project, user_reviewed=True).items] == [ids[1]]
    assert [i.id for i in client.datasets.items(project, subset="testing").items] == [ids[2]]
    assert len(client.datasets.items(project, annotated=False).items) == 3

    walked = [item.id for item in client.datasets.iterate_items(project, limit=2)]
    assert sorted(walked) == sorted(ids) and len(walked) == 5
    first = client.datasets.items(project, limit=2)
    assert first.next_cursor is not None and len(first.items) == 2
    later = items[0]["uploaded_at"]
    assert len(client.datasets.items(project, uploaded_before=later).items) == 0
    naive = later.replace("+00:00", "").replace("Z", "")
    assert len(client.datasets.items(project, uploaded_after=naive).items) == 5


def test_delete_one_and_many_items(client: Client, project: str) -> None:
    ids = [
        i["id"] for i in _upload(client, project, [(f"{i}.png", image_bytes(i)) for i in range(4)]).json()["created"]
    ]
    client.request("DELETE", f"/projects/{project}/dataset/items/{ids[0]}")
    assert client.datasets.delete_items(project, ids[1:3]) == 2
    assert [i.id for i in client.datasets.items(project).items] == [ids[3]]
    with pytest.raises(ApiError) as error:
        client.datasets.item(project, ids[0])
    assert error.value.status == 404


def test_bmp_tiff_and_webp_are_accepted_and_gif_is_not(client: Client, project: str) -> None:
    files = [(f"x.{ext}", image_bytes(i, (20, 10), fmt)) for i, (ext, fmt) in
             enumerate([("bmp", "BMP"), ("tiff", "TIFF"), ("webp", "WEBP"), ("gif", "GIF")])]
    body = _upload(client, project, files).json()
    assert sorted(item["format"] for item in body["created"]) == ["BMP", "TIFF", "WEBP"]
    assert body["rejected"][0]["name"] == "x.gif" and "GIF is not accepted" in body["rejected"][0]["reason"]


def test_upload_over_the_request_limit_is_refused_with_413(settings: Settings) -> None:
    limited = settings.model_copy(update={"max_upload_bytes": 1000})
    with Client(settings=limited) as client:
        client.projects.create("tiny", "multiclass_classification", labels=["a"])
        response = _upload(client, "tiny", [(f"{i}.png", image_bytes(i, (64, 64), "BMP")) for i in range(2)])
        assert response.status_code == 413 and "MODELYARD_MAX_UPLOAD_BYTES" in response.json()["detail"]
        assert client.datasets.items("tiny").items == []
