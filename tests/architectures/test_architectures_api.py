from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from modelyard.config import Settings
from modelyard.sdk import ApiError, Client

SHIPPED = {
    "resnet18", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
    "ssdlite320_mobilenet_v3_large", "fasterrcnn_mobilenet_v3_large_320_fpn", "maskrcnn_resnet50_fpn",
    "tf_efficientnetv2_b0", "convnext_nano", "mobilenetv4_conv_small", "rt_detr_r18vd",
}  # fmt: skip


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    # The catalog reads files only: one database is enough here.
    with Client(settings=Settings(data_dir=tmp_path / "data", log_level="warning")) as sdk:
        yield sdk


def test_every_shipped_architecture_is_listed_with_its_tasks(client: Client) -> None:
    architectures = {a.id: a for a in client.architectures.list()}
    assert set(architectures) == SHIPPED
    assert architectures["resnet18"].tasks == ["multiclass_classification", "multilabel_classification"]
    assert architectures["resnet18"].stats["parameters"] == 11689512
    assert architectures["ssdlite320_mobilenet_v3_large"].pretrained_weights["url"].startswith("https://download.pytorch.org/")
    assert [a.id for a in client.architectures.list("instance_segmentation")] == ["maskrcnn_resnet50_fpn"]


def test_unknown_architecture_is_a_404_listing_known_ones(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        client.architectures.get("alexnet")
    assert caught.value.status == 404 and "resnet18" in caught.value.detail


def test_user_manifest_in_the_data_directory_adds_an_architecture(client: Client, tmp_path: Path) -> None:
    shipped = yaml.safe_load(
        (Path(__file__).parents[2] / "src/modelyard/architectures/manifests/classification/resnet18.yaml").read_text()
    )
    shipped.update(id="my_resnet", name="My ResNet", pretrained_weights=None)
    folder = tmp_path / "data" / "model_manifests" / "classification"
    folder.mkdir(parents=True)
    (folder / "my_resnet.yaml").write_text(yaml.safe_dump(shipped))
    assert client.architectures.get("my_resnet").name == "My ResNet"
    shipped["unknown_key"] = 1
    (folder / "my_resnet.yaml").write_text(yaml.safe_dump(shipped))
    with pytest.raises(ApiError) as caught:
        client.architectures.list()
    assert caught.value.status == 500 and "unknown_key" in caught.value.detail


def test_weights_import_checks_the_hash_and_caches_the_file(client: Client, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pth"
    bogus.write_bytes(b"not the published weights")
    with pytest.raises(ApiError) as caught:
        client.architectures.import_weights("resnet18", bogus)
    assert caught.value.status == 400 and caught.value.code == "weights_hash_mismatch"
    assert "the uploaded weights for resnet18" in caught.value.detail
    assert client.architectures.cached_weights() == []
    assert not client.architectures.get("resnet18").weights_cached


def test_weights_with_a_matching_hash_are_imported(client: Client, tmp_path: Path) -> None:
    content = b"generated weights standing in for the published file"
    folder = tmp_path / "data" / "model_manifests" / "classification"
    folder.mkdir(parents=True)
    manifest = yaml.safe_load(
        (Path(__file__).parents[2] / "src/modelyard/architectures/manifests/classification/resnet18.yaml").read_text()
    )
    manifest.update(id="tiny_resnet", pretrained_weights={
        "url": "http://127.0.0.1:9/tiny.pth", "file_name": "tiny.pth", "sha256": hashlib.sha256(content).hexdigest()})
    (folder / "tiny_resnet.yaml").write_text(yaml.safe_dump(manifest))
    source = tmp_path / "tiny.pth"
    source.write_bytes(content)
    imported = client.architectures.import_weights("tiny_resnet", source)
    assert imported.size_bytes == len(content)
    assert Path(imported.path).read_bytes() == content
    assert Path(imported.path) == tmp_path / "data/pretrained_weights/classification/tiny_resnet/weights.pt"
    assert client.architectures.get("tiny_resnet").weights_cached
    client.architectures.delete_weights("tiny_resnet")
    assert client.architectures.cached_weights() == []
