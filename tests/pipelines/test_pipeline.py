"""Enabling, serving, swapping and disabling a project's pipeline, over the real API."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from modelyard.context import AppContext
from modelyard.inference import Predictor
from modelyard.sdk import Client
from modelyard.sdk.errors import ApiError
from tests.pipelines.factories import ServedModel, TinyModel, set_weights_status


def test_enabled_pipeline_predicts_what_the_predictor_predicts(app_client: Client, served: ServedModel,
                                                              tiny_model: TinyModel) -> None:  # fmt: skip
    status = app_client.pipelines.enable(served.project, served.revision_id, confidence_threshold=0.3)
    assert (status.enabled, status.variant, status.revision_number, status.confidence_threshold) == (
        True, "openvino-fp16", 1, 0.3)
    assert status.enabled_by == "local" and status.loaded

    result = app_client.pipelines.predict(served.project, served.images[:3])

    predictor = Predictor.open(tiny_model.fp16.folder, confidence_threshold=0.3)
    assert (result.revision_id, result.variant, result.confidence_threshold) == (served.revision_id,
                                                                                 "openvino-fp16", 0.3)
    assert [p.file for p in result.predictions] == [path.name for path in served.images[:3]]
    for predicted, image in zip(result.predictions, served.images[:3], strict=True):
        expected = predictor.predict(image)
        assert [label.index for label in predicted.labels] == [label.index for label in expected.labels]
        assert [label.name for label in predicted.labels] == [label.name for label in expected.labels]
        assert np.allclose(predicted.scores, expected.scores, atol=1e-6)
        assert (predicted.task, predicted.width, predicted.height) == ("multiclass_classification", 32, 32)


def test_status_counts_requests_images_and_latency_and_resets_on_enable(app_client: Client,
                                                                        served: ServedModel) -> None:  # fmt: skip
    app_client.pipelines.enable(served.project, served.revision_id)
    app_client.pipelines.predict(served.project, served.images[:1])
    app_client.pipelines.predict(served.project, served.images[:2])

    metrics = app_client.pipelines.status(served.project).metrics
    assert metrics is not None
    assert (metrics.requests, metrics.images, metrics.failed_requests) == (2, 3, 0)
    assert 0 < metrics.latency_ms_p50 <= metrics.latency_ms_p95 <= metrics.latency_ms_p99
    assert metrics.throughput_images_per_second > 0

    app_client.pipelines.enable(served.project, served.revision_id, variant="pytorch-fp32")
    after = app_client.pipelines.status(served.project)
    assert after.variant == "pytorch-fp32"
    assert after.metrics is not None and (after.metrics.requests, after.metrics.images) == (0, 0)
    assert after.metrics.latency_ms_p50 is None


def test_swapping_variants_under_load_fails_no_request(app_client: Client, served: ServedModel) -> None:
    app_client.pipelines.enable(served.project, served.revision_id, variant="openvino-fp16")
    seen: list[tuple[bool, str]] = []  # (began after the swap had returned, variant that answered)
    errors: list[BaseException] = []
    swapped, stop = threading.Event(), threading.Event()

    def keep_predicting() -> None:
        while not stop.is_set():
            after_swap = swapped.is_set()
            try:
                seen.append((after_swap, app_client.pipelines.predict(served.project, served.images[:1]).variant))
            except BaseException as error:  # noqa: BLE001 - every failure is the test's finding
                errors.append(error)

    workers = [threading.Thread(target=keep_predicting) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        while len(seen) < 5 and not errors:
            stop.wait(0.01)
        app_client.pipelines.enable(served.project, served.revision_id, variant="pytorch-fp32")
        swapped.set()
        while sum(after for after, _ in seen) < 10 and not errors:
            stop.wait(0.01)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    assert errors == []
    assert seen[0] == (False, "openvino-fp16")
    # The swap took: every request that began after it returned was served by the new variant. (Requests that
    # began before may finish on either, however long that takes on a busy machine.)
    assert {variant for after, variant in seen if after} == {"pytorch-fp32"}


def test_disabled_pipeline_refuses_predictions(app_client: Client, served: ServedModel) -> None:
    with pytest.raises(ApiError) as never_enabled:
        app_client.pipelines.predict(served.project, served.images[:1])
    assert (never_enabled.value.status, never_enabled.value.code) == (409, "pipeline_disabled")
    assert f"modelyard pipeline enable {served.project}" in never_enabled.value.detail

    app_client.pipelines.enable(served.project, served.revision_id)
    disabled = app_client.pipelines.disable(served.project)
    assert disabled.enabled is False and disabled.revision_id is None
    assert app_client.pipelines.status(served.project).enabled is False
    with pytest.raises(ApiError) as error:
        app_client.pipelines.predict(served.project, served.images[:1])
    assert error.value.status == 409
    assert app_client.pipelines.disable(served.project).enabled is False  # idempotent


def test_revision_whose_weights_are_deleted_cannot_be_enabled(app_client: Client, app_context: AppContext,
                                                              served: ServedModel) -> None:  # fmt: skip
    set_weights_status(app_context, served.revision_id, "deleted")
    with pytest.raises(ApiError) as error:
        app_client.pipelines.enable(served.project, served.revision_id)
    assert (error.value.status, error.value.code) == (409, "weights_unavailable")
    assert "weights deleted" in error.value.detail
    assert app_client.pipelines.status(served.project).enabled is False


def test_missing_variant_is_refused_listing_the_available_ones(app_client: Client, served: ServedModel) -> None:
    with pytest.raises(ApiError) as error:
        app_client.pipelines.enable(served.project, served.revision_id, variant="openvino-int8")
    assert (error.value.status, error.value.code) == (409, "variant_not_found")
    assert "no openvino-int8 variant; it has openvino-fp16, pytorch-fp32" in error.value.detail
    assert error.value.problem["available_variants"] == ["openvino-fp16", "pytorch-fp32"]

    with pytest.raises(ApiError) as malformed:
        app_client.pipelines.enable(served.project, served.revision_id, variant="tensorrt")
    assert malformed.value.status == 400 and "FORMAT-PRECISION" in malformed.value.detail


def test_upload_over_the_size_limit_is_a_413_naming_the_file(app_client: Client, app_context: AppContext,
                                                              served: ServedModel) -> None:  # fmt: skip
    app_client.pipelines.enable(served.project, served.revision_id)
    image = served.images[0]
    app_context.settings.max_image_bytes = image.stat().st_size - 1  # read on every request
    with pytest.raises(ApiError) as error:
        app_client.pipelines.predict(served.project, [image])
    assert (error.value.status, error.value.code) == (413, "payload_too_large")
    assert error.value.detail.startswith(f"{image.name} is over {image.stat().st_size - 1} bytes")
    app_context.settings.max_image_bytes = image.stat().st_size
    assert app_client.pipelines.predict(served.project, [image]).predictions[0].file == image.name


def test_unreadable_upload_is_a_400_naming_the_file(app_client: Client, served: ServedModel, tmp_path: Path) -> None:
    app_client.pipelines.enable(served.project, served.revision_id)
    broken = tmp_path / "notes.png"
    broken.write_text("not an image")
    with pytest.raises(ApiError) as error:
        app_client.pipelines.predict(served.project, [served.images[0], broken])
    assert (error.value.status, error.value.code) == (400, "prediction_image_invalid")
    assert error.value.detail.startswith("notes.png cannot be read as an image")
    assert error.value.problem["file"] == "notes.png"
    metrics = app_client.pipelines.status(served.project).metrics
    assert metrics is not None and (metrics.requests, metrics.failed_requests) == (0, 1)
