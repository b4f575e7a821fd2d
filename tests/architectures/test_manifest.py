from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from modelyard.architectures.manifest import (
    SHIPPED_MANIFESTS_DIR,
    ArchitectureManifest,
    HyperparameterError,
    ManifestError,
    load_manifests,
    resolve_hyperparameters,
)

EXPECTED_IDS = {
    "resnet18": "classification",
    "mobilenet_v3_small": "classification",
    "mobilenet_v3_large": "classification",
    "efficientnet_b0": "classification",
    "ssdlite320_mobilenet_v3_large": "detection",
    "fasterrcnn_mobilenet_v3_large_320_fpn": "detection",
    "maskrcnn_resnet50_fpn": "instance_segmentation",
}
# timm model name -> the pretrained tag whose weights the manifest names.
TIMM_TAGS = {"tf_efficientnetv2_b0": "in1k", "convnext_nano": "d1h_in1k", "mobilenetv4_conv_small": "e2400_r224_in1k"}
# transformers detectors -> the Hugging Face hub repository of the converted authors' checkpoint.
TRANSFORMERS_REPOSITORIES = {"rt_detr_r18vd": "PekingU/rtdetr_r18vd"}


def _write_user_manifest(data_dir: Path, manifest: dict, family: str = "classification") -> Path:
    path = data_dir / "model_manifests" / family / f"{manifest['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(manifest))
    return path


def _resnet18_as_dict(new_id: str = "my_resnet") -> dict:
    data = yaml.safe_load((SHIPPED_MANIFESTS_DIR / "classification" / "resnet18.yaml").read_text())
    data["id"] = new_id
    return data


def test_shipped_manifests_cover_the_catalog(shipped_manifests: dict[str, ArchitectureManifest]) -> None:
    families = {key: manifest.family for key, manifest in shipped_manifests.items()}
    expected = {**EXPECTED_IDS, **dict.fromkeys(TIMM_TAGS, "classification")}
    assert families == {**expected, **dict.fromkeys(TRANSFORMERS_REPOSITORIES, "detection")}
    assert shipped_manifests["resnet18"].tasks == ["multiclass_classification", "multilabel_classification"]
    assert shipped_manifests["maskrcnn_resnet50_fpn"].tasks == ["instance_segmentation"]


@pytest.mark.parametrize("architecture", sorted(EXPECTED_IDS))
def test_shipped_manifest_matches_torchvision_published_metadata(
    shipped_manifests: dict[str, ArchitectureManifest], architecture: str
) -> None:
    import torchvision.models

    manifest = shipped_manifests[architecture]
    published = torchvision.models.get_model_weights(manifest.builder.function).DEFAULT
    weights = manifest.pretrained_weights
    assert weights is not None
    assert weights.url == published.url
    assert weights.file_name == published.url.rsplit("/", 1)[1]
    assert weights.sha256_prefix is not None and f"-{weights.sha256_prefix}.pth" in published.url
    assert manifest.stats.parameters == published.meta["num_params"]
    assert manifest.stats.gflops == published.meta["_ops"]


@pytest.mark.parametrize(("architecture", "tag"), sorted(TIMM_TAGS.items()))
def test_timm_manifest_matches_timm_pretrained_config(shipped_manifests: dict[str, ArchitectureManifest],
                                                      architecture: str, tag: str) -> None:  # fmt: skip
    import timm

    manifest = shipped_manifests[architecture]
    model = timm.create_model(f"{architecture}.{tag}", pretrained=False)
    config, weights = model.pretrained_cfg, manifest.pretrained_weights
    assert weights is not None and manifest.builder.function == architecture
    assert (manifest.input.mean, manifest.input.std) == (list(config["mean"]), list(config["std"]))
    assert manifest.stats.parameters == sum(parameter.numel() for parameter in model.parameters())
    if config["url"]:
        assert weights.url == config["url"] and weights.file_name == config["url"].rsplit("/", 1)[1]
        assert weights.sha256_prefix is not None and f"-{weights.sha256_prefix}.pth" in config["url"]
    else:
        # Published on the Hugging Face hub only, where timm's config names the repository and no digest.
        assert weights.url == f"https://huggingface.co/{config['hf_hub_id']}/resolve/main/model.safetensors"
        assert weights.digest_recorded_at_download and weights.sha256 is weights.sha256_prefix is None


@pytest.mark.parametrize(("architecture", "repository"), sorted(TRANSFORMERS_REPOSITORIES.items()))
def test_transformers_manifest_matches_the_model_it_builds(shipped_manifests: dict[str, ArchitectureManifest],
                                                           architecture: str, repository: str) -> None:  # fmt: skip
    from transformers import RTDetrForObjectDetection

    from modelyard.training.detr import rt_detr_config

    manifest = shipped_manifests[architecture]
    weights = manifest.pretrained_weights
    # The published checkpoint's head has COCO's 80 labels; RT-DETR scales pixels to [0, 1] and normalises no further.
    model = RTDetrForObjectDetection(rt_detr_config(manifest.builder.function, 80, dict(manifest.builder.kwargs)))
    assert manifest.stats.parameters == sum(parameter.numel() for parameter in model.parameters())
    assert (manifest.input.mean, manifest.input.std) == ([0.0] * 3, [1.0] * 3)
    assert weights is not None and weights.url == f"https://huggingface.co/{repository}/resolve/main/model.safetensors"
    assert weights.digest_recorded_at_download and weights.sha256 is weights.sha256_prefix is None


def test_user_manifest_adds_an_architecture(tmp_path: Path) -> None:
    _write_user_manifest(tmp_path, _resnet18_as_dict("my_resnet"))
    manifests = load_manifests(SHIPPED_MANIFESTS_DIR, tmp_path / "model_manifests")
    assert len(manifests) == len(load_manifests(SHIPPED_MANIFESTS_DIR, None)) + 1 == 12
    assert manifests["my_resnet"].builder.function == "resnet18"


def test_unknown_key_is_rejected_with_file_and_field(tmp_path: Path) -> None:
    data = _resnet18_as_dict()
    data["hyperparameters"]["learning_rat"] = data["hyperparameters"].pop("learning_rate")
    path = _write_user_manifest(tmp_path, data)
    with pytest.raises(ManifestError) as caught:
        load_manifests(SHIPPED_MANIFESTS_DIR, tmp_path / "model_manifests")
    message = str(caught.value)
    assert str(path) in message
    assert "field 'hyperparameters.learning_rat': unknown key" in message
    assert "field 'hyperparameters.learning_rate': Field required" in message


def test_number_written_as_string_is_rejected(tmp_path: Path) -> None:
    data = _resnet18_as_dict()
    data["hyperparameters"]["learning_rate"]["default"] = "1e-3"
    _write_user_manifest(tmp_path, data)
    with pytest.raises(ManifestError, match=r"hyperparameters\.learning_rate\.default"):
        load_manifests(SHIPPED_MANIFESTS_DIR, tmp_path / "model_manifests")


def test_default_outside_bounds_is_rejected(tmp_path: Path) -> None:
    data = _resnet18_as_dict()
    data["hyperparameters"]["batch_size"]["default"] = 1000
    _write_user_manifest(tmp_path, data)
    with pytest.raises(ManifestError, match=r"default 1000 is outside \[1, 256\]"):
        load_manifests(SHIPPED_MANIFESTS_DIR, tmp_path / "model_manifests")


def test_user_manifest_cannot_replace_a_shipped_one(tmp_path: Path) -> None:
    _write_user_manifest(tmp_path, _resnet18_as_dict("resnet18"))
    with pytest.raises(ManifestError, match="already a shipped architecture"):
        load_manifests(SHIPPED_MANIFESTS_DIR, tmp_path / "model_manifests")


def test_manifest_in_the_wrong_family_folder_is_rejected(tmp_path: Path) -> None:
    _write_user_manifest(tmp_path, _resnet18_as_dict(), family="detection")
    with pytest.raises(ManifestError, match="must live in a folder named classification/"):
        load_manifests(SHIPPED_MANIFESTS_DIR, tmp_path / "model_manifests")


def test_unimplemented_optimizer_choice_is_rejected(tmp_path: Path) -> None:
    data = _resnet18_as_dict()
    data["hyperparameters"]["optimizer"]["choices"].append("lion")
    _write_user_manifest(tmp_path, data)
    with pytest.raises(ManifestError, match=r"optimizer choices \['lion'\] are not implemented"):
        load_manifests(SHIPPED_MANIFESTS_DIR, tmp_path / "model_manifests")


def test_resolve_without_overrides_gives_the_defaults(shipped_manifests: dict[str, ArchitectureManifest]) -> None:
    resolved = resolve_hyperparameters(shipped_manifests["resnet18"], {})
    assert resolved["learning_rate"] == 0.001
    assert resolved["batch_size"] == 16
    assert resolved["optimizer"] == "adamw"
    assert resolved["augmentations"] == {"horizontal_flip": True, "color_jitter": 0.2, "random_resized_crop": 0.6}


def test_resolve_applies_valid_overrides(shipped_manifests: dict[str, ArchitectureManifest]) -> None:
    resolved = resolve_hyperparameters(
        shipped_manifests["resnet18"],
        {"learning_rate": 0.01, "epochs": 3, "optimizer": "sgd", "augmentations": {"horizontal_flip": False}},
    )
    assert (resolved["learning_rate"], resolved["epochs"], resolved["optimizer"]) == (0.01, 3, "sgd")
    assert resolved["augmentations"]["horizontal_flip"] is False
    assert resolved["augmentations"]["color_jitter"] == 0.2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"learning_rate": 5}, "learning_rate", "learning_rate must be <= 0.1, got 5"),
        ({"batch_size": 0}, "batch_size", "batch_size must be >= 1, got 0"),
        ({"batch_size": 2.5}, "batch_size", "batch_size must be an integer, got 2.5"),
        ({"epochs": True}, "epochs", "epochs must be an integer, got True"),
        ({"learning_rate": "0.01"}, "learning_rate", "learning_rate must be a number, got '0.01'"),
        ({"optimizer": "lion"}, "optimizer", "optimizer must be one of sgd, adam, adamw, got 'lion'"),
        ({"augmentations": {"horizontal_flip": 1}}, "augmentations.horizontal_flip",
         "augmentations.horizontal_flip must be true or false, got 1"),
        ({"augmentations": {"random_resized_crop": 0.01}}, "augmentations.random_resized_crop",
         "augmentations.random_resized_crop must be >= 0.08, got 0.01"),
    ],
)
def test_out_of_bound_or_mistyped_override_names_field_and_bound(
    shipped_manifests: dict[str, ArchitectureManifest], overrides: dict, field: str, message: str
) -> None:
    with pytest.raises(HyperparameterError) as caught:
        resolve_hyperparameters(shipped_manifests["resnet18"], overrides)
    assert caught.value.field == field
    assert str(caught.value) == message


def test_unknown_override_lists_known_names(shipped_manifests: dict[str, ArchitectureManifest]) -> None:
    with pytest.raises(HyperparameterError) as caught:
        resolve_hyperparameters(shipped_manifests["resnet18"], {"momentum": 0.9})
    assert caught.value.field == "momentum"
    assert "known: learning_rate, batch_size" in str(caught.value)


def test_manifest_and_weights_modules_do_not_import_torch() -> None:
    code = (
        "import sys, modelyard.architectures.manifest, modelyard.architectures.weights; "
        "print(sorted(name for name in ('torch', 'torchvision') if name in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
