"""Replies to bad input name what was sent, never where the server keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.datasets.interchange import read_dataset
from modelyard.kit.messages import without_server_path
from modelyard.sdk import Client


def test_a_path_under_the_folder_is_written_relative_to_it(tmp_path: Path) -> None:
    folder = tmp_path / "work" / "source"
    text = f"failed at '{folder}/annotations' and at '{folder}'; not at '{folder}2'"
    assert without_server_path(text, folder, "<archive>") == (
        f"failed at '<archive>/annotations' and at '<archive>'; not at '{folder}2'"
    )


@pytest.mark.parametrize("format", ["coco", "voc", "yolo", "datumaro"])
def test_an_unreadable_dataset_is_described_without_the_folder_it_was_unpacked_to(
    tmp_path: Path, format: str
) -> None:
    source = tmp_path / "jobs" / "work" / "j1" / "source"
    (source / "annotations").mkdir(parents=True)
    (source / "annotations" / "instances_default.json").write_text("{not json")
    (source / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="not a readable") as caught:
        read_dataset(source, format)
    assert str(tmp_path) not in str(caught.value)


def test_an_unreadable_image_is_described_without_the_servers_objects(client: Client, settings: Settings) -> None:
    client.projects.create("p", "detection")
    response = client._http.post("/projects/p/dataset/items", files=[("files", ("x.png", b"not an image"))])
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "x.png: not a readable image (format not recognised)" in detail
    assert "0x" not in detail and "BytesIO" not in detail and str(settings.data_dir) not in response.text
