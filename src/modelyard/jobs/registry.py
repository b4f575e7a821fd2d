"""Job types by name. Modules declare `JOB_TYPES = [JobType(...)]`; the registry is built from a list
of module names (the built-in ones plus `Settings.job_modules`), in the server and in each worker
alike, so nothing depends on import side effects.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from modelyard.errors import InvalidInput

if TYPE_CHECKING:
    from modelyard.config import Settings
    from modelyard.jobs.context import CleanupContext, JobContext

P = TypeVar("P", bound=BaseModel)
JobBody = Callable[["JobContext", dict[str, Any]], dict[str, Any] | None]
JobCleanup = Callable[["CleanupContext"], None]

BUILTIN_JOB_MODULES: tuple[str, ...] = (
    "modelyard.storage.jobs",
    "modelyard.datasets.jobs",
    "modelyard.revisions.training_job",
    "modelyard.revisions.variant_jobs",
    "modelyard.pipelines.jobs",
    "modelyard.tuning.tune_job",
)


@dataclass(frozen=True)
class JobType:
    """A kind of background work: its body runs in a worker process; `cleanup` removes what a
    failed, cancelled or interrupted run left half-done.

    `public` job types may be submitted by people through the generic jobs endpoint, with parameters checked
    by a model that forbids extra keys. Every other type is started only by its own domain endpoint, which
    builds its parameters from things it checked (a job given a stored key of someone's choosing could read
    or remove that file); `started_by` names that endpoint for the refusal's message.
    """

    name: str
    body: JobBody
    description: str = ""
    params_model: type[BaseModel] | None = None
    cleanup: JobCleanup | None = None
    public: bool = False
    started_by: str = ""
    uses_gpu: bool = False
    """Whether the body can use a GPU (training): on Ray it then asks for MODELYARD_RAY_TRAINING_GPUS of them."""
    holds_slot: bool = True
    """Whether a running job of this type takes one of the server's job slots; a job that only coordinates others
    (a hyperparameter study waiting on its trials) does not, so its children can use every slot."""
    resumable: bool = False
    """Whether a run stopped by the server going away (a restart, a kill) is queued again instead of failed: the
    body must pick up from what it recorded (a study resumes from its journal)."""

    def __post_init__(self) -> None:
        if self.public and (self.params_model is None or self.params_model.model_config.get("extra") != "forbid"):
            raise ValueError(f"public job type {self.name!r} needs a params_model with extra='forbid'")


class JobTypeRegistry:
    def __init__(self, job_types: Iterable[JobType] = ()) -> None:
        self._types: dict[str, JobType] = {}
        for job_type in job_types:
            self.add(job_type)

    @classmethod
    def from_modules(cls, modules: Iterable[str]) -> JobTypeRegistry:
        registry = cls()
        for module_name in modules:
            module = importlib.import_module(module_name)
            for job_type in getattr(module, "JOB_TYPES", ()):
                registry.add(job_type)
        return registry

    @classmethod
    def for_settings(cls, settings: Settings) -> JobTypeRegistry:
        return cls.from_modules([*BUILTIN_JOB_MODULES, *settings.job_modules])

    def add(self, job_type: JobType) -> None:
        if job_type.name in self._types and self._types[job_type.name] is not job_type:
            raise ValueError(f"job type {job_type.name!r} is registered twice")
        self._types[job_type.name] = job_type

    def get(self, name: str) -> JobType:
        try:
            return self._types[name]
        except KeyError:
            known = ", ".join(sorted(self._types)) or "none"
            raise InvalidInput(f"unknown job type {name!r}; known types: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._types)

    def public_names(self) -> list[str]:
        return sorted(name for name, job_type in self._types.items() if job_type.public)

    def get_public(self, name: str) -> JobType:
        """The job type if people may submit it by name; else InvalidInput naming what starts it."""
        job_type = self.get(name)
        if not job_type.public:
            where = f"start it with {job_type.started_by}" if job_type.started_by else "it is started by the server"
            raise InvalidInput(
                f"job type {name!r} cannot be submitted through the jobs endpoint: {where}. "
                f"The jobs endpoint takes: {', '.join(self.public_names()) or 'none'}",
                code="job_type_not_submittable",
            )
        return job_type

    def validate_params(self, name: str, params: BaseModel | dict[str, Any]) -> dict[str, Any]:
        """The params as stored: a job's own parameter model, or a dict checked against it."""
        job_type = self.get(name)
        if isinstance(params, BaseModel):
            if job_type.params_model is not None and not isinstance(params, job_type.params_model):
                raise TypeError(
                    f"job type {name!r} takes {job_type.params_model.__name__}, not {type(params).__name__}"
                )
            return params.model_dump(mode="json")
        if job_type.params_model is None:
            return params
        return build_params(job_type.params_model, name, **params).model_dump(mode="json")


def build_params(model: type[P], job_name: str, **values: Any) -> P:
    """`model(**values)`, with values that do not fit it refused as invalid input (a 400, never a 500)."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'params'}: {item['msg']}" for item in error.errors()
        )
        raise InvalidInput(f"invalid params for job type {job_name!r}: {problems}") from None
