"""INT8 post-training quantization and the speed report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelyard.export import ExportedVariant, measure_speed, quantize_ir, read_variant_metadata
from modelyard.inference import Predictor
from tests.export.factories import write_rgb_image


def test_int8_quantization_gives_a_smaller_ir_that_runs(classifier_fp32: ExportedVariant, tmp_path: Path) -> None:
    images = [write_rgb_image(tmp_path / f"calibration-{seed}.png", 70, 60, seed) for seed in range(6)]
    quantized = quantize_ir(classifier_fp32.model_path, images, tmp_path / "int8")
    size = lambda variant: (variant.folder / "model.bin").stat().st_size  # noqa: E731
    assert size(quantized) < 0.5 * size(classifier_fp32)
    metadata = read_variant_metadata(quantized.folder)
    assert metadata.precision == "int8" and metadata.extra["quantization"]["calibration_images"] == 6
    prediction = Predictor.open(quantized.folder).predict(images[0])
    assert len(prediction.scores) == 2 and abs(sum(prediction.scores) - 1) < 1e-3
    # Parity is not asserted: a random-weight network's outputs are too brittle for INT8 to track them.
    import openvino as ov

    model = ov.Core().read_model(quantized.model_path)
    assert sum(op.get_type_name() == "FakeQuantize" for op in model.get_ordered_ops()) > 10
    assert model.get_rt_info(["model_info", "model_type"]).astype(str) == "Classification"


def test_speed_report_has_positive_figures_and_picks_a_batch(classifier_fp16: ExportedVariant) -> None:
    report = measure_speed(classifier_fp16.model_path, duration_s=0.6, batch_sizes=(1, 4))
    assert 0 < report.latency_p50_ms <= report.latency_p95_ms
    assert set(report.throughput_by_batch) == {1, 4} and report.best_batch in (1, 4)
    assert report.throughput_fps == max(report.throughput_by_batch.values()) > 0


def test_speed_of_a_detector_uses_batch_one(detector_onnx: ExportedVariant) -> None:
    report = measure_speed(detector_onnx.model_path, duration_s=0.4)
    assert report.best_batch == 1 and list(report.throughput_by_batch) == [1]
    assert np.isfinite(report.latency_p95_ms) and report.throughput_fps > 0


def test_compiles_inside_a_job_use_the_jobs_thread_count(
    classifier_fp16: ExportedVariant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard import cpu_threads
    from modelyard.variant.backends import OpenVINOBackend

    assert cpu_threads.openvino_properties() == {}  # outside a job (the server): OpenVINO's own default
    # What the job worker's `cpu_threads.apply` leaves behind, without resizing this test process's torch.
    monkeypatch.setattr(cpu_threads, "_applied", cpu_threads.ThreadChoice(1, "test"))
    backend = OpenVINOBackend(classifier_fp16.model_path)
    assert backend.compiled.get_property("INFERENCE_NUM_THREADS") == 1
