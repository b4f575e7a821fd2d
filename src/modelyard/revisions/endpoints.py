"""HTTP for training and model revisions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import PlainTextResponse

from modelyard.api.deps import Evaluations, Jobs, ModelRevisions, Projects
from modelyard.auth.dependencies import Requires
from modelyard.evaluations.models import Evaluation
from modelyard.evaluations.schemas import EvaluateRequest, EvaluationRead
from modelyard.jobs.schemas import JobRead
from modelyard.kit.page import Page
from modelyard.kit.pagination import Order, split_page
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.schemas import (
    ExportRequest,
    Lineage,
    ModelRevisionRead,
    OptimizeRequest,
    RecommendationRead,
    RevisionStatus,
    RevisionUpdate,
    TrainingConfigurationRead,
    TrainingConfigurationUpdate,
    TrainRequest,
    VariantRead,
)
from modelyard.revisions.service import ModelRevisionService

router = APIRouter(tags=["models"])


@router.post(
    "/projects/{project}/models:train",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    dependencies=[Requires.write],
)
def train(project: str, body: TrainRequest, service: ModelRevisions, projects: Projects, jobs: Jobs) -> JobRead:
    """Queue a training job; its result names the model revision it produced."""
    return JobRead.model_validate(service.start_training(projects.get(project), body, jobs))


@router.get(
    "/projects/{project}/models:recommend", response_model=RecommendationRead, dependencies=[Requires.read]
)
def recommend_architectures(
    project: str,
    projects: Projects,
    revisions: ModelRevisions,
    budget_seconds: Annotated[float, Query(gt=0, le=7 * 24 * 3600)] = 600,
    goal: Annotated[Literal["fast", "balanced", "accurate"], Query()] = "balanced",
) -> RecommendationRead:
    """The architectures auto-configuration picks from for this project's annotated items: each one's input size
    and epochs within the budget, predicted training time on this machine and published quality; the
    recommended one first, with the reason of each choice."""
    return revisions.recommend(projects.get(project), budget_seconds, goal)


@router.get("/projects/{project}/models", response_model=Page[ModelRevisionRead], dependencies=[Requires.read])
def list_revisions(
    project: str,
    service: ModelRevisions,
    projects: Projects,
    architecture: str | None = None,
    status: RevisionStatus | None = None,
    dataset_revision: str | None = None,
    parent: str | None = None,
    order: Order = "desc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
) -> Page[ModelRevisionRead]:
    rows = service.page(
        projects.get(project), architecture=architecture, status=status, dataset_revision_id=dataset_revision,
        parent_id=parent, order=order, limit=limit, cursor=cursor,
    )  # fmt: skip
    items, next_cursor = split_page(rows, limit, "created_at")
    return Page[ModelRevisionRead](items=_with_sizes(service, items), next_cursor=next_cursor)


def _with_sizes(service: ModelRevisionService, revisions: list[ModelRevision]) -> list[ModelRevisionRead]:
    sizes = service.sizes(revisions)
    return [ModelRevisionRead.model_validate(r).model_copy(update={"size_bytes": sizes[r.id]}) for r in revisions]


@router.get(
    "/projects/{project}/training-configurations/{architecture}",
    response_model=TrainingConfigurationRead,
    dependencies=[Requires.read],
)
def get_configuration(
    project: str, architecture: str, service: ModelRevisions, projects: Projects
) -> TrainingConfigurationRead:
    overrides, resolved = service.configuration(projects.get(project), architecture)
    return TrainingConfigurationRead(architecture_id=architecture, overrides=overrides, hyperparameters=resolved)


@router.put(
    "/projects/{project}/training-configurations/{architecture}",
    response_model=TrainingConfigurationRead,
    dependencies=[Requires.write],
)
def set_configuration(
    project: str, architecture: str, body: TrainingConfigurationUpdate, service: ModelRevisions, projects: Projects
) -> TrainingConfigurationRead:
    found = projects.get(project)
    service.set_configuration(found, architecture, body.overrides)
    overrides, resolved = service.configuration(found, architecture)
    return TrainingConfigurationRead(architecture_id=architecture, overrides=overrides, hyperparameters=resolved)


@router.get("/projects/{project}/models/{number}", response_model=ModelRevisionRead, dependencies=[Requires.read])
def get_revision_by_number(project: str, number: str, service: ModelRevisions) -> ModelRevisionRead:
    """A revision by its number in the project (`PROJECT/NUMBER`, e.g. digits/4); the project by name or id."""
    return _with_sizes(service, [service.get(f"{project}/{number}")])[0]


@router.get("/models/{revision_id}", response_model=ModelRevisionRead, dependencies=[Requires.read])
def get_revision(revision_id: str, service: ModelRevisions) -> ModelRevisionRead:
    return _with_sizes(service, [service.get(revision_id)])[0]


@router.patch("/models/{revision_id}", response_model=ModelRevisionRead, dependencies=[Requires.write])
def rename_revision(revision_id: str, body: RevisionUpdate, service: ModelRevisions) -> ModelRevisionRead:
    return ModelRevisionRead.model_validate(service.rename(service.get(revision_id), body.name))


@router.get("/models/{revision_id}/metrics", dependencies=[Requires.read])
def training_metrics(revision_id: str, service: ModelRevisions) -> list[dict]:
    """Per-epoch training records: train loss, validation metric, seconds, learning rate; while the
    revision trains, the epochs its job has finished so far."""
    return service.training_metrics(service.get(revision_id))


@router.get("/models/{revision_id}/log", response_class=PlainTextResponse, dependencies=[Requires.read])
def training_log(revision_id: str, service: ModelRevisions) -> PlainTextResponse:
    return PlainTextResponse(service.training_log(service.get(revision_id)))


@router.get("/models/{revision_id}/lineage", response_model=Lineage, dependencies=[Requires.read])
def lineage(revision_id: str, service: ModelRevisions) -> Lineage:
    revision = service.get(revision_id)
    ancestors, descendants = service.lineage(revision)
    return Lineage(
        revision=ModelRevisionRead.model_validate(revision),
        ancestors=[ModelRevisionRead.model_validate(r) for r in ancestors],
        descendants=[ModelRevisionRead.model_validate(r) for r in descendants],
    )


@router.get("/models/{revision_id}/variants", response_model=list[VariantRead], dependencies=[Requires.read])
def list_variants(revision_id: str, service: ModelRevisions) -> list[VariantRead]:
    return [VariantRead.model_validate(variant) for variant in service.variants(service.get(revision_id))]


@router.post(
    "/models/{revision_id}/variants",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    dependencies=[Requires.write],
)
def export_variant(revision_id: str, body: ExportRequest, service: ModelRevisions, jobs: Jobs) -> JobRead:
    """Queue an export job (parity-checked, benchmarked, then evaluated on the testing subset)."""
    return JobRead.model_validate(service.submit_export(service.get(revision_id), body.format, body.precision, jobs))


@router.post(
    "/models/{revision_id}:optimize",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    dependencies=[Requires.write],
)
def optimize(revision_id: str, body: OptimizeRequest, service: ModelRevisions, jobs: Jobs) -> JobRead:
    """Queue INT8 quantization with NNCF (accuracy-controlled when `max_drop` is given)."""
    return JobRead.model_validate(service.submit_optimization(service.get(revision_id), body.max_drop, jobs))


@router.post(
    "/models/{revision_id}:evaluate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead | EvaluationRead,
    responses={200: {"model": EvaluationRead, "description": "The same evaluation is stored already (no `force`)."},
               409: {"description": "The subset has no items in the dataset revision."}},
    dependencies=[Requires.write],
)  # fmt: skip
def evaluate(
    revision_id: str, body: EvaluateRequest, response: Response, service: ModelRevisions, jobs: Jobs
) -> JobRead | EvaluationRead:
    """Queue an evaluation job (202), or return the stored evaluation of the same variant on the same subset
    of the same dataset revision (200) unless `force`."""
    revision = service.get(revision_id)
    outcome = service.submit_evaluation(revision, body.variant, body.dataset_revision, body.subset, jobs,
                                        force=body.force)  # fmt: skip
    if isinstance(outcome, Evaluation):
        response.status_code = status.HTTP_200_OK
        return EvaluationRead.model_validate(outcome)
    return JobRead.model_validate(outcome)


@router.get("/models/{revision_id}/evaluations", response_model=list[EvaluationRead], dependencies=[Requires.read])
def revision_evaluations(revision_id: str, service: ModelRevisions, evaluations: Evaluations) -> list[EvaluationRead]:
    revision = service.get(revision_id)
    return [EvaluationRead.model_validate(row) for row in evaluations.of_revision(revision.id)]


@router.get("/projects/{project}/evaluations", response_model=list[EvaluationRead], dependencies=[Requires.read])
def compare_evaluations(
    project: str,
    projects: Projects,
    evaluations: Evaluations,
    subset: str = "testing",
    dataset_revision: str | None = None,
    metric: str | None = None,
    variant: str | None = None,
) -> list[EvaluationRead]:
    """Evaluations of the project's revisions side by side (same subset and dataset revision), best first."""
    found = projects.get(project)
    dataset_id = evaluations.dataset_revision(found, dataset_revision).id if dataset_revision else None
    rows = evaluations.compare(found.id, dataset_id, subset, metric, variant)
    return [EvaluationRead.model_validate(row) for row in rows]


@router.delete("/models/{revision_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Requires.admin])
def delete_revision(revision_id: str, service: ModelRevisions, weights_only: bool = False) -> Response:
    """Delete a revision, or with `weights_only=true` only its weights (record, metrics, evaluations stay)."""
    service.delete(service.get(revision_id), weights_only=weights_only)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
