"""Starting dataset import and export jobs, and serving what an export produced."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from modelyard.datasets.archives import is_zip
from modelyard.datasets.import_subsets import DEFAULT_TESTING_FRACTION
from modelyard.datasets.interchange import FORMAT_TASKS
from modelyard.datasets.models import DatasetRevision
from modelyard.datasets.schemas import ExportParams, ImportParams, import_archive_key
from modelyard.datasets.service import IncomingFile
from modelyard.db.base import new_id
from modelyard.errors import Conflict, InvalidInput, NotFound
from modelyard.jobs.models import Job
from modelyard.jobs.registry import build_params
from modelyard.jobs.service import JobService
from modelyard.projects.models import Project
from modelyard.projects.repository import ProjectRepository
from modelyard.storage.service import FileService
from modelyard.tasks import TaskType

IMPORT_JOB = "dataset.import"
EXPORT_JOB = "dataset.export"


def check_format_fits_task(format: str, task: TaskType) -> None:
    if task not in FORMAT_TASKS[format]:
        fitting = ", ".join(sorted(name for name, tasks in FORMAT_TASKS.items() if task in tasks))
        raise InvalidInput(f"format {format!r} does not hold {task.value} annotations; use one of: {fitting}")


class TransferService:
    def __init__(self, session: Session, files: FileService, jobs: JobService, actor: str) -> None:
        self.session = session
        self.files = files
        self.jobs = jobs
        self.actor = actor

    def submit_import(
        self,
        archive: IncomingFile,
        format: str,
        *,
        project: Project | None,
        new_project: str | None,
        task_type: TaskType | None,
        unknown_labels: str,
        testing_fraction: float = DEFAULT_TESTING_FRACTION,
    ) -> Job:
        if (project is None) == (new_project is None):
            raise InvalidInput("give either `project` (an existing project) or `new_project` with `task_type`")
        if project is None and task_type is None:
            raise InvalidInput("a new project needs a `task_type` (e.g. detection)")
        if new_project is not None and ProjectRepository(self.session).name_taken(new_project):
            raise Conflict(f"a project named {new_project!r} already exists: choose another name, or import into it")
        check_format_fits_task(format, TaskType(project.task_type) if project else task_type)  # type: ignore[arg-type]
        if not is_zip(archive.path):
            raise InvalidInput(f"{archive.name} is not a zip archive: zip the dataset folder and send that")
        stored = self.files.save(
            import_archive_key(new_id()), archive.path, actor=self.actor, move=True, media_type="application/zip"
        )
        params = build_params(
            ImportParams,
            IMPORT_JOB,
            archive_key=stored.key,
            format=format,
            project_id=project.id if project else None,
            new_project={"name": new_project, "task_type": task_type.value} if new_project and task_type else None,
            unknown_labels=unknown_labels,
            testing_fraction=testing_fraction,
        )
        return self.jobs.submit(IMPORT_JOB, params, project.id if project else None)

    def submit_export(self, project: Project, format: str, revision: DatasetRevision | None) -> Job:
        check_format_fits_task(format, TaskType(project.task_type))
        if revision is not None and revision.files_deleted:
            raise Conflict(f"dataset revision {revision.number} had its files deleted: export another revision")
        params = build_params(ExportParams, EXPORT_JOB, project_id=project.id, format=format,
                              revision_id=revision.id if revision else None)  # fmt: skip
        return self.jobs.submit(EXPORT_JOB, params, project.id)

    def export_file(self, project: Project, job_id: str) -> tuple[Path, str]:
        job = self.jobs.get(job_id)
        if job.type != EXPORT_JOB or job.project_id != project.id:
            raise NotFound(f"job {job_id} is not an export of project {project.name!r}")
        if job.status != "succeeded" or not job.result:
            raise Conflict(f"export job {job_id} is {job.status}: download it once it has succeeded")
        record = self.files.get(job.result["file_key"])
        return self.files.local_path(record), job.result["file_name"]
