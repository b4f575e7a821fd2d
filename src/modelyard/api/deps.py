"""Request dependencies: the session (committed once, at the edge), the caller, the app context, and the
services endpoints receive, each through a typed alias (`service: Projects`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from modelyard.architectures.service import ArchitectureCatalog
from modelyard.auth.dependencies import Access, CurrentPrincipal
from modelyard.auth.service import FileAccess, TokenService
from modelyard.context import AppContext
from modelyard.datasets.gallery import GalleryService
from modelyard.datasets.revisions import DatasetRevisionService
from modelyard.datasets.service import DatasetService
from modelyard.datasets.transfer import TransferService
from modelyard.evaluations.service import EvaluationService
from modelyard.jobs.service import JobService
from modelyard.pipelines.runtime import PipelineRuntime
from modelyard.pipelines.service import DeploymentPackages, PipelineService
from modelyard.projects.service import ProjectService
from modelyard.registry.service import RegistryService
from modelyard.revisions.service import ModelRevisionService
from modelyard.storage.service import FileService
from modelyard.tuning.service import TuningService

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_END_THREADS = 64


async def get_context(request: Request) -> AppContext:
    return request.app.state.context


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, committed once after the endpoint returns.

    Commit, rollback and close run on worker threads of their own limiter, not of the pool that
    runs sync endpoints: when every endpoint thread waits for a lock (SQLite's write lock, a
    PostgreSQL row lock), the request holding it must still be able to commit and release it.
    Sharing one pool deadlocks as soon as more requests wait than the pool has threads.
    """
    context: AppContext = request.app.state.context
    factory = context.db.read_sessions if request.method in READ_METHODS else context.db.sessions
    limiter = _session_end_limiter(request)
    read_only = factory is context.db.read_sessions
    session = factory()
    try:
        yield session
    except BaseException:
        await _end(session, limiter, commit=False, read_only=read_only)
        raise
    await _end(session, limiter, commit=True, read_only=read_only)


async def _end(session: Session, limiter: anyio.CapacityLimiter, *, commit: bool, read_only: bool) -> None:
    if not session.in_transaction() or read_only:
        # Nothing written, no lock held: ending a read transaction costs less than a thread hop.
        _finish(session, commit)
        return
    await anyio.to_thread.run_sync(_finish, session, commit, limiter=limiter)


def _finish(session: Session, commit: bool) -> None:
    """Commit (or roll back) and close, in one worker-thread hop."""
    try:
        if commit:
            try:
                session.commit()
            except BaseException:
                session.rollback()
                raise
        else:
            session.rollback()
    finally:
        session.close()


def _session_end_limiter(request: Request) -> anyio.CapacityLimiter:
    limiter = getattr(request.app.state, "session_end_limiter", None)
    if limiter is None:
        limiter = request.app.state.session_end_limiter = anyio.CapacityLimiter(SESSION_END_THREADS)
    return limiter


async def get_actor(principal: CurrentPrincipal) -> str:
    """The caller's user name (the token's user, or `local` without authentication): the actor of changes."""
    return principal.user


DbSession = Annotated[Session, Depends(get_session, scope="function")]
Actor = Annotated[str, Depends(get_actor)]
Context = Annotated[AppContext, Depends(get_context)]


# -- services ----------------------------------------------------------------------------------
# Providers only construct objects: `async def` keeps them on the event loop (a sync dependency costs a
# worker-thread hop per request).
async def file_service(session: DbSession, context: Context) -> FileService:
    return FileService(session, context.store)


Files = Annotated[FileService, Depends(file_service)]


async def file_access(session: DbSession, access: Access) -> FileAccess:
    return FileAccess(session, access)


VisibleFiles = Annotated[FileAccess, Depends(file_access)]


async def project_service(session: DbSession, files: Files, actor: Actor, access: Access) -> ProjectService:
    return ProjectService(session, files, actor, access)


async def job_service(
    session: DbSession, context: Context, actor: Actor, access: Access, request: Request
) -> JobService:
    runner = getattr(request.app.state, "runner", None)
    return JobService(session, context.job_types, actor, runner.wake if runner else lambda: None, access)


async def architecture_catalog(context: Context) -> ArchitectureCatalog:
    return ArchitectureCatalog(context.settings)


Projects = Annotated[ProjectService, Depends(project_service)]
Jobs = Annotated[JobService, Depends(job_service)]
Catalog = Annotated[ArchitectureCatalog, Depends(architecture_catalog)]


async def dataset_service(session: DbSession, files: Files, context: Context, actor: Actor) -> DatasetService:
    return DatasetService(session, files, context.settings, actor)


async def dataset_revision_service(session: DbSession, files: Files, actor: Actor) -> DatasetRevisionService:
    return DatasetRevisionService(session, files, actor)


async def dataset_transfer_service(session: DbSession, files: Files, jobs: Jobs, actor: Actor) -> TransferService:
    return TransferService(session, files, jobs, actor)


async def model_revision_service(
    session: DbSession, files: Files, catalog: Catalog, actor: Actor, access: Access
) -> ModelRevisionService:
    return ModelRevisionService(session, files, catalog, actor, access)


async def tuning_service(session: DbSession, files: Files, catalog: Catalog, actor: Actor) -> TuningService:
    return TuningService(session, files, catalog, actor)


async def evaluation_service(session: DbSession, files: Files) -> EvaluationService:
    return EvaluationService(session, files)


async def pipeline_runtime(request: Request) -> PipelineRuntime:
    """The app's runtime, created on first use (dependencies run on the event loop: no race)."""
    runtime = getattr(request.app.state, "pipeline_runtime", None)
    if runtime is None:
        runtime = request.app.state.pipeline_runtime = PipelineRuntime()
    return runtime


Runtime = Annotated[PipelineRuntime, Depends(pipeline_runtime)]


async def pipeline_service(
    session: DbSession, files: Files, runtime: Runtime, actor: Actor, access: Access
) -> PipelineService:
    return PipelineService(session, files, runtime, actor, access)


async def deployment_packages(session: DbSession, files: Files, access: Access) -> DeploymentPackages:
    return DeploymentPackages(session, files, access)


DatasetItems = Annotated[DatasetService, Depends(dataset_service)]
DatasetRevisions = Annotated[DatasetRevisionService, Depends(dataset_revision_service)]
DatasetTransfers = Annotated[TransferService, Depends(dataset_transfer_service)]


async def dataset_gallery(datasets: DatasetItems) -> GalleryService:
    return GalleryService(datasets)


DatasetGallery = Annotated[GalleryService, Depends(dataset_gallery)]
ModelRevisions = Annotated[ModelRevisionService, Depends(model_revision_service)]
Tuning = Annotated[TuningService, Depends(tuning_service)]
Evaluations = Annotated[EvaluationService, Depends(evaluation_service)]
Pipelines = Annotated[PipelineService, Depends(pipeline_service)]
Packages = Annotated[DeploymentPackages, Depends(deployment_packages)]


async def registry_service(session: DbSession, files: Files, actor: Actor, access: Access) -> RegistryService:
    return RegistryService(session, files, actor, access)


Registry = Annotated[RegistryService, Depends(registry_service)]


async def token_service(session: DbSession, actor: Actor, context: Context) -> TokenService:
    return TokenService(session, actor, on_change=context.auth.forget)


Tokens = Annotated[TokenService, Depends(token_service)]


async def session_token_service(session: DbSession, context: Context) -> TokenService:
    """Tokens for sign-in and sign-out, which run before the caller is known (no actor from a principal)."""
    return TokenService(session, "session", on_change=context.auth.forget)


SessionTokens = Annotated[TokenService, Depends(session_token_service)]
