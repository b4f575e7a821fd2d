"""SDK resource `client.pipelines`: a project's inference pipeline, and deployment packages."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.jobs.schemas import JobRead
from modelyard.pipelines.schemas import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    DEFAULT_VARIANT,
    PipelineStatus,
    PredictionsRead,
)

if TYPE_CHECKING:
    from modelyard.sdk.client import Client

__all__ = ["Pipelines"]


class Pipelines:
    def __init__(self, client: Client) -> None:
        self._client = client

    def enable(
        self,
        project: str,
        revision: str,
        variant: str = DEFAULT_VARIANT,
        confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
    ) -> PipelineStatus:
        """Serve predictions with a variant (e.g. openvino-fp16, openvino-int8) of a model revision."""
        body = {"revision": revision, "variant": variant, "confidence_threshold": confidence_threshold}
        return self._client.send_model(PipelineStatus, "PUT", f"/projects/{project}/pipeline", json=body)

    def disable(self, project: str) -> PipelineStatus:
        return self._client.send_model(PipelineStatus, "DELETE", f"/projects/{project}/pipeline")

    def status(self, project: str) -> PipelineStatus:
        return self._client.get_model(PipelineStatus, f"/projects/{project}/pipeline")

    def predict(self, project: str, paths: Sequence[str | Path] | str | Path) -> PredictionsRead:
        """Predict one or more image files with the project's enabled variant."""
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        with ExitStack() as stack:
            files = [("files", (Path(p).name, stack.enter_context(open(p, "rb")))) for p in paths]
            return self._client.send_model(PredictionsRead, "POST", f"/projects/{project}/pipeline:predict",
                                           files=files)  # fmt: skip

    def batch_predict(self, project: str, input_folder: str | Path, output_folder: str | Path) -> JobRead:
        """Queue a job predicting every image of `input_folder` (a path on the server) into `output_folder`."""
        body = {"input_folder": str(input_folder), "output_folder": str(output_folder)}
        return self._client.send_model(JobRead, "POST", f"/projects/{project}/pipeline:batch-predict", json=body)

    def deploy(self, revision: str, variant: str = DEFAULT_VARIANT, output_path: str | Path = "model.zip") -> Path:
        """Download the deployment package of a revision's variant to `output_path` (written atomically)."""
        destination = Path(output_path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".part")
        path = f"/models/{self._client.models.id_of(revision)}/variants/{variant}/package"
        try:
            with self._client.stream("GET", path) as response, \
                    partial.open("wb") as out:  # fmt: skip
                for chunk in response.iter_bytes():
                    out.write(chunk)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(destination)
        return destination
