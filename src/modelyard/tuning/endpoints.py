"""HTTP for hyperparameter studies."""

from __future__ import annotations

from fastapi import APIRouter, status

from modelyard.api.deps import Jobs, Projects, Tuning
from modelyard.auth.dependencies import Requires
from modelyard.jobs.schemas import JobRead
from modelyard.tuning.schemas import StudyRead, TuneRequest

router = APIRouter(tags=["models"])


@router.post(
    "/projects/{project}/models:tune",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    dependencies=[Requires.write],
)
def tune(project: str, body: TuneRequest, service: Tuning, projects: Projects, jobs: Jobs) -> JobRead:
    """Queue a hyperparameter study (a tune job); its trials are training jobs, children of it."""
    return JobRead.model_validate(service.start(projects.get(project), body, jobs))


@router.get("/studies/{job_id}", response_model=StudyRead, dependencies=[Requires.read])
def study(job_id: str, service: Tuning, jobs: Jobs) -> StudyRead:
    """A study's trials (parameters, metric, time, status), the best one marked."""
    return service.study(jobs.get(job_id))
