"""ORM rows -> API models, with the fields derived from content (trainable, deployable, categories)."""

from __future__ import annotations

from pathlib import PurePosixPath

from modelyard.registry.models import ModelVersion, ModelVersionFile, RegisteredModel
from modelyard.registry.schemas import LARGE_FILE_BYTES, FileRead, ModelRead, Runtime, VersionRead

WEIGHT_SUFFIXES = {
    "pytorch": {".pt", ".pth"},
    "openvino": {".xml"},
    "onnx": {".onnx"},
    "tensorflow": {".pb", ".tflite", ".keras", ".h5"},
}


def model_read(model: RegisteredModel) -> ModelRead:
    return ModelRead(
        id=model.id,
        name=model.name,
        description=model.description,
        metadata=model.model_metadata,
        tags={tag.key: tag.value for tag in sorted(model.tags, key=lambda tag: tag.key)},
        labels=sorted(label.label for label in model.labels),
        archived=model.archived,
        num_versions=model.num_versions,
        project_id=model.project_id,
        created_at=model.created_at,
        updated_at=model.updated_at,
        created_by=model.created_by,
        updated_by=model.updated_by,
    )


def file_read(file: ModelVersionFile) -> FileRead:
    return FileRead(
        name=file.name,
        size=file.size,
        sha256=file.sha256,
        category="large" if file.size >= LARGE_FILE_BYTES else "small",
        created_at=file.created_at,
        created_by=file.created_by,
    )


def is_deployable(framework: str, file_names: list[str]) -> bool:
    """The version holds weights its framework can run (an OpenVINO IR needs its .bin too)."""
    suffixes = WEIGHT_SUFFIXES.get(framework, set())
    paths = [PurePosixPath(name) for name in file_names]
    for path in paths:
        if path.suffix.lower() in suffixes:
            if framework != "openvino" or path.with_suffix(".bin") in paths:
                return True
    return False


def is_trainable(framework: str, file_names: list[str], label_map: dict[str, str]) -> bool:
    """A PyTorch version with weights and a label map can be the base of a new training."""
    return framework == "pytorch" and bool(label_map) and is_deployable(framework, file_names)


def version_read(version: ModelVersion) -> VersionRead:
    names = [file.name for file in version.files]
    return VersionRead(
        id=version.id,
        model=version.model.name,
        model_id=version.model_id,
        number=version.number,
        name=version.name,
        description=version.description,
        framework=version.framework,
        task_type=version.task_type,
        label_map={int(index): name for index, name in version.label_map.items()},
        parameters=version.parameters,
        runtime=Runtime.model_validate(version.runtime or {}),
        metrics=version.metrics,
        stage=version.stage,
        aliases=sorted(alias.alias for alias in version.aliases),
        tags={tag.key: tag.value for tag in sorted(version.tags, key=lambda tag: tag.key)},
        files=[file_read(file) for file in sorted(version.files, key=lambda file: file.name)],
        source_revision_id=version.source_revision_id,
        source=version.source,
        trainable=is_trainable(version.framework, names, version.label_map),
        deployable=is_deployable(version.framework, names),
        created_at=version.created_at,
        updated_at=version.updated_at,
        created_by=version.created_by,
        updated_by=version.updated_by,
    )
