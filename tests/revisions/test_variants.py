"""After training: variants, evaluations, INT8, best-model registration, deletion."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.sdk import ApiError, Client, Job
from tests.databases import on_one_database
from tests.revisions.factories import classification_project
from tests.waiting import JOB_CEILING_SECONDS

FAST = {"epochs": 2, "batch_size": 4, "warmup_epochs": 0, "early_stopping_patience": 0}


def _done(client: Client, job: Job) -> Job:
    finished = client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    assert finished.status == "succeeded", finished.error
    return finished


def _conflict(call) -> str:  # noqa: ANN001
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.status == 409, caught.value.detail
    return caught.value.detail


@on_one_database("sqlite")
def test_trained_revision_gets_variants_evaluations_int8_and_can_lose_its_weights(
    running_client: Client, settings: Settings, tmp_path: Path
) -> None:
    project = classification_project(running_client, tmp_path / "images", per_label=8)
    trained = _done(running_client, running_client.models.train(project, "mobilenet_v3_small", base="scratch",
                                                                 overrides=FAST))  # fmt: skip
    revision_id = trained.result["revision_id"]
    variants = {v.name: v for v in running_client.models.variants(revision_id)}
    assert set(variants) == {"pytorch-fp32", "openvino-fp16", "onnx-fp32"}
    assert {f["name"] for f in variants["openvino-fp16"].files} >= {"model.xml", "model.bin", "variant.json"}
    assert variants["openvino-fp16"].parity["passed"] is True
    assert variants["onnx-fp32"].parity["max_probability_difference"] < 1e-3
    assert (
        variants["openvino-fp16"].speed["latency_p50_ms"] > 0 and variants["openvino-fp16"].speed["throughput_fps"] > 0
    )
    folder = settings.data_dir / "projects" / trained.project_id / "models" / revision_id
    assert (folder / "openvino-fp16" / "model.xml").exists() and (folder / "onnx-fp32" / "model.onnx").exists()

    # Every variant was evaluated on the testing subset, with the same accuracy.
    evaluations = {e.variant: e for e in running_client.models.evaluations(revision_id)}
    assert set(evaluations) == {"pytorch-fp32", "openvino-fp16", "onnx-fp32"}
    testing = {e.item_count for e in evaluations.values()}
    assert len(testing) == 1 and testing.pop() >= 1
    accuracies = {e.metrics["accuracy"] for e in evaluations.values()}
    assert max(accuracies) - min(accuracies) <= 0.005
    assert all(len(e.confusion_matrix or []) == 2 for e in evaluations.values())
    assert (settings.data_dir / evaluations["openvino-fp16"].predictions_key).exists()

    # The IR runs with openvino-model-api alone.
    import numpy as np
    from model_api.models import Model
    from PIL import Image

    model = Model.create_model(str(folder / "openvino-fp16" / "model.xml"), device="CPU")
    image = np.asarray(Image.open(tmp_path / "images" / "red-0.png").convert("RGB"))
    top = model(np.ascontiguousarray(image[:, :, ::-1])).top_labels[0]  # model_api takes BGR
    assert top.name in ("red", "blue") and 0.0 <= top.confidence <= 1.0

    # INT8: smaller than FP16, evaluated like the others.
    optimized = _done(running_client, running_client.models.optimize(revision_id))
    variants = {v.name: v for v in running_client.models.variants(revision_id)}
    assert variants["openvino-int8"].size_bytes < variants["openvino-fp16"].size_bytes
    assert optimized.result["evaluation_id"] in {e.id for e in running_client.models.evaluations(revision_id)}

    # Accuracy-controlled quantization against the validation subset replaces the INT8 variant.
    controlled = _done(running_client, running_client.models.optimize(revision_id, max_drop=0.5))
    assert controlled.result["variant"] == "openvino-int8"
    int8 = {v.name: v for v in running_client.models.variants(revision_id)}["openvino-int8"]
    assert int8.id == controlled.result["variant_id"]

    # An evaluation on demand, on another subset.
    submitted = running_client.models.evaluate(revision_id, "pytorch-fp32", subset="training")
    assert isinstance(submitted, Job)
    on_training = _done(running_client, submitted)
    found = [e for e in running_client.models.evaluations(revision_id) if e.id == on_training.result["evaluation_id"]]
    assert found[0].subset == "training" and found[0].item_count > _testing_count(evaluations)
    compared = running_client.models.compare(project, subset="testing", metric="accuracy")
    assert {e.variant for e in compared} == {"pytorch-fp32", "openvino-fp16", "onnx-fp32", "openvino-int8"}

    # The registry registers the best revision by an evaluation metric.
    best = running_client.registry.register_best("colors-best", project=project, metric="accuracy")
    assert best.source["revision_id"] == revision_id

    # Weights only: the record, metrics and evaluations stay; using the weights is refused.
    running_client.models.delete(revision_id, weights_only=True)
    kept = running_client.models.get(revision_id)
    assert kept.weights_status == "deleted" and kept.status == "succeeded"
    assert running_client.models.variants(revision_id) == []
    assert len(running_client.models.evaluations(revision_id)) == 6
    assert len(running_client.models.metrics(revision_id)) == 2
    assert not (folder / "model.pt").exists() and not (folder / "openvino-fp16").exists()
    with pytest.raises(ApiError) as caught:
        running_client.pipelines.enable(project, revision_id)
    assert caught.value.status == 409 and "weights" in caught.value.detail
    assert "weights deleted" in _conflict(lambda: running_client.models.export(revision_id))
    assert "weights deleted" in _conflict(lambda: running_client.models.evaluate(revision_id, "pytorch-fp32"))
    assert "weights deleted" in _conflict(
        lambda: running_client.models.train(project, "mobilenet_v3_small", base=revision_id))
    # The registered version kept its own reference to the weights' bytes.
    assert {f.name for f in running_client.registry.files("colors-best/1")} >= {"model.pt"}

    # Deleting the revision removes its record and files.
    running_client.models.delete(revision_id)
    with pytest.raises(ApiError) as caught:
        running_client.models.get(revision_id)
    assert caught.value.status == 404
    assert not folder.exists()


def _testing_count(evaluations: dict) -> int:
    return next(iter(evaluations.values())).item_count
