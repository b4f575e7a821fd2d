from __future__ import annotations

import pytest
from pydantic import BaseModel

from modelyard.errors import InvalidInput
from modelyard.jobs.registry import BUILTIN_JOB_MODULES, JobTypeRegistry, build_params
from modelyard.revisions.job_params import EXPORT_JOB, ExportParams, OptimizeParams
from modelyard.sdk import ApiError, Client

BUILTIN_NAMES = [
    "dataset.export", "dataset.import", "pipeline.batch_predict", "revision.evaluate", "revision.export",
    "revision.optimize", "revision.train", "revision.tune", "storage.gc", "storage.verify",
]  # fmt: skip


def test_builtin_jobs_are_named_by_domain_and_forbid_extra_params() -> None:
    registry = JobTypeRegistry.from_modules(BUILTIN_JOB_MODULES)
    assert registry.names() == BUILTIN_NAMES
    for name in BUILTIN_NAMES:
        model = registry.get(name).params_model
        assert model is not None and model.model_config.get("extra") == "forbid", name


def test_unknown_param_key_is_refused_with_a_400(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        client.jobs.submit("storage.verify", {"dry_run": True})
    assert (caught.value.status, caught.value.code) == (400, "invalid_input")
    assert "dry_run: Extra inputs are not permitted" in caught.value.detail


def test_a_job_is_stored_as_its_parameter_model_dumped() -> None:
    registry = JobTypeRegistry.from_modules(BUILTIN_JOB_MODULES)
    params = ExportParams(revision_id="r1", format="onnx", precision="fp32")
    assert registry.validate_params(EXPORT_JOB, params) == {
        "revision_id": "r1", "format": "onnx", "precision": "fp32", "evaluate": True,
    }  # fmt: skip
    with pytest.raises(TypeError, match="takes ExportParams, not OptimizeParams"):
        registry.validate_params(EXPORT_JOB, OptimizeParams(revision_id="r1"))


def test_build_params_turns_bad_values_into_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="invalid params for job type 'revision.export': format: "):
        build_params(ExportParams, EXPORT_JOB, revision_id="r1", format="pytorch")
    built: BaseModel = build_params(OptimizeParams, "revision.optimize", revision_id="r1", max_drop=0.01)
    assert built == OptimizeParams(revision_id="r1", max_drop=0.01)
