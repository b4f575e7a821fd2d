"""Variants of a revision: record the PyTorch weights, export OpenVINO and ONNX, quantize to INT8.

Called from job bodies (training, export, optimize). The exporting itself is the pure core in
`modelyard.export`; this module stores what it produced and records it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from modelyard.db.engine import transaction
from modelyard.errors import Conflict, InvalidInput
from modelyard.jobs.context import JobContext
from modelyard.revisions.models import ModelRevision, Variant
from modelyard.revisions.paths import revision_file, revision_folder
from modelyard.revisions.repository import VariantRepository
from modelyard.revisions.usable import require_revision, require_usable
from modelyard.storage.service import FileService

VARIANT_NAMES = ("pytorch-fp32", "openvino-fp16", "openvino-fp32", "onnx-fp32", "openvino-int8")
AUTOMATIC_VARIANTS = (("openvino", "fp16"), ("onnx", "fp32"))
SPEED_SECONDS = 1.0


def parse_variant(name: str) -> tuple[str, str]:
    """`openvino-fp16` -> ("openvino", "fp16")."""
    if name not in VARIANT_NAMES:
        raise InvalidInput(f"{name!r} is not a variant name: use FORMAT-PRECISION, one of {', '.join(VARIANT_NAMES)}")
    format_, precision = name.split("-")
    return format_, precision


def require_variant(session: Session, revision: ModelRevision, name: str) -> Variant:
    """The revision's variant `name` (e.g. `openvino-fp16`); a conflict listing the ones it has otherwise."""
    format_, precision = parse_variant(name)
    variants = VariantRepository(session)
    variant = variants.find(revision.id, format_, precision)
    if variant is None:
        available = sorted(found.name for found in variants.of_revision(revision.id))
        has = f"it has {', '.join(available)}" if available else "it has no variants yet"
        make = "`modelyard optimize`" if precision == "int8" else f"`modelyard export {revision.id} --format {format_}`"
        raise Conflict(
            f"model revision #{revision.number} ({revision.id}) has no {name} variant; {has}. "
            f"Pick one of those, or make it first with {make}",
            code="variant_not_found",
            available_variants=available,
        )
    return variant


class VariantFiles:
    """A variant's stored files as verified local paths (they sit together in one folder of the data directory)."""

    def __init__(self, files: FileService) -> None:
        self.files = files

    def names(self, variant: Variant) -> list[str]:
        names = [entry["name"] for entry in variant.files]
        return names if variant.model_file in names else [*names, variant.model_file]

    def local_paths(self, variant: Variant) -> dict[str, Path]:
        """Every file of the variant, each checked against its recorded sha256 and size."""
        folder = variant.folder.rstrip("/")
        paths = {}
        for name in self.names(variant):
            record = self.files.files.get(f"{folder}/{name}")
            if record is None:
                raise Conflict(
                    f"variant {variant.name} of model revision {variant.revision_id} is missing its file {name}: "
                    "export the variant again"
                )
            paths[name] = self.files.local_path(record)
        return paths

    def model_path(self, variant: Variant) -> Path:
        return self.local_paths(variant)[variant.model_file]

    def stage(self, variant: Variant, folder: Path) -> Path:
        """Link the verified files into `folder` with the files.json that describes them; returns `folder`."""
        import json

        folder.mkdir(parents=True, exist_ok=True)
        for name, path in self.local_paths(variant).items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
        entries = [entry for entry in variant.files if entry["name"] != "files.json"]
        content = {"files": [{"name": e["name"], "size": e["size"], "sha256": e["sha256"]} for e in entries]}
        (folder / "files.json").write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        return folder


def record_pytorch_variant(context: JobContext, revision_id: str) -> str:
    """The trained model.pt is the PyTorch FP32 variant: recorded, not copied."""
    with transaction(context.db.sessions) as session:
        revision = require_revision(session, revision_id)
        files = FileService(session, context.store)
        stored = files.get(revision_file(revision.project_id, revision.id, "model.pt"))
        variant = Variant(
            revision_id=revision.id, format="pytorch", precision="fp32",
            folder=revision_folder(revision.project_id, revision.id), model_file="model.pt",
            files=[{"name": "model.pt", "size": stored.size, "sha256": stored.sha256}], size_bytes=stored.size,
            job_id=context.job_id, created_by=context.actor,
        )  # fmt: skip
        VariantRepository(session).add(variant)
        return variant.id


def export_variant(context: JobContext, revision_id: str, format_: str, precision: str) -> str:
    """Export, check parity against PyTorch, measure speed, store and record one variant."""
    from modelyard.export import check_parity, export_onnx, export_openvino

    checkpoint = _checkpoint(context, revision_id)
    output = context.work_dir / f"{format_}-{precision}"
    context.log.info("exporting %s %s", format_, precision)
    if format_ == "openvino":
        exported = export_openvino(checkpoint, output, precision)  # type: ignore[arg-type]
    elif format_ == "onnx":
        exported = export_onnx(checkpoint, output)
    else:
        raise ValueError(f"cannot export to {format_}")
    parity = check_parity(checkpoint, exported.model_path)
    context.log.info("parity of %s-%s: %s", format_, precision, _report(parity))
    return _store_variant(context, revision_id, format_, precision, exported, parity)


def quantize_variant(context: JobContext, revision_id: str, calibration: list[Path], max_drop: float | None,
                     validation: list[tuple[Path, int]] | None = None) -> str:  # fmt: skip
    """INT8 with NNCF from an FP32 IR, calibrated on `calibration`; with `max_drop`, accuracy-controlled
    against `validation` (image, label index) pairs."""
    from modelyard.export import ParityError, check_parity, export_openvino, quantize_ir, quantize_with_accuracy_control

    checkpoint = _checkpoint(context, revision_id)
    fp32 = export_openvino(checkpoint, context.work_dir / "openvino-fp32-source", "fp32")
    output = context.work_dir / "openvino-int8"
    if max_drop is None:
        exported = quantize_ir(fp32.model_path, calibration, output)
    else:
        exported = quantize_with_accuracy_control(
            fp32.model_path, calibration, validation or [], top1_accuracy(fp32.metadata), output, max_drop=max_drop
        )
    # INT8 is judged by its evaluation against FP16 (accuracy within `max_drop`), not by output parity:
    # quantization error on individual scores is expected. The parity figures are recorded all the same.
    try:
        parity = check_parity(checkpoint, exported.model_path)
    except ParityError as error:
        parity = error.report
    context.log.info("parity of openvino-int8: %s", _report(parity))
    return _store_variant(context, revision_id, "openvino", "int8", exported, parity)


def top1_accuracy(metadata: Any) -> Any:
    """NNCF's validation function for a classifier: top-1 accuracy on (image, label index) pairs."""

    def accuracy(compiled_model: Any, items: Any) -> float:
        import numpy as np

        from modelyard.variant.preprocess import prepare_image

        correct = total = 0
        for image, label in items:
            prepared = prepare_image(image, metadata.input_spec, metadata.input_scaling)
            scores = compiled_model(prepared.pixels[np.newaxis])[0]
            correct += int(int(np.argmax(scores)) == label)
            total += 1
        return correct / max(total, 1)

    return accuracy


def _store_variant(context: JobContext, revision_id: str, format_: str, precision: str, exported: Any,
                   parity: Any) -> str:  # fmt: skip
    from modelyard.export import measure_speed

    speed = measure_speed(exported.model_path, duration_s=SPEED_SECONDS)
    context.log.info("speed of %s-%s: p50 %.2f ms, %.1f images/s at batch %d", format_, precision,
                     speed.latency_p50_ms, speed.throughput_fps, speed.best_batch)  # fmt: skip
    with transaction(context.db.sessions) as session:
        revision = require_revision(session, revision_id)
        files = FileService(session, context.store)
        folder = f"{revision_folder(revision.project_id, revision.id)}/{format_}-{precision}"
        names = sorted(path.name for path in exported.folder.iterdir() if path.is_file())
        entries = []
        for name in names:
            record = files.save(f"{folder}/{name}", exported.folder / name, actor=context.actor, move=True)
            entries.append({"name": name, "size": record.size, "sha256": record.sha256})
        variants = VariantRepository(session)
        existing = variants.find(revision.id, format_, precision)
        if existing is not None:
            variants.delete(existing)
        variant = Variant(
            revision_id=revision.id, format=format_, precision=precision, folder=folder,
            model_file=exported.model_path.name, files=entries, size_bytes=sum(e["size"] for e in entries),
            parity=_report(parity), speed=_plain(asdict(speed)), job_id=context.job_id, created_by=context.actor,
        )  # fmt: skip
        VariantRepository(session).add(variant)
        return variant.id


def _checkpoint(context: JobContext, revision_id: str) -> Path:
    with transaction(context.db.read_sessions) as session:
        revision = require_usable(session, revision_id)
        files = FileService(session, context.store)
        return files.local_path(files.get(revision_file(revision.project_id, revision.id, "model.pt")))


def _report(parity: Any) -> dict[str, Any]:
    report = _plain(asdict(parity))
    report["passed"] = parity.passed
    return report


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value
