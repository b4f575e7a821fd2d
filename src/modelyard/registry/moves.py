"""Moving versions between registered models: transfer (it takes the next number there) and copy."""

from __future__ import annotations

import copy

import structlog

from modelyard.db.base import utcnow
from modelyard.errors import InvalidInput
from modelyard.registry.models import ModelVersion
from modelyard.registry.service import RegistryService

log = structlog.get_logger("modelyard.registry")


def transfer_version(
    service: RegistryService, version: ModelVersion, target_name: str, *, create_model: bool = False, comment: str = ""
) -> ModelVersion:
    """Move a version to another registered model, where it takes the next number."""
    source_model = version.model
    service.ensure_writable(source_model)
    target = service.model_for_registration(target_name, create=create_model, project_id=version.model.project_id)
    if target.id == source_model.id:
        raise InvalidInput(f"version {version.number} is already in {target.name!r}")
    service.ensure_writable(target)  # like register and copy: an archived model takes no new version
    old_number = version.number
    service._drop_aliases(version, comment=f"version {old_number} transferred to {target.name!r}")
    old_stage = version.stage
    new_number = service._allocate_number(target)
    locked_source = service.models.lock(source_model)
    locked_source.num_versions -= 1
    service._touch(locked_source)
    version.model_id, version.model, version.number, version.stage = target.id, target, new_number, "none"
    version.updated_at, version.updated_by = utcnow(), service.actor
    service.session.flush()
    service.history.record(
        source_model,
        "version.transferred_out",
        version=version,
        number=old_number,
        before={"stage": old_stage},
        after={"model": target.name, "number": new_number},
        comment=comment,
    )
    service.history.record(
        target,
        "version.transferred_in",
        version=version,
        before={"model": source_model.name, "number": old_number, "stage": old_stage},
        after={"stage": "none"},
        comment=comment,
    )
    log.info("registry.version.transferred", version=version.id, to=target.id, number=new_number)
    return version


def copy_version(
    service: RegistryService, version: ModelVersion, target_name: str, *, create_model: bool = False, comment: str = ""
) -> ModelVersion:
    """Copy a version into another model (or the same one); files share the stored bytes."""
    target = service.model_for_registration(target_name, create=create_model, project_id=version.model.project_id)
    copied = service._new_version(
        target,
        name=version.name,
        description=version.description,
        framework=version.framework,
        task_type=version.task_type,
        label_map=dict(version.label_map),
        parameters=copy.deepcopy(version.parameters),
        runtime=copy.deepcopy(version.runtime),
        metrics=dict(version.metrics),
        source=copy.deepcopy(version.source),
        source_revision_id=version.source_revision_id,
        tags={tag.key: tag.value for tag in version.tags},
    )
    for file in version.files:
        service.link_file(copied, file.name, file.sha256)
    origin = {"model": version.model.name, "number": version.number, "version_id": version.id}
    service.history.record(
        target, "version.copied_in", version=copied, before=origin, after={"stage": "none"}, comment=comment
    )
    service.history.record(
        version.model,
        "version.copied_out",
        version=version,
        after={"model": target.name, "number": copied.number, "version_id": copied.id},
        comment=comment,
    )
    return copied
