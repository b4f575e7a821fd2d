"""SDK resource `client.models`: training and model revisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelyard.api.pagination import Page
from modelyard.jobs.schemas import JobRead
from modelyard.revisions.schemas import Lineage, ModelRevisionRead, TrainingConfigurationRead

if TYPE_CHECKING:
    from modelyard.sdk.client import Client


class Models:
    def __init__(self, client: Client) -> None:
        self._client = client

    def train(
        self,
        project: str,
        architecture: str,
        *,
        overrides: dict[str, Any] | None = None,
        base: str = "pretrained",
        dataset_revision: str | int | None = None,
        name: str | None = None,
    ) -> JobRead:
        """Queue a training; `base` is 'pretrained', 'scratch' or a revision id. The job's result
        holds `revision_id` once it succeeds."""
        body: dict[str, Any] = {"architecture": architecture, "overrides": overrides or {}, "base": base}
        if dataset_revision is not None:
            body["dataset_revision"] = str(dataset_revision)
        if name is not None:
            body["name"] = name
        return self._client.send_model(JobRead, "POST", f"/projects/{project}/models:train", json=body)

    def list(
        self,
        project: str,
        *,
        architecture: str | None = None,
        status: str | None = None,
        dataset_revision: str | None = None,
        parent: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ModelRevisionRead]:
        params = {key: value for key, value in {
            "architecture": architecture, "status": status, "dataset_revision": dataset_revision,
            "parent": parent, "limit": limit, "cursor": cursor}.items() if value is not None}  # fmt: skip
        return self._client.get_model(Page[ModelRevisionRead], f"/projects/{project}/models", params=params)

    def get(self, revision: str) -> ModelRevisionRead:
        return self._client.get_model(ModelRevisionRead, f"/models/{revision}")

    def rename(self, revision: str, name: str) -> ModelRevisionRead:
        return self._client.send_model(ModelRevisionRead, "PATCH", f"/models/{revision}", json={"name": name})

    def metrics(self, revision: str) -> list[dict[str, Any]]:
        return self._client.request("GET", f"/models/{revision}/metrics").json()

    def log(self, revision: str) -> str:
        return self._client.request("GET", f"/models/{revision}/log").text

    def lineage(self, revision: str) -> Lineage:
        return self._client.get_model(Lineage, f"/models/{revision}/lineage")

    def configuration(self, project: str, architecture: str) -> TrainingConfigurationRead:
        return self._client.get_model(
            TrainingConfigurationRead, f"/projects/{project}/training-configurations/{architecture}"
        )

    def configure(self, project: str, architecture: str, overrides: dict[str, Any]) -> TrainingConfigurationRead:
        """Store a project's hyperparameter overrides for an architecture (checked against its bounds)."""
        return self._client.send_model(
            TrainingConfigurationRead, "PUT", f"/projects/{project}/training-configurations/{architecture}",
            json={"overrides": overrides},
        )  # fmt: skip
