"""MLflow's artifact proxy, mounted under `/api/2.0/mlflow-artifacts`: the client's `mlflow-artifacts:/` URIs
upload, list, download and delete run artifacts here. Uploads stream to a scratch file first (bounded by
MODELYARD_MAX_UPLOAD_BYTES), then into the artifact store."""

from __future__ import annotations

import shutil
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from modelyard.api.deps import Actor, Context, DbSession, Files
from modelyard.api.transfers import stored_body
from modelyard.auth.dependencies import Access, Requires
from modelyard.errors import PayloadTooLarge
from modelyard.mlflow.run_artifacts import RunArtifacts

router = APIRouter(tags=["mlflow artifacts"])


async def run_artifacts(session: DbSession, files: Files, actor: Actor, access: Access) -> RunArtifacts:
    return RunArtifacts(session, files, actor, access)


Artifacts = Annotated[RunArtifacts, Depends(run_artifacts)]


@router.get("/artifacts", dependencies=[Requires.read])
def mlflow_list_artifacts(
    artifacts: Artifacts, path: Annotated[str | None, Query(max_length=2048)] = None
) -> JSONResponse:
    return JSONResponse({"files": [entry.to_json() for entry in artifacts.listing(path)]})


@router.get("/artifacts/{artifact_path:path}", dependencies=[Requires.read])
def mlflow_download_artifact(artifact_path: str, artifacts: Artifacts) -> StreamingResponse:
    record, chunks = artifacts.open(artifact_path)  # hashed as it streams, against its sha256
    headers = {
        "content-length": str(record.size),
        "etag": f'"{record.sha256}"',
        "x-content-sha256": record.sha256,
        "content-disposition": f"attachment; filename*=UTF-8''{quote(artifact_path.rsplit('/', 1)[-1])}",
    }
    return StreamingResponse(stored_body(chunks), media_type=record.media_type, headers=headers)


@router.put("/artifacts/{artifact_path:path}", dependencies=[Requires.write])
async def mlflow_upload_artifact(
    artifact_path: str, request: Request, artifacts: Artifacts, context: Context
) -> JSONResponse:
    artifacts.check_upload_path(artifact_path)
    limit = context.settings.max_upload_bytes
    scratch = context.store.new_unit()
    try:
        target = scratch / "upload"
        size = 0
        with target.open("wb") as handle:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"artifact is over {limit} bytes, the limit (MODELYARD_MAX_UPLOAD_BYTES)")
                handle.write(chunk)
        await run_in_threadpool(artifacts.upload, artifact_path, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return JSONResponse({})


@router.delete("/artifacts/{artifact_path:path}", dependencies=[Requires.write])
def mlflow_delete_artifact(artifact_path: str, artifacts: Artifacts) -> JSONResponse:
    artifacts.delete(artifact_path)
    return JSONResponse({})
